// SPDX-License-Identifier: LGPL-2.1-or-later
/* Whole trees: see tree.h. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "tree.h"

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -errno : 0;
	return unlink(path) < 0 ? -errno : 0;
}

int tplfs_tree_remove(const char *path)
{
	struct stat st;
	int ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	ret = nftw(path, remove_one, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return ret < 0 ? -errno : ret;
}

/* nftw has no argument for its callback: the usage being summed. */
struct linked {
	dev_t dev;
	ino_t ino;
	uint64_t bytes;
};
static __thread struct tplfs_tree_usage *usage;
static __thread struct linked *seen;
static __thread size_t nseen, capseen;

static int count_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	usage->bytes += (uint64_t)st->st_blocks * 512;
	usage->inodes++;
	/* links are counted once after the walk: no search per entry */
	if (st->st_nlink > 1 && !S_ISDIR(st->st_mode)) {
		if (tplfs_grow(&seen, &capseen, nseen, sizeof(*seen), 64))
			return -ENOMEM;
		seen[nseen].dev = st->st_dev;
		seen[nseen].ino = st->st_ino;
		seen[nseen].bytes = (uint64_t)st->st_blocks * 512;
		nseen++;
	}
	return 0;
}

static int cmp_linked(const void *a, const void *b)
{
	const struct linked *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int tplfs_tree_usage(const char *path, struct tplfs_tree_usage *u)
{
	int ret;

	u->bytes = 0;
	u->inodes = 0;
	usage = u;
	nseen = 0;
	ret = nftw(path, count_one, 64, FTW_PHYS | FTW_MOUNT);
	qsort(seen, nseen, sizeof(*seen), cmp_linked);
	for (size_t i = 1; i < nseen; i++) {
		if (!cmp_linked(&seen[i], &seen[i - 1])) {
			u->bytes -= seen[i].bytes;
			u->inodes--;
		}
	}
	free(seen);
	seen = NULL;
	capseen = 0;
	return ret < 0 ? -errno : ret;
}

int tplfs_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}
