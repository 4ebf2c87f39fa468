// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs: lookup, and the dentry operations that keep a tplfs dentry tied to
 * the private dentry it stands for.
 */
#include <linux/namei.h>
#include <linux/dcache.h>

#include "tplfs.h"

/*
 * A tplfs dentry is valid while the private dentry it holds still is: hashed,
 * and positive exactly when the tplfs dentry is. The private area may change
 * underneath (tplfsd populates it), so a negative dentry is dropped once the
 * private one became positive.
 */
static int tplfs_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct dentry *real = tplfs_real_dentry(dentry);
	struct inode *inode;

	if (!real)
		return 0;
	if (d_unhashed(real))
		return 0;
	inode = d_inode_rcu(dentry);
	if (!inode)
		return d_is_negative(real);
	return d_inode_rcu(real) == tplfs_real_inode(inode);
}

static void tplfs_d_release(struct dentry *dentry)
{
	dput(tplfs_real_dentry(dentry));
}

/*
 * The real dentry behind a tplfs one: the private dentry, or for the data of
 * a stub whose object was opened, the object's dentry.
 */
struct dentry *tplfs_d_real_common(struct dentry *dentry,
				   const struct inode *inode, bool data)
{
	struct dentry *real = tplfs_real_dentry(dentry);
	struct dentry *object;

	if (!d_is_reg(dentry) || !real)
		return dentry;
	if (!data || (inode && inode == d_inode(real)))
		return real;
	object = READ_ONCE(tplfs_i(d_inode(dentry))->object);
	if (tplfs_is_stub(d_inode(dentry)) && object &&
	    (!inode || inode == d_inode(object)))
		return object;
	if (!inode || inode == d_inode(real))
		return real;
	return dentry;
}

const struct dentry_operations tplfs_dentry_operations = {
	.d_revalidate	= tplfs_d_revalidate,
	.d_release	= tplfs_d_release,
	.d_real		= tplfs_d_real,
};

struct dentry *tplfs_lookup(struct inode *dir, struct dentry *dentry,
			    unsigned int flags)
{
	struct dentry *realdir = tplfs_real_dentry(dentry->d_parent);
	struct inode *inode = NULL;
	const struct cred *old;
	struct dentry *real;

	atomic64_inc(&tplfs_fs(dir->i_sb)->stats.lookups);
	old = tplfs_override_creds(dir->i_sb);
	real = lookup_one_len_unlocked(dentry->d_name.name, realdir,
				       dentry->d_name.len);
	revert_creds(old);
	if (IS_ERR(real))
		return ERR_CAST(real);

	if (d_really_is_positive(real)) {
		inode = tplfs_get_inode(dir->i_sb, real);
		if (IS_ERR(inode)) {
			dput(real);
			return ERR_CAST(inode);
		}
	}
	dentry->d_fsdata = real;
	return d_splice_alias(inode, dentry);
}
