// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs directories: every directory is a real directory of the private
 * area, so reading one is reading that directory. Entries keep their d_type,
 * and d_ino is the private inode number, which is also our st_ino.
 */
#include <linux/file.h>

#include "tplfs.h"

static int tplfs_dir_open(struct inode *inode, struct file *file)
{
	struct file *realfile;

	realfile = tplfs_open_real(file, file->f_flags);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	file->private_data = realfile;
	return 0;
}

static int tplfs_dir_release(struct inode *inode, struct file *file)
{
	fput(file->private_data);
	return 0;
}

static int tplfs_iterate(struct file *file, struct dir_context *ctx)
{
	struct file *realfile = file->private_data;
	const struct cred *old;
	int err;

	/* iterate_dir() starts from the private file's position. */
	realfile->f_pos = ctx->pos;
	old = tplfs_override_creds(file_inode(file)->i_sb);
	err = iterate_dir(realfile, ctx);
	revert_creds(old);
	return err;
}

static loff_t tplfs_dir_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *realfile = file->private_data;
	loff_t res;

	realfile->f_pos = file->f_pos;
	res = vfs_llseek(realfile, offset, whence);
	if (res >= 0)
		file->f_pos = realfile->f_pos;
	return res;
}

/* Syncing a directory (to make a rename in it durable) syncs the private one. */
static int tplfs_dir_fsync(struct file *file, loff_t start, loff_t end,
			   int datasync)
{
	struct file *realfile = file->private_data;
	const struct cred *old;
	int ret;

	old = tplfs_override_creds(file_inode(file)->i_sb);
	ret = vfs_fsync_range(realfile, start, end, datasync);
	revert_creds(old);
	return ret;
}

const struct file_operations tplfs_dir_operations = {
	.open		= tplfs_dir_open,
	.release	= tplfs_dir_release,
	.read		= generic_read_dir,
	.iterate_shared	= tplfs_iterate,
	.llseek		= tplfs_dir_llseek,
	.fsync		= tplfs_dir_fsync,
};
