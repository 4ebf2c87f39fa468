// SPDX-License-Identifier: LGPL-2.1-or-later
/* Moving a private area to another template version: see rebase.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "beneath.h"
#include "digest.h"
#include "dpkgstatus.h"
#include "object.h"
#include "grow.h"
#include "origin.h"
#include "rebase.h"
#include "rebase_make.h"

/* What the container's private area holds at one path. */
struct ours {
	struct tplfs_merge_side side;
	bool no_parent;		/* its directory is not there (or not one) */
	bool foreign;		/* another filesystem mounted there */
	int fd;			/* FILE: open read-only, else -1 */
	struct stat sb;
	struct tplfs_origin_state st;	/* FILE: as the ops read it */
	char target[PATH_MAX];	/* SYMLINK */
};

/* A directory to remove once its entries are gone, then maybe replaced. */
struct later {
	char *path;
	const struct tplfs_mentry *make;	/* theirs, resolved, or NULL */
};

struct rb {
	const struct tplfs_rebase_args *a;
	struct tplfs_rebase_report *rep;
	dev_t dev;
	/* the last parent directory opened, kept for its siblings */
	char *parent;
	size_t parent_cap;
	int parent_fd;
	unsigned long staged;	/* names made in the stage */
	struct later *later;
	size_t nlater, caplater;
	struct tplfs_mentry *dirtimes;	/* directories whose mtime to set last */
	size_t ndirtimes, capdirtimes;
	struct tplfs_objset theirs_objects;
	char *err;
	size_t errlen;
};

static int rb_fail(struct rb *r, int ret, const char *path, const char *what)
{
	snprintf(r->err, r->errlen, "%s: %s: %s", path, what, strerror(-ret));
	return ret;
}

static void item(struct rb *r, const char *path, const char *outcome,
		 const char *why)
{
	struct tplfs_rebase_item it = { path, outcome, why };

	if (r->a->item)
		r->a->item(r->a->arg, &it);
}

/* --- the three sides ------------------------------------------------------ */

static void side_of(const struct tplfs_mlist *l, const struct tplfs_mentry *e,
		    struct tplfs_merge_side *s)
{
	memset(s, 0, sizeof(*s));
	if (!e)
		return;		/* TPLFS_MERGE_ABSENT */
	e = tplfs_mlist_resolve(l, e);
	switch (e->type) {
	case 'd':
		s->kind = TPLFS_MERGE_DIR;
		break;
	case 'f':
		s->kind = TPLFS_MERGE_FILE;
		s->digest_known = true;
		s->size = e->size;
		memcpy(s->digest, e->digest, sizeof(s->digest));
		break;
	case 'l':
		s->kind = TPLFS_MERGE_SYMLINK;
		s->target = e->target;
		break;
	default:
		s->kind = TPLFS_MERGE_SPECIAL;
		s->special = e->type;
		s->major = e->major;
		s->minor = e->minor;
		break;
	}
	s->mode = e->mode;
	s->uid = e->uid;
	s->gid = e->gid;
	s->mtime_sec = e->mtime_sec;
	s->mtime_nsec = e->mtime_nsec;
}

/*
 * The directory holding @path in the private area, beneath it and through
 * no symlink; -ENOENT, -ENOTDIR, -ELOOP, -EXDEV when it is not there as a
 * directory of the area. *@name is set to the last component.
 */
static int parent_of(struct rb *r, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	size_t len = (size_t)(slash - path);
	int fd;

	*name = slash + 1;
	if (r->parent_fd >= 0 && strlen(r->parent) == len &&
	    !memcmp(r->parent, path, len))
		return r->parent_fd;
	if (tplfs_grow(&r->parent, &r->parent_cap, len + 2, 1, 256))
		return -ENOMEM;
	if (len == 0) {
		fd = dup(r->a->fs_fd);
		fd = fd < 0 ? -errno : fd;
	} else {
		memcpy(r->parent, path + 1, len - 1);
		r->parent[len - 1] = '\0';
		fd = tplfs_open_beneath(r->a->fs_fd, r->parent,
					O_RDONLY | O_DIRECTORY, 0);
	}
	if (r->parent_fd >= 0)
		close(r->parent_fd);
	r->parent_fd = -1;
	if (fd < 0)
		return fd;
	r->parent_fd = fd;
	memcpy(r->parent, path, len);
	r->parent[len] = '\0';
	return fd;
}

/* Forget the cached parent: a directory on the way may have been replaced. */
static void parent_forget(struct rb *r)
{
	if (r->parent_fd >= 0)
		close(r->parent_fd);
	r->parent_fd = -1;
}

static bool may_equal(const struct tplfs_merge_side *s, uint64_t size)
{
	return s->kind == TPLFS_MERGE_FILE && s->size == size;
}

/* A regular file: a stub names its content; a private file is hashed only
 * when base or theirs has its size (else it cannot be equal to either). */
static int ours_file(struct rb *r, int dfd, const char *name, struct ours *o,
		     const struct tplfs_merge_side *bs,
		     const struct tplfs_merge_side *ts)
{
	struct tplfs_merge_side *s = &o->side;
	int ret;

	s->kind = TPLFS_MERGE_FILE;
	o->fd = tplfs_open_to_hash(dfd, name);
	if (o->fd < 0)
		return o->fd;
	/* the state before the hash: what the swap will expect */
	ret = r->a->ops->state(r->a->ops->arg, o->fd, &o->st);
	if (ret)
		return ret;
	if (o->st.flags & TPLFS_OSTATE_STUB) {
		struct tplfs_origin_info info;

		if (!(o->st.flags & TPLFS_OSTATE_BAD) &&
		    !tplfs_origin_decode(o->st.origin, sizeof(o->st.origin),
					 &info)) {
			s->digest_known = true;
			s->size = info.size;
			memcpy(s->digest, info.digest, sizeof(s->digest));
		}
		return 0;
	}
	s->size = (uint64_t)o->sb.st_size;
	if (!may_equal(bs, s->size) && !may_equal(ts, s->size))
		return 0;
	ret = tplfs_digest_fd(o->fd, &s->size, s->digest);
	if (ret == -EIO)	/* it shrank while hashed: changed */
		return 0;
	s->digest_known = !ret;
	return ret;
}

static int ours_of(struct rb *r, const char *path, struct ours *o,
		   const struct tplfs_merge_side *bs,
		   const struct tplfs_merge_side *ts)
{
	struct tplfs_merge_side *s = &o->side;
	const char *name = ".";
	int dfd = r->a->fs_fd;
	ssize_t n;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (strcmp(path, "/")) {
		dfd = parent_of(r, path, &name);
		if (dfd == -ENOENT || dfd == -ENOTDIR || dfd == -ELOOP ||
		    dfd == -EXDEV) {
			o->no_parent = true;
			return 0;
		}
		if (dfd < 0)
			return dfd;
	}
	if (fstatat(dfd, name, &o->sb, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (o->sb.st_dev != r->dev) {
		o->foreign = true;
		s->kind = TPLFS_MERGE_SPECIAL;
		s->special = 'm';	/* equal to nothing of a manifest */
		return 0;
	}
	s->mode = o->sb.st_mode & 07777;
	s->uid = o->sb.st_uid;
	s->gid = o->sb.st_gid;
	s->mtime_sec = o->sb.st_mtim.tv_sec;
	s->mtime_nsec = (uint32_t)o->sb.st_mtim.tv_nsec;
	switch (o->sb.st_mode & S_IFMT) {
	case S_IFREG:
		return ours_file(r, dfd, name, o, bs, ts);
	case S_IFDIR:
		s->kind = TPLFS_MERGE_DIR;
		return 0;
	case S_IFLNK:
		s->kind = TPLFS_MERGE_SYMLINK;
		n = readlinkat(dfd, name, o->target, sizeof(o->target) - 1);
		if (n < 0)
			return -errno;
		o->target[n] = '\0';
		s->target = o->target;
		return 0;
	default:
		s->kind = TPLFS_MERGE_SPECIAL;
		s->special = S_ISCHR(o->sb.st_mode) ? 'c' :
			     S_ISBLK(o->sb.st_mode) ? 'b' :
			     S_ISFIFO(o->sb.st_mode) ? 'p' : 's';
		s->major = major(o->sb.st_rdev);
		s->minor = minor(o->sb.st_rdev);
		return 0;
	}
}

/* --- applying a decision ---------------------------------------------------- */

/* A new name in the stage. */
static void stage_name(struct rb *r, char *buf, size_t size)
{
	snprintf(buf, size, "n%lu", ++r->staged);
}

/* Put the staged @sname at @name of @dfd: over what is there, or (@noreplace)
 * only where nothing is. */
static int stage_put(struct rb *r, const char *sname, int dfd, const char *name,
		     bool noreplace)
{
	int ret = renameat2(r->a->stage_fd, sname, dfd, name,
			    noreplace ? RENAME_NOREPLACE : 0) < 0 ? -errno : 0;

	if (ret)
		unlinkat(r->a->stage_fd, sname, 0);
	return ret;
}

/* Directories get their mtime last: the entries made in them move it. */
static int dir_time_later(struct rb *r, const char *path,
			  const struct tplfs_mentry *m)
{
	struct tplfs_mentry *d;

	if (tplfs_grow(&r->dirtimes, &r->capdirtimes, r->ndirtimes,
		       sizeof(*r->dirtimes), 64))
		return -ENOMEM;
	d = &r->dirtimes[r->ndirtimes];
	memset(d, 0, sizeof(*d));
	d->path = strdup(path);
	if (!d->path)
		return -ENOMEM;
	d->mtime_sec = m->mtime_sec;
	d->mtime_nsec = m->mtime_nsec;
	r->ndirtimes++;
	return 0;
}

/*
 * Make theirs's @te at @path where ours has nothing (@dfd, @name): staged
 * whole, then renamed into place if the place is still free.
 */
static int make_new(struct rb *r, const char *path, int dfd, const char *name,
		    const struct tplfs_mentry *te, const struct tplfs_mentry *meta)
{
	char sname[32];
	int ret;

	stage_name(r, sname, sizeof(sname));
	ret = tplfs_rb_make(r->a->stage_fd, sname, te, meta,
			    tplfs_mlist_is_private(r->a->theirs, path),
			    r->a->store_fd);
	if (ret) {
		unlinkat(r->a->stage_fd, sname, te->type == 'd' ? AT_REMOVEDIR : 0);
		return rb_fail(r, ret, path, "making it");
	}
	ret = stage_put(r, sname, dfd, name, true);
	if (ret == -EEXIST) {
		item(r, path, "conflict", "made in the container meanwhile");
		r->rep->conflicts++;
		return 0;
	}
	if (ret)
		return rb_fail(r, ret, path, "putting it in place");
	if (te->type == 'd')
		return dir_time_later(r, path, meta);
	return 0;
}

/*
 * A hard link of theirs: the path becomes a link of its first link if the
 * private area has theirs's file there (a stub of the same object), else
 * a stub of its own. True if linked.
 */
static bool link_first(struct rb *r, const struct tplfs_mentry *te,
		       const struct tplfs_mentry *first, const char *sname)
{
	struct tplfs_origin_state st;
	struct tplfs_origin_info info;
	bool same = false;
	int fd;

	fd = tplfs_open_beneath(r->a->fs_fd, te->target + 1, O_RDONLY |
				O_NONBLOCK, 0);
	if (fd < 0)
		return false;
	if (!r->a->ops->state(r->a->ops->arg, fd, &st) &&
	    (st.flags & TPLFS_OSTATE_STUB) && !(st.flags & TPLFS_OSTATE_BAD) &&
	    !tplfs_origin_decode(st.origin, sizeof(st.origin), &info))
		same = info.size == first->size &&
		       !memcmp(info.digest, first->digest, sizeof(info.digest));
	if (same) {
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		same = !linkat(AT_FDCWD, proc, r->a->stage_fd, sname,
			       AT_SYMLINK_FOLLOW);
	}
	close(fd);
	return same;
}

/*
 * Replace ours at @path by theirs's content, made whole in the stage and
 * renamed over it: for what cannot change in place (a symlink's target, a
 * node, a file with other hard links, an always-private file).
 */
static int replace(struct rb *r, const char *path, int dfd, const char *name,
		   const struct tplfs_mentry *te_raw, const struct tplfs_mentry *te,
		   bool meta_take)
{
	struct tplfs_mentry ours_meta;
	char sname[32];
	int ret;

	ret = tplfs_rb_meta_read(dfd, name, &ours_meta);
	if (ret)
		return rb_fail(r, ret, path, "reading its metadata");
	stage_name(r, sname, sizeof(sname));
	if (te_raw->type == 'h' && link_first(r, te_raw, te, sname))
		ret = 0;
	else
		ret = tplfs_rb_make(r->a->stage_fd, sname, te,
				    meta_take ? te : &ours_meta,
				    tplfs_mlist_is_private(r->a->theirs, path),
				    r->a->store_fd);
	tplfs_rb_meta_free(&ours_meta);
	if (ret) {
		unlinkat(r->a->stage_fd, sname, 0);
		return rb_fail(r, ret, path, "making its new version");
	}
	ret = stage_put(r, sname, dfd, name, false);
	return ret ? rb_fail(r, ret, path, "putting it in place") : 0;
}

/* Remove directory @path at the end, then make @make there (if not NULL). */
static int remove_later(struct rb *r, const char *path,
			const struct tplfs_mentry *make)
{
	if (tplfs_grow(&r->later, &r->caplater, r->nlater, sizeof(*r->later), 16))
		return -ENOMEM;
	r->later[r->nlater].path = strdup(path);
	r->later[r->nlater].make = make;
	if (!r->later[r->nlater].path)
		return -ENOMEM;
	r->nlater++;
	return 0;
}

/* Swap a file's content in its own inode: a stub of theirs's object. */
static int swap_in_place(struct rb *r, const char *path, struct ours *o,
			 const struct tplfs_mentry *te, bool *busy)
{
	struct tplfs_origin_info info = { .size = te->size };
	uint8_t origin[TPLFS_ORIGIN_SIZE];
	int ret;

	memcpy(info.digest, te->digest, sizeof(info.digest));
	tplfs_origin_encode(&info, origin);
	if ((o->st.flags & TPLFS_OSTATE_STUB) &&
	    !memcmp(origin, o->st.origin, sizeof(origin)))
		return 0;	/* already theirs */
	ret = r->a->ops->swap(r->a->ops->arg, o->fd, &o->st, origin);
	if (ret == -ESTALE || ret == -EBUSY || ret == -ETXTBSY) {
		*busy = true;
		return 0;
	}
	return ret ? rb_fail(r, ret, path, "swapping its origin") : 0;
}

/* Whether ours, a regular file hashed or a stub, holds @te's content. */
static bool holds_theirs(const struct tplfs_merge_side *os,
			 const struct tplfs_mentry *te)
{
	return os->digest_known && os->size == te->size &&
	       !memcmp(os->digest, te->digest, sizeof(te->digest));
}

static int take(struct rb *r, const char *path, struct ours *o,
		const struct tplfs_mentry *te_raw,
		const struct tplfs_merge_decision *d)
{
	const struct tplfs_mentry *te = tplfs_mlist_resolve(r->a->theirs, te_raw);
	const struct tplfs_merge_side *os = &o->side;
	bool same_kind, private_file, busy = false;
	const char *name = ".";
	int dfd = r->a->fs_fd;
	int ret = 0;

	if (strcmp(path, "/")) {
		dfd = parent_of(r, path, &name);
		if (dfd < 0) {
			item(r, path, "conflict", "its directory is not in the container");
			r->rep->conflicts++;
			return 0;
		}
	}
	same_kind = (os->kind == TPLFS_MERGE_DIR && te->type == 'd') ||
		    (os->kind == TPLFS_MERGE_FILE && te->type == 'f') ||
		    (os->kind == TPLFS_MERGE_SYMLINK && te->type == 'l') ||
		    (os->kind == TPLFS_MERGE_SPECIAL && os->special == te->type);
	if (os->kind == TPLFS_MERGE_ABSENT) {
		ret = make_new(r, path, dfd, name, te, te);
		if (!ret) {
			item(r, path, "created", d->why);
			r->rep->created++;
		}
		return ret;
	}
	if (!same_kind && os->kind == TPLFS_MERGE_DIR) {
		/* emptied first (its entries come later in the walk) */
		return remove_later(r, path, te);
	}
	if (!same_kind) {
		if (unlinkat(dfd, name, 0) < 0)
			return rb_fail(r, -errno, path, "removing it");
		ret = make_new(r, path, dfd, name, te, te);
		if (!ret) {
			item(r, path, "created", "its type changed in the template");
			r->rep->created++;
		}
		return ret;
	}
	if (os->kind == TPLFS_MERGE_FILE &&
	    (te_raw->type == 'h' || o->sb.st_nlink > 1 ||
	     tplfs_mlist_is_private(r->a->theirs, path))) {
		bool is_theirs = holds_theirs(os, te);

		/* the same content, and a stub unless it is to be private */
		if (is_theirs && !d->meta_take &&
		    (tplfs_mlist_is_private(r->a->theirs, path) ==
		     !(o->st.flags & TPLFS_OSTATE_STUB)))
			goto done;
		ret = replace(r, path, dfd, name, te_raw, te, d->meta_take);
		goto done;
	}
	if ((os->kind == TPLFS_MERGE_SYMLINK &&
	     strcmp(os->target, te->target)) ||
	    (os->kind == TPLFS_MERGE_SPECIAL &&
	     (os->major != te->major || os->minor != te->minor))) {
		ret = replace(r, path, dfd, name, te_raw, te, d->meta_take);
		goto done;
	}
	/*
	 * In place. A stub: the metadata first, so that a kill between the
	 * two leaves what a second run takes as done. A private file: its
	 * content first, because the swap expects the state it had when it
	 * was hashed, which a change of metadata moves (its ctime); a kill
	 * between leaves theirs's content with base's metadata, which a
	 * second run takes to theirs too. A file left busy keeps both.
	 */
	private_file = os->kind == TPLFS_MERGE_FILE &&
		       !(o->st.flags & TPLFS_OSTATE_STUB);
	if (private_file)
		ret = swap_in_place(r, path, o, te, &busy);
	if (!ret && !busy && d->meta_take) {
		ret = tplfs_rb_set_meta(dfd, name, te);
		if (ret)
			return rb_fail(r, ret, path, "setting its metadata");
		if (te->type == 'd')
			ret = dir_time_later(r, path, te);
	}
	if (!ret && !private_file && os->kind == TPLFS_MERGE_FILE)
		ret = swap_in_place(r, path, o, te, &busy);
done:
	if (ret)
		return ret;
	if (busy) {
		item(r, path, "busy", "open or written to: left at its version");
		r->rep->busy++;
		/* a stub left naming base's object keeps base in use */
		if ((o->st.flags & TPLFS_OSTATE_STUB) && os->digest_known &&
		    !tplfs_objset_has(&r->theirs_objects, os->size, os->digest))
			r->rep->old_stubs++;
		return 0;
	}
	item(r, path, "updated", d->why);
	r->rep->updated++;
	return 0;
}

static int remove_path(struct rb *r, const char *path, struct ours *o,
		       const struct tplfs_merge_decision *d)
{
	const char *name;
	int dfd = parent_of(r, path, &name);

	if (dfd < 0)
		return 0;	/* gone with its directory */
	if (o->side.kind == TPLFS_MERGE_DIR)
		return remove_later(r, path, NULL);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return rb_fail(r, -errno, path, "removing it");
	item(r, path, "removed", d->why);
	r->rep->removed++;
	return 0;
}

/* The directories to remove, deepest first (the walk's reverse order). */
static int do_later(struct rb *r)
{
	for (size_t i = r->nlater; i-- > 0;) {
		struct later *l = &r->later[i];
		const char *name;
		int dfd, ret;

		parent_forget(r);
		dfd = parent_of(r, l->path, &name);
		if (dfd < 0)
			continue;
		if (unlinkat(dfd, name, AT_REMOVEDIR) < 0) {
			if (errno != ENOTEMPTY && errno != EEXIST)
				return rb_fail(r, -errno, l->path, "removing it");
			item(r, l->path, "conflict",
			     "removed in the template, the container has files in it");
			r->rep->conflicts++;
			continue;
		}
		if (!l->make) {
			item(r, l->path, "removed", "removed in the template");
			r->rep->removed++;
			continue;
		}
		ret = make_new(r, l->path, dfd, name, l->make, l->make);
		if (ret)
			return ret;
		item(r, l->path, "created", "its type changed in the template");
		r->rep->created++;
	}
	return 0;
}

static int set_dir_times(struct rb *r)
{
	for (size_t i = r->ndirtimes; i-- > 0;) {
		const struct tplfs_mentry *m = &r->dirtimes[i];
		struct timespec ts[2] = {
			{ .tv_nsec = UTIME_OMIT },
			{ .tv_sec = m->mtime_sec, .tv_nsec = m->mtime_nsec },
		};
		const char *name = ".";
		int dfd = r->a->fs_fd;

		if (strcmp(m->path, "/")) {
			dfd = parent_of(r, m->path, &name);
			if (dfd < 0)
				continue;
		}
		if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != ENOENT)
			return rb_fail(r, -errno, m->path, "setting its time");
	}
	return 0;
}

/* --- dpkg's database, merged by package when both changed it --------------- */

#define STANZA_FILE_MAX	(256u << 20)

static int read_all(int fd, uint64_t len, char **out)
{
	return tplfs_fd_read_all(fd, len, STANZA_FILE_MAX, out);
}

static int read_object(int store_fd, const struct tplfs_mentry *e, char **out)
{
	return tplfs_object_read(store_fd, e->digest, e->size, STANZA_FILE_MAX,
				 out);
}

/*
 * Both changed a stanza file (dpkg's status, debconf's databases:
 * dpkgstatus.h): merged by stanza into a new private file with the
 * container's metadata, renamed over it (as dpkg itself writes it). 0 if
 * merged, 1 if a stanza changed in both (a conflict, left), or a negative
 * errno.
 */
static int merge_stanzas(struct rb *r, const char *path,
		      const struct tplfs_mentry *be,
		      const struct tplfs_mentry *te, struct ours *o)
{
	char *b = NULL, *ou = NULL, *t = NULL, *out = NULL, why[300];
	struct tplfs_mentry meta;
	size_t outlen;
	const char *name;
	char sname[32];
	int dfd, ret;

	be = tplfs_mlist_resolve(r->a->base, be);
	te = tplfs_mlist_resolve(r->a->theirs, te);
	ret = read_object(r->a->store_fd, be, &b);
	if (!ret)
		ret = read_object(r->a->store_fd, te, &t);
	if (!ret)
		ret = read_all(o->fd, (uint64_t)o->sb.st_size, &ou);
	if (!ret)
		ret = tplfs_stanza_merge(tplfs_stanza_file(path), b, be->size, ou,
					      (size_t)o->sb.st_size, t, te->size,
					      &out, &outlen, why, sizeof(why));
	free(b);
	free(ou);
	free(t);
	if (ret == -EAGAIN || ret == -EINVAL) {
		item(r, path, "conflict", why);
		r->rep->conflicts++;
		return 1;
	}
	if (ret)
		return rb_fail(r, ret, path, "merging it");
	if (r->a->dry_run)
		goto merged;
	dfd = parent_of(r, path, &name);
	ret = dfd < 0 ? dfd : tplfs_rb_meta_read(dfd, name, &meta);
	if (ret) {
		free(out);
		return rb_fail(r, ret, path, "reading its metadata");
	}
	stage_name(r, sname, sizeof(sname));
	ret = tplfs_rb_make_data(r->a->stage_fd, sname, out, outlen, &meta);
	tplfs_rb_meta_free(&meta);
	if (!ret)
		ret = stage_put(r, sname, dfd, name, false);
	else
		unlinkat(r->a->stage_fd, sname, 0);
	if (ret) {
		free(out);
		return rb_fail(r, ret, path, "putting the merge in place");
	}
merged:
	free(out);
	item(r, path, "merged", "changed in both: merged by package");
	r->rep->merged++;
	return 0;
}

/* --- the walk --------------------------------------------------------------- */

/*
 * A private file that holds theirs's content, kept only because its
 * metadata is its own (dpkg rewrote a file the update did not change, or
 * the container ran the update itself): it becomes a stub of theirs's
 * object, in place, its metadata kept, as ct relink would make it. Not a
 * hard link or an always-private path (those stay private copies).
 */
static bool private_copy_of_theirs(struct rb *r, const char *path,
				   const struct ours *o,
				   const struct tplfs_mentry *te)
{
	const struct tplfs_merge_side *os = &o->side;

	return te && te->type == 'f' && os->kind == TPLFS_MERGE_FILE &&
	       !(o->st.flags & TPLFS_OSTATE_STUB) && o->sb.st_nlink == 1 &&
	       holds_theirs(os, te) &&
	       !tplfs_mlist_is_private(r->a->theirs, path);
}

static int one_path(struct rb *r, const char *path,
		    const struct tplfs_mentry *be, const struct tplfs_mentry *te)
{
	struct tplfs_merge_side bs, ts;
	struct tplfs_merge_decision d;
	struct ours o;
	int ret;

	side_of(r->a->base, be, &bs);
	side_of(r->a->theirs, te, &ts);
	ret = ours_of(r, path, &o, &bs, &ts);
	if (ret) {
		ret = rb_fail(r, ret, path, "reading it");
		goto out;
	}
	r->rep->paths++;
	d = tplfs_merge_decide(&bs, &o.side, &ts);
	if (o.foreign) {
		d.action = TPLFS_MERGE_KEEP;
		d.why = "another filesystem is mounted there";
	}
	if (d.action == TPLFS_MERGE_KEEP && d.conflict && tplfs_stanza_file(path) &&
	    bs.kind == TPLFS_MERGE_FILE && o.side.kind == TPLFS_MERGE_FILE &&
	    ts.kind == TPLFS_MERGE_FILE && !(o.st.flags & TPLFS_OSTATE_STUB)) {
		ret = merge_stanzas(r, path, be, te, &o);
		if (ret <= 0)
			goto out;
		ret = 0;	/* not mergeable: a conflict */
	}
	if (d.action == TPLFS_MERGE_KEEP && !d.conflict &&
	    private_copy_of_theirs(r, path, &o, te)) {
		d.action = TPLFS_MERGE_TAKE;
		d.meta_take = false;
		d.why = "a private copy of the template's content: a stub again";
	}
	if (d.action == TPLFS_MERGE_KEEP && (o.st.flags & TPLFS_OSTATE_STUB) &&
	    o.side.digest_known &&
	    !tplfs_objset_has(&r->theirs_objects, o.side.size, o.side.digest))
		r->rep->old_stubs++;
	if (d.action == TPLFS_MERGE_KEEP) {
		if (d.conflict) {
			item(r, path, "conflict", d.why);
			r->rep->conflicts++;
		} else if (!tplfs_merge_same(&ts, &bs)) {
			item(r, path, "kept", d.why);
			r->rep->kept++;
		}
		goto out;
	}
	if (r->a->dry_run) {
		item(r, path, d.action == TPLFS_MERGE_REMOVE ? "removed" :
		     o.side.kind == TPLFS_MERGE_ABSENT ? "created" : "updated",
		     d.why);
		if (d.action == TPLFS_MERGE_REMOVE)
			r->rep->removed++;
		else if (o.side.kind == TPLFS_MERGE_ABSENT)
			r->rep->created++;
		else
			r->rep->updated++;
		goto out;
	}
	if (d.action == TPLFS_MERGE_REMOVE)
		ret = remove_path(r, path, &o, &d);
	else
		ret = take(r, path, &o, te, &d);
out:
	if (o.fd >= 0)
		close(o.fd);
	if (r->a->progress)
		r->a->progress(r->a->arg);
	return ret;
}

int tplfs_rebase(const struct tplfs_rebase_args *a,
		 struct tplfs_rebase_report *rep, char *err, size_t errlen)
{
	struct rb r = {
		.a = a, .rep = rep, .parent_fd = -1, .err = err, .errlen = errlen,
	};
	const struct tplfs_mlist *b = a->base, *t = a->theirs;
	size_t i = 0, j = 0;
	struct stat root;
	int ret = 0;

	memset(rep, 0, sizeof(*rep));
	for (size_t k = 0; k < t->n; k++)
		if (t->v[k].type == 'f' &&
		    tplfs_objset_add(&r.theirs_objects, t->v[k].size,
				     t->v[k].digest))
			return rb_fail(&r, -ENOMEM, "/", "the objects of theirs");
	if (fstat(a->fs_fd, &root) < 0)
		return rb_fail(&r, -errno, "/", "stat");
	r.dev = root.st_dev;
	/* written back first: see relink.c (xfs's i_version at writeback) */
	if (!a->dry_run && syncfs(a->fs_fd) < 0)
		return rb_fail(&r, -errno, "/", "syncfs");
	while (!ret && (i < b->n || j < t->n)) {
		int c = i == b->n ? 1 : j == t->n ? -1 :
			strcmp(b->v[i].path, t->v[j].path);

		if (c < 0) {
			ret = one_path(&r, b->v[i].path, &b->v[i], NULL);
			i++;
		} else if (c > 0) {
			ret = one_path(&r, t->v[j].path, NULL, &t->v[j]);
			j++;
		} else {
			ret = one_path(&r, b->v[i].path, &b->v[i], &t->v[j]);
			i++;
			j++;
		}
	}
	if (!ret && !a->dry_run)
		ret = do_later(&r);
	if (!ret && !a->dry_run)
		ret = set_dir_times(&r);
	if (!ret && !a->dry_run && syncfs(a->fs_fd) < 0)
		ret = rb_fail(&r, -errno, "/", "syncfs");
	parent_forget(&r);
	tplfs_objset_free(&r.theirs_objects);
	for (size_t k = 0; k < r.nlater; k++)
		free(r.later[k].path);
	free(r.later);
	for (size_t k = 0; k < r.ndirtimes; k++)
		free(r.dirtimes[k].path);
	free(r.dirtimes);
	free(r.parent);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}
