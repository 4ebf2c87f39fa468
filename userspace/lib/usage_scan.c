// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A tree's usage through io_uring: see usage_scan.h.
 *
 * The walk is depth-first, over a stack of frames (the directories from the
 * root to where the walk is). A directory is read whole with getdents64 when
 * the walk enters it, and a statx of each entry (the directory's fd, the
 * entry's name) goes into the ring, which stays full across directories: a
 * directory's fd (struct dirref) is closed only when its frame is done with
 * it and the last statx naming it has completed. Subdirectories (by d_type;
 * DT_UNKNOWN is tried) are kept by name in their parent's frame and opened
 * from the parent's fd when the walk gets to them. Only the OPEN_FRAMES
 * deepest frames keep their fd; an older one is reopened, name by name from
 * the root and checked to be the same directory, when the walk comes back to
 * it. Hard-linked inodes are summed once, after the walk, from a sorted array.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "grow.h"
#include "usage_scan.h"

#define RING_ENTRIES	256	/* statx in flight */
#define OPEN_FRAMES	32	/* frames below the root that keep their fd */
#define MAX_DIR_FDS	64	/* directory fds open at once, all told */
#define DENTS_BYTES	32768	/* one getdents64 */

#define STATX_WANTED	(STATX_TYPE | STATX_MODE | STATX_INO | STATX_NLINK | \
			 STATX_BLOCKS)
#define OPEN_DIR	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* An open directory, shared by its frame and the statx that name it. */
struct dirref {
	int fd;
	unsigned int refs;
	char path[];		/* from the root; "" for the root */
};

/* A statx in flight: its buffer and its name live until it completes. */
struct slot {
	struct statx stx;
	struct dirref *dir;
	struct slot *next_free;
	char name[NAME_MAX + 1];
};

/* A directory on the path from the root to where the walk is. */
struct frame {
	char *path;		/* from the root; "" for the root */
	uint64_t ino;
	struct dirref *dir;	/* NULL while closed (see OPEN_FRAMES) */
	char *subdirs;		/* names to enter, each NUL-terminated */
	size_t len, cap;	/* of subdirs */
	size_t next;		/* offset of the next name to enter */
};

/* A hard-linked inode, summed once after the walk. */
struct link {
	uint64_t ino;
	uint64_t blocks;
};

struct scan {
	struct io_uring ring;
	struct tplfs_usage *usage;
	dev_t dev;		/* the root's */
	int ret;		/* the first error: the walk stops there */
	struct slot *slots, *free;
	unsigned int inflight;
	unsigned int nfds;	/* dirrefs open */
	struct frame *frames;
	size_t depth, capframes;
	size_t lo;		/* frames [lo, depth) open, [1, lo) closed */
	struct link *links;
	size_t nlinks, caplinks;
	char *err;
	size_t errlen;
	uint64_t dents[DENTS_BYTES / sizeof(uint64_t)];
};

/* Record the first error, on the entry @name of @dir (or @dir itself). */
static int fail(struct scan *s, int ret, const char *dir, const char *name,
		const char *what)
{
	const char *sep = *dir && name ? "/" : "";

	if (s->ret)
		return s->ret;
	if (!*dir && !name)
		dir = ".";
	snprintf(s->err, s->errlen, "%s%s%s: %s: %s", dir, sep,
		 name ? name : "", what, strerror(-ret));
	s->ret = ret;
	return ret;
}

static bool vanished(int ret)
{
	return ret == -ENOENT || ret == -ENOTDIR;
}

static struct dirref *dirref_new(struct scan *s, int fd, const char *path)
{
	size_t len = strlen(path) + 1;
	struct dirref *d = malloc(sizeof(*d) + len);

	if (!d)
		return NULL;
	d->fd = fd;
	d->refs = 1;
	memcpy(d->path, path, len);
	s->nfds++;
	return d;
}

static void dirref_put(struct scan *s, struct dirref *d)
{
	if (--d->refs)
		return;
	close(d->fd);
	s->nfds--;
	free(d);
}

static int account(struct scan *s, const struct statx *stx)
{
	if (makedev(stx->stx_dev_major, stx->stx_dev_minor) != s->dev)
		return 0;
	if (!S_ISDIR(stx->stx_mode) && stx->stx_nlink > 1) {
		if (tplfs_grow(&s->links, &s->caplinks, s->nlinks,
			       sizeof(*s->links), 256))
			return -ENOMEM;
		s->links[s->nlinks].ino = stx->stx_ino;
		s->links[s->nlinks++].blocks = stx->stx_blocks;
		return 0;
	}
	s->usage->bytes += stx->stx_blocks * 512;
	s->usage->inodes++;
	return 0;
}

static void complete(struct scan *s, const struct io_uring_cqe *cqe)
{
	struct slot *sl = io_uring_cqe_get_data(cqe);
	int ret = cqe->res;

	if (ret < 0 && !vanished(ret))
		fail(s, ret, sl->dir->path, sl->name, "statx");
	else if (!ret && account(s, &sl->stx))
		fail(s, -ENOMEM, sl->dir->path, sl->name, "counting");
	dirref_put(s, sl->dir);
	sl->next_free = s->free;
	s->free = sl;
	s->inflight--;
}

/*
 * Submit what is queued, wait for @wait completions and handle all there
 * are. 0, or a negative errno if the ring failed.
 */
static int reap(struct scan *s, unsigned int wait)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int ret;

	do
		ret = io_uring_submit_and_wait(&s->ring, wait);
	while (ret == -EINTR);
	if (ret < 0)
		return fail(s, ret, "", NULL, "io_uring_submit");
	io_uring_for_each_cqe(&s->ring, head, cqe) {
		complete(s, cqe);
		n++;
	}
	io_uring_cq_advance(&s->ring, n);
	return 0;
}

static int queue_statx(struct scan *s, struct dirref *dir, const char *name)
{
	size_t len = strlen(name) + 1;
	struct io_uring_sqe *sqe;
	struct slot *sl;

	if (len > sizeof(sl->name))
		return fail(s, -ENAMETOOLONG, dir->path, name, "statx");
	while (!s->free)
		if (reap(s, 1) < 0)
			return s->ret;
	/* never NULL: the queue has a place for every slot */
	sqe = io_uring_get_sqe(&s->ring);
	sl = s->free;
	s->free = sl->next_free;
	memcpy(sl->name, name, len);
	sl->dir = dir;
	dir->refs++;
	s->inflight++;
	io_uring_prep_statx(sqe, dir->fd, sl->name,
			    AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_WANTED,
			    &sl->stx);
	io_uring_sqe_set_data(sqe, sl);
	return 0;
}

/*
 * Open the directory @name in @dfd: its fd (and inode number in @ino),
 * -ENOENT for an entry not to enter (gone, not a directory, a symlink, on
 * another device), or another negative errno.
 */
static int open_dir(struct scan *s, int dfd, const char *name, uint64_t *ino)
{
	struct stat st;
	int fd, ret;

	while (s->nfds >= MAX_DIR_FDS && s->inflight)
		if (reap(s, 1) < 0)
			return s->ret;
	fd = openat(dfd, name, OPEN_DIR);
	if (fd < 0) {
		ret = -errno;
		return vanished(ret) || ret == -ELOOP ? -ENOENT : ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (st.st_dev != s->dev) {
		close(fd);
		return -ENOENT;
	}
	*ino = st.st_ino;
	return fd;
}

static int add_subdir(struct frame *f, const char *name)
{
	size_t len = strlen(name) + 1;

	/* one doubling is enough: a name is shorter than the first size */
	if (tplfs_grow(&f->subdirs, &f->cap, f->len + len - 1, 1, 4096))
		return -ENOMEM;
	memcpy(f->subdirs + f->len, name, len);
	f->len += len;
	return 0;
}

static bool is_dot(const char *name)
{
	return name[0] == '.' &&
	       (!name[1] || (name[1] == '.' && !name[2]));
}

/* Read the top frame's directory: a statx of each entry, subdirs kept. */
static int read_dir(struct scan *s)
{
	struct frame *f = &s->frames[s->depth - 1];
	struct dirent64 *d;
	ssize_t n;
	int ret;

	while ((n = getdents64(f->dir->fd, s->dents, sizeof(s->dents))) > 0) {
		for (ssize_t off = 0; off < n; off += d->d_reclen) {
			d = (struct dirent64 *)((char *)s->dents + off);
			if (is_dot(d->d_name))
				continue;
			if ((d->d_type == DT_DIR || d->d_type == DT_UNKNOWN) &&
			    add_subdir(f, d->d_name))
				return fail(s, -ENOMEM, f->path, NULL, "read");
			if (queue_statx(s, f->dir, d->d_name))
				return s->ret;
		}
		ret = io_uring_submit(&s->ring);
		if (ret < 0)
			return fail(s, ret, "", NULL, "io_uring_submit");
	}
	/* a directory removed while read ends with ENOENT */
	if (n < 0 && errno != ENOENT)
		return fail(s, -errno, f->path, NULL, "getdents64");
	s->usage->dirs++;
	return 0;
}

static void close_frame(struct scan *s, struct frame *f)
{
	if (f->dir)
		dirref_put(s, f->dir);
	f->dir = NULL;
}

/* Push a frame for the directory open as @fd; @path becomes the frame's. */
static int push(struct scan *s, int fd, uint64_t ino, char *path)
{
	struct frame *f;

	if (tplfs_grow(&s->frames, &s->capframes, s->depth,
		       sizeof(*s->frames), 16))
		goto nomem;
	f = &s->frames[s->depth];
	memset(f, 0, sizeof(*f));
	f->dir = dirref_new(s, fd, path);
	if (!f->dir)
		goto nomem;
	f->path = path;
	f->ino = ino;
	s->depth++;
	if (s->depth - s->lo > OPEN_FRAMES)
		close_frame(s, &s->frames[s->lo++]);
	return 0;
nomem:
	close(fd);
	free(path);
	return fail(s, -ENOMEM, "", NULL, "walking");
}

static void pop(struct scan *s)
{
	struct frame *f = &s->frames[--s->depth];

	close_frame(s, f);
	free(f->subdirs);
	free(f->path);
	if (s->lo > s->depth)
		s->lo = s->depth;
}

static const char *name_of(const struct frame *f)
{
	const char *slash = strrchr(f->path, '/');

	return slash ? slash + 1 : f->path;
}

/*
 * Reopen the frames below the root down to the top one (all closed), name
 * by name from the root, keeping the deepest OPEN_FRAMES open. A frame that
 * is no longer there, or no longer the same directory, was moved or removed
 * during the scan: it is dropped with the frames above it.
 */
static int reopen(struct scan *s)
{
	size_t top = s->depth - 1, i;
	size_t keep = top > OPEN_FRAMES ? top - OPEN_FRAMES + 1 : 1;
	int dfd = s->frames[0].dir->fd, fd = 0;

	for (i = 1; i <= top; i++) {
		struct frame *f = &s->frames[i];
		uint64_t ino = 0;

		fd = open_dir(s, dfd, name_of(f), &ino);
		if (i > 1 && i <= keep)
			close(dfd);	/* passed through, not kept */
		if (fd >= 0 && ino != f->ino) {
			close(fd);
			fd = -ENOENT;
		}
		if (fd >= 0 && i >= keep) {
			f->dir = dirref_new(s, fd, f->path);
			if (!f->dir) {
				close(fd);
				fd = -ENOMEM;
			}
		}
		if (fd < 0)
			break;
		dfd = fd;
	}
	s->lo = keep < i ? keep : i;
	if (i > top)
		return 0;
	if (fd != -ENOENT)
		return fail(s, fd, s->frames[i].path, NULL, "open");
	while (s->depth > i)
		pop(s);
	return 0;
}

/* Enter the subdirectory @name of the top frame, if it is one to enter. */
static int enter(struct scan *s, const char *name)
{
	const struct frame *top = &s->frames[s->depth - 1];
	const char *dir = top->path;
	uint64_t ino = 0;
	char *path;
	int fd;

	fd = open_dir(s, top->dir->fd, name, &ino);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fail(s, fd, dir, name, "open");
	if (asprintf(&path, "%s%s%s", dir, *dir ? "/" : "", name) < 0) {
		close(fd);
		return fail(s, -ENOMEM, dir, name, "walking");
	}
	if (push(s, fd, ino, path))
		return s->ret;
	return read_dir(s);
}

/* One step of the walk: enter the top frame's next subdirectory, or pop. */
static int step(struct scan *s)
{
	struct frame *top = &s->frames[s->depth - 1];
	const char *name;

	if (top->next == top->len) {
		pop(s);
		return 0;
	}
	if (!top->dir)
		return reopen(s);
	name = top->subdirs + top->next;
	top->next += strlen(name) + 1;
	return enter(s, name);
}

/* Count the root and push its frame, on a descriptor of our own. */
static int enter_root(struct scan *s, int rootfd)
{
	struct statx stx;
	char *path;
	int fd;

	if (statx(rootfd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_WANTED,
		  &stx) < 0)
		return fail(s, -errno, "", NULL, "statx");
	if (!S_ISDIR(stx.stx_mode))
		return fail(s, -ENOTDIR, "", NULL, "scanning");
	s->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	if (account(s, &stx))
		return fail(s, -ENOMEM, "", NULL, "counting");
	fd = openat(rootfd, ".", OPEN_DIR);
	if (fd < 0)
		return fail(s, -errno, "", NULL, "open");
	path = strdup("");
	if (!path) {
		close(fd);
		return fail(s, -ENOMEM, "", NULL, "walking");
	}
	if (push(s, fd, stx.stx_ino, path))
		return s->ret;
	return read_dir(s);
}

static int by_ino(const void *a, const void *b)
{
	const struct link *x = a, *y = b;

	return (x->ino > y->ino) - (x->ino < y->ino);
}

static void count_links(struct scan *s)
{
	if (!s->nlinks)
		return;
	qsort(s->links, s->nlinks, sizeof(*s->links), by_ino);
	for (size_t i = 0; i < s->nlinks; i++) {
		if (i && s->links[i].ino == s->links[i - 1].ino)
			continue;
		s->usage->bytes += s->links[i].blocks * 512;
		s->usage->inodes++;
	}
}

static int setup(struct scan *s)
{
	int ret;

	s->slots = calloc(RING_ENTRIES, sizeof(*s->slots));
	if (!s->slots)
		return fail(s, -ENOMEM, "", NULL, "setting up");
	for (size_t i = 0; i < RING_ENTRIES; i++) {
		s->slots[i].next_free = s->free;
		s->free = &s->slots[i];
	}
	ret = io_uring_queue_init(RING_ENTRIES, &s->ring, 0);
	if (ret < 0)
		return fail(s, ret, "", NULL, "io_uring_queue_init");
	return 0;
}

int tplfs_usage_scan(int rootfd, struct tplfs_usage *usage, char *err,
		     size_t errlen)
{
	struct scan *s;
	int ret;

	memset(usage, 0, sizeof(*usage));
	if (errlen)
		err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "usage scan: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->usage = usage;
	s->err = err;
	s->errlen = errlen;
	s->lo = 1;
	if (setup(s)) {
		ret = s->ret;
		free(s->slots);
		free(s);
		return ret;
	}
	enter_root(s, rootfd);
	while (!s->ret && s->depth)
		step(s);
	/* the kernel writes into the slots until each statx completes */
	while (s->inflight)
		if (reap(s, 1) < 0)
			break;
	while (s->depth)
		pop(s);
	if (!s->ret)
		count_links(s);
	ret = s->ret;
	io_uring_queue_exit(&s->ring);
	free(s->links);
	free(s->frames);
	free(s->slots);
	free(s);
	if (ret)
		memset(usage, 0, sizeof(*usage));
	return ret;
}

int tplfs_usage_scan_path(const char *path, struct tplfs_usage *usage,
			  char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		ret = -errno;
		memset(usage, 0, sizeof(*usage));
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	ret = tplfs_usage_scan(fd, usage, err, errlen);
	close(fd);
	return ret;
}
