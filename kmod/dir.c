// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs namespace operations. Every directory is a real directory of the
 * private area, so each operation is the same operation there: no whiteouts,
 * no directory merging, directories rename like files. The private parent is
 * locked and the name looked up afresh under the lock; a tplfs dentry whose
 * private dentry changed meanwhile (tplfsd works underneath) gets ESTALE.
 */
#include <linux/namei.h>
#include <linux/security.h>

#include "tplfs.h"

/* Give @dentry the private dentry @real (consumes the reference). */
static void tplfs_set_real(struct dentry *dentry, struct dentry *real)
{
	struct dentry *old = dentry->d_fsdata;

	dentry->d_fsdata = real;
	dput(old);
}

/*
 * Creation runs as the mounter, but with the caller's fsuid and fsgid, so
 * that new files belong to the caller (the setgid bit of a directory and the
 * caller's umask apply in the private filesystem as usual). Through an
 * idmapped mount (@idmap) they are the filesystem's ids the caller's map
 * back to, as a plain filesystem would store. Returns the credentials to
 * give back to revert_creds(), or an ERR_PTR.
 */
static const struct cred *
tplfs_override_creds_create(struct tplfs_idmap *idmap, struct inode *dir,
			    struct dentry *dentry, umode_t mode,
			    const struct cred *caller)
{
	struct user_namespace *fs_userns = i_user_ns(dir);
	const struct cred *old;
	struct cred *cred;
	int err;

	cred = prepare_creds();
	if (!cred)
		return ERR_PTR(-ENOMEM);
	cred->fsuid = from_vfsuid(idmap, fs_userns, VFSUIDT_INIT(caller->fsuid));
	cred->fsgid = from_vfsgid(idmap, fs_userns, VFSGIDT_INIT(caller->fsgid));
	/* may_create() checked that the caller's ids map; be sure */
	if (!uid_valid(cred->fsuid) || !gid_valid(cred->fsgid)) {
		put_cred(cred);
		return ERR_PTR(-EOVERFLOW);
	}
	err = security_dentry_create_files_as(dentry, mode, &dentry->d_name,
					      caller, cred);
	if (err) {
		put_cred(cred);
		return ERR_PTR(err);
	}
	old = override_creds(cred);
	put_cred(cred);
	return old;
}

/* Look up @dentry's name in the locked private directory @realdir. */
static struct dentry *tplfs_lookup_locked(struct dentry *realdir,
					  struct dentry *dentry)
{
	return lookup_one_len(dentry->d_name.name, realdir,
			      dentry->d_name.len);
}

struct tplfs_new {
	umode_t mode;
	dev_t rdev;
	const char *link;
};

static int tplfs_create_real(struct tplfs_idmap *idmap, struct inode *rdir,
			     struct dentry *real, const struct tplfs_new *new)
{
	switch (new->mode & S_IFMT) {
	case S_IFREG:
		return vfs_create(idmap, rdir, real, new->mode, true);
	case S_IFDIR:
		return vfs_mkdir(idmap, rdir, real, new->mode);
	case S_IFLNK:
		return vfs_symlink(idmap, rdir, real, new->link);
	default:
		return vfs_mknod(idmap, rdir, real, new->mode, new->rdev);
	}
}

/*
 * The blocks a new object takes at most besides its inode: a directory's
 * first block; a symbolic link too long to live in its inode (60 bytes on
 * ext4) one block. Growth of the parent directory is charged after.
 */
static u64 tplfs_new_bytes(struct inode *rdir, const struct tplfs_new *new)
{
	switch (new->mode & S_IFMT) {
	case S_IFDIR:
		return i_blocksize(rdir);
	case S_IFLNK:
		return strlen(new->link) >= 60 ? i_blocksize(rdir) : 0;
	default:
		return 0;
	}
}

static int tplfs_create_object(struct tplfs_idmap *idmap, struct inode *dir,
			       struct dentry *dentry,
			       const struct tplfs_new *new)
{
	struct super_block *sb = dir->i_sb;
	struct vfsmount *mnt = tplfs_private_mnt(sb);
	struct dentry *realdir = tplfs_real_dentry(dentry->d_parent);
	struct inode *rdir = d_inode(realdir);
	u64 bytes = tplfs_new_bytes(rdir, new);
	const struct cred *caller, *old;
	struct dentry *real;
	struct inode *inode;
	int err;

	caller = tplfs_change_begin(sb, bytes, 1);
	if (IS_ERR(caller))
		return PTR_ERR(caller);
	old = tplfs_override_creds_create(idmap, dir, dentry, new->mode, caller);
	if (IS_ERR(old)) {
		err = PTR_ERR(old);
		goto out_end;
	}

	inode_lock_nested(rdir, I_MUTEX_PARENT);
	real = tplfs_lookup_locked(realdir, dentry);
	if (IS_ERR(real)) {
		err = PTR_ERR(real);
		goto out_unlock;
	}
	err = -EEXIST;
	if (d_is_positive(real))
		goto out_dput;
	err = tplfs_create_real(tplfs_mnt_idmap(mnt), rdir, real, new);
	if (err)
		goto out_dput;
	/* A filesystem may leave the new dentry unhashed: look it up. */
	if (d_unhashed(real)) {
		struct dentry *again = tplfs_lookup_locked(realdir, dentry);

		dput(real);
		real = again;
		if (IS_ERR(real)) {
			err = PTR_ERR(real);
			goto out_unlock;
		}
		err = -ENOENT;
		if (d_is_negative(real))
			goto out_dput;
	}
	inode = tplfs_get_inode(sb, real);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		goto out_dput;
	}
	tplfs_set_real(dentry, real);
	real = NULL;
	d_instantiate(dentry, inode);
	tplfs_quota_new_inode(inode);
	tplfs_copy_attr(dir);
	err = 0;
out_dput:
	dput(real);
out_unlock:
	inode_unlock(rdir);
	revert_creds(old);
out_end:
	tplfs_quota_sync(dir, realdir);
	tplfs_change_end(sb, bytes, 1, caller);
	return err;
}

static int tplfs_create(struct tplfs_idmap *idmap, struct inode *dir,
			struct dentry *dentry, umode_t mode, bool excl)
{
	struct tplfs_new new = { .mode = (mode & 07777) | S_IFREG };

	return tplfs_create_object(idmap, dir, dentry, &new);
}

static int tplfs_mkdir(struct tplfs_idmap *idmap, struct inode *dir,
		       struct dentry *dentry, umode_t mode)
{
	struct tplfs_new new = { .mode = (mode & 07777) | S_IFDIR };

	return tplfs_create_object(idmap, dir, dentry, &new);
}

static int tplfs_mknod(struct tplfs_idmap *idmap, struct inode *dir,
		       struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct tplfs_new new = { .mode = mode, .rdev = rdev };

	return tplfs_create_object(idmap, dir, dentry, &new);
}

static int tplfs_symlink(struct tplfs_idmap *idmap, struct inode *dir,
			 struct dentry *dentry, const char *link)
{
	struct tplfs_new new = { .mode = S_IFLNK | 0777, .link = link };

	return tplfs_create_object(idmap, dir, dentry, &new);
}

/*
 * Look up @dentry's name again in its locked private parent and check that
 * it is still the private inode our dentry stands for.
 */
static struct dentry *tplfs_lookup_same(struct dentry *realdir,
					struct dentry *dentry)
{
	struct dentry *real = tplfs_lookup_locked(realdir, dentry);
	struct inode *inode = d_inode(dentry);

	if (IS_ERR(real))
		return real;
	if (d_inode(real) != (inode ? tplfs_real_inode(inode) : NULL)) {
		dput(real);
		return ERR_PTR(-ESTALE);
	}
	return real;
}

static int tplfs_remove(struct inode *dir, struct dentry *dentry, bool is_dir)
{
	struct super_block *sb = dir->i_sb;
	struct vfsmount *mnt = tplfs_private_mnt(sb);
	struct dentry *realdir = tplfs_real_dentry(dentry->d_parent);
	struct inode *rdir = d_inode(realdir);
	struct inode *inode = d_inode(dentry);
	const struct cred *old;
	struct dentry *real;
	int err;

	/* The victim is released when its inode is evicted. */
	old = tplfs_change_begin(sb, 0, 0);
	if (IS_ERR(old))
		return PTR_ERR(old);
	inode_lock_nested(rdir, I_MUTEX_PARENT);
	real = tplfs_lookup_same(realdir, dentry);
	if (IS_ERR(real)) {
		err = PTR_ERR(real);
	} else {
		if (is_dir)
			err = vfs_rmdir(tplfs_mnt_idmap(mnt), rdir, real);
		else
			err = vfs_unlink(tplfs_mnt_idmap(mnt), rdir, real, NULL);
		dput(real);
	}
	inode_unlock(rdir);
	tplfs_quota_sync(dir, realdir);
	tplfs_change_end(sb, 0, 0, old);

	tplfs_copy_attr(dir);
	if (!err)
		tplfs_copy_attr(inode);
	return err;
}

static int tplfs_unlink(struct inode *dir, struct dentry *dentry)
{
	return tplfs_remove(dir, dentry, false);
}

static int tplfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	return tplfs_remove(dir, dentry, true);
}

/* A hard link of a stub is a hard link of the stub: it stays a stub. */
static int tplfs_link(struct dentry *old_dentry, struct inode *dir,
		      struct dentry *new_dentry)
{
	struct super_block *sb = dir->i_sb;
	struct vfsmount *mnt = tplfs_private_mnt(sb);
	struct dentry *realdir = tplfs_real_dentry(new_dentry->d_parent);
	struct inode *rdir = d_inode(realdir);
	struct inode *inode = d_inode(old_dentry);
	const struct cred *old;
	struct dentry *real;
	int err;

	old = tplfs_change_begin(sb, 0, 0);
	if (IS_ERR(old))
		return PTR_ERR(old);
	inode_lock_nested(rdir, I_MUTEX_PARENT);
	real = tplfs_lookup_locked(realdir, new_dentry);
	if (IS_ERR(real)) {
		err = PTR_ERR(real);
		goto out_unlock;
	}
	err = -EEXIST;
	if (d_is_positive(real))
		goto out_dput;
	err = vfs_link(tplfs_real_dentry(old_dentry), tplfs_mnt_idmap(mnt),
		       rdir, real, NULL);
	if (err)
		goto out_dput;
	err = -ESTALE;
	if (d_inode(real) != tplfs_real_inode(inode))
		goto out_dput;
	ihold(inode);
	tplfs_set_real(new_dentry, real);
	real = NULL;
	d_instantiate(new_dentry, inode);
	tplfs_copy_attr(inode);
	tplfs_copy_attr(dir);
	err = 0;
out_dput:
	dput(real);
out_unlock:
	inode_unlock(rdir);
	tplfs_quota_sync(dir, realdir);
	tplfs_change_end(sb, 0, 0, old);
	return err;
}

static int tplfs_rename(struct tplfs_idmap *idmap, struct inode *olddir,
			struct dentry *old, struct inode *newdir,
			struct dentry *new, unsigned int flags)
{
	struct super_block *sb = olddir->i_sb;
	struct vfsmount *mnt = tplfs_private_mnt(sb);
	struct dentry *realolddir = tplfs_real_dentry(old->d_parent);
	struct dentry *realnewdir = tplfs_real_dentry(new->d_parent);
	struct dentry *realold, *realnew, *trap;
	const struct cred *creds;
	int err;

	/* An overwritten target is released when its inode is evicted. */
	creds = tplfs_change_begin(sb, 0, 0);
	if (IS_ERR(creds))
		return PTR_ERR(creds);
	trap = lock_rename(realnewdir, realolddir);
	if (IS_ERR(trap)) {
		err = PTR_ERR(trap);
		goto out_end;
	}
	realold = tplfs_lookup_same(realolddir, old);
	if (IS_ERR(realold)) {
		err = PTR_ERR(realold);
		goto out_unlock;
	}
	realnew = tplfs_lookup_same(realnewdir, new);
	if (IS_ERR(realnew)) {
		err = PTR_ERR(realnew);
		goto out_dput_old;
	}
	err = -EINVAL;
	if (realold == trap)
		goto out_dput;
	err = -ENOTEMPTY;
	if (realnew == trap)
		goto out_dput;

	err = tplfs_vfs_rename(tplfs_mnt_idmap(mnt), d_inode(realolddir),
			       realold, d_inode(realnewdir), realnew, flags);
	if (err)
		goto out_dput;
	/* The private dentries moved with the rename: ours follow them. */
	tplfs_set_real(old, dget(realold));
	if (flags & RENAME_EXCHANGE)
		tplfs_set_real(new, dget(realnew));
out_dput:
	dput(realnew);
out_dput_old:
	dput(realold);
out_unlock:
	unlock_rename(realnewdir, realolddir);
out_end:
	tplfs_quota_sync(newdir, realnewdir);
	if (newdir != olddir)
		tplfs_quota_sync(olddir, realolddir);
	tplfs_change_end(sb, 0, 0, creds);

	tplfs_copy_attr(olddir);
	if (newdir != olddir)
		tplfs_copy_attr(newdir);
	if (!err && d_inode(new))
		tplfs_copy_attr(d_inode(new));
	return err;
}

/* O_TMPFILE: an unnamed private file, linkable later with linkat(). */
static int tplfs_tmpfile(struct tplfs_idmap *idmap, struct inode *dir,
			 struct file *file, umode_t mode)
{
	struct dentry *dentry = file->f_path.dentry;
	struct super_block *sb = dir->i_sb;
	struct vfsmount *mnt = tplfs_private_mnt(sb);
	struct path realparent = {
		.mnt = mnt,
		.dentry = tplfs_real_dentry(dentry->d_parent),
	};
	const struct cred *caller, *old;
	struct file *realfile;
	struct dentry *real;
	struct inode *inode;
	int err;

	caller = tplfs_change_begin(sb, 0, 1);
	if (IS_ERR(caller))
		return PTR_ERR(caller);
	old = tplfs_override_creds_create(idmap, dir, dentry, mode | S_IFREG,
					  caller);
	if (IS_ERR(old)) {
		err = PTR_ERR(old);
		goto out_end;
	}
	realfile = tplfs_tmpfile_open(tplfs_mnt_idmap(mnt), &realparent,
				      mode, file->f_flags, current_cred());
	revert_creds(old);
	if (IS_ERR(realfile)) {
		err = PTR_ERR(realfile);
		goto out_end;
	}

	real = dget(realfile->f_path.dentry);
	fput(realfile);
	inode = tplfs_get_inode(sb, real);
	if (IS_ERR(inode)) {
		dput(real);
		err = PTR_ERR(inode);
		goto out_end;
	}
	tplfs_quota_new_inode(inode);
	tplfs_change_end(sb, 0, 1, caller);
	tplfs_set_real(dentry, real);
	/* d_tmpfile() drops the link a new file was born with. */
	set_nlink(inode, 1);
	d_tmpfile(file, inode);
	return finish_open(file, dentry, NULL);

out_end:
	tplfs_change_end(sb, 0, 1, caller);
	return err;
}

const struct inode_operations tplfs_dir_inode_operations = {
	.lookup		= tplfs_lookup,
	.create		= tplfs_create,
	.mkdir		= tplfs_mkdir,
	.mknod		= tplfs_mknod,
	.symlink	= tplfs_symlink,
	.link		= tplfs_link,
	.unlink		= tplfs_unlink,
	.rmdir		= tplfs_rmdir,
	.rename		= tplfs_rename,
	.tmpfile	= tplfs_tmpfile,
	.getattr	= tplfs_getattr,
	.setattr	= tplfs_setattr,
	.permission	= tplfs_permission,
	.listxattr	= tplfs_listxattr,
	TPLFS_ACL_INODE_OPERATIONS
};
