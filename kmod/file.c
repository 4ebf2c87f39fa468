// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs regular files. Opening a stub opens its object in the store, so
 * reads, splice, mmap and exec are served from the object's page cache,
 * shared by every container; opening a private file opens it in the private
 * area. Either way the real file is a backing file and every operation is
 * delegated to it (the model of overlayfs and fuse passthrough).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/uio.h>
#include <linux/fadvise.h>
#include <linux/mm.h>

#include "tplfs.h"

static struct file *tplfs_real_file(const struct file *file)
{
	return file->private_data;
}

static void tplfs_file_accessed(struct file *file)
{
	tplfs_copy_attr(file_inode(file));
}

static void tplfs_file_end_write(struct file *file, loff_t pos, ssize_t ret)
{
	tplfs_copy_attr(file_inode(file));
}

static void tplfs_io_init(struct tplfs_io *io, struct file *file)
{
	io->cred = tplfs_fs(file_inode(file)->i_sb)->creator_cred;
	io->user_file = file;
	io->accessed = tplfs_file_accessed;
	io->end_write = tplfs_file_end_write;
}

static int tplfs_open(struct inode *inode, struct file *file)
{
	struct file *realfile;
	int flags;

	if (tplfs_is_stub(inode)) {
		/* Writing a stub needs copy-on-write (not yet). */
		if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC))
			return -EROFS;
		flags = O_RDONLY | O_LARGEFILE | O_NOATIME |
			(file->f_flags & (O_DIRECT | O_NONBLOCK));
		realfile = tplfs_open_object(file, flags);
	} else {
		struct path realpath;

		tplfs_real_path(file->f_path.dentry, &realpath);
		flags = (file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY |
					   O_TRUNC)) | O_NOATIME;
		realfile = tplfs_backing_file_open(file, flags, &realpath,
						   tplfs_fs(inode->i_sb)->creator_cred);
	}
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	file->private_data = realfile;
	return 0;
}

static int tplfs_release(struct inode *inode, struct file *file)
{
	fput(tplfs_real_file(file));
	return 0;
}

static ssize_t tplfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct tplfs_io io;

	if (!iov_iter_count(to))
		return 0;
	tplfs_io_init(&io, file);
	return tplfs_backing_read_iter(tplfs_real_file(file), iocb, to, &io);
}

static ssize_t tplfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct tplfs_io io;
	ssize_t ret;

	if (!iov_iter_count(from))
		return 0;
	tplfs_io_init(&io, file);
	inode_lock(inode);
	ret = tplfs_backing_write_iter(tplfs_real_file(file), iocb, from, &io);
	inode_unlock(inode);
	return ret;
}

static ssize_t tplfs_splice_read(struct file *in, loff_t *ppos,
				 struct pipe_inode_info *pipe, size_t len,
				 unsigned int flags)
{
	struct tplfs_io io;

	tplfs_io_init(&io, in);
	return tplfs_backing_splice_read(tplfs_real_file(in), ppos, pipe, len,
					 flags, &io);
}

static ssize_t tplfs_splice_write(struct pipe_inode_info *pipe,
				  struct file *out, loff_t *ppos, size_t len,
				  unsigned int flags)
{
	struct inode *inode = file_inode(out);
	struct tplfs_io io;
	ssize_t ret;

	tplfs_io_init(&io, out);
	inode_lock(inode);
	ret = tplfs_backing_splice_write(pipe, tplfs_real_file(out), ppos, len,
					 flags, &io);
	inode_unlock(inode);
	return ret;
}

static int tplfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct tplfs_io io;

	tplfs_io_init(&io, file);
	return tplfs_backing_mmap(tplfs_real_file(file), vma, &io);
}

/* Seeking, SEEK_DATA and SEEK_HOLE included, is the real file's. */
static loff_t tplfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *realfile = tplfs_real_file(file);
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

static int tplfs_fsync(struct file *file, loff_t start, loff_t end,
		       int datasync)
{
	const struct cred *old;
	int ret;

	/* A stub's object is read-only and already durable. */
	if (tplfs_is_stub(file_inode(file)))
		return 0;
	old = tplfs_override_creds(file_inode(file)->i_sb);
	ret = vfs_fsync_range(tplfs_real_file(file), start, end, datasync);
	revert_creds(old);
	return ret;
}

static long tplfs_fallocate(struct file *file, int mode, loff_t offset,
			    loff_t len)
{
	struct inode *inode = file_inode(file);
	const struct cred *old;
	long ret;

	if (tplfs_is_stub(inode))
		return -EROFS;
	inode_lock(inode);
	old = tplfs_override_creds(inode->i_sb);
	ret = vfs_fallocate(tplfs_real_file(file), mode, offset, len);
	revert_creds(old);
	tplfs_copy_attr(inode);
	inode_unlock(inode);
	return ret;
}

static int tplfs_fadvise(struct file *file, loff_t offset, loff_t len,
			 int advice)
{
	const struct cred *old;
	int ret;

	old = tplfs_override_creds(file_inode(file)->i_sb);
	ret = vfs_fadvise(tplfs_real_file(file), offset, len, advice);
	revert_creds(old);
	return ret;
}

static int tplfs_flush(struct file *file, fl_owner_t id)
{
	struct file *realfile = tplfs_real_file(file);
	const struct cred *old;
	int ret = 0;

	if (realfile->f_op->flush) {
		old = tplfs_override_creds(file_inode(file)->i_sb);
		ret = realfile->f_op->flush(realfile, id);
		revert_creds(old);
	}
	return ret;
}

const struct file_operations tplfs_file_operations = {
	.open		= tplfs_open,
	.release	= tplfs_release,
	.llseek		= tplfs_llseek,
	.read_iter	= tplfs_read_iter,
	.write_iter	= tplfs_write_iter,
	.splice_read	= tplfs_splice_read,
	.splice_write	= tplfs_splice_write,
	.mmap		= tplfs_mmap,
	.fsync		= tplfs_fsync,
	.fallocate	= tplfs_fallocate,
	.fadvise	= tplfs_fadvise,
	.flush		= tplfs_flush,
};
