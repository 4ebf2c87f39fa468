// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the io_uring usage scan (userspace/lib/usage_scan.c): on
 * trees of every kind of file, deep ones and wide ones, it finds exactly
 * what an nftw/lstat walk finds (unique inodes, st_blocks * 512), counts a
 * hard-linked file once, stays out of other filesystems, holds a bounded
 * number of fds, runs in several threads at once, and takes a live tree's
 * removals in its stride.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "grow.h"
#include "tree.h"
#include "usage_scan.h"

struct fixture {
	char dir[64];
	char mnt[96];		/* a mount point to undo, if any */
	int fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/tplfs-usage-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->mnt[0])
		umount2(f->mnt, MNT_DETACH);
	close(f->fd);
	assert_int_equal(tplfs_tree_remove(f->dir), 0);
	free(f);
	return 0;
}

/* The reference: every entry nftw sees on the root's device, by inode. */
static struct seen { ino_t ino; blkcnt_t blocks; } *seen;
static size_t nseen, capseen;
static uint64_t seen_dirs;
static dev_t seen_dev;

static int see(const char *path, const struct stat *st, int flag,
	       struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_NS || flag == FTW_DNR) {
		print_message("reference: cannot read %s\n", path);
		return -1;
	}
	if (st->st_dev != seen_dev)
		return 0;
	seen_dirs += flag == FTW_D;
	if (tplfs_grow(&seen, &capseen, nseen, sizeof(*seen), 1024))
		return -1;
	seen[nseen].ino = st->st_ino;
	seen[nseen++].blocks = st->st_blocks;
	return 0;
}

static int by_ino(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	return (x->ino > y->ino) - (x->ino < y->ino);
}

static struct tplfs_usage reference(const char *root)
{
	struct tplfs_usage u = { 0 };
	struct stat st;

	assert_int_equal(lstat(root, &st), 0);
	seen_dev = st.st_dev;
	nseen = 0;
	seen_dirs = 0;
	assert_int_equal(nftw(root, see, 16, FTW_PHYS | FTW_MOUNT), 0);
	qsort(seen, nseen, sizeof(*seen), by_ino);
	for (size_t i = 0; i < nseen; i++)
		if (!i || seen[i].ino != seen[i - 1].ino) {
			u.inodes++;
			u.bytes += (uint64_t)seen[i].blocks * 512;
		}
	u.dirs = seen_dirs;
	return u;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A scan that must succeed, and leave no fd behind. */
static struct tplfs_usage scan(int fd)
{
	int ret, fds = open_fds();
	struct tplfs_usage u;
	char err[512];

	ret = tplfs_usage_scan(fd, &u, err, sizeof(err));
	if (ret)
		print_message("scan failed: %s\n", err);
	assert_int_equal(ret, 0);
	assert_int_equal(open_fds(), fds);
	return u;
}

static void assert_same(const struct tplfs_usage *want,
			const struct tplfs_usage *got)
{
	if (got->bytes != want->bytes || got->inodes != want->inodes ||
	    got->dirs != want->dirs)
		print_message("expected %ju bytes, %ju inodes, %ju dirs; "
			      "scanned %ju bytes, %ju inodes, %ju dirs\n",
			      (uintmax_t)want->bytes, (uintmax_t)want->inodes,
			      (uintmax_t)want->dirs, (uintmax_t)got->bytes,
			      (uintmax_t)got->inodes, (uintmax_t)got->dirs);
	assert_true(got->bytes == want->bytes);
	assert_true(got->inodes == want->inodes);
	assert_true(got->dirs == want->dirs);
}

/* The scan of the fixture's tree, checked against the reference. */
static struct tplfs_usage scan_matches_reference(const struct fixture *f)
{
	struct tplfs_usage want = reference(f->dir), got = scan(f->fd);

	assert_same(&want, &got);
	return got;
}

/* A file of @size bytes of data at @at (0: empty). */
static void file_at(int dfd, const char *name, off_t at, size_t size)
{
	char buf[4096];
	int fd;

	memset(buf, 'x', sizeof(buf));
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	for (size_t done = 0; done < size; ) {
		size_t n = size - done;

		if (n > sizeof(buf))
			n = sizeof(buf);
		assert_int_equal(pwrite(fd, buf, n, at + (off_t)done),
				 (ssize_t)n);
		done += n;
	}
	close(fd);
}

static int subdir(int dfd, const char *name)
{
	int fd;

	assert_int_equal(mkdirat(dfd, name, 0755), 0);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static void every_kind_of_file_matches_nftw(void **state)
{
	struct fixture *f = *state;
	struct tplfs_usage u;
	int d, sparse;

	file_at(f->fd, "data", 0, 10000);
	file_at(f->fd, "empty", 0, 0);
	file_at(f->fd, "sparse", 1 << 20, 1);
	sparse = openat(f->fd, "sparse", O_WRONLY);
	assert_int_equal(ftruncate(sparse, 8 << 20), 0);
	close(sparse);
	file_at(f->fd, "link1", 0, 5000);
	assert_int_equal(linkat(f->fd, "link1", f->fd, "link2", 0), 0);
	assert_int_equal(symlinkat("data", f->fd, "symlink"), 0);
	assert_int_equal(symlinkat("/nowhere", f->fd, "dangling"), 0);
	assert_int_equal(mkfifoat(f->fd, "fifo", 0644), 0);
	d = subdir(f->fd, "dir");
	close(subdir(d, "empty-dir"));
	file_at(d, "nested", 0, 70000);
	assert_int_equal(linkat(f->fd, "link1", d, "link3", 0), 0);
	/* a symlink to a directory is not followed */
	assert_int_equal(symlinkat("..", d, "up"), 0);
	close(d);

	u = scan_matches_reference(f);
	/* root, data, empty, sparse, link1-3 once, 3 symlinks, fifo, 2 dirs,
	 * nested */
	assert_true(u.inodes == 12);
	assert_true(u.dirs == 3);
	/* the root's fd is left open, at its offset */
	assert_int_equal(lseek(f->fd, 0, SEEK_CUR), 0);
	assert_true(fcntl(f->fd, F_GETFD) >= 0);
}

static void a_hard_linked_file_counts_once(void **state)
{
	struct fixture *f = *state;
	struct stat root, dir, file;
	struct tplfs_usage u;
	int d;

	d = subdir(f->fd, "d");
	file_at(f->fd, "f", 0, 50000);
	assert_int_equal(linkat(f->fd, "f", f->fd, "g", 0), 0);
	assert_int_equal(linkat(f->fd, "f", d, "h", 0), 0);
	assert_int_equal(fstat(f->fd, &root), 0);
	assert_int_equal(fstat(d, &dir), 0);
	assert_int_equal(fstatat(d, "h", &file, AT_SYMLINK_NOFOLLOW), 0);
	close(d);
	u = scan_matches_reference(f);
	assert_true(u.inodes == 3);	/* the root, d, and f once */
	assert_true(u.bytes == (uint64_t)(root.st_blocks + dir.st_blocks +
					  file.st_blocks) * 512);
}

/*
 * Limit this process to @room fds above the lowest free one; the old limit
 * in @old.
 */
static void limit_fds(int room, struct rlimit *old)
{
	struct rlimit low;
	int fd = open("/dev/null", O_RDONLY);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, old), 0);
	low = *old;
	low.rlim_cur = (rlim_t)(fd + room);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
}

/*
 * @levels levels below @dfd, each with a file and three subdirectories, one
 * leading on ("d<level>"), named by level so that the order in which they
 * are read varies.
 */
static void make_deep(int dfd, int levels)
{
	int d = dup(dfd);
	char name[16];

	for (int level = 0; level < levels; level++) {
		int next;

		file_at(d, "file", 0, (size_t)level * 100);
		for (int i = 0; i < 2; i++) {
			int leaf;

			snprintf(name, sizeof(name), "l%d%c", level, 'a' + i);
			leaf = subdir(d, name);
			file_at(leaf, "f", 0, 1);
			close(leaf);
		}
		snprintf(name, sizeof(name), "d%d", level);
		next = subdir(d, name);
		close(d);
		d = next;
	}
	close(d);
}

/*
 * 300 levels: the walk comes back to levels whose fd it closed. Under an fd
 * limit that one fd a level would exceed.
 */
static void a_deep_tree_matches_nftw_in_few_fds(void **state)
{
	struct fixture *f = *state;
	struct tplfs_usage u;
	struct rlimit old;

	make_deep(f->fd, 300);
	limit_fds(80, &old);
	u = scan(f->fd);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true(u.dirs == 1 + 300 * 3);
	scan_matches_reference(f);
}

/* More entries in a directory than statx in flight, and many directories. */
static void a_wide_tree_matches_nftw(void **state)
{
	struct fixture *f = *state;
	char name[32];

	for (int i = 0; i < 2500; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		file_at(f->fd, name, 0, i % 100 ? 0 : (size_t)i);
	}
	for (int i = 0; i < 25; i++) {
		int d;

		snprintf(name, sizeof(name), "d%d", i);
		d = subdir(f->fd, name);
		for (int j = 0; j < 20; j++) {
			snprintf(name, sizeof(name), "g%d", j);
			file_at(d, name, 0, (size_t)j);
		}
		close(d);
	}
	assert_true(scan_matches_reference(f).inodes == 1 + 2500 + 25 * 21);
}

struct job {
	int fd;
	struct tplfs_usage u;
	int ret;
	char err[512];
};

static void *scan_job(void *arg)
{
	struct job *j = arg;

	j->ret = tplfs_usage_scan(j->fd, &j->u, j->err, sizeof(j->err));
	return NULL;
}

/* Scans in threads at once (the daemon's workers) each find it all. */
static void scans_in_threads_agree(void **state)
{
	struct fixture *f = *state;
	struct tplfs_usage want;
	struct job jobs[4];
	pthread_t t[4];

	make_deep(f->fd, 40);
	want = reference(f->dir);
	for (int i = 0; i < 4; i++) {
		jobs[i].fd = f->fd;
		assert_int_equal(pthread_create(&t[i], NULL, scan_job,
						&jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (jobs[i].ret)
			print_message("scan %d failed: %s\n", i, jobs[i].err);
		assert_int_equal(jobs[i].ret, 0);
		assert_same(&want, &jobs[i].u);
	}
}

/* Another filesystem mounted in the tree is neither counted nor entered. */
static void a_mount_point_is_not_crossed(void **state)
{
	struct fixture *f = *state;
	struct tplfs_usage before, after;
	int d;

	close(subdir(f->fd, "mnt"));
	before = scan_matches_reference(f);
	snprintf(f->mnt, sizeof(f->mnt), "%s/mnt", f->dir);
	if (mount("tmpfs", f->mnt, "tmpfs", 0, "size=1m") < 0) {
		f->mnt[0] = '\0';
		skip();
	}
	d = open(f->mnt, O_RDONLY | O_DIRECTORY);
	assert_true(d >= 0);
	file_at(d, "other", 0, 8192);
	close(subdir(d, "sub"));
	close(d);
	after = scan_matches_reference(f);
	assert_true(after.inodes == before.inodes - 1);
	assert_true(after.dirs == before.dirs - 1);
}

/* A root removed before the scan: itself, and nothing in it. */
static void a_removed_root_is_just_itself(void **state)
{
	struct fixture *f = *state;
	struct tplfs_usage u;
	struct stat st;
	int d;

	d = subdir(f->fd, "gone");
	assert_int_equal(unlinkat(f->fd, "gone", AT_REMOVEDIR), 0);
	assert_int_equal(fstat(d, &st), 0);
	u = scan(d);
	close(d);
	assert_true(u.inodes == 1);
	assert_true(u.bytes == (uint64_t)st.st_blocks * 512);
}

struct churn {
	int fd;			/* directories made and removed here */
	int level5;		/* d0/.../d4 of a deep tree: d5 moved */
	atomic_bool stop;
};

/*
 * Make and remove directories of files, and move a directory of the deep
 * tree to and fro, until stopped.
 */
static void *churn(void *arg)
{
	struct churn *c = arg;
	char name[32];

	for (unsigned int n = 0; !atomic_load(&c->stop); n++) {
		int d;

		renameat(c->level5, n % 2 ? "x5" : "d5", c->level5,
			 n % 2 ? "d5" : "x5");
		snprintf(name, sizeof(name), "c%u", n % 8);
		mkdirat(c->fd, name, 0755);
		d = openat(c->fd, name, O_RDONLY | O_DIRECTORY);
		if (d < 0)
			continue;
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "f%d", i);
			close(openat(d, name, O_WRONLY | O_CREAT, 0644));
		}
		mkdirat(d, "sub", 0755);
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "f%d", i);
			unlinkat(d, name, 0);
		}
		unlinkat(d, "sub", AT_REMOVEDIR);
		close(d);
		snprintf(name, sizeof(name), "c%u", n % 8);
		if (n % 3)
			unlinkat(c->fd, name, AT_REMOVEDIR);
		else
			renameat(c->fd, name, c->fd, "moved");
	}
	return NULL;
}

/*
 * Entries vanishing under the scan are skipped, not errors; so is a
 * directory moved away before the walk comes back to it. No fd is left
 * behind.
 */
static void a_live_tree_scans_without_errors(void **state)
{
	struct fixture *f = *state;
	struct churn c = { .fd = f->fd };
	struct tplfs_usage u;
	char err[512];
	pthread_t t;
	int ret = 0, fds;

	make_deep(f->fd, 60);
	c.level5 = openat(f->fd, "d0/d1/d2/d3/d4", O_RDONLY | O_DIRECTORY);
	assert_true(c.level5 >= 0);
	fds = open_fds();
	assert_int_equal(pthread_create(&t, NULL, churn, &c), 0);
	for (int i = 0; i < 300 && !ret; i++)
		ret = tplfs_usage_scan(f->fd, &u, err, sizeof(err));
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	if (ret)
		print_message("scan failed: %s\n", err);
	assert_int_equal(ret, 0);
	assert_int_equal(open_fds(), fds);
	close(c.level5);
}

static void a_root_that_is_not_a_directory_fails(void **state)
{
	struct fixture *f = *state;
	struct tplfs_usage u;
	char err[512];
	int fd;

	file_at(f->fd, "file", 0, 10);
	fd = openat(f->fd, "file", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(tplfs_usage_scan(fd, &u, err, sizeof(err)), -ENOTDIR);
	close(fd);
	assert_string_equal(err, ".: scanning: Not a directory");
	assert_true(u.inodes == 0 && u.bytes == 0);
}

/* An error below the root names the path, relative to the root. */
static void an_error_names_the_path(void **state)
{
	struct fixture *f = *state;
	struct tplfs_usage u;
	struct rlimit old;
	char err[512];
	int d, ret;

	d = subdir(f->fd, "a");
	close(subdir(d, "b"));
	close(d);
	/* room for the ring, the root and a; none for a/b */
	limit_fds(3, &old);
	ret = tplfs_usage_scan(f->fd, &u, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(ret, -EMFILE);
	assert_string_equal(err, "a/b: open: Too many open files");
}

#define TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(every_kind_of_file_matches_nftw),
		TEST(a_hard_linked_file_counts_once),
		TEST(a_deep_tree_matches_nftw_in_few_fds),
		TEST(a_wide_tree_matches_nftw),
		TEST(scans_in_threads_agree),
		TEST(a_mount_point_is_not_crossed),
		TEST(a_removed_root_is_just_itself),
		TEST(a_live_tree_scans_without_errors),
		TEST(a_root_that_is_not_a_directory_fails),
		TEST(an_error_names_the_path),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	free(seen);
	return ret;
}
