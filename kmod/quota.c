// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs per-container quota: bytes allocated in the private area and inodes,
 * each with a soft limit, a hard limit and a grace period.
 *
 * Usage is the sum, over the private area's inodes, of what each has
 * allocated as the private filesystem reports it (st_blocks * 512, delayed
 * allocation included), and one per inode: exactly what a scan of the
 * private area counts (tplfsd rescans it after an unclean stop). Each tplfs
 * inode remembers what it is charged (@charged); after every operation that
 * can change its allocation the private inode is measured again and the
 * difference is charged. An inode is charged at its creation and released
 * when its tplfs inode is evicted with no link left (unlink of the last
 * link, or the last close after it).
 *
 * An operation that allocates first reserves what it may allocate: its
 * reservation and everyone else's count as used until it ends, so that
 * concurrent writers cannot overshoot a limit together. Past the hard limit,
 * or past the soft limit once its grace period is over, reservations fail
 * with EDQUOT; a write that does not fit writes the part that does.
 *
 * @gen changes whenever usage changes or an operation begins or ends:
 * SET_QUOTA with TPLFS_QSET_IF_GEN takes a rescan's result only if nothing
 * changed while it ran.
 */
#include <linux/dcache.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/fs.h>
#include <linux/fileattr.h>
#include <linux/jiffies.h>
#include <linux/namei.h>
#include <linux/spinlock.h>
#include <linux/statfs.h>
#include <linux/timekeeping.h>

#include "tplfs.h"

/* Post a checkpoint when usage moved this much, at most this often. */
#define TPLFS_CKPT_BYTES	(16ULL << 20)
#define TPLFS_CKPT_INODES	1024
#define TPLFS_CKPT_PERIOD	(5 * HZ)

/* Events decided under the lock, posted after it. */
struct tplfs_qevents {
	int n;
	struct {
		u32 type;
		u64 arg0, arg1;
	} ev[2 * TPLFS_QRES_COUNT + 1];
};

static void tplfs_qev_add(struct tplfs_qevents *evs, u32 type, u64 arg0,
			  u64 arg1)
{
	if (WARN_ON_ONCE(evs->n >= ARRAY_SIZE(evs->ev)))
		return;
	evs->ev[evs->n].type = type;
	evs->ev[evs->n].arg0 = arg0;
	evs->ev[evs->n].arg1 = arg1;
	evs->n++;
}

static void tplfs_qev_post(struct tplfs_fs *fs, struct tplfs_qevents *evs)
{
	int i;

	for (i = 0; i < evs->n; i++)
		tplfs_event_post(evs->ev[i].type, fs->config.ct,
				 evs->ev[i].arg0, evs->ev[i].arg1);
}

static u64 tplfs_qused(const struct tplfs_qres *r)
{
	return r->used > 0 ? r->used : 0;
}

/*
 * Start or end the grace period of @r after its usage changed, and say so.
 * Under the lock.
 */
static void tplfs_qres_update(struct tplfs_qres *r, int res,
			      struct tplfs_qevents *evs)
{
	u64 used = tplfs_qused(r);

	if (r->soft && used > r->soft) {
		if (!r->grace_end) {
			r->grace_end = ktime_get_real_seconds() + r->grace;
			tplfs_qev_add(evs, TPLFS_EV_QUOTA_SOFT, res,
				      r->grace_end);
		}
	} else if (r->grace_end) {
		r->grace_end = 0;
		tplfs_qev_add(evs, TPLFS_EV_QUOTA_UNDER, res, used);
	}
	if (r->denied && (!r->hard || used < r->hard) &&
	    (!r->soft || used <= r->soft))
		r->denied = false;
}

/* A checkpoint event if usage moved enough since the last one. */
static void tplfs_quota_checkpoint(struct tplfs_qstate *q,
				   struct tplfs_qevents *evs)
{
	u64 bytes = tplfs_qused(&q->res[TPLFS_QRES_BYTES]);
	u64 inodes = tplfs_qused(&q->res[TPLFS_QRES_INODES]);

	if (abs_diff(bytes, q->ckpt_bytes) < TPLFS_CKPT_BYTES &&
	    abs_diff(inodes, q->ckpt_inodes) < TPLFS_CKPT_INODES)
		return;
	if (time_before(jiffies, q->ckpt_at + TPLFS_CKPT_PERIOD))
		return;
	q->ckpt_bytes = bytes;
	q->ckpt_inodes = inodes;
	q->ckpt_at = jiffies;
	tplfs_qev_add(evs, TPLFS_EV_QUOTA_CHECKPOINT, bytes, inodes);
}

/* Charge (or, negative, release) usage. */
static void tplfs_quota_charge(struct tplfs_fs *fs, s64 bytes, s64 inodes)
{
	struct tplfs_qstate *q = &fs->quota;
	struct tplfs_qevents evs = { 0 };

	if (!bytes && !inodes)
		return;
	spin_lock(&q->lock);
	q->res[TPLFS_QRES_BYTES].used += bytes;
	q->res[TPLFS_QRES_INODES].used += inodes;
	q->gen++;
	tplfs_qres_update(&q->res[TPLFS_QRES_BYTES], TPLFS_QRES_BYTES, &evs);
	tplfs_qres_update(&q->res[TPLFS_QRES_INODES], TPLFS_QRES_INODES, &evs);
	tplfs_quota_checkpoint(q, &evs);
	spin_unlock(&q->lock);
	tplfs_qev_post(fs, &evs);
}

/* What @r may still allocate: U64_MAX without a limit. Under the lock. */
static u64 tplfs_qres_room(const struct tplfs_qres *r)
{
	u64 used = tplfs_qused(r) + r->reserved;
	u64 limit = r->hard;

	if (r->soft && r->grace_end &&
	    ktime_get_real_seconds() >= r->grace_end)
		limit = r->soft;
	if (!limit)
		return U64_MAX;
	return used < limit ? limit - used : 0;
}

/* Count a refusal, and report the first since usage was under the limit. */
static void tplfs_quota_denied(struct tplfs_fs *fs, int res)
{
	struct tplfs_qstate *q = &fs->quota;
	struct tplfs_qevents evs = { 0 };
	struct tplfs_qres *r = &q->res[res];

	atomic64_inc(&fs->stats.quota_denials);
	spin_lock(&q->lock);
	if (!r->denied) {
		r->denied = true;
		tplfs_qev_add(&evs, TPLFS_EV_QUOTA_HARD, res, tplfs_qused(r));
	}
	spin_unlock(&q->lock);
	tplfs_qev_post(fs, &evs);
}

/* Reserve, or say which resource has no room (-EDQUOT, not counted). */
static int tplfs_quota_try(struct tplfs_fs *fs, u64 bytes, u64 inodes,
			   int *denied)
{
	struct tplfs_qstate *q = &fs->quota;
	struct tplfs_qres *rb = &q->res[TPLFS_QRES_BYTES];
	struct tplfs_qres *ri = &q->res[TPLFS_QRES_INODES];
	int err = 0;

	spin_lock(&q->lock);
	if (inodes && tplfs_qres_room(ri) < inodes) {
		*denied = TPLFS_QRES_INODES;
		err = -EDQUOT;
	} else if (bytes && tplfs_qres_room(rb) < bytes) {
		*denied = TPLFS_QRES_BYTES;
		err = -EDQUOT;
	} else {
		rb->reserved += bytes;
		ri->reserved += inodes;
		q->inflight++;
		q->gen++;
	}
	spin_unlock(&q->lock);
	return err;
}

/**
 * tplfs_quota_begin - reserve room for an operation that allocates
 * @fs:     the mount
 * @bytes:  the most it may allocate, in bytes
 * @inodes: the inodes it creates
 *
 * Every successful call is paired with tplfs_quota_end() with the same
 * amounts. An operation that allocates nothing itself but changes usage
 * (unlink, rename, truncate, setxattr) reserves nothing and is never
 * refused.
 *
 * Return: 0, or -EDQUOT.
 */
int tplfs_quota_begin(struct tplfs_fs *fs, u64 bytes, u64 inodes)
{
	int denied, err;

	err = tplfs_quota_try(fs, bytes, inodes, &denied);
	if (err)
		tplfs_quota_denied(fs, denied);
	return err;
}

/* The end of an operation begun with tplfs_quota_begin(). */
void tplfs_quota_end(struct tplfs_fs *fs, u64 bytes, u64 inodes)
{
	struct tplfs_qstate *q = &fs->quota;

	spin_lock(&q->lock);
	q->res[TPLFS_QRES_BYTES].reserved -= bytes;
	q->res[TPLFS_QRES_INODES].reserved -= inodes;
	q->inflight--;
	q->gen++;
	spin_unlock(&q->lock);
}

/* What the private inode has allocated now, in bytes; -1 if unknown. */
static s64 tplfs_quota_measure(struct tplfs_fs *fs, struct inode *inode,
			       struct dentry *real)
{
	struct path path = { .mnt = fs->private_path.mnt };
	struct kstat stat;
	s64 bytes = -1;

	path.dentry = real ?: d_find_any_alias(tplfs_real_inode(inode));
	if (!path.dentry)
		return -1;
	if (!vfs_getattr_nosec(&path, &stat, STATX_BLOCKS,
			       AT_STATX_DONT_SYNC))
		bytes = (s64)stat.blocks << 9;
	if (!real)
		dput(path.dentry);
	return bytes;
}

/**
 * tplfs_quota_sync - charge what an inode allocated or freed
 * @inode: a tplfs inode
 * @real:  one of its private dentries, or NULL to find one
 *
 * Measures the private inode and charges the difference with what it was
 * charged so far.
 */
void tplfs_quota_sync(struct inode *inode, struct dentry *real)
{
	struct tplfs_fs *fs = tplfs_fs(inode->i_sb);
	struct tplfs_inode *ti = tplfs_i(inode);
	s64 now, delta;

	now = tplfs_quota_measure(fs, inode, real);
	if (now < 0)
		return;
	spin_lock(&fs->quota.lock);
	delta = now - ti->charged;
	ti->charged = now;
	spin_unlock(&fs->quota.lock);
	tplfs_quota_charge(fs, delta, 0);
}

/*
 * A tplfs inode being set up: what its private inode has is already in the
 * usage (counted by a scan, or charged when it was created).
 */
void tplfs_quota_init_inode(struct inode *inode, struct dentry *real)
{
	s64 now = tplfs_quota_measure(tplfs_fs(inode->i_sb), inode, real);

	tplfs_i(inode)->charged = max_t(s64, now, 0);
}

/* An inode created through the mount: charge it and what it allocated. */
void tplfs_quota_new_inode(struct inode *inode)
{
	struct tplfs_inode *ti = tplfs_i(inode);

	tplfs_quota_charge(tplfs_fs(inode->i_sb), ti->charged, 1);
}

/*
 * A tplfs inode going away: with no link left its private inode is freed,
 * so release what it was charged; else charge its last changes.
 */
void tplfs_quota_evict(struct inode *inode)
{
	struct tplfs_fs *fs = tplfs_fs(inode->i_sb);
	struct inode *real = tplfs_real_inode(inode);

	if (!real)
		return;
	if (!real->i_nlink) {
		tplfs_quota_charge(fs, -tplfs_i(inode)->charged, -1);
		tplfs_i(inode)->charged = 0;
		return;
	}
	tplfs_quota_sync(inode, NULL);
}

/*
 * Measure every cached inode of @sb: charge what changed (@rebase false),
 * or take the measure as what each is charged without charging anything
 * (@rebase true: usage is being set from a scan that counted them).
 */
static void tplfs_quota_sync_all(struct super_block *sb, bool rebase)
{
	struct tplfs_fs *fs = tplfs_fs(sb);
	struct inode *inode, *prev = NULL;
	s64 now;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if (inode->i_state & (I_NEW | I_FREEING | I_WILL_FREE)) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		spin_unlock(&inode->i_lock);
		if (!igrab(inode))
			continue;
		spin_unlock(&sb->s_inode_list_lock);

		iput(prev);
		prev = inode;
		if (!rebase) {
			tplfs_quota_sync(inode, NULL);
		} else {
			now = tplfs_quota_measure(fs, inode, NULL);
			if (now >= 0) {
				spin_lock(&fs->quota.lock);
				tplfs_i(inode)->charged = now;
				spin_unlock(&fs->quota.lock);
			}
		}
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(prev);
}

/*
 * Whether [0, @end) of @realfile is allocated although SEEK_HOLE may say
 * otherwise: preallocated (unwritten) extents look like holes to it. A file
 * whose blocks cover its whole size is taken as having no hole below it;
 * doc/quota.md says what this lets through.
 */
static bool tplfs_preallocated(const struct path *realpath, loff_t end,
			       u64 bs)
{
	loff_t size = i_size_read(d_inode(realpath->dentry));
	struct kstat stat;

	if (end > size ||
	    vfs_getattr_nosec(realpath, &stat, STATX_BLOCKS,
			      AT_STATX_DONT_SYNC))
		return false;
	return (stat.blocks << 9) >= round_up(size, bs);
}

/* Bytes of [start, end) in holes of @realfile (upper bound, block-rounded). */
static u64 tplfs_unallocated(struct file *realfile, const struct path *realpath,
			     loff_t start, loff_t end, u64 bs)
{
	loff_t pos = start, hole, data;
	u64 holes = 0;
	int steps = 0;

	if (tplfs_preallocated(realpath, end, bs))
		return 0;

	while (pos < end) {
		hole = vfs_llseek(realfile, pos, SEEK_HOLE);
		if (hole == -ENXIO)		/* at or past the end: a hole */
			hole = pos;
		if (hole >= end)
			break;
		/* Cannot tell, or too fragmented: count the rest as holes. */
		if (hole < 0 || ++steps > 1024) {
			holes += round_up(end, bs) - round_down(pos, bs);
			break;
		}
		data = vfs_llseek(realfile, hole, SEEK_DATA);
		if (data < 0 || data > end)
			data = end;
		holes += round_up(data, bs) - round_down(hole, bs);
		pos = data;
	}
	return holes;
}

/*
 * xfs preallocates speculatively beyond the end of a growing file and
 * counts it in st_blocks until it trims it (at close, or later). Near a
 * limit that would refuse writes for blocks nobody asked for, so give them
 * back first, as xfs's own quota does on EDQUOT: truncate the private file
 * to its own size. Not for a file with preallocation of its own
 * (FS_XFLAG_PREALLOC: fallocate), which that would take away. Returns
 * whether anything was freed.
 */
static bool tplfs_trim_speculative(struct inode *inode,
				   const struct path *realpath, u64 bs)
{
	struct dentry *real = realpath->dentry;
	struct inode *rinode = d_inode(real);
	struct iattr attr = { .ia_valid = ATTR_SIZE };
	const struct cred *old;
	struct fileattr fa = { };
	struct kstat stat;
	int err;

	if (rinode->i_sb->s_magic != XFS_SUPER_MAGIC)
		return false;
	if (vfs_getattr_nosec(realpath, &stat, STATX_BLOCKS,
			      AT_STATX_DONT_SYNC) ||
	    (stat.blocks << 9) <= round_up(stat.size, bs))
		return false;
	if (vfs_fileattr_get(real, &fa) || (fa.fsx_xflags & FS_XFLAG_PREALLOC))
		return false;
	old = tplfs_change_begin(inode->i_sb, 0, 0);
	if (IS_ERR(old))
		return false;
	inode_lock(rinode);
	attr.ia_size = i_size_read(rinode);
	err = notify_change(tplfs_mnt_idmap(realpath->mnt), real, &attr, NULL);
	inode_unlock(rinode);
	tplfs_quota_sync(inode, real);
	tplfs_change_end(inode->i_sb, 0, 0, old);
	return !err;
}

/*
 * The write of @len bytes at @pos to @realfile, the private file of
 * @inode (at @realpath: 6.1's @realfile has the tplfs path): how much of it may be
 * written, and the reservation to take for it (tplfs_quota_begin() is
 * called here). Returns 0 with *@len possibly shortened, or -EDQUOT when
 * not one byte fits.
 */
int tplfs_quota_begin_write(struct tplfs_fs *fs, struct inode *inode,
			    struct file *realfile, const struct path *realpath,
			    loff_t pos, size_t *len, u64 *reserved)
{
	u64 bs = i_blocksize(file_inode(realfile)), room;
	loff_t hole, start, end;
	int denied;
	u64 need;

	need = round_up(pos + *len, bs) - round_down(pos, bs);
	if (!tplfs_quota_try(fs, need, 0, &denied) ||
	    (tplfs_trim_speculative(inode, realpath, bs) &&
	     !tplfs_quota_try(fs, need, 0, &denied))) {
		*reserved = need;
		return 0;
	}
	/*
	 * Not all of it fits: blocks already allocated at the start of the
	 * range can be rewritten, the rest is charged as new.
	 */
	hole = vfs_llseek(realfile, pos, SEEK_HOLE);
	start = hole < pos ? pos : hole;
	if (start >= pos + (loff_t)*len ||
	    tplfs_preallocated(realpath, pos + *len, bs)) {
		*reserved = 0;
		/* Nothing to reserve: never refused. */
		return tplfs_quota_begin(fs, 0, 0);
	}
	spin_lock(&fs->quota.lock);
	room = tplfs_qres_room(&fs->quota.res[TPLFS_QRES_BYTES]);
	spin_unlock(&fs->quota.lock);
	end = round_down(start, bs) + round_down(min_t(u64, room, S64_MAX / 2),
						 bs);
	if (end > start) {
		*len = min_t(u64, *len, end - pos);
		need = round_up(pos + *len, bs) - round_down(start, bs);
	} else if (start > pos) {
		*len = start - pos;
		need = 0;
	} else {
		tplfs_quota_denied(fs, TPLFS_QRES_BYTES);
		return -EDQUOT;
	}
	*reserved = need;
	return tplfs_quota_begin(fs, need, 0);
}

/*
 * fallocate(@mode, @offset, @len) on @realfile: reserve what it may
 * allocate; all or nothing. Returns 0 or -EDQUOT.
 */
int tplfs_quota_begin_fallocate(struct tplfs_fs *fs, struct file *realfile,
				const struct path *realpath, int mode,
				loff_t offset, loff_t len, u64 *reserved)
{
	u64 bs = i_blocksize(file_inode(realfile)), need = 0;
	int denied;

	if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE)) &&
	    len > 0 && offset >= 0 && offset <= LLONG_MAX - len)
		need = round_up(offset + len, bs) - round_down(offset, bs);
	*reserved = need;
	if (!tplfs_quota_try(fs, need, 0, &denied))
		return 0;
	/* Only the holes of the range need blocks. */
	need = tplfs_unallocated(realfile, realpath, offset, offset + len, bs);
	*reserved = need;
	return tplfs_quota_begin(fs, need, 0);
}

void tplfs_quota_init(struct tplfs_fs *fs)
{
	spin_lock_init(&fs->quota.lock);
	fs->quota.ckpt_at = jiffies;
}

/**
 * tplfs_quota_get - a mount's quota, as GET_QUOTA reports it
 * @sb:   the tplfs superblock
 * @info: filled (every field)
 * @sync: measure the cached inodes first
 */
void tplfs_quota_get(struct super_block *sb, struct tplfs_quota *info,
		     bool sync)
{
	struct tplfs_qstate *q = &tplfs_fs(sb)->quota;
	int i;

	if (sync)
		tplfs_quota_sync_all(sb, false);
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	spin_lock(&q->lock);
	info->flags = q->usage_known ? TPLFS_QUOTA_USAGE_KNOWN : 0;
	info->gen = q->gen;
	for (i = 0; i < TPLFS_QRES_COUNT; i++) {
		struct tplfs_qres *r = &q->res[i];

		info->res[i].used = tplfs_qused(r);
		info->res[i].soft = r->soft;
		info->res[i].hard = r->hard;
		info->res[i].grace = r->grace;
		info->res[i].grace_end = r->grace_end;
	}
	spin_unlock(&q->lock);
}

/**
 * tplfs_quota_set - SET_QUOTA on a mount
 * @sb:    the tplfs superblock
 * @info:  the new limits and/or usage
 * @flags: TPLFS_QSET_*
 *
 * Return: 0, -EINVAL for a soft limit over its hard limit, or -EAGAIN for
 * TPLFS_QSET_IF_GEN when usage changed since @info->gen.
 */
int tplfs_quota_set(struct super_block *sb, const struct tplfs_quota *info,
		    u32 flags)
{
	struct tplfs_fs *fs = tplfs_fs(sb);
	struct tplfs_qstate *q = &fs->quota;
	struct tplfs_qevents evs = { 0 };
	int i, err = 0;

	for (i = 0; i < TPLFS_QRES_COUNT; i++) {
		const struct tplfs_quota_limit *l = &info->res[i];

		if ((flags & TPLFS_QSET_LIMITS) && l->hard &&
		    l->soft > l->hard)
			return -EINVAL;
		if ((flags & TPLFS_QSET_USAGE) && l->used > S64_MAX)
			return -EINVAL;
	}
	/* What the cached inodes have now is in the new usage. */
	if (flags & TPLFS_QSET_USAGE)
		tplfs_quota_sync_all(sb, true);

	spin_lock(&q->lock);
	if ((flags & TPLFS_QSET_IF_GEN) &&
	    (q->gen != info->gen || q->inflight)) {
		err = -EAGAIN;
		goto out;
	}
	for (i = 0; i < TPLFS_QRES_COUNT; i++) {
		const struct tplfs_quota_limit *l = &info->res[i];
		struct tplfs_qres *r = &q->res[i];

		if (flags & TPLFS_QSET_LIMITS) {
			r->soft = l->soft;
			r->hard = l->hard;
			r->grace = l->grace;
		}
		if (flags & TPLFS_QSET_USAGE) {
			r->used = l->used;
			r->grace_end = l->grace_end;
		}
		/* A grace period that began before keeps its end. */
		if (r->soft && tplfs_qused(r) > r->soft) {
			if (!r->grace_end)
				r->grace_end = ktime_get_real_seconds() +
					       r->grace;
		} else {
			r->grace_end = 0;
		}
		tplfs_qres_update(r, i, &evs);
	}
	if (flags & TPLFS_QSET_USAGE) {
		q->usage_known = true;
		q->ckpt_bytes = tplfs_qused(&q->res[TPLFS_QRES_BYTES]);
		q->ckpt_inodes = tplfs_qused(&q->res[TPLFS_QRES_INODES]);
	}
	q->gen++;
out:
	spin_unlock(&q->lock);
	tplfs_qev_post(fs, &evs);
	return err;
}

/*
 * statfs inside the container: with a limit, the size is the soft limit
 * (the hard one without), what is free is what usage leaves of it, and
 * never more than the private filesystem really has free.
 */
void tplfs_quota_statfs(struct tplfs_fs *fs, struct kstatfs *buf)
{
	struct tplfs_qstate *q = &fs->quota;
	struct tplfs_qres rb, ri;
	u64 limit, used, free;

	spin_lock(&q->lock);
	rb = q->res[TPLFS_QRES_BYTES];
	ri = q->res[TPLFS_QRES_INODES];
	spin_unlock(&q->lock);

	limit = rb.soft ?: rb.hard;
	if (limit && buf->f_bsize) {
		used = tplfs_qused(&rb);
		free = used < limit ? (limit - used) / buf->f_bsize : 0;
		buf->f_blocks = limit / buf->f_bsize;
		buf->f_bfree = min_t(u64, free, buf->f_bfree);
		buf->f_bavail = min_t(u64, free, buf->f_bavail);
	}
	limit = ri.soft ?: ri.hard;
	if (limit) {
		used = tplfs_qused(&ri);
		free = used < limit ? limit - used : 0;
		buf->f_files = limit;
		buf->f_ffree = min_t(u64, free, buf->f_ffree);
	}
}
