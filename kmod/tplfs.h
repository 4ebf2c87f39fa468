/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tplfs: a stacking filesystem that serves a container's private area and
 * resolves its stubs to shared template objects.
 *
 * Types and prototypes shared by the files of the module, grouped by the file
 * that defines them.
 */
#ifndef _TPLFS_H
#define _TPLFS_H

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/path.h>
#include <linux/cred.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/llist.h>
#include <linux/seqlock.h>
#include <linux/tplfs.h>

#include "compat.h"

struct kstatfs;

#undef pr_fmt
#define pr_fmt(fmt) "tplfs: " fmt

/* The longest container id: [a-z0-9][a-z0-9_-]{0,62} */
#define TPLFS_CT_MAX	63

/* verity=: what an object's fs-verity must be for its stub to open */
enum tplfs_verity {
	TPLFS_VERITY_OFF,	/* not looked at */
	TPLFS_VERITY_ON,	/* where the object has it, its digest the stub's */
	TPLFS_VERITY_REQUIRE,	/* and every object has it */
};

/**
 * struct tplfs_config - mount options, as parsed from the fs_context
 * @private_dir: the private area (private=)
 * @store_dir:   the template store (store=)
 * @ct:          container id (ct=), or NULL
 * @is_volatile: skip fdatasync on copy-up (volatile)
 * @verity:      what an object's fs-verity must be (verity=)
 */
struct tplfs_config {
	char *private_dir;
	char *store_dir;
	char *ct;
	bool is_volatile;
	enum tplfs_verity verity;
};

/**
 * struct tplfs_stats - per-mount counters (/proc/PID/mountstats, GET_STATS)
 * @lookups:       names looked up in the private area
 * @stub_opens:    stubs opened, each opening its object
 * @copy_ups:      stubs turned into private files
 * @copy_up_bytes: bytes of data copied (or reflinked) by them
 * @copy_up_ns:    time spent in them
 * @quota_denials: allocations refused with EDQUOT
 */
struct tplfs_stats {
	atomic64_t lookups;
	atomic64_t stub_opens;
	atomic64_t copy_ups;
	atomic64_t copy_up_bytes;
	atomic64_t copy_up_ns;
	atomic64_t quota_denials;
};

/**
 * struct tplfs_qres - one resource of a mount's quota (quota.c)
 * @used:      usage (may go below 0 before tplfsd sets it)
 * @reserved:  taken by allocations in flight
 * @soft:      soft limit, 0 for none
 * @hard:      hard limit, 0 for none
 * @grace:     seconds usage may stay over @soft
 * @grace_end: when that ends (real-time seconds), 0 while not over @soft
 * @denied:    QUOTA_HARD was posted; again once usage is back under
 */
struct tplfs_qres {
	s64 used;
	u64 reserved;
	u64 soft;
	u64 hard;
	u64 grace;
	time64_t grace_end;
	bool denied;
};

/**
 * struct tplfs_qstate - a mount's quota (quota.c)
 * @lock:        protects all of it and tplfs_inode.charged
 * @res:         bytes and inodes, indexed by TPLFS_QRES_*
 * @gen:         changes with usage and with each allocation begun or ended
 * @inflight:    allocations begun and not ended
 * @usage_known: SET_QUOTA gave the usage (else it counts from the mount)
 * @ckpt_bytes:  bytes used at the last checkpoint event
 * @ckpt_inodes: inodes used then
 * @ckpt_at:     when (jiffies)
 */
struct tplfs_qstate {
	spinlock_t lock;	/* usage, limits, tplfs_inode.charged */
	struct tplfs_qres res[TPLFS_QRES_COUNT];
	u64 gen;
	u32 inflight;
	bool usage_known;
	u64 ckpt_bytes;
	u64 ckpt_inodes;
	unsigned long ckpt_at;
};

/**
 * struct tplfs_fs - one mounted tplfs instance (sb->s_fs_info)
 * @config:       the mount options
 * @sb:           the superblock
 * @private_path: root of the private area, on the mounter's view of it
 * @store_path:   root of the store
 * @creator_cred: the mounter's credentials, used for every access to the
 *                private area and the store
 * @node:         entry in the list of mounted instances (ct= is unique)
 * @stats:        counters
 * @quota:        usage and limits
 * @announced:    TPLFS_EV_MOUNT was posted, so TPLFS_EV_UMOUNT will be
 */
struct tplfs_fs {
	struct tplfs_config config;
	struct super_block *sb;
	struct path private_path;
	struct path store_path;
	const struct cred *creator_cred;
	struct list_head node;
	struct tplfs_stats stats;
	struct tplfs_qstate quota;
	bool announced;
};

/* tplfs_inode.flags */
enum {
	TPLFS_I_STUB,		/* a stub: data comes from the object */
	TPLFS_I_BAD_ORIGIN,	/* a stub whose origin cannot be used */
	TPLFS_I_RELINKING,	/* a private file becoming a stub: no opens */
};

/**
 * struct tplfs_inode - a tplfs inode stands for exactly one private inode
 * @real:      the private inode (referenced); also the inode hash key, so
 *             that hard links share one tplfs inode
 * @flags:     TPLFS_I_* bits
 * @size:      a stub's size, from its origin
 * @digest:    a stub's object digest, from its origin
 * @origin_seq: @size, @digest and the stub flags change together under
 *             @copy_lock (SET_ORIGIN); a reader outside it retries
 * @object:    a stub's object dentry in the store, once opened (referenced)
 * @retired:   objects @object named before a SET_ORIGIN, kept referenced
 *             until eviction (->d_real callers hold no reference)
 * @opens:     open files of this inode (a relink waits for none)
 * @charged:   bytes charged to the quota for the private inode's blocks
 * @copy_lock: serialises copy-ups and origin changes of this inode
 * @vfs_inode: the VFS inode
 */
struct tplfs_inode {
	struct inode *real;
	unsigned long flags;
	u64 size;
	u8 digest[TPLFS_DIGEST_SIZE];
	seqcount_mutex_t origin_seq;
	struct dentry *object;
	struct llist_head retired;
	atomic_t opens;
	s64 charged;
	struct mutex copy_lock;		/* copy-ups, origin changes */
	struct inode vfs_inode;
};

/* A stub's size and digest, as one consistent copy (tplfs_stub_origin()). */
struct tplfs_stub_ref {
	u64 size;
	u8 digest[TPLFS_DIGEST_SIZE];
	bool bad;
};

static inline struct tplfs_fs *tplfs_fs(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct tplfs_inode *tplfs_i(struct inode *inode)
{
	return container_of(inode, struct tplfs_inode, vfs_inode);
}

static inline struct inode *tplfs_real_inode(struct inode *inode)
{
	return tplfs_i(inode)->real;
}

static inline bool tplfs_is_stub(struct inode *inode)
{
	return test_bit(TPLFS_I_STUB, &tplfs_i(inode)->flags);
}

/* The private dentry a tplfs dentry stands for (may be negative). */
static inline struct dentry *tplfs_real_dentry(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

/* params.c */
int tplfs_init_fs_context(struct fs_context *fc);
int tplfs_show_options(struct seq_file *m, struct dentry *root);
void tplfs_config_free(struct tplfs_config *config);

/* super.c */
int tplfs_fill_super(struct super_block *sb, struct fs_context *fc);
void tplfs_kill_sb(struct super_block *sb);
int tplfs_get_mount_stats(const char *ct, struct tplfs_mount_stats *st);
struct super_block *tplfs_get_ct_super(const char *ct);

/* namei.c */
extern const struct dentry_operations tplfs_dentry_operations;
struct dentry *tplfs_lookup(struct inode *dir, struct dentry *dentry,
			    unsigned int flags);
struct dentry *tplfs_d_real_common(struct dentry *dentry,
				   const struct inode *inode, bool data);

/* inode.c */
struct inode *tplfs_get_inode(struct super_block *sb, struct dentry *real);
void tplfs_copy_attr(struct inode *inode);
int tplfs_getattr(struct tplfs_idmap *idmap, const struct path *path,
		  struct kstat *stat, u32 request_mask, unsigned int flags);
int tplfs_setattr(struct tplfs_idmap *idmap, struct dentry *dentry,
		  struct iattr *attr);
int tplfs_permission(struct tplfs_idmap *idmap, struct inode *inode,
		     int mask);
struct posix_acl *tplfs_get_inode_acl(struct inode *inode, int type,
				      bool rcu);
struct posix_acl *tplfs_get_acl(struct tplfs_idmap *idmap,
				struct dentry *dentry, int type);
int tplfs_set_acl(struct tplfs_idmap *idmap, struct dentry *dentry,
		  struct posix_acl *acl, int type);

/* dir.c */
extern const struct inode_operations tplfs_dir_inode_operations;

/* copy_up.c */
int tplfs_copy_up(struct dentry *dentry, bool with_data);

/* origin.c */
int tplfs_read_origin(struct super_block *sb, struct dentry *real,
		      struct tplfs_inode *ti);
bool tplfs_origin_valid(const struct tplfs_origin *o);
void tplfs_stub_origin(struct tplfs_inode *ti, struct tplfs_stub_ref *ref);
int tplfs_lookup_object(struct tplfs_fs *fs, const u8 *digest,
			struct path *path);
int tplfs_get_object(struct inode *inode, struct path *path,
		     struct tplfs_stub_ref *ref);
struct file *tplfs_open_object(struct file *file, int flags);
int tplfs_verify_object(struct inode *inode, const struct tplfs_stub_ref *ref,
			struct file *object);
void tplfs_stub_error(struct inode *inode, const char *what, int err);
void tplfs_set_object(struct tplfs_inode *ti, struct dentry *object);
void tplfs_retire_object(struct tplfs_inode *ti);
void tplfs_release_retired(struct tplfs_inode *ti);

/* swap.c */
int tplfs_get_origin(struct super_block *sb, struct dentry *real,
		     struct tplfs_origin_state *st);
int tplfs_set_origin(struct super_block *sb, struct dentry *real,
		     const struct tplfs_origin_swap *sw);
int tplfs_open_begin(struct inode *inode);
void tplfs_open_end(struct inode *inode);

/* readdir.c */
extern const struct file_operations tplfs_dir_operations;

/* file.c */
extern const struct file_operations tplfs_file_operations;

/* xattr.c */
extern const struct xattr_handler *tplfs_xattr_handlers[];
ssize_t tplfs_listxattr(struct dentry *dentry, char *list, size_t size);

/* util.c */
const struct cred *tplfs_override_creds(struct super_block *sb);
const struct cred *tplfs_change_begin(struct super_block *sb, u64 bytes,
				      u64 inodes);
void tplfs_change_end(struct super_block *sb, u64 bytes, u64 inodes,
		      const struct cred *old);
struct vfsmount *tplfs_private_mnt(struct super_block *sb);
void tplfs_real_path(const struct dentry *dentry, struct path *path);
struct file *tplfs_open_real(const struct file *file, int flags);

/* quota.c */
void tplfs_quota_init(struct tplfs_fs *fs);
int tplfs_quota_begin(struct tplfs_fs *fs, u64 bytes, u64 inodes);
void tplfs_quota_end(struct tplfs_fs *fs, u64 bytes, u64 inodes);
int tplfs_quota_begin_write(struct tplfs_fs *fs, struct inode *inode,
			    struct file *realfile, const struct path *realpath,
			    loff_t pos, size_t *len, u64 *reserved);
int tplfs_quota_begin_fallocate(struct tplfs_fs *fs, struct file *realfile,
				const struct path *realpath, int mode,
				loff_t offset, loff_t len, u64 *reserved);
void tplfs_quota_sync(struct inode *inode, struct dentry *real);
void tplfs_quota_init_inode(struct inode *inode, struct dentry *real);
void tplfs_quota_new_inode(struct inode *inode);
void tplfs_quota_evict(struct inode *inode);
void tplfs_quota_get(struct super_block *sb, struct tplfs_quota *info,
		     bool sync);
int tplfs_quota_set(struct super_block *sb, const struct tplfs_quota *info,
		    u32 flags);
void tplfs_quota_statfs(struct tplfs_fs *fs, struct kstatfs *buf);

/* ctl.c */
int tplfs_ctl_init(void);
void tplfs_ctl_exit(void);
void tplfs_event_post(u32 type, const char *ct, u64 arg0, u64 arg1);

#endif /* _TPLFS_H */
