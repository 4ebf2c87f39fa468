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
			n = tplfs_splice_direct(src, &in, dst, &out, len);
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
 * struct tplfs_copy - a copy-up under way
 * @inode:   the tplfs inode of the stub
 * @real:    its private dentry
 * @dst:     the private file, open for writing
 * @caps:    the file capabilities to put back, @capslen bytes (0: none)
 * @capslen:
 * @bytes:   bytes of data the object has, once copied
 * @written: data was written (not only reflinked or holes): it needs a sync
 * @synced:  it was synced
 */
struct tplfs_copy {
	struct inode *inode;
	struct dentry *real;
	struct file *dst;
	u8 caps[64];
	ssize_t capslen;
	u64 bytes;
	bool written;
	bool synced;
};

/* The private file's size (in a change: its freeze protection is held). */
static int tplfs_set_size(struct tplfs_idmap *idmap, struct dentry *real,
			  loff_t size)
{
	struct iattr attr = { .ia_valid = ATTR_SIZE, .ia_size = size };
	int err;

	inode_lock(d_inode(real));
	err = notify_change(idmap, real, &attr, NULL);
	inode_unlock(d_inode(real));
	return err;
}

/*
 * Steps 1 and its preparation, in one change: the capabilities saved, the
 * stub emptied, the private file opened for writing.
 */
static int tplfs_copy_begin(struct tplfs_copy *c)
{
	struct super_block *sb = c->inode->i_sb;
	struct tplfs_idmap *idmap = tplfs_mnt_idmap(tplfs_private_mnt(sb));
	struct path realpath = { .mnt = tplfs_private_mnt(sb), .dentry = c->real };
	const struct cred *old;
	int err;

	old = tplfs_change_begin(sb, 0, 0);
	if (IS_ERR(old))
		return PTR_ERR(old);
	c->capslen = tplfs_save_caps(idmap, c->real, c->caps, sizeof(c->caps));
	err = c->capslen < 0 ? c->capslen : tplfs_set_size(idmap, c->real, 0);
	if (!err) {
		c->dst = dentry_open(&realpath, O_WRONLY | O_LARGEFILE,
				     tplfs_fs(sb)->creator_cred);
		err = PTR_ERR_OR_ZERO(c->dst);
	}
	tplfs_change_end(sb, 0, 0, old);
	return err;
}

/*
 * Step 2, with the mounter's credentials and outside any change: cloning,
 * copy_file_range and splice take the private filesystem's freeze
 * protection themselves, and taking it twice can deadlock against a freeze.
 */
static int tplfs_copy_object(struct tplfs_copy *c, const struct path *object,
			     const struct tplfs_stub_ref *ref)
{
	struct file *src;
	int err;

	src = dentry_open(object, O_RDONLY | O_LARGEFILE,
			  tplfs_fs(c->inode->i_sb)->creator_cred);
	if (IS_ERR(src))
		return PTR_ERR(src);
	/* What verity= refuses to read is not copied either. */
	err = tplfs_verify_object(c->inode, ref, src);
	if (!err)
		err = tplfs_copy_data(src, c->dst, ref->size);
	fput(src);
	if (err < 0)
		return err;
	c->written = err;
	c->bytes = ref->size;
	return 0;
}

/*
 * Steps 2's end to 4, in one change: a trailing hole's size, the
 * capabilities back, the sync, and the commit.
 */
static int tplfs_copy_commit(struct tplfs_copy *c, loff_t size)
{
	struct super_block *sb = c->inode->i_sb;
	struct tplfs_idmap *idmap = tplfs_mnt_idmap(tplfs_private_mnt(sb));
	const struct cred *old;
	int err = 0;

	old = tplfs_change_begin(sb, 0, 0);
	if (IS_ERR(old))
		return PTR_ERR(old);
	if (c->bytes && i_size_read(file_inode(c->dst)) < size)
		err = tplfs_set_size(idmap, c->real, size);
	if (!err && c->capslen > 0)
		err = vfs_setxattr(idmap, c->real, XATTR_NAME_CAPS, c->caps,
				   c->capslen, 0);
	if (!err && c->written && !tplfs_fs(sb)->config.is_volatile) {
		err = vfs_fsync(c->dst, 1);
		c->synced = !err;
	}
	/* The commit. */
	if (!err)
		err = vfs_removexattr(idmap, c->real, TPLFS_ORIGIN_XATTR);
	if (!err && c->capslen > 0)
		vfs_removexattr(idmap, c->real, TPLFS_CAPS_XATTR);
	tplfs_change_end(sb, 0, 0, old);
	return err;
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
	struct dentry *real = tplfs_real_dentry(dentry);
	struct tplfs_copy c = { .inode = inode, .real = real };
	struct path object;
	struct tplfs_stub_ref ref;
	const struct cred *old;
	u64 start, reserved;
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
	err = tplfs_quota_begin(fs, reserved, 0);
	if (err)
		goto out_put_object;

	err = tplfs_copy_begin(&c);
	if (err)
		goto out_quota;
	if (object.dentry) {
		old = tplfs_override_creds(sb);
		err = tplfs_copy_object(&c, &object, &ref);
		revert_creds(old);
	}
	if (!err)
		err = tplfs_copy_commit(&c, ti->size);
	fput(c.dst);
	if (!err) {
		clear_bit(TPLFS_I_STUB, &ti->flags);
		clear_bit(TPLFS_I_BAD_ORIGIN, &ti->flags);
		atomic64_inc(&fs->stats.copy_ups);
		atomic64_add(c.bytes, &fs->stats.copy_up_bytes);
		atomic64_add(ktime_get_ns() - start, &fs->stats.copy_up_ns);
	}
out_quota:
	tplfs_quota_sync(inode, real);
	tplfs_quota_end(fs, reserved, 0);
out_put_object:
	path_put(&object);
out_unlock:
	tplfs_copy_attr(inode);
	mutex_unlock(&ti->copy_lock);
	trace_tplfs_copy_up(inode, c.bytes, ktime_get_ns() - start, with_data,
			    c.synced, err);
	if (err && err != -EIO)
		pr_warn_ratelimited("ct=%s inode %lu: copy-up failed (%d)\n",
				    fs->config.ct ?: "-", inode->i_ino, err);
	return err;
}
