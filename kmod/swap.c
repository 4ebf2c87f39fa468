// SPDX-License-Identifier: GPL-2.0
/*
 * Changing what a file of a mounted container stands for, under it: the
 * GET_ORIGIN and SET_ORIGIN commands of /dev/tplfs (ctl.c parses them).
 * SET_ORIGIN is a compare-and-swap, under the inode's copy_lock, the lock
 * every copy-up takes:
 *
 * - stub to stub (a rebase onto a new template version): the origin xattr
 *   is replaced and the inode's size and digest with it, inside a write
 *   section of its origin_seq, so that an open, stat or copy-up sees one
 *   origin or the other, never a mix. Files opened before keep their
 *   object open (as after dpkg's rename over a file); new opens get the new
 *   one. Refused while the file is open for writing: a write-only open of
 *   a stub does not copy up until it writes.
 * - private file to stub (a relink): only while the file is not open at
 *   all through the mount (its data is about to go) nor for writing
 *   anywhere, and unchanged since the GET_ORIGIN that the caller hashed it
 *   after. The origin is set first, which commits (a stub wins over its
 *   data: a crash leaves a stub), then the data is truncated away.
 *
 * st_ino never changes: the private inode stays the same inode.
 */
#include <linux/iversion.h>
#include <linux/wait_bit.h>
#include <linux/xattr.h>

#include "tplfs.h"

/**
 * tplfs_open_begin - count an open of @inode, waiting out a relink
 * @inode: a tplfs regular file
 *
 * Paired with tplfs_open_end() when the file is released (or the open
 * fails). A relink sets TPLFS_I_RELINKING and then reads the count; an
 * open raises the count and then reads the bit: one of the two sees the
 * other.
 *
 * Return: 0, or -EINTR when killed while waiting.
 */
int tplfs_open_begin(struct inode *inode)
{
	struct tplfs_inode *ti = tplfs_i(inode);
	int err;

	for (;;) {
		atomic_inc(&ti->opens);
		/* pairs with the barrier after the relink's set_bit() */
		smp_mb__after_atomic();
		if (!test_bit(TPLFS_I_RELINKING, &ti->flags))
			return 0;
		tplfs_open_end(inode);
		err = wait_on_bit(&ti->flags, TPLFS_I_RELINKING,
				  TASK_KILLABLE);
		if (err)
			return err;
	}
}

/* The end of an open counted by tplfs_open_begin(). */
void tplfs_open_end(struct inode *inode)
{
	atomic_dec(&tplfs_i(inode)->opens);
}

/* What tells a private file changed: i_version where kept, ctime, size. */
static void tplfs_change_state(struct inode *real,
			       struct tplfs_origin_state *st)
{
	struct timespec64 ctime = tplfs_inode_ctime(real);

	st->change = IS_I_VERSION(real) ? inode_query_iversion(real) : 0;
	st->ctime_sec = ctime.tv_sec;
	st->ctime_nsec = ctime.tv_nsec;
	st->file_size = i_size_read(real);
}

/* The tplfs inode of @real, a regular file of @sb's private area. */
static struct inode *tplfs_swap_inode(struct super_block *sb,
				      struct dentry *real)
{
	const struct cred *old;
	struct inode *inode;

	if (!d_is_reg(real))
		return ERR_PTR(-EINVAL);
	old = tplfs_override_creds(sb);
	inode = tplfs_get_inode(sb, real);
	revert_creds(old);
	return inode;
}

/* Read the state of the file @real into @st (copy_lock held). */
static int tplfs_read_state(struct super_block *sb, struct inode *inode,
			    struct dentry *real, struct tplfs_origin_state *st)
{
	struct vfsmount *mnt = tplfs_private_mnt(sb);
	const struct cred *old;
	ssize_t len;

	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	if (!tplfs_is_stub(inode)) {
		tplfs_change_state(d_inode(real), st);
		return 0;
	}
	st->flags = TPLFS_OSTATE_STUB;
	if (test_bit(TPLFS_I_BAD_ORIGIN, &tplfs_i(inode)->flags))
		st->flags |= TPLFS_OSTATE_BAD;
	old = tplfs_override_creds(sb);
	len = vfs_getxattr(tplfs_mnt_idmap(mnt), real, TPLFS_ORIGIN_XATTR,
			   st->origin, sizeof(st->origin));
	revert_creds(old);
	/* longer than an origin (ERANGE): a bad one, its head unknown */
	return len < 0 && len != -ERANGE ? len : 0;
}

/**
 * tplfs_get_origin - GET_ORIGIN: what a file of a private area is now
 * @sb:   the tplfs superblock
 * @real: the file, in its private area
 * @st:   its state
 *
 * Return: 0, or a negative errno.
 */
int tplfs_get_origin(struct super_block *sb, struct dentry *real,
		     struct tplfs_origin_state *st)
{
	struct inode *inode = tplfs_swap_inode(sb, real);
	struct tplfs_inode *ti;
	int err;

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	ti = tplfs_i(inode);
	err = mutex_lock_killable(&ti->copy_lock);
	if (!err) {
		err = tplfs_read_state(sb, inode, real, st);
		mutex_unlock(&ti->copy_lock);
	}
	iput(inode);
	return err;
}

/* The new origin is sound and names an object of its size in the store. */
static int tplfs_check_new(struct super_block *sb, const struct tplfs_origin *o)
{
	const struct cred *old;
	struct path path;
	int err;

	if (!tplfs_origin_valid(o))
		return -EINVAL;
	old = tplfs_override_creds(sb);
	err = tplfs_lookup_object(tplfs_fs(sb), o->digest, &path);
	revert_creds(old);
	if (err)
		return -ENOENT;
	if (!d_is_reg(path.dentry) ||
	    i_size_read(d_inode(path.dentry)) != le64_to_cpu(o->size))
		err = -ENOENT;
	path_put(&path);
	return err;
}

/* Make the inode stand for @o (copy_lock held): one origin_seq section. */
static void tplfs_take_origin(struct tplfs_inode *ti,
			      const struct tplfs_origin *o)
{
	write_seqcount_begin(&ti->origin_seq);
	WRITE_ONCE(ti->size, le64_to_cpu(o->size));
	memcpy(ti->digest, o->digest, sizeof(ti->digest));
	clear_bit(TPLFS_I_BAD_ORIGIN, &ti->flags);
	set_bit(TPLFS_I_STUB, &ti->flags);
	write_seqcount_end(&ti->origin_seq);
	tplfs_retire_object(ti);
}

/* Whether @st still describes the private file @real. */
static bool tplfs_unchanged(struct inode *real,
			    const struct tplfs_origin_state *st)
{
	struct tplfs_origin_state now;

	tplfs_change_state(real, &now);
	return now.change == st->change && now.ctime_sec == st->ctime_sec &&
	       now.ctime_nsec == st->ctime_nsec &&
	       now.file_size == st->file_size;
}

/* Stub to stub: replace the xattr (copy_lock held). */
static int tplfs_swap_stub(struct super_block *sb, struct inode *inode,
			   struct dentry *real,
			   const struct tplfs_origin_swap *sw)
{
	struct tplfs_idmap *idmap = tplfs_mnt_idmap(tplfs_private_mnt(sb));
	struct tplfs_origin_state now;
	const struct cred *old;
	int err;

	err = tplfs_read_state(sb, inode, real, &now);
	if (err)
		return err;
	if (!(now.flags & TPLFS_OSTATE_STUB) ||
	    memcmp(now.origin, sw->expect.origin, sizeof(now.origin)))
		return -ESTALE;
	if (atomic_read(&inode->i_writecount) > 0)
		return -ETXTBSY;

	old = tplfs_change_begin(sb, 0, 0);
	if (IS_ERR(old))
		return PTR_ERR(old);
	err = vfs_setxattr(idmap, real, TPLFS_ORIGIN_XATTR, sw->origin,
			   sizeof(sw->origin), XATTR_REPLACE);
	if (!err)
		tplfs_take_origin(tplfs_i(inode),
				  (const struct tplfs_origin *)sw->origin);
	tplfs_quota_sync(inode, real);
	tplfs_change_end(sb, 0, 0, old);
	return err;
}

/*
 * Private file to stub (copy_lock held, TPLFS_I_RELINKING set and no
 * open): set the origin, then drop the data, under the private inode's
 * lock so that no write is under way.
 */
static int tplfs_relink(struct super_block *sb, struct inode *inode,
			struct dentry *real, const struct tplfs_origin_swap *sw)
{
	struct tplfs_idmap *idmap = tplfs_mnt_idmap(tplfs_private_mnt(sb));
	struct inode *rinode = d_inode(real);
	/* the file's mtime stays its own (xfs would set it to now) */
	struct iattr attr = {
		.ia_valid = ATTR_SIZE | ATTR_MTIME | ATTR_MTIME_SET,
		.ia_size = 0,
		.ia_mtime = tplfs_inode_mtime(rinode),
	};
	const struct cred *old;
	int err;

	old = tplfs_change_begin(sb, 0, 0);
	if (IS_ERR(old))
		return PTR_ERR(old);
	inode_lock(rinode);
	err = -ETXTBSY;
	if (atomic_read(&rinode->i_writecount) > 0)
		goto out_unlock;
	err = -ESTALE;
	if (!tplfs_unchanged(rinode, &sw->expect))
		goto out_unlock;
	err = __vfs_setxattr_locked(idmap, real, TPLFS_ORIGIN_XATTR, sw->origin,
				    sizeof(sw->origin), XATTR_CREATE, NULL);
	if (err)
		goto out_unlock;
	tplfs_take_origin(tplfs_i(inode), (const struct tplfs_origin *)sw->origin);
	/* The commit is made: a failure here leaves a stub with data. */
	if (notify_change(idmap, real, &attr, NULL))
		tplfs_stub_error(inode, "keeps its data after a relink", -EIO);
out_unlock:
	inode_unlock(rinode);
	tplfs_quota_sync(inode, real);
	tplfs_change_end(sb, 0, 0, old);
	return err;
}

/* A relink with TPLFS_I_RELINKING held against opens (copy_lock held). */
static int tplfs_relink_unopened(struct super_block *sb, struct inode *inode,
				 struct dentry *real,
				 const struct tplfs_origin_swap *sw)
{
	struct tplfs_inode *ti = tplfs_i(inode);
	int err = -EBUSY;

	if (tplfs_is_stub(inode))
		return -ESTALE;
	set_bit(TPLFS_I_RELINKING, &ti->flags);
	/* pairs with the barrier after tplfs_open_begin()'s atomic_inc() */
	smp_mb__after_atomic();
	if (!atomic_read(&ti->opens))
		err = tplfs_relink(sb, inode, real, sw);
	clear_bit_unlock(TPLFS_I_RELINKING, &ti->flags);
	/* the cleared bit is seen by a waiter woken (wake_up_bit's rule) */
	smp_mb__after_atomic();
	wake_up_bit(&ti->flags, TPLFS_I_RELINKING);
	return err;
}

/**
 * tplfs_set_origin - SET_ORIGIN: a compare-and-swap of a file's origin
 * @sb:   the tplfs superblock
 * @real: the file, in its private area
 * @sw:   what it must still be, and its new origin
 *
 * Return: 0, or a negative errno (see struct tplfs_cmd_origin).
 */
int tplfs_set_origin(struct super_block *sb, struct dentry *real,
		     const struct tplfs_origin_swap *sw)
{
	const struct tplfs_origin *o = (const struct tplfs_origin *)sw->origin;
	struct inode *inode;
	struct tplfs_inode *ti;
	int err;

	BUILD_BUG_ON(sizeof(sw->origin) != sizeof(*o));
	if (sw->expect.flags & ~TPLFS_OSTATE_STUB)
		return -EINVAL;
	err = tplfs_check_new(sb, o);
	if (err)
		return err;
	inode = tplfs_swap_inode(sb, real);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	ti = tplfs_i(inode);
	err = mutex_lock_killable(&ti->copy_lock);
	if (err)
		goto out_iput;
	if (sw->expect.flags & TPLFS_OSTATE_STUB)
		err = tplfs_swap_stub(sb, inode, real, sw);
	else
		err = tplfs_relink_unopened(sb, inode, real, sw);
	tplfs_copy_attr(inode);
	mutex_unlock(&ti->copy_lock);
out_iput:
	iput(inode);
	return err;
}
