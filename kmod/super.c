// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs: the superblock, the filesystem type and the module.
 */
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/mount.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/kdev_t.h>

#include "tplfs.h"

static struct kmem_cache *tplfs_inode_cachep;

/* Mounted instances, so that a container id is mounted at most once. */
static LIST_HEAD(tplfs_mounts);
static DEFINE_MUTEX(tplfs_mounts_lock);

static struct inode *tplfs_alloc_inode(struct super_block *sb)
{
	struct tplfs_inode *ti;

	ti = alloc_inode_sb(sb, tplfs_inode_cachep, GFP_KERNEL);
	if (!ti)
		return NULL;
	ti->real = NULL;
	ti->flags = 0;
	ti->size = 0;
	ti->object = NULL;
	init_llist_head(&ti->retired);
	atomic_set(&ti->opens, 0);
	ti->charged = 0;
	return &ti->vfs_inode;
}

static void tplfs_free_inode(struct inode *inode)
{
	kmem_cache_free(tplfs_inode_cachep, tplfs_i(inode));
}

static void tplfs_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	tplfs_quota_evict(inode);
	dput(tplfs_i(inode)->object);
	tplfs_i(inode)->object = NULL;
	tplfs_release_retired(tplfs_i(inode));
	iput(tplfs_real_inode(inode));
	tplfs_i(inode)->real = NULL;
}

static int tplfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct tplfs_fs *fs = tplfs_fs(dentry->d_sb);
	const struct cred *old;
	int err;

	old = tplfs_override_creds(dentry->d_sb);
	err = vfs_statfs(&fs->private_path, buf);
	revert_creds(old);
	if (err)
		return err;
	buf->f_type = TPLFS_SUPER_MAGIC;
	tplfs_quota_statfs(fs, buf);
	return 0;
}

/* /proc/PID/mountstats: the mount's counters. */
static int tplfs_show_stats(struct seq_file *m, struct dentry *root)
{
	struct tplfs_stats *st = &tplfs_fs(root->d_sb)->stats;

	seq_printf(m, " copy_ups=%lld copy_up_bytes=%lld copy_up_ns=%lld",
		   atomic64_read(&st->copy_ups),
		   atomic64_read(&st->copy_up_bytes),
		   atomic64_read(&st->copy_up_ns));
	seq_printf(m, " lookups=%lld stub_opens=%lld quota_denials=%lld",
		   atomic64_read(&st->lookups),
		   atomic64_read(&st->stub_opens),
		   atomic64_read(&st->quota_denials));
	return 0;
}

static const struct super_operations tplfs_super_operations = {
	.alloc_inode	= tplfs_alloc_inode,
	.free_inode	= tplfs_free_inode,
	.evict_inode	= tplfs_evict_inode,
	.drop_inode	= generic_delete_inode,
	.statfs		= tplfs_statfs,
	.show_options	= tplfs_show_options,
	.show_stats	= tplfs_show_stats,
};

/* Resolve a directory option; the error names the option. */
static int tplfs_resolve_dir(struct fs_context *fc, const char *key,
			     const char *name, struct path *path)
{
	int err;

	err = kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, path);
	if (err) {
		errorfc(fc, "%s=%s: cannot resolve (%d)", key, name, err);
		return err;
	}
	return 0;
}

/* Register @fs under its container id; refuse a second mount of the id. */
static int tplfs_register_ct(struct fs_context *fc, struct tplfs_fs *fs)
{
	struct tplfs_fs *other;
	int err = 0;

	if (!fs->config.ct)
		return 0;

	mutex_lock(&tplfs_mounts_lock);
	list_for_each_entry(other, &tplfs_mounts, node) {
		if (!strcmp(other->config.ct, fs->config.ct)) {
			err = -EBUSY;
			errorfc(fc, "ct=%s: already mounted", fs->config.ct);
			break;
		}
	}
	if (!err)
		list_add_tail(&fs->node, &tplfs_mounts);
	mutex_unlock(&tplfs_mounts_lock);
	return err;
}

/**
 * tplfs_get_mount_stats - the counters of the mount of a container
 * @ct: the container id (ct=)
 * @st: filled with the counters (every field)
 *
 * Return: 0, or -ENOENT when no tplfs is mounted with ct=@ct.
 */
int tplfs_get_mount_stats(const char *ct, struct tplfs_mount_stats *st)
{
	struct tplfs_stats *c;
	struct tplfs_fs *fs;
	int err = -ENOENT;

	memset(st, 0, sizeof(*st));
	/* A superblock leaves the list (under the lock) before it is freed. */
	mutex_lock(&tplfs_mounts_lock);
	list_for_each_entry(fs, &tplfs_mounts, node) {
		if (strcmp(fs->config.ct, ct))
			continue;
		c = &fs->stats;
		st->size = sizeof(*st);
		st->flags = fs->config.is_volatile ? TPLFS_STATS_VOLATILE : 0;
		st->lookups = atomic64_read(&c->lookups);
		st->stub_opens = atomic64_read(&c->stub_opens);
		st->copy_ups = atomic64_read(&c->copy_ups);
		st->copy_up_bytes = atomic64_read(&c->copy_up_bytes);
		st->copy_up_ns = atomic64_read(&c->copy_up_ns);
		st->quota_denials = atomic64_read(&c->quota_denials);
		err = 0;
		break;
	}
	mutex_unlock(&tplfs_mounts_lock);
	return err;
}

/**
 * tplfs_get_ct_super - the superblock of the mount of a container
 * @ct: the container id (ct=)
 *
 * Return: the superblock with an active reference (give it back with
 * deactivate_super()), or NULL when no tplfs is mounted with ct=@ct or it
 * is being unmounted.
 */
struct super_block *tplfs_get_ct_super(const char *ct)
{
	struct super_block *sb = NULL;
	struct tplfs_fs *fs;

	mutex_lock(&tplfs_mounts_lock);
	list_for_each_entry(fs, &tplfs_mounts, node) {
		if (strcmp(fs->config.ct, ct))
			continue;
		/* Not once its last active reference is gone: kill_sb runs. */
		if (atomic_inc_not_zero(&fs->sb->s_active))
			sb = fs->sb;
		break;
	}
	mutex_unlock(&tplfs_mounts_lock);
	return sb;
}

static void tplfs_unregister_ct(struct tplfs_fs *fs)
{
	if (list_empty(&fs->node))
		return;
	mutex_lock(&tplfs_mounts_lock);
	list_del_init(&fs->node);
	mutex_unlock(&tplfs_mounts_lock);
}

static void tplfs_free_fs(struct tplfs_fs *fs)
{
	tplfs_unregister_ct(fs);
	path_put(&fs->private_path);
	path_put(&fs->store_path);
	if (fs->creator_cred)
		put_cred(fs->creator_cred);
	tplfs_config_free(&fs->config);
	kfree(fs);
}

int tplfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct tplfs_config *config = fc->fs_private;
	struct super_block *realsb;
	struct dentry *realroot;
	struct inode *root;
	struct tplfs_fs *fs;
	struct cred *cred;
	int err;

	fs = kzalloc(sizeof(*fs), GFP_KERNEL);
	if (!fs)
		return -ENOMEM;
	INIT_LIST_HEAD(&fs->node);
	fs->sb = sb;
	tplfs_quota_init(fs);
	/* The options now belong to the superblock. */
	fs->config = *config;
	memset(config, 0, sizeof(*config));
	sb->s_fs_info = fs;

	err = tplfs_resolve_dir(fc, "private", fs->config.private_dir,
				&fs->private_path);
	if (err)
		return err;
	err = tplfs_resolve_dir(fc, "store", fs->config.store_dir,
				&fs->store_path);
	if (err)
		return err;

	if (fs->config.verity == TPLFS_VERITY_REQUIRE &&
	    !tplfs_sb_has_verity(fs->store_path.mnt->mnt_sb))
		return invalfc(fc, "verity=require: the store's filesystem (%s) has no fs-verity",
			       fs->store_path.mnt->mnt_sb->s_type->name);

	realsb = fs->private_path.mnt->mnt_sb;
	sb->s_stack_depth = max(realsb->s_stack_depth,
				fs->store_path.mnt->mnt_sb->s_stack_depth) + 1;
	if (sb->s_stack_depth > FILESYSTEM_MAX_STACK_DEPTH)
		return invalfc(fc, "private= or store= is too deeply stacked");

	err = tplfs_register_ct(fc, fs);
	if (err)
		return err;

	cred = prepare_creds();
	if (!cred)
		return -ENOMEM;
	/* Never bypass quota or reserved space on behalf of a container. */
	cap_lower(cred->cap_effective, CAP_SYS_RESOURCE);
	fs->creator_cred = cred;

	sb->s_magic = TPLFS_SUPER_MAGIC;
	sb->s_op = &tplfs_super_operations;
	sb->s_d_op = &tplfs_dentry_operations;
	sb->s_maxbytes = realsb->s_maxbytes;
	sb->s_time_gran = realsb->s_time_gran;
	sb->s_xattr = tplfs_xattr_handlers;
	sb->s_flags |= realsb->s_flags & SB_POSIXACL;

	realroot = fs->private_path.dentry;
	root = tplfs_get_inode(sb, realroot);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	sb->s_root->d_fsdata = dget(realroot);

	fs->announced = true;
	tplfs_event_post(TPLFS_EV_MOUNT, fs->config.ct,
			 new_encode_dev(sb->s_dev), 0);
	return 0;
}

void tplfs_kill_sb(struct super_block *sb)
{
	struct tplfs_fs *fs = tplfs_fs(sb);
	char ct[TPLFS_CT_NAME_SIZE] = "";
	u32 dev = new_encode_dev(sb->s_dev);
	bool announced;

	kill_anon_super(sb);
	if (!fs)
		return;
	announced = fs->announced;
	if (fs->config.ct)
		strscpy(ct, fs->config.ct, sizeof(ct));
	tplfs_free_fs(fs);
	/* Once the ct= is free to be mounted again. */
	if (announced)
		tplfs_event_post(TPLFS_EV_UMOUNT, ct, dev, 0);
}

static struct file_system_type tplfs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= TPLFS_FSTYPE,
	.init_fs_context	= tplfs_init_fs_context,
	.kill_sb		= tplfs_kill_sb,
	/*
	 * A mount of it may be idmapped: every id that crosses to the
	 * private area is mapped (getattr, setattr, creation, 6.1's ACLs).
	 */
	.fs_flags		= FS_ALLOW_IDMAP,
};
MODULE_ALIAS_FS(TPLFS_FSTYPE);

static void tplfs_inode_init_once(void *foo)
{
	struct tplfs_inode *ti = foo;

	mutex_init(&ti->copy_lock);
	seqcount_mutex_init(&ti->origin_seq, &ti->copy_lock);
	inode_init_once(&ti->vfs_inode);
}

static int __init tplfs_init(void)
{
	int err;

	tplfs_inode_cachep = kmem_cache_create("tplfs_inode",
					       sizeof(struct tplfs_inode), 0,
					       SLAB_RECLAIM_ACCOUNT |
					       SLAB_ACCOUNT,
					       tplfs_inode_init_once);
	if (!tplfs_inode_cachep)
		return -ENOMEM;

	err = tplfs_ctl_init();
	if (err)
		goto out_cache;
	err = register_filesystem(&tplfs_fs_type);
	if (err)
		goto out_ctl;
	return 0;

out_ctl:
	tplfs_ctl_exit();
out_cache:
	kmem_cache_destroy(tplfs_inode_cachep);
	return err;
}

static void __exit tplfs_exit(void)
{
	unregister_filesystem(&tplfs_fs_type);
	tplfs_ctl_exit();
	/* Inodes are freed by RCU callbacks: wait for them first. */
	rcu_barrier();
	kmem_cache_destroy(tplfs_inode_cachep);
}

module_init(tplfs_init);
module_exit(tplfs_exit);

MODULE_DESCRIPTION("tplfs: template-backed container filesystem");
MODULE_AUTHOR("The tplfs authors");
MODULE_LICENSE("GPL");
