// SPDX-License-Identifier: LGPL-2.1-or-later
/* Building a private area from a manifest: see populate.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "grow.h"
#include "manifest.h"
#include "object.h"
#include "origin.h"
#include "populate.h"

struct pop {
	int store_fd;
	int root_fd;
	struct tplfs_mreader *r;
	/* the last parent directory opened, kept for its siblings */
	char parent[PATH_MAX];
	int parent_fd;
	gid_t parent_gid;	/* what a file made in it gets as its group */
	mode_t umask;		/* the process's, read once */
	uid_t euid;
	/* directories, whose times are set once all is made */
	struct dirtime {
		char *rel;
		struct timespec t;
	} *dirs;
	size_t ndirs, capdirs;
	char *err;
	size_t errlen;
	bool full;		/* a full clone: copies, no stubs */
	const struct tplfs_idshift *shift;
};

static int pop_fail(struct pop *p, int ret, const char *path, const char *what)
{
	snprintf(p->err, p->errlen, "%s: %s: %s", path, what, strerror(-ret));
	return ret;
}

/* A directory beneath the root, symlinks never followed. */
static int open_beneath(int root_fd, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* The fd of the directory holding @path, and its name in it. */
static int parent_of(struct pop *p, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	size_t len = (size_t)(slash - path);
	int fd;

	*name = slash + 1;
	if (p->parent_fd >= 0 && strlen(p->parent) == len &&
	    !memcmp(p->parent, path, len))
		return p->parent_fd;
	if (len == 0) {
		fd = dup(p->root_fd);
		if (fd < 0)
			return -errno;
	} else {
		memcpy(p->parent, path + 1, len - 1);
		p->parent[len - 1] = '\0';
		fd = open_beneath(p->root_fd, p->parent);
		if (fd < 0)
			return fd;
	}
	if (p->parent_fd >= 0)
		close(p->parent_fd);
	p->parent_fd = fd;
	{
		struct stat sb;

		p->parent_gid = fstat(fd, &sb) == 0 && (sb.st_mode & S_ISGID) ?
				sb.st_gid : getegid();
	}
	memcpy(p->parent, path, len);
	p->parent[len] = '\0';
	return fd;
}

/* Owner, then mode (chown clears set-id bits), then xattrs (it clears
 * security.capability too). Path-based, not following a final symlink. */
static int set_meta(int dfd, const char *name, const struct tplfs_mentry *e,
		    bool is_link)
{
	char proc[64 + NAME_MAX];

	if (fchownat(dfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!is_link && fchmodat(dfd, name, e->mode, 0) < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dfd, name);
	for (size_t i = 0; i < e->nxattrs; i++)
		if (lsetxattr(proc, e->xattrs[i].name, e->xattrs[i].value,
			      e->xattrs[i].len, 0) < 0)
			return -errno;
	return 0;
}

static int set_time(int dfd, const char *name, const struct tplfs_mentry *e)
{
	struct timespec ts[2] = {
		{ .tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec },
		{ .tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec },
	};

	return utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static bool is_private(const struct tplfs_mreader *r, const char *path)
{
	for (size_t i = 0; i < tplfs_mreader_nprivate(r); i++)
		if (!strcmp(tplfs_mreader_private(r, i), path))
			return true;
	return false;
}

/*
 * A file's owner, mode, xattrs and times, on its open fd: only what
 * creating it did not already give (the owner of a file root makes in a
 * directory without set-gid is root's; a mode the umask leaves whole and
 * without set-id bits is the one it was made with).
 */
static int set_file_meta(const struct pop *p, int fd,
			 const struct tplfs_mentry *e, bool made_with_mode)
{
	struct timespec ts[2] = {
		{ .tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec },
		{ .tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec },
	};
	bool chowned = e->uid != p->euid || e->gid != p->parent_gid;

	if (chowned && fchown(fd, e->uid, e->gid) < 0)
		return -errno;
	/* chown clears set-id bits: the mode after it */
	if ((chowned || !made_with_mode) && fchmod(fd, e->mode) < 0)
		return -errno;
	for (size_t i = 0; i < e->nxattrs; i++)
		if (fsetxattr(fd, e->xattrs[i].name, e->xattrs[i].value,
			      e->xattrs[i].len, 0) < 0)
			return -errno;
	return futimens(fd, ts) < 0 ? -errno : 0;
}

static int make_file(struct pop *p, int dfd, const char *name,
		     const struct tplfs_mentry *e, struct tplfs_populate_stats *st)
{
	struct tplfs_origin_info info = { .size = e->size };
	bool with_mode = !(e->mode & 07000) && !(e->mode & p->umask);
	int fd, ret = 0;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, with_mode ? e->mode : 0600);
	if (fd < 0)
		return -errno;
	memcpy(info.digest, e->digest, sizeof(info.digest));
	if (p->full || is_private(p->r, e->path)) {
		ret = tplfs_object_copy_out(p->store_fd, &info, fd);
		st->copies++;
		st->copy_bytes += e->size;
	} else {
		uint8_t origin[TPLFS_ORIGIN_SIZE];

		tplfs_origin_encode(&info, origin);
		if (fsetxattr(fd, TPLFS_ORIGIN_XATTR, origin, sizeof(origin),
			      XATTR_CREATE) < 0)
			ret = -errno;
		st->stubs++;
	}
	if (!ret)
		ret = set_file_meta(p, fd, e, with_mode);
	close(fd);
	return ret;
}

static int make_entry(struct pop *p, const struct tplfs_mentry *e,
		      struct tplfs_populate_stats *st)
{
	const char *name;
	int dfd, ret;

	if (!strcmp(e->path, "/")) {
		dfd = p->root_fd;
		name = ".";
	} else {
		dfd = parent_of(p, e->path, &name);
		if (dfd < 0)
			return dfd;
	}
	switch (e->type) {
	case 'd':
		if (strcmp(name, ".") && mkdirat(dfd, name, 0700) < 0)
			return -errno;
		if (tplfs_grow(&p->dirs, &p->capdirs, p->ndirs,
			       sizeof(*p->dirs), 256))
			return -ENOMEM;
		p->dirs[p->ndirs].rel = strdup(e->path[1] ? e->path + 1 : ".");
		p->dirs[p->ndirs].t.tv_sec = e->mtime_sec;
		p->dirs[p->ndirs].t.tv_nsec = e->mtime_nsec;
		if (!p->dirs[p->ndirs].rel)
			return -ENOMEM;
		p->ndirs++;
		return set_meta(dfd, name, e, false);
	case 'f':
		return make_file(p, dfd, name, e, st);
	case 'l':
		ret = symlinkat(e->target, dfd, name) < 0 ? -errno : 0;
		break;
	case 'c':
	case 'b':
	case 'p':
		ret = mknodat(dfd, name, (e->type == 'c' ? S_IFCHR :
			      e->type == 'b' ? S_IFBLK : S_IFIFO) | 0600,
			      makedev(e->major, e->minor)) < 0 ? -errno : 0;
		break;
	case 'h':
		/* The target's directories are manifest directories: no
		 * symlink on the way (the reader checked). */
		return linkat(p->root_fd, e->target + 1, dfd, name, 0) < 0 ?
		       -errno : 0;
	default:
		return -EINVAL;
	}
	if (!ret)
		ret = set_meta(dfd, name, e, e->type == 'l');
	if (!ret)
		ret = set_time(dfd, name, e);
	return ret;
}

/* The umask, read without changing it (other threads may be creating). */
static mode_t process_umask(void)
{
	char line[128];
	unsigned int m = 0777;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &m) == 1)
			break;
	if (f)
		fclose(f);
	return (mode_t)m;	/* unknown: as if it took all, always fchmod */
}

static int populate(struct pop *p, FILE *manifest,
		    struct tplfs_populate_stats *st, _Atomic uint64_t *done)
{
	struct tplfs_mentry e;
	int ret;

	memset(st, 0, sizeof(*st));
	p->err[0] = '\0';
	p->umask = process_umask();
	p->euid = geteuid();
	ret = tplfs_mreader_open(manifest, &p->r, p->err, p->errlen);
	if (ret)
		return ret;
	if (tplfs_mreader_layer_of(p->r)) {
		snprintf(p->err, p->errlen,
			 "%s is an application template (a layer of %s), not a tree",
			 tplfs_mreader_template(p->r),
			 tplfs_mreader_layer_of(p->r));
		tplfs_mreader_close(p->r);
		return -EINVAL;
	}
	while ((ret = tplfs_mreader_next(p->r, &e, p->err, p->errlen)) == 1) {
		ret = tplfs_idshift_entry(p->shift, &e, p->err, p->errlen);
		if (ret)
			break;
		ret = make_entry(p, &e, st);
		if (ret) {
			pop_fail(p, ret, e.path, "cannot make it");
			break;
		}
		st->entries++;
		if (done)
			atomic_store(done, st->entries);
	}
	/* Directory times last: making their entries changed them. */
	for (size_t i = p->ndirs; i-- > 0 && !ret; ) {
		struct timespec ts[2] = { p->dirs[i].t, p->dirs[i].t };

		if (utimensat(p->root_fd, p->dirs[i].rel, ts,
			      AT_SYMLINK_NOFOLLOW) < 0)
			ret = pop_fail(p, -errno, p->dirs[i].rel, "times");
	}
	for (size_t i = 0; i < p->ndirs; i++)
		free(p->dirs[i].rel);
	free(p->dirs);
	if (p->parent_fd >= 0)
		close(p->parent_fd);
	tplfs_mreader_close(p->r);
	return ret;
}

int tplfs_populate(int store_fd, FILE *manifest, int root_fd,
		   const struct tplfs_idshift *shift,
		   struct tplfs_populate_stats *st, _Atomic uint64_t *done,
		   char *err, size_t errlen)
{
	struct pop p = {
		.store_fd = store_fd, .root_fd = root_fd, .parent_fd = -1,
		.err = err, .errlen = errlen, .shift = shift,
	};

	return populate(&p, manifest, st, done);
}

int tplfs_populate_full(int store_fd, FILE *manifest, int root_fd,
			const struct tplfs_idshift *shift,
			struct tplfs_populate_stats *st,
			_Atomic uint64_t *done, char *err, size_t errlen)
{
	struct pop p = {
		.store_fd = store_fd, .root_fd = root_fd, .parent_fd = -1,
		.err = err, .errlen = errlen, .full = true, .shift = shift,
	};

	return populate(&p, manifest, st, done);
}
