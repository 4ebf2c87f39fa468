// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs stubs: reading a stub's origin xattr, and opening its object in the
 * store. The origin is read once, when the inode is set up; lookup and stat
 * never touch the store. The object path is always built from the digest.
 */
#include <linux/namei.h>
#include <linux/xattr.h>
#include <linux/slab.h>

#include "tplfs.h"

void tplfs_stub_error(struct inode *inode, const char *what, int err)
{
	struct tplfs_fs *fs = tplfs_fs(inode->i_sb);

	pr_warn_ratelimited("ct=%s inode %lu: stub %s (%d)\n",
			    fs->config.ct ?: "-", inode->i_ino, what, err);
}

bool tplfs_origin_valid(const struct tplfs_origin *o)
{
	return o->version == TPLFS_ORIGIN_VERSION &&
	       o->algo == TPLFS_ALGO_FSVERITY_SHA256 &&
	       !(le16_to_cpu(o->flags) & ~TPLFS_ORIGIN_FLAGS_KNOWN) &&
	       !o->reserved &&
	       le64_to_cpu(o->size) <= MAX_LFS_FILESIZE;
}

/**
 * tplfs_read_origin - tell whether a private file is a stub
 * @sb:   the tplfs superblock
 * @real: the private dentry of a regular file
 * @ti:   its tplfs inode, being set up
 *
 * A file with the origin xattr is a stub, whatever its own size (a copy-up
 * interrupted by a crash leaves data in a stub, and the origin still wins).
 * A stub whose origin is malformed stays a stub marked bad: stat and readdir
 * work, open fails.
 *
 * Return: 0, or a negative errno from reading the xattr.
 */
int tplfs_read_origin(struct super_block *sb, struct dentry *real,
		      struct tplfs_inode *ti)
{
	struct vfsmount *mnt = tplfs_fs(sb)->private_path.mnt;
	u8 buf[TPLFS_ORIGIN_SIZE + 1];
	const struct cred *old;
	struct tplfs_origin o;
	ssize_t len;

	BUILD_BUG_ON(sizeof(o) != TPLFS_ORIGIN_SIZE);

	old = tplfs_override_creds(sb);
	len = vfs_getxattr(tplfs_mnt_idmap(mnt), real, TPLFS_ORIGIN_XATTR,
			   buf, sizeof(buf));
	revert_creds(old);
	if (len == -ENODATA || len == -EOPNOTSUPP)
		return 0;
	if (len < 0 && len != -ERANGE)
		return len;

	set_bit(TPLFS_I_STUB, &ti->flags);
	if (len != TPLFS_ORIGIN_SIZE) {
		set_bit(TPLFS_I_BAD_ORIGIN, &ti->flags);
		return 0;
	}
	memcpy(&o, buf, sizeof(o));
	if (!tplfs_origin_valid(&o)) {
		set_bit(TPLFS_I_BAD_ORIGIN, &ti->flags);
		return 0;
	}
	ti->size = le64_to_cpu(o.size);
	memcpy(ti->digest, o.digest, sizeof(ti->digest));
	return 0;
}

/**
 * tplfs_stub_origin - a consistent copy of a stub's size and digest
 * @ti:  the tplfs inode of a stub
 * @ref: the copy
 *
 * SET_ORIGIN changes them together, under @ti's copy_lock: a reader
 * outside that lock retries until it read one origin whole.
 */
void tplfs_stub_origin(struct tplfs_inode *ti, struct tplfs_stub_ref *ref)
{
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&ti->origin_seq);
		ref->size = ti->size;
		memcpy(ref->digest, ti->digest, sizeof(ref->digest));
		ref->bad = test_bit(TPLFS_I_BAD_ORIGIN, &ti->flags);
	} while (read_seqcount_retry(&ti->origin_seq, seq));
}

/* Keep the object's dentry for ->d_real; the first opener sets it. */
void tplfs_set_object(struct tplfs_inode *ti, struct dentry *object)
{
	if (READ_ONCE(ti->object))
		return;
	object = dget(object);
	if (cmpxchg(&ti->object, NULL, object))
		dput(object);
}

struct tplfs_retired {
	struct llist_node node;
	struct dentry *dentry;
};

/*
 * The origin changed (copy_lock held): ->d_real must not give the old
 * object any more, and a caller of it may still be using it without a
 * reference, so the dentry is kept until the inode is evicted. Without
 * memory for that, the old one stays named, as before the first open.
 */
void tplfs_retire_object(struct tplfs_inode *ti)
{
	struct tplfs_retired *r;

	if (!READ_ONCE(ti->object))
		return;
	r = kmalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return;
	r->dentry = xchg(&ti->object, NULL);
	llist_add(&r->node, &ti->retired);
}

/* At eviction: the objects tplfs_retire_object() kept. */
void tplfs_release_retired(struct tplfs_inode *ti)
{
	struct tplfs_retired *r, *next;

	llist_for_each_entry_safe(r, next, llist_del_all(&ti->retired), node) {
		dput(r->dentry);
		kfree(r);
	}
}

/*
 * Look up the object of a digest below the store root, one component at a
 * time (objects, then the first byte's hex, then the rest's): no path is
 * ever taken from disk, and the store's own mount is kept.
 */
int tplfs_lookup_object(struct tplfs_fs *fs, const u8 *digest,
			struct path *path)
{
	char hex[TPLFS_DIGEST_HEX_SIZE + 1];
	struct dentry *dir, *child;

	snprintf(hex, sizeof(hex), "%*phN", TPLFS_DIGEST_SIZE, digest);

	dir = lookup_positive_unlocked("objects", fs->store_path.dentry, 7);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	child = lookup_positive_unlocked(hex, dir, 2);
	dput(dir);
	if (IS_ERR(child))
		return PTR_ERR(child);
	dir = child;
	child = lookup_positive_unlocked(hex + 2, dir,
					 TPLFS_DIGEST_HEX_SIZE - 2);
	dput(dir);
	if (IS_ERR(child))
		return PTR_ERR(child);

	path->mnt = mntget(fs->store_path.mnt);
	path->dentry = child;
	return 0;
}

/**
 * tplfs_get_object - find a stub's object in the store
 * @inode: the tplfs inode of a stub
 * @path:  the object, on success (to be given back with path_put())
 * @ref:   the origin it was found by (SET_ORIGIN may change the inode's)
 *
 * With the mounter's credentials (the caller overrides them). A malformed
 * origin, a missing object, one that is not a regular file or has another
 * size than the origin says: a rate-limited log line naming the container
 * and the inode.
 *
 * Return: 0, or -EIO for any of those.
 */
int tplfs_get_object(struct inode *inode, struct path *path,
		     struct tplfs_stub_ref *ref)
{
	const char *what;
	int err;

	tplfs_stub_origin(tplfs_i(inode), ref);
	if (ref->bad) {
		tplfs_stub_error(inode, "has a malformed origin", -EINVAL);
		return -EIO;
	}
	err = tplfs_lookup_object(tplfs_fs(inode->i_sb), ref->digest, path);
	if (err) {
		tplfs_stub_error(inode, "object cannot be found", err);
		return -EIO;
	}
	if (!d_is_reg(path->dentry)) {
		what = "object is not a regular file";
		err = -EINVAL;
	} else if (i_size_read(d_inode(path->dentry)) != ref->size) {
		what = "object size differs from the origin";
		err = -EBADMSG;
	} else {
		return 0;
	}
	path_put(path);
	tplfs_stub_error(inode, what, err);
	return -EIO;
}

/**
 * tplfs_verify_object - hold an opened object to the mount's verity=
 * @inode:  the tplfs inode of a stub
 * @ref:    the origin the object was found by
 * @object: its object, open (the open loaded its fs-verity info)
 *
 * verity=on: an object with fs-verity must measure as the stub's digest
 * says; require: every object must have it. fs-verity measures a file
 * once, when its inode is first opened, and keeps the result with the
 * object's inode, so this costs a compare at every later open.
 *
 * Return: 0, or -EIO with a rate-limited log line.
 */
int tplfs_verify_object(struct inode *inode, const struct tplfs_stub_ref *ref,
			struct file *object)
{
	enum tplfs_verity verity = tplfs_fs(inode->i_sb)->config.verity;
	u8 digest[FS_VERITY_MAX_DIGEST_SIZE];
	u8 alg = 0;
	int len;

	if (verity == TPLFS_VERITY_OFF)
		return 0;
	len = tplfs_verity_digest(file_inode(object), digest, &alg);
	if (len < 0) {
		tplfs_stub_error(inode, "object's fs-verity cannot be read", len);
		return -EIO;
	}
	if (!len) {
		if (verity != TPLFS_VERITY_REQUIRE)
			return 0;
		tplfs_stub_error(inode, "object has no fs-verity (verity=require)",
				 -ENODATA);
		return -EIO;
	}
	if (alg != FS_VERITY_HASH_ALG_SHA256 || len != TPLFS_DIGEST_SIZE ||
	    memcmp(digest, ref->digest, TPLFS_DIGEST_SIZE)) {
		tplfs_stub_error(inode, "object's fs-verity digest is not the stub's",
				 -EBADMSG);
		return -EIO;
	}
	return 0;
}

/**
 * tplfs_open_object - open the object of a stub, for reading
 * @file:  the tplfs file being opened
 * @flags: open flags for the object
 *
 * A backing file on the object, opened with the mounter's credentials and
 * held to the mount's verity= (tplfs_verify_object()).
 *
 * Return: the file, or ERR_PTR(-EIO) (as tplfs_get_object(), a failed
 * open, or an object that fails verity=).
 */
struct file *tplfs_open_object(struct file *file, int flags)
{
	struct inode *inode = file_inode(file);
	struct tplfs_fs *fs = tplfs_fs(inode->i_sb);
	struct tplfs_stub_ref ref;
	struct file *realfile;
	const struct cred *old;
	struct path path;
	int err;

	old = tplfs_override_creds(inode->i_sb);
	err = tplfs_get_object(inode, &path, &ref);
	if (err) {
		realfile = ERR_PTR(err);
		goto out_revert;
	}
	realfile = tplfs_backing_file_open(file, flags, &path,
					   fs->creator_cred);
	if (IS_ERR(realfile)) {
		tplfs_stub_error(inode, "object cannot be opened",
				 PTR_ERR(realfile));
	} else if (tplfs_verify_object(inode, &ref, realfile)) {
		fput(realfile);
		realfile = ERR_PTR(-EIO);
	} else {
		tplfs_set_object(tplfs_i(inode), path.dentry);
		atomic64_inc(&fs->stats.stub_opens);
	}
	path_put(&path);
out_revert:
	revert_creds(old);
	return IS_ERR(realfile) ? ERR_PTR(-EIO) : realfile;
}
