// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs inodes: one per private inode, attributes, permission.
 */
#include <linux/fs_stack.h>
#include <linux/namei.h>

#include "tplfs.h"

static const struct inode_operations tplfs_file_inode_operations;
static const struct inode_operations tplfs_symlink_inode_operations;
static const struct inode_operations tplfs_special_inode_operations;

/* Refresh the attributes of a tplfs inode from its private inode. */
void tplfs_copy_attr(struct inode *inode)
{
	struct inode *real = tplfs_real_inode(inode);

	fsstack_copy_attr_all(inode, real);
	fsstack_copy_inode_size(inode, real);
}

static int tplfs_inode_test(struct inode *inode, void *data)
{
	return tplfs_real_inode(inode) == data;
}

static int tplfs_inode_set(struct inode *inode, void *data)
{
	struct inode *real = data;

	ihold(real);
	tplfs_i(inode)->real = real;
	inode->i_ino = real->i_ino;
	return 0;
}

/**
 * tplfs_get_inode - the tplfs inode of a private dentry
 * @sb:   the tplfs superblock
 * @real: a positive dentry of the private area
 *
 * Keyed by the private inode, so that all hard links of a private file share
 * one tplfs inode. Returns a referenced inode or an ERR_PTR.
 */
struct inode *tplfs_get_inode(struct super_block *sb, struct dentry *real)
{
	struct inode *realinode = d_inode(real);
	struct inode *inode;
	umode_t mode = realinode->i_mode;

	inode = iget5_locked(sb, (unsigned long)realinode, tplfs_inode_test,
			     tplfs_inode_set, realinode);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	inode->i_mode = mode;
	tplfs_copy_attr(inode);
	switch (mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &tplfs_dir_inode_operations;
		inode->i_fop = &tplfs_dir_operations;
		break;
	case S_IFREG:
		inode->i_op = &tplfs_file_inode_operations;
		inode->i_fop = &tplfs_file_operations;
		break;
	case S_IFLNK:
		inode->i_op = &tplfs_symlink_inode_operations;
		break;
	default:
		inode->i_op = &tplfs_special_inode_operations;
		init_special_inode(inode, mode, realinode->i_rdev);
		break;
	}
	unlock_new_inode(inode);
	return inode;
}

static int tplfs_getattr(struct tplfs_idmap *idmap, const struct path *path,
			 struct kstat *stat, u32 request_mask,
			 unsigned int flags)
{
	struct dentry *dentry = path->dentry;
	struct path realpath;
	const struct cred *old;
	int err;

	tplfs_real_path(dentry, &realpath);
	old = tplfs_override_creds(dentry->d_sb);
	err = tplfs_vfs_getattr(&realpath, stat, request_mask, flags);
	revert_creds(old);
	if (err)
		return err;

	/* st_ino is the private inode's: stable, and unique in the mount. */
	stat->dev = dentry->d_sb->s_dev;
	tplfs_copy_attr(d_inode(dentry));
	return 0;
}

/*
 * The caller's access is checked against the file's own mode and owner, as
 * the private inode has them now (tplfsd may change them underneath).
 */
static int tplfs_permission(struct tplfs_idmap *idmap, struct inode *inode,
			    int mask)
{
	tplfs_copy_attr(inode);
	return generic_permission(idmap, inode, mask);
}

static const char *tplfs_get_link(struct dentry *dentry, struct inode *inode,
				  struct delayed_call *done)
{
	const struct cred *old;
	const char *link;

	if (!dentry)
		return ERR_PTR(-ECHILD);

	old = tplfs_override_creds(dentry->d_sb);
	link = vfs_get_link(tplfs_real_dentry(dentry), done);
	revert_creds(old);
	return link;
}

const struct inode_operations tplfs_dir_inode_operations = {
	.lookup		= tplfs_lookup,
	.getattr	= tplfs_getattr,
	.permission	= tplfs_permission,
};

static const struct inode_operations tplfs_file_inode_operations = {
	.getattr	= tplfs_getattr,
	.permission	= tplfs_permission,
};

static const struct inode_operations tplfs_symlink_inode_operations = {
	.get_link	= tplfs_get_link,
	.getattr	= tplfs_getattr,
};

static const struct inode_operations tplfs_special_inode_operations = {
	.getattr	= tplfs_getattr,
	.permission	= tplfs_permission,
};
