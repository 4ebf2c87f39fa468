/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels tplfs targets (Debian's 6.1 and 6.12),
 * in one place. Each TPLFS_HAVE_* macro comes from a probe of the headers in
 * kmod/Kbuild, so the rest of the module reads as if written for one kernel.
 *
 * Included by tplfs.h before its own declarations; the one tplfs function
 * the glue below calls is declared here too.
 */
#ifndef _TPLFS_COMPAT_H
#define _TPLFS_COMPAT_H

#include <linux/fs.h>
#include <linux/file.h>
#include <linux/mount.h>
#include <linux/uio.h>
#include <linux/splice.h>
#include <linux/xattr.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/sched.h>
#include <linux/fsverity.h>
#ifdef TPLFS_HAVE_BACKING_FILE
#include <linux/backing-file.h>
#endif
#ifdef TPLFS_HAVE_IO_URING_CMD_H
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#include <linux/io_uring_types.h>
#endif

struct dentry *tplfs_d_real_common(struct dentry *dentry,
				   const struct inode *inode, bool data);

/*
 * 6.3 replaced the user namespace of a mount by struct mnt_idmap in every
 * inode operation and VFS helper. "struct tplfs_idmap" names whichever the
 * kernel has; tplfs_mnt_idmap() is a mount's.
 */
#ifdef TPLFS_HAVE_MNT_IDMAP
#define tplfs_idmap		mnt_idmap
#define tplfs_mnt_idmap(mnt)	mnt_idmap(mnt)
#else
#define tplfs_idmap		user_namespace
#define tplfs_mnt_idmap(mnt)	mnt_user_ns(mnt)
#endif

/*
 * 6.7 started passing AT_GETATTR_NOSEC to ->getattr when the caller already
 * did the security check (vfs_getattr_nosec); vfs_getattr() then refuses the
 * flag, so a stacking filesystem must follow the caller's choice.
 */
static inline int tplfs_vfs_getattr(const struct path *path,
				    struct kstat *stat, u32 request_mask,
				    unsigned int flags)
{
#ifdef AT_GETATTR_NOSEC
	if (flags & AT_GETATTR_NOSEC)
		return vfs_getattr_nosec(path, stat, request_mask, flags);
#endif
	return vfs_getattr(path, stat, request_mask, flags);
}

/*
 * ->d_real: 6.12 asks for the data or the metadata dentry; 6.1 for the
 * dentry of a given inode (NULL: the data one).
 */
#ifdef TPLFS_HAVE_D_REAL_TYPE
static inline struct dentry *tplfs_d_real(struct dentry *dentry,
					  enum d_real_type type)
{
	return tplfs_d_real_common(dentry, NULL, type == D_REAL_DATA);
}
#else
static inline struct dentry *tplfs_d_real(struct dentry *dentry,
					  const struct inode *inode)
{
	return tplfs_d_real_common(dentry, inode, true);
}
#endif

/*
 * Backing files. 6.12 has fs/backing-file.c: a backing file reports the
 * tplfs path to the user (/proc/PID/maps) and the helpers do the I/O with the
 * mounter's credentials, async I/O included. 6.1 has open_with_fake_path()
 * only, and tplfs does the (synchronous) I/O itself, as 6.1's overlayfs.
 */
#ifdef TPLFS_HAVE_BACKING_FILE
#define tplfs_io backing_file_ctx
#else
struct tplfs_io {
	const struct cred *cred;
	struct file *user_file;
	void (*accessed)(struct file *file);
	void (*end_write)(struct file *file, loff_t pos, ssize_t ret);
};
#endif

static inline struct file *tplfs_backing_file_open(const struct file *user_file,
						   int flags,
						   const struct path *real_path,
						   const struct cred *cred)
{
#if defined(TPLFS_HAVE_BACKING_FILE_USER_FILE)
	return backing_file_open(user_file, flags, real_path, cred);
#elif defined(TPLFS_HAVE_BACKING_FILE)
	return backing_file_open(&user_file->f_path, flags, real_path, cred);
#else
	return open_with_fake_path(&user_file->f_path, flags,
				   d_inode(real_path->dentry), cred);
#endif
}

#ifdef TPLFS_HAVE_BACKING_FILE

static inline ssize_t tplfs_backing_read_iter(struct file *realfile,
					      struct kiocb *iocb,
					      struct iov_iter *iter,
					      struct tplfs_io *io)
{
	return backing_file_read_iter(realfile, iter, iocb, iocb->ki_flags,
				      io);
}

static inline ssize_t tplfs_backing_write_iter(struct file *realfile,
					       struct kiocb *iocb,
					       struct iov_iter *iter,
					       struct tplfs_io *io)
{
	return backing_file_write_iter(realfile, iter, iocb, iocb->ki_flags,
				       io);
}

static inline ssize_t tplfs_backing_splice_read(struct file *realfile,
						loff_t *ppos,
						struct pipe_inode_info *pipe,
						size_t len, unsigned int flags,
						struct tplfs_io *io)
{
	return backing_file_splice_read(realfile, ppos, pipe, len, flags, io);
}

static inline ssize_t tplfs_backing_splice_write(struct pipe_inode_info *pipe,
						 struct file *realfile,
						 loff_t *ppos, size_t len,
						 unsigned int flags,
						 struct tplfs_io *io)
{
	return backing_file_splice_write(pipe, realfile, ppos, len, flags,
					 io);
}

static inline int tplfs_backing_mmap(struct file *realfile,
				     struct vm_area_struct *vma,
				     struct tplfs_io *io)
{
	return backing_file_mmap(realfile, vma, io);
}
#else /* !TPLFS_HAVE_BACKING_FILE */
static inline rwf_t tplfs_iocb_to_rwf(int ifl)
{
	rwf_t flags = 0;

	if (ifl & IOCB_NOWAIT)
		flags |= RWF_NOWAIT;
	if (ifl & IOCB_HIPRI)
		flags |= RWF_HIPRI;
	if (ifl & IOCB_DSYNC)
		flags |= RWF_DSYNC;
	if (ifl & IOCB_SYNC)
		flags |= RWF_SYNC;
	return flags;
}

static inline ssize_t tplfs_backing_read_iter(struct file *realfile,
					      struct kiocb *iocb,
					      struct iov_iter *iter,
					      struct tplfs_io *io)
{
	const struct cred *old = override_creds(io->cred);
	ssize_t ret;

	ret = vfs_iter_read(realfile, iter, &iocb->ki_pos,
			    tplfs_iocb_to_rwf(iocb->ki_flags));
	revert_creds(old);
	io->accessed(io->user_file);
	return ret;
}

static inline ssize_t tplfs_backing_write_iter(struct file *realfile,
					       struct kiocb *iocb,
					       struct iov_iter *iter,
					       struct tplfs_io *io)
{
	const struct cred *old;
	ssize_t ret;

	/* With the caller's credentials: a non-owner's write kills suid. */
	ret = file_remove_privs(io->user_file);
	if (ret)
		return ret;
	old = override_creds(io->cred);
	file_start_write(realfile);
	ret = vfs_iter_write(realfile, iter, &iocb->ki_pos,
			     tplfs_iocb_to_rwf(iocb->ki_flags));
	file_end_write(realfile);
	revert_creds(old);
	if (ret > 0)
		io->end_write(io->user_file, iocb->ki_pos, ret);
	return ret;
}

/* 6.1: splice reads through our own ->read_iter. */
static inline ssize_t tplfs_backing_splice_read(struct file *realfile,
						loff_t *ppos,
						struct pipe_inode_info *pipe,
						size_t len, unsigned int flags,
						struct tplfs_io *io)
{
	return generic_file_splice_read(io->user_file, ppos, pipe, len, flags);
}

static inline ssize_t tplfs_backing_splice_write(struct pipe_inode_info *pipe,
						 struct file *realfile,
						 loff_t *ppos, size_t len,
						 unsigned int flags,
						 struct tplfs_io *io)
{
	const struct cred *old;
	ssize_t ret;

	if (!realfile->f_op->splice_write)
		return -EINVAL;
	ret = file_remove_privs(io->user_file);
	if (ret)
		return ret;
	old = override_creds(io->cred);
	file_start_write(realfile);
	ret = realfile->f_op->splice_write(pipe, realfile, ppos, len, flags);
	file_end_write(realfile);
	revert_creds(old);
	if (ret > 0)
		io->end_write(io->user_file, *ppos, ret);
	return ret;
}

static inline int tplfs_backing_mmap(struct file *realfile,
				     struct vm_area_struct *vma,
				     struct tplfs_io *io)
{
	const struct cred *old;
	int ret;

	if (WARN_ON_ONCE(vma->vm_file != io->user_file))
		return -EIO;
	vma_set_file(vma, realfile);
	old = override_creds(io->cred);
	ret = call_mmap(vma->vm_file, vma);
	revert_creds(old);
	io->accessed(io->user_file);
	return ret;
}
#endif /* TPLFS_HAVE_BACKING_FILE */

/*
 * do_splice_direct() takes the output's freeze protection itself since 6.7
 * (splice_file_range() came with that change); before, its caller did.
 */
static inline long tplfs_splice_direct(struct file *in, loff_t *ppos,
				       struct file *out, loff_t *opos,
				       size_t len)
{
#ifdef TPLFS_HAVE_SPLICE_FILE_RANGE
	return do_splice_direct(in, ppos, out, opos, len, 0);
#else
	long ret;

	file_start_write(out);
	ret = do_splice_direct(in, ppos, out, opos, len, 0);
	file_end_write(out);
	return ret;
#endif
}

/* 6.6 hid the ctime behind accessors, 6.7 the mtime. */
static inline struct timespec64 tplfs_inode_ctime(const struct inode *inode)
{
#ifdef TPLFS_HAVE_INODE_GET_CTIME
	return inode_get_ctime(inode);
#else
	return inode->i_ctime;
#endif
}

static inline struct timespec64 tplfs_inode_mtime(const struct inode *inode)
{
#ifdef TPLFS_HAVE_INODE_GET_MTIME
	return inode_get_mtime(inode);
#else
	return inode->i_mtime;
#endif
}

/* abs_diff() came in 6.2. */
#ifndef TPLFS_HAVE_ABS_DIFF
static inline u64 abs_diff(u64 a, u64 b)
{
	return a > b ? a - b : b - a;
}
#endif

/*
 * The fs-verity file digest of @inode, an object opened in the store (its
 * open loaded the verity info): fsverity_get_digest() is exported for
 * modules since 6.5. 6.1 has the function but not the export, and offers
 * the measurement only through FS_IOC_MEASURE_VERITY to user memory, so
 * verity=on|require is refused at mount there (tplfs_can_verify()).
 */
#ifdef TPLFS_HAVE_FSVERITY_DIGEST
static inline bool tplfs_can_verify(void)
{
	return true;
}

/* Return: the digest's size (0: no fs-verity on @inode), or -errno. */
static inline int tplfs_verity_digest(struct inode *inode,
				      u8 digest[FS_VERITY_MAX_DIGEST_SIZE],
				      u8 *alg)
{
	enum hash_algo halg;

	return fsverity_get_digest(inode, digest, alg, &halg);
}
#else
static inline bool tplfs_can_verify(void)
{
	return false;
}

static inline int tplfs_verity_digest(struct inode *inode,
				      u8 digest[FS_VERITY_MAX_DIGEST_SIZE],
				      u8 *alg)
{
	return -EOPNOTSUPP;
}
#endif

/* Whether files of @sb's filesystem can carry fs-verity at all. */
static inline bool tplfs_sb_has_verity(const struct super_block *sb)
{
#ifdef CONFIG_FS_VERITY
	return sb->s_vop;
#else
	return false;
#endif
}

/* struct renamedata names the mounts' idmaps differently. */
static inline int tplfs_vfs_rename(struct tplfs_idmap *idmap,
				   struct inode *olddir, struct dentry *old,
				   struct inode *newdir, struct dentry *new,
				   unsigned int flags)
{
	struct renamedata rd = {
#ifdef TPLFS_HAVE_MNT_IDMAP
		.old_mnt_idmap	= idmap,
		.new_mnt_idmap	= idmap,
#else
		.old_mnt_userns	= idmap,
		.new_mnt_userns	= idmap,
#endif
		.old_dir	= olddir,
		.old_dentry	= old,
		.new_dir	= newdir,
		.new_dentry	= new,
		.flags		= flags,
	};

	return vfs_rename(&rd);
}

/* An O_TMPFILE in a private directory: renamed in 6.2. */
static inline struct file *tplfs_tmpfile_open(struct tplfs_idmap *idmap,
					      const struct path *parentpath,
					      umode_t mode, int open_flag,
					      const struct cred *cred)
{
#ifdef TPLFS_HAVE_KERNEL_TMPFILE_OPEN
	return kernel_tmpfile_open(idmap, parentpath, mode, open_flag, cred);
#else
	return vfs_tmpfile_open(idmap, parentpath, mode, open_flag, cred);
#endif
}

/*
 * POSIX ACLs. 6.2 split ->get_acl into ->get_inode_acl (permission checks,
 * RCU-safe) and ->get_acl/->set_acl by dentry, which getxattr and setxattr
 * of the ACL names go through. On 6.1 those names are plain xattrs, which the
 * catch-all xattr handler passes to the private inode as they are; ->get_acl
 * serves permission checks.
 */
static inline struct posix_acl *tplfs_real_inode_acl(struct inode *realinode,
						     int type)
{
#ifdef TPLFS_HAVE_GET_INODE_ACL
	return get_inode_acl(realinode, type);
#else
	return get_acl(realinode, type);
#endif
}

/*
 * An ACL of a private dentry, by type; setting NULL removes it. 6.1 has no
 * ACL operations by dentry: tplfs_get_acl() and tplfs_set_acl(), their only
 * callers, are in no inode_operations there and never run.
 */
static inline struct posix_acl *tplfs_vfs_get_acl(struct tplfs_idmap *idmap,
						  struct dentry *dentry,
						  int type)
{
#ifdef TPLFS_HAVE_GET_INODE_ACL
	return vfs_get_acl(idmap, dentry, posix_acl_xattr_name(type));
#else
	return ERR_PTR(-EOPNOTSUPP);
#endif
}

static inline int tplfs_vfs_set_acl(struct tplfs_idmap *idmap,
				    struct dentry *dentry, int type,
				    struct posix_acl *acl)
{
#ifdef TPLFS_HAVE_GET_INODE_ACL
	const char *name = posix_acl_xattr_name(type);

	if (!acl)
		return vfs_remove_acl(idmap, dentry, name);
	return vfs_set_acl(idmap, dentry, name, acl);
#else
	return -EOPNOTSUPP;
#endif
}

/*
 * An ACL set as an xattr through an idmapped mount. 6.1 passes the ACL
 * names to the catch-all handler with the ids as the mount shows them;
 * its own posix_acl_xattr_set() gets the filesystem's from
 * vfs_set_acl_prepare(), and so does this. 6.2 and later map them in
 * vfs_set_acl(), before ->set_acl: nothing to do. Returns a kmalloc'd
 * value (its size in *@newsize) to store instead of @value, NULL to store
 * @value as it is, or an ERR_PTR.
 */
static inline void *tplfs_acl_xattr_from_mount(struct tplfs_idmap *idmap,
					       struct inode *inode,
					       const char *name,
					       const void *value, size_t size,
					       size_t *newsize)
{
#ifdef TPLFS_HAVE_GET_INODE_ACL
	return NULL;
#else
	struct posix_acl *acl;
	void *buf;
	int len;

	if (idmap == &init_user_ns || !value ||
	    (strcmp(name, XATTR_NAME_POSIX_ACL_ACCESS) &&
	     strcmp(name, XATTR_NAME_POSIX_ACL_DEFAULT)))
		return NULL;
	acl = vfs_set_acl_prepare(idmap, i_user_ns(inode), value, size);
	if (IS_ERR_OR_NULL(acl))
		return ERR_CAST(acl);
	len = posix_acl_xattr_size(acl->a_count);
	buf = kmalloc(len, GFP_KERNEL);
	if (buf)
		len = posix_acl_to_xattr(&init_user_ns, acl, buf, len);
	posix_acl_release(acl);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (len < 0) {
		kfree(buf);
		return ERR_PTR(len);
	}
	*newsize = len;
	return buf;
#endif
}

#ifdef TPLFS_HAVE_GET_INODE_ACL
#define TPLFS_ACL_INODE_OPERATIONS		\
	.get_inode_acl	= tplfs_get_inode_acl,	\
	.get_acl	= tplfs_get_acl,	\
	.set_acl	= tplfs_set_acl,
#else
#define TPLFS_ACL_INODE_OPERATIONS		\
	.get_acl	= tplfs_get_inode_acl,
#endif

/*
 * io_uring passthrough commands (the control device, ctl.c).
 *
 * 6.5 moved the driver API to <linux/io_uring/cmd.h> and replaced the
 * pointer to the command area (->cmd) by the SQE itself (->sqe). Either way
 * it points into the ring the submitter shares with the kernel: read it once.
 */
static inline const void *tplfs_uring_cmd_payload(const struct io_uring_cmd *cmd)
{
#ifdef TPLFS_HAVE_IO_URING_CMD_H
	return io_uring_sqe_cmd(cmd->sqe);
#else
	return cmd->cmd;
#endif
}

/*
 * The task that submitted @cmd. 6.7 added io_uring_cmd_get_task(); 6.1 has
 * no accessor, so this reads what that accessor reads, through
 * cmd_to_io_kiocb() of the public <linux/io_uring_types.h>. current is no
 * substitute: ->uring_cmd also runs in an io-wq worker (IOSQE_ASYNC, a
 * reissue after -EAGAIN) and in the SQPOLL thread, which outlive an exiting
 * submitter, and it is the submitter whose exit ctl.c watches for.
 */
static inline struct task_struct *tplfs_uring_cmd_task(struct io_uring_cmd *cmd)
{
#ifdef TPLFS_HAVE_URING_CMD_GET_TASK
	return io_uring_cmd_get_task(cmd);
#else
	return cmd_to_io_kiocb(cmd)->task;
#endif
}

/*
 * 6.7 lets a driver mark a pending command cancelable: when its ring or its
 * task goes away, io_uring calls ->uring_cmd again with IO_URING_F_CANCEL
 * and the driver completes it. 6.1 has no such hook: a pending command keeps
 * its ring (and the driver's module) alive until the driver completes it,
 * so ctl.c watches the submitting tasks itself there.
 */
#ifdef TPLFS_HAVE_URING_CMD_CANCEL
#define TPLFS_URING_CANCEL_HOOK	true

static inline bool tplfs_uring_cmd_is_cancel(unsigned int issue_flags)
{
	return issue_flags & IO_URING_F_CANCEL;
}

static inline void tplfs_uring_cmd_mark_cancelable(struct io_uring_cmd *cmd,
						   unsigned int issue_flags)
{
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
}
#else
#define TPLFS_URING_CANCEL_HOOK	false

static inline bool tplfs_uring_cmd_is_cancel(unsigned int issue_flags)
{
	return false;
}

static inline void tplfs_uring_cmd_mark_cancelable(struct io_uring_cmd *cmd,
						   unsigned int issue_flags)
{
}
#endif

/*
 * Whether a completion callback (io_uring_cmd_complete_in_task) runs for a
 * task that is going away, so that it must not touch user memory: 6.12 says
 * so with IO_URING_F_TASK_DEAD; 6.1 runs it in the exiting task itself, or
 * in a kworker once the task is gone.
 */
static inline bool tplfs_uring_task_dead(unsigned int issue_flags)
{
#ifdef TPLFS_HAVE_URING_F_TASK_DEAD
	if (issue_flags & IO_URING_F_TASK_DEAD)
		return true;
#endif
	return current->flags & (PF_EXITING | PF_KTHREAD);
}

#endif /* _TPLFS_COMPAT_H */
