// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs regular files: reads pass through to the private file.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/uio.h>

#include "tplfs.h"

static int tplfs_open(struct inode *inode, struct file *file)
{
	struct file *realfile;

	realfile = tplfs_open_real(file, file->f_flags);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	file->private_data = realfile;
	return 0;
}

static int tplfs_release(struct inode *inode, struct file *file)
{
	fput(file->private_data);
	return 0;
}

static ssize_t tplfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct file *realfile = file->private_data;
	const struct cred *old;
	ssize_t ret;

	if (!iov_iter_count(to))
		return 0;

	old = tplfs_override_creds(file_inode(file)->i_sb);
	ret = vfs_iter_read(realfile, to, &iocb->ki_pos, 0);
	revert_creds(old);
	return ret;
}

static loff_t tplfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *realfile = file->private_data;
	struct inode *inode = file_inode(file);
	loff_t res;

	inode_lock(inode);
	realfile->f_pos = file->f_pos;
	res = vfs_llseek(realfile, offset, whence);
	if (res >= 0)
		file->f_pos = realfile->f_pos;
	inode_unlock(inode);
	return res;
}

const struct file_operations tplfs_file_operations = {
	.open		= tplfs_open,
	.release	= tplfs_release,
	.read_iter	= tplfs_read_iter,
	.llseek		= tplfs_llseek,
};
