// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs regular files. Opening a stub opens its object in the store, so
 * reads, splice, mmap and exec are served from the object's page cache,
 * shared by every container. A private file is opened in the private area.
 * Either way the real file is a backing file and every operation is
 * delegated to it (the model of overlayfs and fuse passthrough).
 *
 * A stub is copied up at the first operation that changes its data, not
 * when it is opened for writing: a write, splice or fallocate through the
 * file, a truncate (setattr), or an open with O_TRUNC. An open for reading
 * and writing still copies up at once, because a shared writable mapping
 * may follow, and ->mmap runs under mmap_lock, which must not be held
 * across a copy-up (doc/consistency.md). So `touch` and other write-only
 * opens that write nothing leave the stub a stub.
 *
 * A file opened on a stub's object whose stub is copied up later switches to
 * the private file at its next operation, so a reader sees the container's
 * own data after a copy-up, and a writer writes there; both real files stay
 * open until release (a concurrent operation may still be using the first).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/uio.h>
#include <linux/fadvise.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "tplfs.h"

/**
 * struct tplfs_file - file->private_data of a tplfs regular file
 * @realfile: the object (a stub opened for reading) or the private file
 * @private:  after a copy-up of a stub opened for reading, the private file,
 *            opened at the first operation that follows
 */
struct tplfs_file {
	struct file *realfile;
	struct file *private;
};

/* The flags fcntl(F_SETFL) changes that matter to the real file's I/O. */
#define TPLFS_SETFL_MASK	(O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT)

/*
 * Make @realfile follow what fcntl(F_SETFL) changed on @file since the last
 * operation (setfl() sees only the tplfs file): O_DIRECT above all, which
 * the real file's synchronous I/O takes from its own f_iocb_flags. The real
 * filesystem's ->check_flags has the last word, as at F_SETFL on it.
 */
static int tplfs_follow_flags(struct file *file, struct file *realfile)
{
	unsigned int mask = TPLFS_SETFL_MASK, flags;
	int err;

	/* An object is never written: O_APPEND is not its business. */
	if (!(realfile->f_mode & FMODE_WRITE))
		mask &= ~O_APPEND;
	flags = READ_ONCE(file->f_flags) & mask;
	if (!((flags ^ realfile->f_flags) & mask))
		return 0;
	if ((flags & O_DIRECT) && !(realfile->f_mode & FMODE_CAN_ODIRECT))
		return -EINVAL;
	if (realfile->f_op->check_flags) {
		err = realfile->f_op->check_flags(flags);
		if (err)
			return err;
	}
	spin_lock(&realfile->f_lock);
	realfile->f_flags = (realfile->f_flags & ~mask) | flags;
	realfile->f_iocb_flags = iocb_flags(realfile);
	spin_unlock(&realfile->f_lock);
	return 0;
}

/* The open flags of a stub's object: read-only, whatever @file's are. */
static int tplfs_object_flags(const struct file *file)
{
	return O_RDONLY | O_LARGEFILE | O_NOATIME |
	       (file->f_flags & (O_DIRECT | O_NONBLOCK));
}

/* The open flags of a private file: @file's, but those only open uses. */
static int tplfs_private_flags(const struct file *file)
{
	return (file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) |
	       O_NOATIME;
}

/* The private file of @file, opened with @flags and the mounter's creds. */
static struct file *tplfs_open_private(struct file *file, int flags)
{
	struct path realpath;

	tplfs_real_path(file->f_path.dentry, &realpath);
	return tplfs_backing_file_open(file, flags, &realpath,
				       tplfs_fs(file_inode(file)->i_sb)->creator_cred);
}

/*
 * The real file to use now: the object, or the private file. A file opened
 * on the object of a stub copied up since gets the private file, opened as
 * the file was (for writing, if it was), at its next operation.
 */
static struct file *tplfs_current_file(struct file *file)
{
	struct tplfs_file *tf = file->private_data;
	struct inode *inode = file_inode(file);
	struct file *private;

	private = READ_ONCE(tf->private);
	if (private)
		return private;
	if (file_inode(tf->realfile) == tplfs_real_inode(inode) ||
	    tplfs_is_stub(inode))
		return tf->realfile;

	if (file->f_mode & FMODE_WRITE)
		private = tplfs_open_private(file, tplfs_private_flags(file));
	else
		private = tplfs_open_private(file, tplfs_object_flags(file));
	if (IS_ERR(private))
		return private;
	if (cmpxchg(&tf->private, NULL, private)) {
		fput(private);
		private = tf->private;
	}
	return private;
}

/* The real file to use now, following the file's flags, or an ERR_PTR. */
static struct file *tplfs_real_file(struct file *file)
{
	struct file *realfile = tplfs_current_file(file);
	int err;

	if (IS_ERR(realfile))
		return realfile;
	err = tplfs_follow_flags(file, realfile);
	return err ? ERR_PTR(err) : realfile;
}

/*
 * The real file for an operation that changes data: a stub is copied up
 * first, and the file moves to its private file.
 */
static struct file *tplfs_write_file(struct file *file)
{
	int err;

	if (tplfs_is_stub(file_inode(file))) {
		err = tplfs_copy_up(file->f_path.dentry, true);
		if (err)
			return ERR_PTR(err);
	}
	return tplfs_real_file(file);
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

static int tplfs_open_file(struct inode *inode, struct file *file)
{
	struct tplfs_file *tf;
	struct file *realfile;
	int err;

	/* O_TRUNC empties it: no data to copy. Read-write: see above. */
	if (tplfs_is_stub(inode) &&
	    ((file->f_flags & O_TRUNC) ||
	     (file->f_mode & (FMODE_READ | FMODE_WRITE)) ==
	     (FMODE_READ | FMODE_WRITE))) {
		err = tplfs_copy_up(file->f_path.dentry,
				    !(file->f_flags & O_TRUNC));
		if (err)
			return err;
	}

	tf = kzalloc(sizeof(*tf), GFP_KERNEL);
	if (!tf)
		return -ENOMEM;
	if (tplfs_is_stub(inode))
		realfile = tplfs_open_object(file, tplfs_object_flags(file));
	else
		realfile = tplfs_open_private(file, tplfs_private_flags(file));
	if (IS_ERR(realfile)) {
		kfree(tf);
		return PTR_ERR(realfile);
	}
	tf->realfile = realfile;
	file->private_data = tf;
	/*
	 * O_DIRECT is the real file's to do: do_dentry_open() and F_SETFL
	 * allow it on this file if the real one can (a private file opened
	 * later for a stub's reader must be able to as well, or fails then).
	 */
	if (realfile->f_mode & FMODE_CAN_ODIRECT)
		file->f_mode |= FMODE_CAN_ODIRECT;
	return 0;
}

static int tplfs_open(struct inode *inode, struct file *file)
{
	int err;

	/* counted, so that a relink can tell the file is open */
	err = tplfs_open_begin(inode);
	if (err)
		return err;
	err = tplfs_open_file(inode, file);
	if (err)
		tplfs_open_end(inode);
	return err;
}

static int tplfs_release(struct inode *inode, struct file *file)
{
	struct tplfs_file *tf = file->private_data;

	/* What mmap writes allocated is charged here at the latest. */
	if (file->f_mode & FMODE_WRITE)
		tplfs_quota_sync(inode, tplfs_real_dentry(file->f_path.dentry));
	if (tf->private)
		fput(tf->private);
	fput(tf->realfile);
	kfree(tf);
	tplfs_open_end(inode);
	return 0;
}

static ssize_t tplfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct tplfs_io io;

	struct file *realfile;

	if (!iov_iter_count(to))
		return 0;
	realfile = tplfs_real_file(file);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	tplfs_io_init(&io, file);
	return tplfs_backing_read_iter(realfile, iocb, to, &io);
}

/*
 * Reserve quota for writing @len bytes at @pos, which may shorten @len (a
 * short write writes what fits). Returns the reservation to give back to
 * tplfs_write_end(), or a negative errno.
 */
static int tplfs_write_begin(struct file *file, struct file *realfile,
			     loff_t pos, size_t *len, u64 *reserved)
{
	struct tplfs_fs *fs = tplfs_fs(file_inode(file)->i_sb);
	struct path realpath;

	tplfs_real_path(file->f_path.dentry, &realpath);
	if (file->f_flags & O_APPEND)
		pos = i_size_read(file_inode(realfile));
	return tplfs_quota_begin_write(fs, file_inode(file), realfile,
				       &realpath, pos, len, reserved);
}

/* Charge what the write allocated and drop its reservation. */
static void tplfs_write_end(struct file *file, u64 reserved)
{
	struct inode *inode = file_inode(file);

	tplfs_quota_sync(inode, tplfs_real_dentry(file->f_path.dentry));
	tplfs_quota_end(tplfs_fs(inode->i_sb), reserved, 0);
}

static ssize_t tplfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	size_t count = iov_iter_count(from), len = count;
	struct file *realfile;
	struct tplfs_io io;
	u64 reserved;
	ssize_t ret;

	if (!count)
		return 0;
	realfile = tplfs_write_file(file);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	tplfs_io_init(&io, file);
	inode_lock(inode);
	ret = tplfs_write_begin(file, realfile, iocb->ki_pos, &len, &reserved);
	if (ret)
		goto out_unlock;
	iov_iter_truncate(from, len);
	ret = tplfs_backing_write_iter(realfile, iocb, from, &io);
	iov_iter_reexpand(from, iov_iter_count(from) + count - len);
	tplfs_write_end(file, reserved);
out_unlock:
	inode_unlock(inode);
	return ret;
}

static ssize_t tplfs_splice_read(struct file *in, loff_t *ppos,
				 struct pipe_inode_info *pipe, size_t len,
				 unsigned int flags)
{
	struct file *realfile = tplfs_real_file(in);
	struct tplfs_io io;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	tplfs_io_init(&io, in);
	return tplfs_backing_splice_read(realfile, ppos, pipe, len, flags, &io);
}

static ssize_t tplfs_splice_write(struct pipe_inode_info *pipe,
				  struct file *out, loff_t *ppos, size_t len,
				  unsigned int flags)
{
	struct file *realfile = tplfs_write_file(out);
	struct inode *inode = file_inode(out);
	struct tplfs_io io;
	u64 reserved;
	ssize_t ret;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	tplfs_io_init(&io, out);
	inode_lock(inode);
	ret = tplfs_write_begin(out, realfile, *ppos, &len, &reserved);
	if (!ret) {
		ret = tplfs_backing_splice_write(pipe, realfile, ppos, len,
						 flags, &io);
		tplfs_write_end(out, reserved);
	}
	inode_unlock(inode);
	return ret;
}

static int tplfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct file *realfile = tplfs_real_file(file);
	struct tplfs_io io;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	tplfs_io_init(&io, file);
	return tplfs_backing_mmap(realfile, vma, &io);
}

/* Seeking, SEEK_DATA and SEEK_HOLE included, is the real file's. */
static loff_t tplfs_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *realfile = tplfs_real_file(file);
	struct inode *inode = file_inode(file);
	loff_t res;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
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
	struct file *realfile;
	const struct cred *old;
	int ret;

	/* A stub's object is read-only and already durable. */
	if (tplfs_is_stub(file_inode(file)))
		return 0;
	realfile = tplfs_real_file(file);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	old = tplfs_override_creds(file_inode(file)->i_sb);
	ret = vfs_fsync_range(realfile, start, end, datasync);
	revert_creds(old);
	tplfs_quota_sync(file_inode(file),
			 tplfs_real_dentry(file->f_path.dentry));
	return ret;
}

static long tplfs_fallocate(struct file *file, int mode, loff_t offset,
			    loff_t len)
{
	struct file *realfile = tplfs_write_file(file);
	struct inode *inode = file_inode(file);
	struct tplfs_fs *fs = tplfs_fs(inode->i_sb);
	const struct cred *old;
	struct path realpath;
	u64 reserved;
	long ret;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	tplfs_real_path(file->f_path.dentry, &realpath);
	inode_lock(inode);
	ret = tplfs_quota_begin_fallocate(fs, realfile, &realpath, mode,
					  offset, len, &reserved);
	if (ret)
		goto out_unlock;
	old = tplfs_override_creds(inode->i_sb);
	ret = vfs_fallocate(realfile, mode, offset, len);
	revert_creds(old);
	tplfs_write_end(file, reserved);
	tplfs_copy_attr(inode);
out_unlock:
	inode_unlock(inode);
	return ret;
}

static int tplfs_fadvise(struct file *file, loff_t offset, loff_t len,
			 int advice)
{
	struct file *realfile = tplfs_real_file(file);
	const struct cred *old;
	int ret;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	old = tplfs_override_creds(file_inode(file)->i_sb);
	ret = vfs_fadvise(realfile, offset, len, advice);
	revert_creds(old);
	return ret;
}

static int tplfs_flush(struct file *file, fl_owner_t id)
{
	struct file *realfile = tplfs_real_file(file);
	const struct cred *old;
	int ret = 0;

	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
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
