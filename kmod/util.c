// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs: helpers for reaching the private area as the mounter.
 */
#include <linux/file.h>
#include <linux/mount.h>

#include "tplfs.h"

/**
 * tplfs_override_creds - act as the mounter on the private area and store
 * @sb: the tplfs superblock
 *
 * Return: the caller's credentials, to be given back to revert_creds().
 */
const struct cred *tplfs_override_creds(struct super_block *sb)
{
	return override_creds(tplfs_fs(sb)->creator_cred);
}

/**
 * tplfs_change_begin - begin a change to the private area
 * @sb:     the tplfs superblock
 * @bytes:  the most the change may allocate, in bytes
 * @inodes: the inodes it creates
 *
 * Takes write access to the private mount, reserves @bytes and @inodes of
 * the container's quota (a change with nothing to reserve, such as unlink,
 * setxattr or chmod, is never refused: what it allocates or frees is
 * charged after, by tplfs_quota_sync()), and acts as the mounter. Every
 * success is paired with tplfs_change_end() with the same amounts.
 *
 * Return: the caller's credentials, or an ERR_PTR (-EROFS, -EDQUOT, ...).
 */
const struct cred *tplfs_change_begin(struct super_block *sb, u64 bytes,
				      u64 inodes)
{
	struct tplfs_fs *fs = tplfs_fs(sb);
	int err;

	err = mnt_want_write(fs->private_path.mnt);
	if (err)
		return ERR_PTR(err);
	err = tplfs_quota_begin(fs, bytes, inodes);
	if (err) {
		mnt_drop_write(fs->private_path.mnt);
		return ERR_PTR(err);
	}
	return tplfs_override_creds(sb);
}

/**
 * tplfs_change_end - end a change begun with tplfs_change_begin()
 * @sb:     the tplfs superblock
 * @bytes:  as given to tplfs_change_begin()
 * @inodes: as given to tplfs_change_begin()
 * @old:    what tplfs_change_begin() returned
 *
 * What the change allocated must be charged (tplfs_quota_sync()) before,
 * so that the reservation is released only once the usage has it.
 */
void tplfs_change_end(struct super_block *sb, u64 bytes, u64 inodes,
		      const struct cred *old)
{
	struct tplfs_fs *fs = tplfs_fs(sb);

	revert_creds(old);
	tplfs_quota_end(fs, bytes, inodes);
	mnt_drop_write(fs->private_path.mnt);
}

/* The mount of the private area. */
struct vfsmount *tplfs_private_mnt(struct super_block *sb)
{
	return tplfs_fs(sb)->private_path.mnt;
}

/* The private path (mount and dentry) a tplfs dentry stands for. */
void tplfs_real_path(const struct dentry *dentry, struct path *path)
{
	path->mnt = tplfs_fs(dentry->d_sb)->private_path.mnt;
	path->dentry = tplfs_real_dentry(dentry);
}

/**
 * tplfs_open_real - open the private file behind a tplfs file
 * @file:  the tplfs file being opened
 * @flags: open flags for the private file
 *
 * Opened with the mounter's credentials, without updating atime on the
 * private inode.
 *
 * Return: the file, or an ERR_PTR.
 */
struct file *tplfs_open_real(const struct file *file, int flags)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct path realpath;

	tplfs_real_path(file->f_path.dentry, &realpath);
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	return dentry_open(&realpath, flags | O_NOATIME,
			   tplfs_fs(sb)->creator_cred);
}
