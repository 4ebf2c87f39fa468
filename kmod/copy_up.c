// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs copy-up: a stub becomes a private file the first time a container
 * writes it. The data goes into the stub's own inode, so its inode number,
 * hard links, owner and xattrs stay. The order makes it crash-safe:
 *
 *   1. truncate the stub (drops what a crashed copy-up left behind)
 *   2. copy the object's data: a reflink of the whole file where the store
 *      and the private area share a filesystem that can clone, else
 *      vfs_copy_file_range() over the object's data extents (holes stay)
 *   3. fdatasync, unless the mount is volatile or no data was written: a
 *      reflink (like a truncate or an xattr) changes only metadata, which
 *      the filesystem's journal commits in order, before step 4
 *   4. remove the origin xattr: the commit
 *
 * Until step 4 the file is a stub and reads its template content; after it,
 * the file is the complete private copy. Writing data drops
 * security.capability (file_remove_privs()), so a stub's file capabilities
 * are saved in trusted.tplfs.caps before step 1 and put back before step 3;
 * a copy-up after a crash restores them from there first.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/splice.h>
#include <linux/xattr.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>

#include "tplfs.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

#define TPLFS_CAPS_XATTR	TPLFS_XATTR_PREFIX "caps"
#define TPLFS_COPY_CHUNK	(8 << 20)

/* Copy [pos, end) from @src to @dst at the same offsets. */
static int tplfs_copy_range(struct file *src, struct file *dst, loff_t pos,
			    loff_t end)
{
	while (pos < end) {
		size_t len = min_t(loff_t, end - pos, TPLFS_COPY_CHUNK);
		loff_t in = pos, out = pos;
		ssize_t n;

		n = vfs_copy_file_range(src, pos, dst, pos, len, 0);
		if (n == -EXDEV || n == -EOPNOTSUPP || n == -EINVAL)
			n = do_splice_direct(src, &in, dst, &out, len, 0);
		if (n < 0)
			return n;
		if (n == 0)
			return -EIO;	/* the object is shorter than its origin */
		pos += n;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/*
 * Copy @size bytes of data from @src to the empty @dst. Returns 1 if data
 * was written (it needs a sync), 0 if none was (a reflink, or only holes),
 * or a negative errno.
 */
static int tplfs_copy_data(struct file *src, struct file *dst, loff_t size)
{
	loff_t pos = 0, data, hole;
	int err, written = 0;

	/* The whole object in one reflink, where the filesystem can. */
	if (vfs_clone_file_range(src, 0, dst, 0, size, 0) == size)
		return 0;

	while (pos < size) {
		data = vfs_llseek(src, pos, SEEK_DATA);
		if (data == -ENXIO)
			break;			/* only a hole is left */
		if (data < 0)
			data = pos;		/* no SEEK_DATA: copy all */
		hole = vfs_llseek(src, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		err = tplfs_copy_range(src, dst, data, hole);
		if (err)
			return err;
		written = 1;
		pos = hole;
	}
	return written;
}

/*
 * The file capabilities to keep across the copy: a backup left by a crashed
 * copy-up wins over what the stub has now. Returns the length (0: none).
 */
static ssize_t tplfs_save_caps(struct tplfs_idmap *idmap, struct dentry *real,
			       void *caps, size_t size)
{
	ssize_t len;
	int err;

	len = vfs_getxattr(idmap, real, TPLFS_CAPS_XATTR, caps, size);
	if (len > 0)
		return len;
	len = vfs_getxattr(idmap, real, XATTR_NAME_CAPS, caps, size);
	if (len == -ENODATA || len == -EOPNOTSUPP)
		return 0;
	if (len <= 0)
		return len;
	err = vfs_setxattr(idmap, real, TPLFS_CAPS_XATTR, caps, len, 0);
	return err ? err : len;
}

/* What a copy of @object may allocate: its blocks. */
static u64 tplfs_object_bytes(const struct path *object)
{
	struct kstat stat;

	if (!object->dentry ||
	    vfs_getattr_nosec(object, &stat, STATX_BLOCKS, AT_STATX_DONT_SYNC))
		return 0;
	return (u64)stat.blocks << 9;
}

/**
 * tplfs_copy_up - turn a stub into a private file
 * @dentry:    a tplfs dentry of the stub
 * @with_data: copy the object's data; false when the caller empties the
 *             file anyway (O_TRUNC, truncate to 0)
 *
 * Serialised per inode, killably (-EINTR for a task killed while it waits
 * behind another's copy-up); a no-op once the file is private. Runs with the
 * mounter's credentials.
 *
 * Return: 0, or a negative errno (-EIO for a stub whose object cannot be
 * used, -EINTR if killed while waiting).
 */
int tplfs_copy_up(struct dentry *dentry, bool with_data)
{
	struct inode *inode = d_inode(dentry);
	struct tplfs_inode *ti = tplfs_i(inode);
	struct super_block *sb = inode->i_sb;
	struct tplfs_fs *fs = tplfs_fs(sb);
	struct vfsmount *mnt = fs->private_path.mnt;
	struct tplfs_idmap *idmap = tplfs_mnt_idmap(mnt);
	struct dentry *real = tplfs_real_dentry(dentry);
	u8 caps[64];
	struct file *dst, *src;
	struct path realpath, object;
	struct tplfs_stub_ref ref;
	const struct cred *old;
	u64 start, bytes = 0, reserved;
	bool synced = false, written = false;
	ssize_t capslen;
	int err;

	if (!tplfs_is_stub(inode))
		return 0;

	/* killable: a task behind a long copy-up of the same file */
	err = mutex_lock_killable(&ti->copy_lock);
	if (err)
		return err;
	if (!tplfs_is_stub(inode)) {
		mutex_unlock(&ti->copy_lock);
		return 0;
	}
	start = ktime_get_ns();
	if (with_data) {
		old = tplfs_override_creds(sb);
		err = tplfs_get_object(inode, &object, &ref);
		revert_creds(old);
		if (err)
			goto out_unlock;
	} else {
		object.mnt = NULL;
		object.dentry = NULL;
	}
	/* The copy is charged to the container like any write. */
	reserved = tplfs_object_bytes(&object);
	old = tplfs_change_begin(sb, reserved, 0);
	if (IS_ERR(old)) {
		err = PTR_ERR(old);
		goto out_put_object;
	}

	capslen = tplfs_save_caps(idmap, real, caps, sizeof(caps));
	if (capslen < 0) {
		err = capslen;
		goto out_end;
	}

	tplfs_real_path(dentry, &realpath);
	err = vfs_truncate(&realpath, 0);
	if (err)
		goto out_end;
	dst = dentry_open(&realpath, O_WRONLY | O_LARGEFILE, fs->creator_cred);
	if (IS_ERR(dst)) {
		err = PTR_ERR(dst);
		goto out_end;
	}

	if (object.dentry) {
		src = dentry_open(&object, O_RDONLY | O_LARGEFILE,
				  fs->creator_cred);
		if (IS_ERR(src)) {
			err = PTR_ERR(src);
			goto out_fput;
		}
		/* What verity= refuses to read is not copied either. */
		err = tplfs_verify_object(inode, &ref, src);
		if (err) {
			fput(src);
			goto out_fput;
		}
		err = tplfs_copy_data(src, dst, ti->size);
		fput(src);
		if (err < 0)
			goto out_fput;
		written = err;
		err = 0;
		bytes = ti->size;
		/* A trailing hole: set the size the copy did not reach. */
		if (i_size_read(file_inode(dst)) < ti->size) {
			err = vfs_truncate(&realpath, ti->size);
			if (err)
				goto out_fput;
		}
	}

	if (capslen > 0) {
		err = vfs_setxattr(idmap, real, XATTR_NAME_CAPS, caps, capslen,
				   0);
		if (err)
			goto out_fput;
	}
	if (written && !fs->config.is_volatile) {
		err = vfs_fsync(dst, 1);
		if (err)
			goto out_fput;
		synced = true;
	}
	/* The commit. */
	err = vfs_removexattr(idmap, real, TPLFS_ORIGIN_XATTR);
	if (err)
		goto out_fput;
	if (capslen > 0)
		vfs_removexattr(idmap, real, TPLFS_CAPS_XATTR);

	clear_bit(TPLFS_I_STUB, &ti->flags);
	clear_bit(TPLFS_I_BAD_ORIGIN, &ti->flags);
	atomic64_inc(&fs->stats.copy_ups);
	atomic64_add(bytes, &fs->stats.copy_up_bytes);
	atomic64_add(ktime_get_ns() - start, &fs->stats.copy_up_ns);

out_fput:
	fput(dst);
out_end:
	tplfs_quota_sync(inode, real);
	tplfs_change_end(sb, reserved, 0, old);
out_put_object:
	path_put(&object);
out_unlock:
	tplfs_copy_attr(inode);
	mutex_unlock(&ti->copy_lock);
	trace_tplfs_copy_up(inode, bytes, ktime_get_ns() - start, with_data,
			    synced, err);
	if (err && err != -EIO)
		pr_warn_ratelimited("ct=%s inode %lu: copy-up failed (%d)\n",
				    fs->config.ct ?: "-", inode->i_ino, err);
	return err;
}
