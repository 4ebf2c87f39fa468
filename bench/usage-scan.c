// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How fast does the daemon recount a private area after an unclean stop?
 * Times tplfs_usage_scan() (statx through io_uring) against the plain
 * sequential nftw/lstat walk of tplfs_tree_usage(), on a warm cache, five
 * runs each, alternating, after one of each to warm it; prints the medians
 * and checks that both counted the same. The tree is shaped like a private
 * area: 1,000 directories, 98,650 stubs (empty files with a 48-byte origin
 * xattr, trusted.* as root, user.* otherwise), 50 hard links to stubs and
 * 300 files with data: 100,000 entries. bench/README.md has the results.
 *
 *   usage-scan             build the tree in a new directory in $TMPDIR
 *                          (or /tmp), time it, remove it
 *   usage-scan DIR         time the tree at DIR, building it there first
 *                          (and keeping it) if DIR does not exist
 *   usage-scan DIR WALKER  one run of WALKER (scan or nftw) on DIR, the
 *                          cache as it is: cold after a remount
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tree.h"
#include "usage_scan.h"

#define TOPS		10	/* top directories, of ... */
#define SUBS		99	/* ... subdirectories each, holding the files */
#define FILES		99000
#define DATA_EVERY	330	/* 300 files with data */
#define LINK_EVERY	1980	/* 50 hard links */
#define LEAVES		(TOPS * SUBS)
#define RUNS		5

static const char origin[48] = { 1, 1 };

/* Seconds since @t0, of CLOCK_MONOTONIC. */
static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void make_file(int dfd, const char *name, const char *xattr, int i)
{
	int fd;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		err(1, "%s", name);
	if (i % DATA_EVERY == 0) {
		static char data[64 << 10];
		size_t size = (size_t)(i / DATA_EVERY % 16 + 1) << 12;

		memset(data, 'x', size);
		if (write(fd, data, size) != (ssize_t)size)
			err(1, "write");
	} else if (fsetxattr(fd, xattr, origin, sizeof(origin), 0)) {
		err(1, "fsetxattr");
	}
	close(fd);
}

/* The files of leaf directory @j: "f<i>" for i = j, j + LEAVES, ... */
static void fill_leaf(int dfd, int j, const char *xattr)
{
	char name[32], target[32];

	for (int i = j; i < FILES; i += LEAVES) {
		snprintf(name, sizeof(name), "f%d", i);
		if (i % LINK_EVERY != LINK_EVERY / 2 + 1) {
			make_file(dfd, name, xattr, i);
			continue;
		}
		/* a link to the stub before it in this directory */
		snprintf(target, sizeof(target), "f%d", i - LEAVES);
		if (linkat(dfd, target, dfd, name, 0))
			err(1, "%s", name);
	}
}

static int subdir(int dfd, const char *name)
{
	int fd;

	if (mkdirat(dfd, name, 0755))
		err(1, "%s", name);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err(1, "%s", name);
	return fd;
}

static void build(const char *root)
{
	const char *xattr = geteuid() ? "user.tplfs.origin" :
					"trusted.tplfs.origin";
	int rfd = subdir(AT_FDCWD, root);
	char name[32];

	for (int t = 0; t < TOPS; t++) {
		int top;

		snprintf(name, sizeof(name), "t%d", t);
		top = subdir(rfd, name);
		for (int s = 0; s < SUBS; s++) {
			int leaf;

			snprintf(name, sizeof(name), "s%d", s);
			leaf = subdir(top, name);
			fill_leaf(leaf, t * SUBS + s, xattr);
			close(leaf);
		}
		close(top);
	}
	close(rfd);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *t)
{
	qsort(t, RUNS, sizeof(*t), by_value);
	return t[RUNS / 2];
}

static double time_scan(const char *root, struct tplfs_usage *u)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct timespec t0;
	char msg[512];
	double t;

	if (fd < 0)
		err(1, "%s", root);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (tplfs_usage_scan(fd, u, msg, sizeof(msg)))
		errx(1, "%s: %s", root, msg);
	t = since(&t0);
	close(fd);
	return t;
}

static double time_nftw(const char *root, struct tplfs_tree_usage *u)
{
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = tplfs_tree_usage(root, u);
	if (ret)
		errx(1, "%s: %s", root, strerror(-ret));
	return since(&t0);
}

/* Five runs of each, warm, alternating: the medians. */
static int compare(const char *root)
{
	double ts[RUNS], tn[RUNS], ms, mn;
	struct tplfs_tree_usage n;
	struct tplfs_usage u;

	time_scan(root, &u);
	time_nftw(root, &n);
	for (int r = 0; r < RUNS; r++) {
		ts[r] = time_scan(root, &u);
		tn[r] = time_nftw(root, &n);
	}
	if (u.inodes != n.inodes || u.bytes != n.bytes) {
		fprintf(stderr, "usage-scan: they differ: scan %ju inodes %ju "
			"bytes, nftw %ju inodes %ju bytes\n",
			(uintmax_t)u.inodes, (uintmax_t)u.bytes,
			(uintmax_t)n.inodes, (uintmax_t)n.bytes);
		return 1;
	}
	ms = median(ts);
	mn = median(tn);
	printf("%ju inodes (%ju directories), %.1f MiB allocated\n",
	       (uintmax_t)u.inodes, (uintmax_t)u.dirs,
	       (double)u.bytes / (1 << 20));
	printf("io_uring scan: median %.3f s of %d (%.3f .. %.3f)\n",
	       ms, RUNS, ts[0], ts[RUNS - 1]);
	printf("nftw/lstat:    median %.3f s of %d (%.3f .. %.3f)\n",
	       mn, RUNS, tn[0], tn[RUNS - 1]);
	printf("io_uring / nftw: %.2f\n", ms / mn);
	return 0;
}

static int once(const char *root, const char *walker)
{
	struct tplfs_tree_usage n;
	struct tplfs_usage u;

	if (!strcmp(walker, "scan")) {
		double t = time_scan(root, &u);

		printf("io_uring scan: %.3f s, %ju inodes\n", t,
		       (uintmax_t)u.inodes);
	} else if (!strcmp(walker, "nftw")) {
		double t = time_nftw(root, &n);

		printf("nftw/lstat: %.3f s, %ju inodes\n", t,
		       (uintmax_t)n.inodes);
	} else {
		fprintf(stderr, "usage-scan: %s: not scan or nftw\n", walker);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char owned[4096] = "", root[4096];
	struct stat st;
	int ret;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: usage-scan [DIR [scan|nftw]]\n");
		return 2;
	}
	if (argc > 1) {
		snprintf(root, sizeof(root), "%s", argv[1]);
	} else {
		snprintf(owned, sizeof(owned), "%s/usage-scan-XXXXXX",
			 tmp ? tmp : "/tmp");
		if (!mkdtemp(owned))
			err(1, "%s", owned);
		snprintf(root, sizeof(root), "%s/tree", owned);
	}
	if (stat(root, &st)) {
		struct timespec t0;

		printf("building %d entries in %s\n", TOPS * (SUBS + 1) + FILES,
		       root);
		fflush(stdout);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		build(root);
		printf("built in %.1f s\n", since(&t0));
	}
	ret = argc == 3 ? once(root, argv[2]) : compare(root);
	if (owned[0]) {
		int rm = tplfs_tree_remove(owned);

		if (rm)
			errx(1, "%s: %s", owned, strerror(-rm));
	}
	return ret;
}
