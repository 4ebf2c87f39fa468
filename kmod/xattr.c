// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs xattrs: everything passes through to the private inode, except
 * trusted.tplfs.*, which is invisible and immutable through the mount (even
 * for root), so that a container can never forge a link to another object.
 */
#include <linux/xattr.h>

#include "tplfs.h"

static bool tplfs_is_own_xattr(const char *name)
{
	return !strncmp(name, TPLFS_XATTR_PREFIX,
			sizeof(TPLFS_XATTR_PREFIX) - 1);
}

static int tplfs_own_xattr_get(const struct xattr_handler *handler,
			       struct dentry *dentry, struct inode *inode,
			       const char *name, void *buffer, size_t size)
{
	return -ENODATA;
}

static int tplfs_own_xattr_set(const struct xattr_handler *handler,
			       struct tplfs_idmap *idmap,
			       struct dentry *dentry, struct inode *inode,
			       const char *name, const void *value,
			       size_t size, int flags)
{
	return -EPERM;
}

static int tplfs_other_xattr_get(const struct xattr_handler *handler,
				 struct dentry *dentry, struct inode *inode,
				 const char *name, void *buffer, size_t size)
{
	struct vfsmount *mnt = tplfs_fs(inode->i_sb)->private_path.mnt;
	const struct cred *old;
	int ret;

	old = tplfs_override_creds(inode->i_sb);
	ret = vfs_getxattr(tplfs_mnt_idmap(mnt), tplfs_real_dentry(dentry),
			   name, buffer, size);
	revert_creds(old);
	return ret;
}

static int tplfs_other_xattr_set(const struct xattr_handler *handler,
				 struct tplfs_idmap *idmap,
				 struct dentry *dentry, struct inode *inode,
				 const char *name, const void *value,
				 size_t size, int flags)
{
	struct vfsmount *mnt = tplfs_private_mnt(inode->i_sb);
	struct dentry *real = tplfs_real_dentry(dentry);
	const struct cred *old;
	void *mapped;
	int err;

	/* an ACL through an idmapped mount: the filesystem's ids (6.1) */
	mapped = tplfs_acl_xattr_from_mount(idmap, inode, name, value, size,
					    &size);
	if (IS_ERR(mapped))
		return PTR_ERR(mapped);
	if (mapped)
		value = mapped;
	/* An xattr may take (or free) a block of its own. */
	old = tplfs_change_begin(inode->i_sb, 0, 0);
	if (IS_ERR(old)) {
		kfree(mapped);
		return PTR_ERR(old);
	}
	if (value)
		err = vfs_setxattr(tplfs_mnt_idmap(mnt), real, name, value,
				   size, flags);
	else
		err = vfs_removexattr(tplfs_mnt_idmap(mnt), real, name);
	tplfs_quota_sync(inode, real);
	tplfs_change_end(inode->i_sb, 0, 0, old);
	tplfs_copy_attr(inode);
	kfree(mapped);
	return err;
}

static const struct xattr_handler tplfs_own_xattr_handler = {
	.prefix	= TPLFS_XATTR_PREFIX,
	.get	= tplfs_own_xattr_get,
	.set	= tplfs_own_xattr_set,
};

static const struct xattr_handler tplfs_other_xattr_handler = {
	.prefix	= "",	/* every other name */
	.get	= tplfs_other_xattr_get,
	.set	= tplfs_other_xattr_set,
};

const struct xattr_handler *tplfs_xattr_handlers[] = {
	&tplfs_own_xattr_handler,
	&tplfs_other_xattr_handler,
	NULL
};

/* The private inode's names, less trusted.tplfs.* */
ssize_t tplfs_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct dentry *real = tplfs_real_dentry(dentry);
	const struct cred *old;
	ssize_t res, len;
	char *s;

	old = tplfs_override_creds(dentry->d_sb);
	res = vfs_listxattr(real, list, size);
	revert_creds(old);
	/* For a size query an upper bound is enough. */
	if (res <= 0 || size == 0)
		return res;

	for (s = list, len = res; len > 0;) {
		size_t slen = strnlen(s, len) + 1;

		if (WARN_ON_ONCE(slen > len))
			return -EIO;
		len -= slen;
		if (tplfs_is_own_xattr(s)) {
			res -= slen;
			memmove(s, s + slen, len);
		} else {
			s += slen;
		}
	}
	return res;
}
