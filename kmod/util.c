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
