// SPDX-License-Identifier: LGPL-2.1-or-later
/* Importing a directory tree: see import.h and doc/manifest.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "beneath.h"
#include "grow.h"
#include "identity.h"
#include "import.h"
#include "manifest.h"
#include "mlist.h"
#include "object.h"
#include "origin.h"

/* One file of the tree, as the walk found it. */
struct item {
	struct tplfs_mentry e;
	dev_t dev;
	ino_t ino;
	nlink_t nlink;
	char *tmp;		/* its object, staged under this name */
	bool stub;		/* a private area's: its origin names it */
};

struct frame {
	dev_t dev;
	ino_t ino;
	char *path;		/* its tree path */
	char **names;		/* its entries, in name order */
	size_t n, next;
	int fd;			/* -1 while a directory below is walked */
};

/* tplfs_import_private_area: a stub stands for its object */
#define IMPORT_STUBS	0x100

struct walk {
	int store_fd;
	const char *src;
	unsigned int flags;	/* TPLFS_IMPORT_*, IMPORT_STUBS */
	const struct tplfs_mlist *base;	/* a private area's template */
	uint64_t root_mnt;
	struct item *items;
	size_t n, cap;
	/* directories from the root to here (a loop comes back to one), each
	 * with the names still to visit; only the deepest one is open */
	struct frame *stack;
	size_t depth, capstack;
	struct tplfs_import_stats *st;
	tplfs_import_progress_fn progress;
	void *arg;
	struct tplfs_import_progress done;
	char *err;
	size_t errlen;
	/* storing the files: the storers share the next item and a lock for
	 * the error, the progress and the stats */
	pthread_mutex_t lock;
	atomic_size_t next;
	atomic_int failed;
	int first_err;		/* the error of the first storer that failed */
	int rootfd;
};

static int walk_fail(struct walk *w, int ret, const char *path,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * "SRC/PATH: reason" in w->err. The reason is never cut off: a path too
 * long for the room left keeps its start and its end around "...".
 */
static int walk_fail(struct walk *w, int ret, const char *path,
		     const char *fmt, ...)
{
	char why[512], full[2 * PATH_MAX + 2];
	size_t room, len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s%s", w->src,
		 strcmp(path, "/") ? path : "");
	len = strlen(full);
	room = w->errlen > strlen(why) + 3 ? w->errlen - strlen(why) - 3 : 0;
	if (len <= room)
		snprintf(w->err, w->errlen, "%s: %s", full, why);
	else if (room > 8)
		snprintf(w->err, w->errlen, "%.*s...%s: %s", (int)(room - 3) / 2,
			 full, full + len - (room - 3 + 1) / 2, why);
	else
		snprintf(w->err, w->errlen, "%s", why);
	return ret;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->e.path,
		      ((const struct item *)b)->e.path);
}

static struct item *new_item(struct walk *w)
{
	if (tplfs_grow(&w->items, &w->cap, w->n, sizeof(*w->items), 256))
		return NULL;
	memset(&w->items[w->n], 0, sizeof(w->items[0]));
	return &w->items[w->n++];
}

/* The xattrs of @full (not followed), sorted; trusted.tplfs.* left out. */
static int read_xattrs(struct walk *w, const char *full, const char *path,
		       struct tplfs_mentry *e)
{
	ssize_t len = llistxattr(full, NULL, 0);
	char *names, *p;
	size_t n = 0;

	if (len < 0)
		return errno == ENOTSUP ? 0 :
		       walk_fail(w, -errno, path, "listxattr: %s", strerror(errno));
	if (len == 0)
		return 0;
	names = malloc((size_t)len);
	if (!names)
		return -ENOMEM;
	len = llistxattr(full, names, (size_t)len);
	if (len < 0) {
		free(names);
		return walk_fail(w, -errno, path, "listxattr: %s", strerror(errno));
	}
	for (p = names; p < names + len; p += strlen(p) + 1)
		n++;
	e->xattrs = calloc(n, sizeof(*e->xattrs));
	if (!e->xattrs) {
		free(names);
		return -ENOMEM;
	}
	for (p = names; p < names + len; p += strlen(p) + 1) {
		struct tplfs_xattr *x = &e->xattrs[e->nxattrs];
		ssize_t vlen;

		if (!strncmp(p, "trusted.tplfs.", 14))
			continue;	/* never carry a stub's link in */
		vlen = lgetxattr(full, p, NULL, 0);
		if (vlen < 0)
			goto fail;
		x->value = malloc((size_t)vlen + 1);
		x->name = strdup(p);
		if (!x->value || !x->name) {
			free(x->value);
			free(x->name);
			free(names);
			return -ENOMEM;
		}
		vlen = lgetxattr(full, p, x->value, (size_t)vlen);
		if (vlen < 0)
			goto fail;
		x->len = (size_t)vlen;
		e->nxattrs++;
	}
	free(names);
	qsort(e->xattrs, e->nxattrs, sizeof(*e->xattrs), cmp_name);
	return 0;
fail:
	free(names);
	return walk_fail(w, -errno, path, "getxattr: %s", strerror(errno));
}

/*
 * IMPORT_STUBS: a stub of a private area is its origin's object,
 * which the store must hold with that size; never hashed again.
 */
static int read_stub(struct walk *w, const char *full, const char *path,
		     struct item *it)
{
	uint8_t v[TPLFS_ORIGIN_SIZE];
	char obj[TPLFS_OBJECT_PATH_SIZE];
	struct tplfs_origin_info info;
	struct stat sb;
	ssize_t len = lgetxattr(full, TPLFS_ORIGIN_XATTR, v, sizeof(v));

	if (len < 0 && errno == ENODATA)
		return 0;	/* a private file: hashed */
	if (len < 0 && errno != ERANGE)
		return walk_fail(w, -errno, path, "getxattr: %s", strerror(errno));
	if (len < 0 || tplfs_origin_decode(v, (size_t)len, &info))
		return walk_fail(w, -EINVAL, path, "a stub whose origin is malformed");
	tplfs_object_path(info.digest, obj);
	if (fstatat(w->store_fd, obj, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != info.size)
		return walk_fail(w, -ENOENT, path,
				 "a stub whose object the store does not have");
	it->stub = true;
	it->e.size = info.size;
	memcpy(it->e.digest, info.digest, sizeof(info.digest));
	return 0;
}

/* A private area's path that is the container's own, not the template's. */
static bool its_own(const struct walk *w, const char *path)
{
	return w->base && (tplfs_identity_path(path) ||
			   tplfs_mlist_is_private(w->base, path));
}

/*
 * Record @name in directory @dfd (tree path @dirpath); a directory is
 * opened into *@subdir, for walk_tree to walk next.
 */
static int visit(struct walk *w, int dfd, const char *dirpath,
		 const char *name, int *subdir)
{
	char path[PATH_MAX], full[PATH_MAX];
	struct statx stx;
	struct item *it;
	int ret, fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s",
			     strcmp(dirpath, "/") ? dirpath : "", name) >=
	    sizeof(path) ||
	    (size_t)snprintf(full, sizeof(full), "%s%s", w->src, path) >=
	    sizeof(full))
		return walk_fail(w, -ENAMETOOLONG, dirpath, "path too long");
	if (its_own(w, path))
		return 0;	/* the template's entry stands for it */
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS |
		  STATX_MNT_ID, &stx) < 0)
		return walk_fail(w, -errno, path, "%s", strerror(errno));
	if ((stx.stx_mask & STATX_MNT_ID) && stx.stx_mnt_id != w->root_mnt)
		return walk_fail(w, -EXDEV, path,
				 "a mount point: an import does not cross into other mounts");
	it = new_item(w);
	if (!it)
		return -ENOMEM;
	it->e.path = strdup(path);
	if (!it->e.path)
		return -ENOMEM;
	it->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	it->ino = stx.stx_ino;
	it->nlink = stx.stx_nlink;
	it->e.mode = stx.stx_mode & 07777;
	it->e.uid = stx.stx_uid;
	it->e.gid = stx.stx_gid;
	it->e.mtime_sec = stx.stx_mtime.tv_sec;
	it->e.mtime_nsec = stx.stx_mtime.tv_nsec;
	ret = read_xattrs(w, full, path, &it->e);
	if (ret)
		return ret;

	switch (stx.stx_mode & S_IFMT) {
	case S_IFDIR:
		/* walked next, by walk_tree */
		it->e.type = 'd';
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd < 0)
			return walk_fail(w, -errno, path, "%s", strerror(errno));
		*subdir = fd;
		return 0;
	case S_IFREG:
		/* stored after the walk (store_files), unless a stub's */
		it->e.type = 'f';
		it->e.size = stx.stx_size;
		return w->flags & IMPORT_STUBS ? read_stub(w, full, path, it) : 0;
	case S_IFLNK: {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);

		if (n < 0)
			return walk_fail(w, -errno, path, "%s", strerror(errno));
		target[n] = '\0';
		it->e.type = 'l';
		it->e.target = strdup(target);
		return it->e.target ? 0 : -ENOMEM;
	}
	case S_IFCHR:
	case S_IFBLK:
		it->e.type = S_ISCHR(stx.stx_mode) ? 'c' : 'b';
		it->e.major = stx.stx_rdev_major;
		it->e.minor = stx.stx_rdev_minor;
		return 0;
	case S_IFIFO:
		it->e.type = 'p';
		return 0;
	default:
		return walk_fail(w, -EINVAL, path,
				 "a socket: a template cannot hold one");
	}
}

/* The entries of directory @dfd, sorted, into @f. */
static int list_dir(struct walk *w, int dfd, struct frame *f)
{
	struct dirent *de;
	size_t cap = 0;
	int ret = 0, fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		ret = walk_fail(w, -errno, f->path, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (tplfs_grow(&f->names, &cap, f->n, sizeof(*f->names), 64)) {
			ret = -ENOMEM;
			break;
		}
		f->names[f->n] = strdup(de->d_name);
		if (!f->names[f->n]) {
			ret = -ENOMEM;
			break;
		}
		f->n++;
	}
	closedir(d);
	if (!ret)
		qsort(f->names, f->n, sizeof(*f->names), cmp_name);
	return ret;
}

/* Walk into directory @fd (tree path @path; taken over, closed here). */
static int push_dir(struct walk *w, int fd, const char *path)
{
	struct statx stx;
	struct frame *f;
	dev_t dev;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO, &stx) < 0) {
		int ret = walk_fail(w, -errno, path, "%s", strerror(errno));

		close(fd);
		return ret;
	}
	dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	for (size_t i = 0; i < w->depth; i++) {
		if (w->stack[i].dev == dev && w->stack[i].ino == stx.stx_ino) {
			close(fd);
			return walk_fail(w, -ELOOP, path,
					 "the tree loops back to one of its own directories (a bind mount?)");
		}
	}
	if (tplfs_grow(&w->stack, &w->capstack, w->depth, sizeof(*w->stack),
		       32)) {
		close(fd);
		return -ENOMEM;
	}
	f = &w->stack[w->depth++];
	memset(f, 0, sizeof(*f));
	f->dev = dev;
	f->ino = stx.stx_ino;
	f->fd = fd;
	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	return list_dir(w, fd, f);
}

static void pop_dir(struct walk *w)
{
	struct frame *f = &w->stack[--w->depth];

	if (f->fd >= 0)
		close(f->fd);
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->path);
}

/*
 * Back in directory @f after walking one below it: open it again beneath
 * the root (no symlink followed), and refuse if it is not the one we left.
 */
static int reopen_dir(struct walk *w, int rootfd, struct frame *f)
{
	struct stat st;
	int fd = strcmp(f->path, "/") ?
		 tplfs_open_beneath(rootfd, f->path + 1,
				    O_RDONLY | O_DIRECTORY, 0) :
		 fcntl(rootfd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0) {
		int ret = fd < -1 ? fd : -errno;

		return walk_fail(w, ret, f->path, "%s", strerror(-ret));
	}
	f->fd = fd;
	if (fstat(fd, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino)
		return walk_fail(w, -ESTALE, f->path,
				 "replaced while it was imported");
	return 0;
}

/*
 * Visit the tree under @rootfd depth first, each directory's entries in
 * name order: iterative, one directory open at a time (and the root), so
 * that neither the stack nor the descriptors grow with the tree's depth.
 */
static int walk_tree(struct walk *w, int rootfd)
{
	int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0), ret;

	if (fd < 0)
		return walk_fail(w, -errno, "/", "%s", strerror(errno));
	ret = push_dir(w, fd, "/");
	while (!ret && w->depth > 0) {
		struct frame *f = &w->stack[w->depth - 1];
		char path[PATH_MAX];
		int sub = -1;

		if (f->next == f->n) {
			pop_dir(w);
			if (w->depth > 0)
				ret = reopen_dir(w, rootfd,
						 &w->stack[w->depth - 1]);
			continue;
		}
		if (f->fd < 0)
			ret = reopen_dir(w, rootfd, f);
		if (!ret)
			ret = visit(w, f->fd, f->path, f->names[f->next], &sub);
		f->next++;
		if (ret || sub < 0)
			continue;
		/* visit checked that it fits */
		snprintf(path, sizeof(path), "%s/%s", strcmp(f->path, "/") ?
			 f->path : "", f->names[f->next - 1]);
		close(f->fd);
		f->fd = -1;
		ret = push_dir(w, sub, path);
	}
	while (w->depth > 0)
		pop_dir(w);
	return ret;
}

/* By inode, then by path order (the items are sorted by path). */
static int cmp_inode(const void *a, const void *b, void *items)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct item *x = (struct item *)items + i;
	const struct item *y = (struct item *)items + j;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Hard links: the first link of an inode in path order holds it. */
static int link_inodes(struct walk *w)
{
	size_t *idx, n = 0;
	int ret = 0;

	idx = malloc((w->n + 1) * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < w->n; i++)
		if (w->items[i].e.type == 'f' && w->items[i].nlink > 1)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_inode, w->items);
	for (size_t k = 0, head = 0; k < n && !ret; k++) {
		struct item *first, *it = &w->items[idx[k]];

		if (k == 0 || it->dev != w->items[idx[head]].dev ||
		    it->ino != w->items[idx[head]].ino) {
			head = k;	/* the first path of a new inode */
			continue;
		}
		first = &w->items[idx[head]];
		it->e.type = 'h';
		it->e.target = strdup(first->e.path);
		if (!it->e.target)
			ret = -ENOMEM;
		for (size_t x = 0; x < it->e.nxattrs; x++) {
			free(it->e.xattrs[x].name);
			free(it->e.xattrs[x].value);
		}
		it->e.nxattrs = 0;
	}
	free(idx);
	return ret;
}

/* walk_fail under the storers' lock; the first error is the one kept. */
static int store_fail(struct walk *w, int ret, const char *path,
		      const char *why)
{
	pthread_mutex_lock(&w->lock);
	if (!atomic_exchange(&w->failed, 1))
		w->first_err = walk_fail(w, ret, path, "%s", why);
	pthread_mutex_unlock(&w->lock);
	return ret;
}

/*
 * Open the file @path beneath the root. With TPLFS_IMPORT_ADOPT through its
 * directory, which is left open at *@dfd for the move into the store, so
 * that the file moved is the one opened; *@dfd is -1 otherwise.
 */
static int open_item(struct walk *w, const char *path, int *dfd)
{
	const char *slash = strrchr(path, '/');
	int fd;

	*dfd = -1;
	if (!(w->flags & TPLFS_IMPORT_ADOPT))
		return tplfs_open_beneath(w->rootfd, path + 1, O_RDONLY, 0);
	if (slash == path) {
		fd = fcntl(w->rootfd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
	} else {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path - 1),
			 path + 1);
		fd = tplfs_open_beneath(w->rootfd, dir,
					O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0)
			return fd;
	}
	*dfd = fd;
	fd = tplfs_open_beneath(*dfd, slash + 1, O_RDONLY, 0);
	if (fd < 0) {
		close(*dfd);
		*dfd = -1;
	}
	return fd;
}

/* Stage the content of item @it (a regular file) as an object. */
static int store_file(struct walk *w, struct item *it)
{
	const char *path = it->e.path;
	char tmp[TPLFS_OBJECT_TMP_SIZE], why[300];
	struct tplfs_origin_info info;
	struct stat sb;
	int fd, dfd, ret;

	fd = open_item(w, path, &dfd);
	if (fd < 0)
		return store_fail(w, fd, path, strerror(-fd));
	if (fstat(fd, &sb) < 0) {
		ret = store_fail(w, -errno, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_dev != it->dev ||
	    sb.st_ino != it->ino) {
		ret = store_fail(w, -ESTALE, path,
				 "replaced while it was imported");
		goto out;
	}
	ret = -EXDEV;
	if (dfd >= 0)
		ret = tplfs_object_adopt(w->store_fd, fd, dfd,
					 strrchr(path, '/') + 1, &info, tmp);
	if (ret == -EXDEV)
		ret = tplfs_object_stage(w->store_fd, fd, &info, tmp);
	if (ret == -ESTALE || (ret >= 0 && info.size != it->e.size)) {
		if (ret > 0)
			unlinkat(w->store_fd, tmp, 0);
		ret = store_fail(w, -ESTALE, path,
				 "it changed while it was imported");
		goto out;
	}
	if (ret < 0) {
		snprintf(why, sizeof(why), "into the store: %s", strerror(-ret));
		ret = store_fail(w, ret, path, why);
		goto out;
	}
	if (ret && !(it->tmp = strdup(tmp))) {
		unlinkat(w->store_fd, tmp, 0);
		ret = store_fail(w, -ENOMEM, path, "out of memory");
		goto out;
	}
	memcpy(it->e.digest, info.digest, sizeof(info.digest));
	ret = 0;
out:
	close(fd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

static void *storer(void *arg)
{
	struct walk *w = arg;
	size_t i;

	while (!atomic_load(&w->failed) &&
	       (i = atomic_fetch_add(&w->next, 1)) < w->n) {
		struct item *it = &w->items[i];

		if (it->e.type != 'f' || it->stub || store_file(w, it))
			continue;
		pthread_mutex_lock(&w->lock);
		w->done.files_done++;
		w->done.bytes_done += it->e.size;
		if (w->progress)
			w->progress(w->arg, &w->done);
		pthread_mutex_unlock(&w->lock);
	}
	return NULL;
}

/* Rename item @it's staged object into place, and count it. */
static int commit_one(struct walk *w, struct item *it)
{
	struct tplfs_origin_info info;
	char obj[TPLFS_OBJECT_PATH_SIZE];
	struct stat sb;
	int ret;

	memcpy(info.digest, it->e.digest, sizeof(info.digest));
	info.size = it->e.size;
	ret = tplfs_object_commit(w->store_fd, &info, it->tmp);
	if (ret < 0) {
		char why[300];

		snprintf(why, sizeof(why), "into the store: %s", strerror(-ret));
		return store_fail(w, ret, it->e.path, why);
	}
	free(it->tmp);
	it->tmp = NULL;
	if (!ret)
		return 0;	/* a twin in this tree or another import */
	/* what the store grew by: the object's blocks, not its size */
	tplfs_object_path(info.digest, obj);
	if (fstatat(w->store_fd, obj, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		sb.st_blocks = 0;
	pthread_mutex_lock(&w->lock);
	w->st->new_objects++;
	w->st->new_bytes += info.size;
	w->st->stored_bytes += (uint64_t)sb.st_blocks * 512;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static void *committer(void *arg)
{
	struct walk *w = arg;
	size_t i;

	while (!atomic_load(&w->failed) &&
	       (i = atomic_fetch_add(&w->next, 1)) < w->n)
		if (w->items[i].tmp)
			commit_one(w, &w->items[i]);
	return NULL;
}

/* Storing a cold tree waits on reads more than it hashes: more storers
 * than cores keep the disk busy (bench/host-store.py). */
#define STORERS_MAX	8

/*
 * Run @fn over the items in STORERS_MAX threads (four a core, at most;
 * this one among them), from the first item; the first error, if any.
 */
static int run_workers(struct walk *w, void *(*fn)(void *))
{
	pthread_t th[STORERS_MAX];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cores < 1 ? 4 : cores >= STORERS_MAX / 4 ? STORERS_MAX :
		(int)cores * 4;
	int started = 0;

	atomic_store(&w->next, 0);
	for (; started < n - 1; started++)
		if (pthread_create(&th[started], NULL, fn, w))
			break;
	fn(w);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	return atomic_load(&w->failed) ? w->first_err : 0;
}

/*
 * Store every regular file the walk found, one object per inode (the links
 * of an inode are 'h' entries by now), with progress against known totals:
 * the storers hash and copy without syncing, then one syncfs, the renames
 * into place (the committers) and another syncfs (doc/store.md).
 */
static int store_files(struct walk *w, int rootfd)
{
	struct tplfs_import_progress *p = &w->done;
	int ret;

	for (size_t i = 0; i < w->n; i++) {
		if (w->items[i].e.type == 'f' && !w->items[i].stub) {
			p->files_total++;
			p->bytes_total += w->items[i].e.size;
		}
	}
	if (w->progress)
		w->progress(w->arg, p);
	w->rootfd = rootfd;
	atomic_init(&w->failed, 0);
	pthread_mutex_init(&w->lock, NULL);
	ret = run_workers(w, storer);
	if (!ret && syncfs(w->store_fd) < 0)
		ret = walk_fail(w, -errno, "/", "syncfs of the store: %s",
				strerror(errno));
	if (!ret)
		ret = run_workers(w, committer);
	/* the renames too, before a manifest names the objects */
	if (!ret && syncfs(w->store_fd) < 0)
		ret = walk_fail(w, -errno, "/", "syncfs of the store: %s",
				strerror(errno));
	pthread_mutex_destroy(&w->lock);
	return ret;
}

static void free_items(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct tplfs_mentry *e = &w->items[i].e;

		if (w->items[i].tmp)	/* staged, never committed */
			unlinkat(w->store_fd, w->items[i].tmp, 0);
		free(w->items[i].tmp);
		tplfs_mentry_free(e);
	}
	free(w->items);
	free(w->stack);
}

/* @it becomes a copy of entry @e at @path: the template's, not stored. */
static int item_of_entry(struct item *it, const struct tplfs_mentry *e,
			 const char *path)
{
	struct tplfs_mentry at = *e;

	at.path = (char *)path;
	it->nlink = 1;
	it->stub = e->type == 'f';
	return tplfs_mentry_copy(&it->e, &at);
}

static int cmp_item_path(const void *key, const void *it)
{
	return strcmp(key, ((const struct item *)it)->e.path);
}

/* Is there a directory at @path's parent among the @n (sorted) @items? */
static bool parent_walked(const struct item *items, size_t n,
			  const char *path)
{
	const char *slash = strrchr(path, '/');
	const struct item *it;
	char parent[PATH_MAX];

	if (slash == path)
		return true;
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	it = bsearch(parent, items, n, sizeof(*items), cmp_item_path);
	return it && it->e.type == 'd';
}

/*
 * A private area: the template's entries stand for the container's own
 * paths, which the walk left out (its_own), where their directory is
 * still there. A hard link of the template's is taken as its file.
 * The items are sorted before and after.
 */
static int take_base_entries(struct walk *w)
{
	size_t walked = w->n;
	int ret = 0;

	for (size_t i = 0; i < w->base->n && !ret; i++) {
		const struct tplfs_mentry *e = &w->base->v[i];
		const struct tplfs_mentry *t = tplfs_mlist_resolve(w->base, e);
		struct item *it;

		/* the walked part is sorted; what is added comes after */
		if (!its_own(w, e->path) || t->type == 'h' ||
		    !parent_walked(w->items, walked, e->path))
			continue;
		it = new_item(w);
		ret = it ? item_of_entry(it, t, e->path) : -ENOMEM;
	}
	if (ret)
		return walk_fail(w, ret, "/", "out of memory");
	qsort(w->items, w->n, sizeof(*w->items), cmp_item);
	return 0;
}

static int import_tree(struct walk *w, const char *id,
		       const char *const *private, size_t nprivate,
		       FILE *manifest)
{
	const char *src = w->src;
	struct tplfs_import_stats *st = w->st;
	struct tplfs_mwriter *mw;
	struct statx stx;
	struct item *root;
	int ret, fd;

	memset(st, 0, sizeof(*st));
	w->err[0] = '\0';
	fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return walk_fail(w, -errno, "/", "%s", strerror(errno));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID,
		  &stx) < 0) {
		ret = walk_fail(w, -errno, "/", "%s", strerror(errno));
		goto out;
	}
	w->root_mnt = stx.stx_mnt_id;
	root = new_item(w);
	ret = root ? 0 : -ENOMEM;
	if (!ret) {
		root->e.path = strdup("/");
		root->e.type = 'd';
		root->e.mode = stx.stx_mode & 07777;
		root->e.uid = stx.stx_uid;
		root->e.gid = stx.stx_gid;
		root->e.mtime_sec = stx.stx_mtime.tv_sec;
		root->e.mtime_nsec = stx.stx_mtime.tv_nsec;
		ret = root->e.path ? read_xattrs(w, src, "/", &root->e) : -ENOMEM;
	}
	if (!ret)
		ret = walk_tree(w, fd);
	if (ret)
		goto out;
	/* Walk order is name order per directory; the manifest's is bytes. */
	qsort(w->items, w->n, sizeof(*w->items), cmp_item);
	if (w->base)
		ret = take_base_entries(w);
	if (!ret)
		ret = link_inodes(w);
	if (!ret)
		ret = store_files(w, fd);
	if (ret)
		goto out;
	ret = tplfs_mwriter_open(manifest, id, private, nprivate, &mw);
	if (ret) {
		snprintf(w->err, w->errlen, "template %s: bad id or private paths",
			 id);
		goto out;
	}
	for (size_t i = 0; i < w->n && !ret; i++) {
		ret = tplfs_mwriter_add(mw, &w->items[i].e);
		if (w->items[i].e.type == 'f') {
			st->files++;
			st->bytes += w->items[i].e.size;
		}
	}
	st->entries = w->n;
	if (!ret)
		ret = tplfs_mwriter_close(mw);
	else
		tplfs_mwriter_close(mw);
	if (ret && !w->err[0])
		snprintf(w->err, w->errlen, "manifest: %s", strerror(-ret));
out:
	close(fd);
	free_items(w);
	return ret;
}

int tplfs_import_dir(int store_fd, const char *src, const char *id,
		     const char *const *private, size_t nprivate,
		     unsigned int flags, FILE *manifest,
		     struct tplfs_import_stats *st,
		     tplfs_import_progress_fn progress, void *arg,
		     char *err, size_t errlen)
{
	struct walk w = {
		.store_fd = store_fd, .src = src, .flags = flags, .st = st,
		.progress = progress, .arg = arg, .err = err, .errlen = errlen,
	};

	return import_tree(&w, id, private, nprivate, manifest);
}

int tplfs_import_private_area(int store_fd, const char *src,
			      const struct tplfs_mlist *base, const char *id,
			      FILE *manifest, struct tplfs_import_stats *st,
			      tplfs_import_progress_fn progress, void *arg,
			      char *err, size_t errlen)
{
	struct walk w = {
		.store_fd = store_fd, .src = src, .flags = IMPORT_STUBS,
		.base = base, .st = st, .progress = progress, .arg = arg,
		.err = err, .errlen = errlen,
	};

	return import_tree(&w, id, (const char *const *)base->private,
			   base->nprivate, manifest);
}
