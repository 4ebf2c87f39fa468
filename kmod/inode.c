// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs inodes: one per private inode, attributes, permission, ACLs.
 */
#include <linux/fiemap.h>
#include <linux/fs_stack.h>
#include <linux/namei.h>
#include <linux/posix_acl.h>

#include "tplfs.h"

static const struct inode_operations tplfs_file_inode_operations;
static const struct inode_operations tplfs_symlink_inode_operations;
static const struct inode_operations tplfs_special_inode_operations;

/*
 * Refresh the attributes of a tplfs inode from its private inode. A stub's
 * size is its origin's: the private inode is empty (or, after a crash in a
 * copy-up, partly written).
 */
void tplfs_copy_attr(struct inode *inode)
{
	struct inode *real = tplfs_real_inode(inode);
	loff_t size;

	size = tplfs_is_stub(inode) ? READ_ONCE(tplfs_i(inode)->size) :
				      i_size_read(real);
	/* i_lock: one writer at a time, whoever calls (as ovl_copyattr) */
	spin_lock(&inode->i_lock);
	fsstack_copy_attr_all(inode, real);
	i_size_write(inode, size);
	spin_unlock(&inode->i_lock);
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
 * one tplfs inode. A regular file's origin xattr is read here, once: it tells
 * a stub from a private file.
 *
 * Return: a referenced inode, or an ERR_PTR.
 */
struct inode *tplfs_get_inode(struct super_block *sb, struct dentry *real)
{
	struct inode *realinode = d_inode(real);
	struct inode *inode;
	umode_t mode = realinode->i_mode;
	int err;

	inode = iget5_locked(sb, (unsigned long)realinode, tplfs_inode_test,
			     tplfs_inode_set, realinode);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	inode->i_mode = mode;
	/* ACLs are the private inode's, never cached twice. */
	inode->i_acl = ACL_DONT_CACHE;
	inode->i_default_acl = ACL_DONT_CACHE;
	switch (mode & S_IFMT) {
	case S_IFDIR:
		inode->i_op = &tplfs_dir_inode_operations;
		inode->i_fop = &tplfs_dir_operations;
		break;
	case S_IFREG:
		err = tplfs_read_origin(sb, real, tplfs_i(inode));
		if (err) {
			iget_failed(inode);
			return ERR_PTR(err);
		}
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
	tplfs_copy_attr(inode);
	tplfs_quota_init_inode(inode, real);
	unlock_new_inode(inode);
	return inode;
}

int tplfs_getattr(struct tplfs_idmap *idmap, const struct path *path,
		  struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct dentry *dentry = path->dentry;
	struct inode *inode = d_inode(dentry);
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
	/* the owner as this mount shows it (an idmapped mount maps it) */
	stat->uid = vfsuid_into_kuid(make_vfsuid(idmap, i_user_ns(inode),
						 stat->uid));
	stat->gid = vfsgid_into_kgid(make_vfsgid(idmap, i_user_ns(inode),
						 stat->gid));
	if (tplfs_is_stub(inode)) {
		u32 blksize = stat->blksize ?: PAGE_SIZE;

		/* As a fully written file of the origin's size would be. */
		stat->size = READ_ONCE(tplfs_i(inode)->size);
		stat->blocks = DIV_ROUND_UP_ULL(stat->size, blksize) *
			       (blksize >> 9);
	}
	tplfs_copy_attr(inode);
	return 0;
}

/*
 * Attribute changes go to the private inode only: on a stub, chmod, chown
 * and utimes never copy data (metacopy). A size change copies the stub up
 * first (without data when the new size is 0).
 */
int tplfs_setattr(struct tplfs_idmap *idmap, struct dentry *dentry,
		  struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct vfsmount *mnt = tplfs_private_mnt(inode->i_sb);
	struct dentry *real = tplfs_real_dentry(dentry);
	const struct cred *old;
	int err;

	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;
	if (attr->ia_valid & ATTR_SIZE) {
		err = tplfs_copy_up(dentry, attr->ia_size != 0);
		if (err)
			return err;
	}

	/*
	 * A new owner is given as this mount shows ids; the private mount
	 * is not idmapped: the filesystem's ids (notify_change() checked
	 * that they map).
	 */
	if (attr->ia_valid & ATTR_UID)
		attr->ia_vfsuid = VFSUIDT_INIT(from_vfsuid(idmap, i_user_ns(inode),
							   attr->ia_vfsuid));
	if (attr->ia_valid & ATTR_GID)
		attr->ia_vfsgid = VFSGIDT_INIT(from_vfsgid(idmap, i_user_ns(inode),
							   attr->ia_vfsgid));
	/* The file of ATTR_FILE is ours, not the private one. */
	attr->ia_valid &= ~ATTR_FILE;
	/* Let the private filesystem compute the mode that kills suid. */
	if (attr->ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attr->ia_valid &= ~ATTR_MODE;

	/* Growing a file allocates nothing; shrinking it frees. */
	old = tplfs_change_begin(inode->i_sb, 0, 0);
	if (IS_ERR(old))
		return PTR_ERR(old);
	inode_lock(d_inode(real));
	err = notify_change(tplfs_mnt_idmap(mnt), real, attr, NULL);
	inode_unlock(d_inode(real));
	tplfs_quota_sync(inode, real);
	tplfs_change_end(inode->i_sb, 0, 0, old);
	tplfs_copy_attr(inode);
	return err;
}

/* Whether @inode still has the mode and owner of its private inode. */
static bool tplfs_attr_current(struct inode *inode)
{
	struct inode *real = tplfs_real_inode(inode);

	return READ_ONCE(inode->i_mode) == READ_ONCE(real->i_mode) &&
	       uid_eq(READ_ONCE(inode->i_uid), READ_ONCE(real->i_uid)) &&
	       gid_eq(READ_ONCE(inode->i_gid), READ_ONCE(real->i_gid));
}

/*
 * The caller is checked against the file's own mode, owner and ACLs, as the
 * private inode has them now (tplfsd may change them underneath): a
 * ref-walk takes them first; an RCU walk, which may not, leaves a changed
 * inode to a ref-walk. Then the mounter is checked on the private inode,
 * with whose credentials every operation is done (as overlayfs does), so
 * that access() agrees with open().
 */
int tplfs_permission(struct tplfs_idmap *idmap, struct inode *inode,
		     int mask)
{
	struct inode *real = tplfs_real_inode(inode);
	const struct cred *old;
	int err;

	if (!(mask & MAY_NOT_BLOCK))
		tplfs_copy_attr(inode);
	else if (!tplfs_attr_current(inode))
		return -ECHILD;
	err = generic_permission(idmap, inode, mask);
	if (err)
		return err;

	old = tplfs_override_creds(inode->i_sb);
	err = inode_permission(tplfs_mnt_idmap(tplfs_private_mnt(inode->i_sb)),
			       real, mask);
	revert_creds(old);
	return err;
}

/* ACLs for permission checks: the private inode's. */
struct posix_acl *tplfs_get_inode_acl(struct inode *inode, int type,
				      bool rcu)
{
	struct inode *real = tplfs_real_inode(inode);
	const struct cred *old;
	struct posix_acl *acl;

	if (!IS_POSIXACL(real))
		return NULL;
	if (rcu)
		return get_cached_acl_rcu(real, type);

	old = tplfs_override_creds(inode->i_sb);
	acl = tplfs_real_inode_acl(real, type);
	revert_creds(old);
	return acl;
}

/* ACLs by dentry (getxattr of the ACL names): the private inode's. */
struct posix_acl *tplfs_get_acl(struct tplfs_idmap *idmap,
				struct dentry *dentry, int type)
{
	struct super_block *sb = dentry->d_sb;
	const struct cred *old;
	struct posix_acl *acl;

	old = tplfs_override_creds(sb);
	acl = tplfs_vfs_get_acl(tplfs_mnt_idmap(tplfs_private_mnt(sb)),
				tplfs_real_dentry(dentry), type);
	revert_creds(old);
	return acl;
}

/*
 * An ACL change touches the private inode only: on a stub, no copy-up. An
 * ACL too long for the inode takes a block, charged as any xattr's.
 */
int tplfs_set_acl(struct tplfs_idmap *idmap, struct dentry *dentry,
		  struct posix_acl *acl, int type)
{
	struct inode *inode = d_inode(dentry);
	struct tplfs_idmap *realidmap =
		tplfs_mnt_idmap(tplfs_private_mnt(inode->i_sb));
	struct dentry *real = tplfs_real_dentry(dentry);
	const struct cred *old;
	int err;

	old = tplfs_change_begin(inode->i_sb, 0, 0);
	if (IS_ERR(old))
		return PTR_ERR(old);
	err = tplfs_vfs_set_acl(realidmap, real, type, acl);
	tplfs_quota_sync(inode, real);
	tplfs_change_end(inode->i_sb, 0, 0, old);
	tplfs_copy_attr(inode);
	return err;
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

/*
 * FIEMAP is the answer of the inode that holds the data: a stub's object,
 * else the private inode; the extents of the extended attributes
 * (FIEMAP_FLAG_XATTR) are always the private inode's. The real filesystem
 * checks the flags, so EBADR and the flags it does not support are its own.
 */
static int tplfs_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
			u64 start, u64 len)
{
	struct inode *real = tplfs_real_inode(inode);
	struct tplfs_stub_ref ref;
	struct path object = {};
	const struct cred *old;
	int err;

	old = tplfs_override_creds(inode->i_sb);
	if (tplfs_is_stub(inode) && !(fieinfo->fi_flags & FIEMAP_FLAG_XATTR)) {
		err = tplfs_get_object(inode, &object, &ref);
		if (err)
			goto out_revert;
		real = d_inode(object.dentry);
	}
	err = -EOPNOTSUPP;
	if (real->i_op->fiemap)
		err = real->i_op->fiemap(real, fieinfo, start, len);
	path_put(&object);
out_revert:
	revert_creds(old);
	return err;
}

static const struct inode_operations tplfs_file_inode_operations = {
	.getattr	= tplfs_getattr,
	.setattr	= tplfs_setattr,
	.permission	= tplfs_permission,
	.fiemap		= tplfs_fiemap,
	.listxattr	= tplfs_listxattr,
	TPLFS_ACL_INODE_OPERATIONS
};

static const struct inode_operations tplfs_symlink_inode_operations = {
	.get_link	= tplfs_get_link,
	.getattr	= tplfs_getattr,
	.setattr	= tplfs_setattr,
	.listxattr	= tplfs_listxattr,
};

static const struct inode_operations tplfs_special_inode_operations = {
	.getattr	= tplfs_getattr,
	.setattr	= tplfs_setattr,
	.permission	= tplfs_permission,
	.listxattr	= tplfs_listxattr,
	TPLFS_ACL_INODE_OPERATIONS
};
