// SPDX-License-Identifier: LGPL-2.1-or-later
/* Private files equal to an object become stubs again: see relink.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "areawalk.h"
#include "digest.h"
#include "grow.h"
#include "korigin.h"
#include "manifest.h"
#include "origin.h"
#include "relink.h"

/* --- the object set ---------------------------------------------------------- */

int tplfs_objset_add(struct tplfs_objset *s, uint64_t size,
		     const uint8_t digest[TPLFS_DIGEST_SIZE])
{
	if (tplfs_grow(&s->v, &s->cap, s->n, sizeof(*s->v), 256))
		return -ENOMEM;
	s->v[s->n].size = size;
	memcpy(s->v[s->n].digest, digest, TPLFS_DIGEST_SIZE);
	s->n++;
	s->sorted = false;
	return 0;
}

static int add_private(struct tplfs_objset *s, const char *path)
{
	char *copy = strdup(path);

	if (!copy || tplfs_grow(&s->private, &s->private_cap, s->nprivate,
				sizeof(*s->private), 8)) {
		free(copy);
		return -ENOMEM;
	}
	s->private[s->nprivate++] = copy;
	return 0;
}

int tplfs_objset_add_manifest(struct tplfs_objset *s, FILE *f, char *err,
			      size_t errlen)
{
	struct tplfs_mreader *r;
	struct tplfs_mentry e;
	int ret;

	ret = tplfs_mreader_open(f, &r, err, errlen);
	if (ret)
		return ret;
	while ((ret = tplfs_mreader_next(r, &e, err, errlen)) == 1) {
		ret = e.type == 'f' && e.size ?
		      tplfs_objset_add(s, e.size, e.digest) : 0;
		if (ret)
			break;
	}
	/* read with the first entry */
	for (size_t i = 0; !ret && i < tplfs_mreader_nprivate(r); i++)
		ret = add_private(s, tplfs_mreader_private(r, i));
	tplfs_mreader_close(r);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

void tplfs_objset_free(struct tplfs_objset *s)
{
	for (size_t i = 0; i < s->nprivate; i++)
		free(s->private[i]);
	free(s->private);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_ref(const void *a, const void *b)
{
	const struct tplfs_objref *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return memcmp(x->digest, y->digest, sizeof(x->digest));
}

/* The first object of @size, or NULL (the set is sorted). */
static const struct tplfs_objref *first_of_size(const struct tplfs_objset *s,
						uint64_t size)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->v[lo].size == size ? &s->v[lo] : NULL;
}

static void objset_sort(struct tplfs_objset *s)
{
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_ref);
		s->sorted = true;
	}
}

bool tplfs_objset_has(struct tplfs_objset *s, uint64_t size,
		      const uint8_t digest[TPLFS_DIGEST_SIZE])
{
	struct tplfs_objref key = { .size = size };

	objset_sort(s);
	memcpy(key.digest, digest, sizeof(key.digest));
	return bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_ref) != NULL;
}

static bool is_private_path(const struct tplfs_objset *s, const char *path)
{
	for (size_t i = 0; i < s->nprivate; i++)
		if (!strcmp(s->private[i], path))
			return true;
	return false;
}

/* --- the two ways of swapping ------------------------------------------------ */

/* What tells the file @sb describes changed: its ctime and size. */
static void state_of(const struct stat *sb, struct tplfs_origin_state *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->ctime_sec = sb->st_ctim.tv_sec;
	st->ctime_nsec = sb->st_ctim.tv_nsec;
	st->file_size = sb->st_size;
}

/*
 * A file whose capabilities are in their backup: put back. The file is
 * @fd, or with @fd -1 the entry @path (not followed if a symlink). 0 or a
 * negative errno.
 */
static int caps_restore(int fd, const char *path)
{
	char caps[TPLFS_CAPS_MAX];
	ssize_t len;
	int ret;

	len = fd >= 0 ? fgetxattr(fd, TPLFS_CAPS_XATTR, caps, sizeof(caps)) :
	      lgetxattr(path, TPLFS_CAPS_XATTR, caps, sizeof(caps));
	if (len < 0)
		return errno == ENODATA || errno == EOPNOTSUPP ? 0 : -errno;
	ret = fd >= 0 ?
	      fsetxattr(fd, "security.capability", caps, (size_t)len, 0) :
	      lsetxattr(path, "security.capability", caps, (size_t)len, 0);
	if (!ret)
		ret = fd >= 0 ? fremovexattr(fd, TPLFS_CAPS_XATTR) :
		      lremovexattr(path, TPLFS_CAPS_XATTR);
	return ret < 0 ? -errno : 0;
}

/* A stub: its origin as it is; a private file: what tells it changed. */
static int unmounted_state(void *arg, int fd, struct tplfs_origin_state *st)
{
	struct stat sb;
	ssize_t len;

	(void)arg;
	memset(st, 0, sizeof(*st));
	len = fgetxattr(fd, TPLFS_ORIGIN_XATTR, st->origin, sizeof(st->origin));
	if (len >= 0 || errno == ERANGE) {
		struct tplfs_origin_info info;

		st->size = sizeof(*st);
		st->flags = TPLFS_OSTATE_STUB;
		if (len < 0 || tplfs_origin_decode(st->origin, (size_t)len, &info))
			st->flags |= TPLFS_OSTATE_BAD;
		return 0;
	}
	if (errno != ENODATA)
		return -errno;
	if (fstat(fd, &sb) < 0)
		return -errno;
	state_of(&sb, st);
	return 0;
}

/* A stub still of @st's origin gets @origin: a rebase of one file. */
static int unmounted_swap_stub(int fd, const struct tplfs_origin_state *st,
			       const uint8_t origin[TPLFS_ORIGIN_SIZE])
{
	uint8_t now[TPLFS_ORIGIN_SIZE];
	ssize_t len;

	len = fgetxattr(fd, TPLFS_ORIGIN_XATTR, now, sizeof(now));
	if (len < 0)
		return errno == ENODATA || errno == ERANGE ? -ESTALE : -errno;
	if ((size_t)len != sizeof(now) || memcmp(now, st->origin, sizeof(now)))
		return -ESTALE;
	return fsetxattr(fd, TPLFS_ORIGIN_XATTR, origin, TPLFS_ORIGIN_SIZE,
			 XATTR_REPLACE) < 0 ? -errno : 0;
}

/*
 * A private file: its capabilities saved (a truncate drops them), the
 * origin (the commit: a stub wins over its data), then the data truncated
 * away, the capabilities put back and the mtime kept: the file's own, not
 * the relink's. A crash before the capabilities are back leaves them in
 * their backup, which the next relink of the area puts back.
 */
static int unmounted_swap(void *arg, int fd,
			  const struct tplfs_origin_state *st,
			  const uint8_t origin[TPLFS_ORIGIN_SIZE])
{
	struct tplfs_origin_state now;
	char self[64], caps[TPLFS_CAPS_MAX];
	struct stat sb;
	ssize_t ncaps;
	int ret, wfd;

	(void)arg;
	if (st->flags & TPLFS_OSTATE_STUB)
		return unmounted_swap_stub(fd, st, origin);
	if (fstat(fd, &sb) < 0)
		return -errno;
	state_of(&sb, &now);
	if (now.ctime_sec != st->ctime_sec || now.ctime_nsec != st->ctime_nsec ||
	    now.file_size != st->file_size)
		return -ESTALE;
	ncaps = fgetxattr(fd, "security.capability", caps, sizeof(caps));
	if (ncaps < 0 && errno != ENODATA && errno != EOPNOTSUPP)
		return -errno;
	if (ncaps > 0 && fsetxattr(fd, TPLFS_CAPS_XATTR, caps, (size_t)ncaps,
				   0) < 0)
		return -errno;
	if (fsetxattr(fd, TPLFS_ORIGIN_XATTR, origin, TPLFS_ORIGIN_SIZE,
		      XATTR_CREATE) < 0)
		return errno == EEXIST ? -ESTALE : -errno;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	wfd = open(self, O_WRONLY | O_CLOEXEC);
	if (wfd < 0)
		return -errno;
	ret = ftruncate(wfd, 0) < 0 ? -errno : 0;
	if (!ret && ncaps > 0)
		ret = caps_restore(wfd, NULL);
	if (!ret) {
		const struct timespec times[2] = {
			{ .tv_nsec = UTIME_OMIT }, sb.st_mtim,
		};

		ret = futimens(wfd, times) < 0 ? -errno : 0;
	}
	close(wfd);
	return ret;
}

const struct tplfs_relink_ops tplfs_relink_unmounted = {
	.state = unmounted_state,
	.swap = unmounted_swap,
};

static int mounted_state(void *arg, int fd, struct tplfs_origin_state *st)
{
	return tplfs_korigin_get(arg, fd, st);
}

static int mounted_swap(void *arg, int fd, const struct tplfs_origin_state *st,
			const uint8_t origin[TPLFS_ORIGIN_SIZE])
{
	return tplfs_korigin_set(arg, fd, st, origin);
}

struct tplfs_relink_ops tplfs_relink_mounted(const char *ct)
{
	struct tplfs_relink_ops ops = {
		.state = mounted_state,
		.swap = mounted_swap,
		.arg = (void *)ct,
	};

	return ops;
}

/* --- the walk ----------------------------------------------------------------- */

struct relink {
	struct tplfs_objset *set;
	const struct tplfs_relink_ops *ops;
	bool dry_run;
	void (*file)(void *arg, const char *path);
	void *arg;
	struct tplfs_relink_report *rep;
};

/* The regular file @name of @dirfd, @sb its lstat. */
static int relink_file(struct tplfs_areawalk *w, void *arg, int dirfd,
		       const char *name, const struct stat *sb)
{
	struct relink *r = arg;
	const char *path = tplfs_areawalk_path(w);
	struct tplfs_origin_state st;
	struct tplfs_origin_info info;
	int fd, ret;

	/* a stub whose relink a crash cut before its capabilities were back */
	if (!sb->st_size && r->ops == &tplfs_relink_unmounted && !r->dry_run) {
		char at[64 + NAME_MAX];

		snprintf(at, sizeof(at), "/proc/self/fd/%d/%s", dirfd, name);
		ret = caps_restore(-1, at);
		if (ret)
			return tplfs_areawalk_fail(w, ret, "its capabilities");
	}
	if (!sb->st_size || !first_of_size(r->set, sb->st_size) ||
	    is_private_path(r->set, path)) {
		r->rep->files++;
		return 0;
	}
	fd = tplfs_open_to_hash(dirfd, name);
	if (fd < 0)
		return tplfs_areawalk_fail(w, fd, "open");
	/* a stub (its data, if any, left by a crash, is not its content) */
	if (fgetxattr(fd, TPLFS_ORIGIN_XATTR, NULL, 0) >= 0 || errno == ERANGE) {
		close(fd);
		return 0;
	}
	r->rep->files++;
	ret = r->ops->state(r->ops->arg, fd, &st);
	if (ret || (st.flags & TPLFS_OSTATE_STUB)) {
		close(fd);
		return ret ? tplfs_areawalk_fail(w, ret, "its state") : 0;
	}
	r->rep->hashed++;
	ret = tplfs_digest_fd(fd, &info.size, info.digest);
	if (ret || !tplfs_objset_has(r->set, info.size, info.digest)) {
		close(fd);
		return ret == -EIO ? 0 : ret ? tplfs_areawalk_fail(w, ret, "hashing") : 0;
	}
	ret = 0;
	if (!r->dry_run) {
		uint8_t origin[TPLFS_ORIGIN_SIZE];

		tplfs_origin_encode(&info, origin);
		ret = r->ops->swap(r->ops->arg, fd, &st, origin);
	}
	close(fd);
	if (ret == -ESTALE) {
		r->rep->changed++;
		return 0;
	}
	if (ret == -EBUSY || ret == -ETXTBSY) {
		r->rep->busy++;
		return 0;
	}
	if (ret)
		return tplfs_areawalk_fail(w, ret, "making it a stub");
	r->rep->relinked++;
	r->rep->bytes += (uint64_t)sb->st_blocks * 512;
	if (r->file)
		r->file(r->arg, path);
	return 0;
}

int tplfs_relink(int fs_fd, struct tplfs_objset *objects,
		 const struct tplfs_relink_ops *ops, bool dry_run,
		 void (*file)(void *arg, const char *path), void *arg,
		 struct tplfs_relink_report *report, char *err, size_t errlen)
{
	struct relink r = {
		.set = objects, .ops = ops, .dry_run = dry_run, .file = file,
		.arg = arg, .rep = report,
	};

	memset(report, 0, sizeof(*report));
	objset_sort(objects);
	/*
	 * Written back first: allocating delayed data logs the inode, which
	 * moves its i_version on xfs, and a file would look changed between
	 * its state and its swap.
	 */
	if (!dry_run && syncfs(fs_fd) < 0) {
		int ret = -errno;

		snprintf(err, errlen, "/: syncfs: %s", strerror(-ret));
		return ret;
	}
	return tplfs_areawalk(fs_fd, relink_file, &r, err, errlen);
}
