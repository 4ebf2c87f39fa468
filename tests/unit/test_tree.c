// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of removing a tree (userspace/lib/tree.c): deeper than
 * PATH_MAX, without following symlinks, never into another mount (the
 * tree is then left, and the error says so), a file as the root, and the
 * count of what was removed.
 * Root is needed for the bind mount (make check runs as root).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tree.h"

static char base[64];

static int setup(void **state)
{
	(void)state;
	strcpy(base, "/tmp/tplfs-tree-XXXXXX");
	assert_non_null(mkdtemp(base));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	return system(cmd);
}

/* @depth directories of 200-byte names under @root, a file and a
 * symlink to @target in each: a path of @depth * 201 bytes. */
static void deep_tree(const char *root, int depth, const char *target)
{
	char name[201];
	int fd;

	memset(name, 'd', 200);
	name[200] = '\0';
	assert_int_equal(mkdir(root, 0755), 0);
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i < depth; i++) {
		int nfd, f;

		assert_int_equal(mkdirat(fd, name, 0755), 0);
		f = openat(fd, "f", O_WRONLY | O_CREAT, 0644);
		assert_true(f >= 0);
		close(f);
		assert_int_equal(symlinkat(target, fd, "l"), 0);
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY);
		assert_true(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	close(fd);
}

static void a_tree_deeper_than_path_max_is_removed(void **state)
{
	char root[128], target[128];
	struct stat st;

	(void)state;
	snprintf(root, sizeof(root), "%s/deep", base);
	snprintf(target, sizeof(target), "%s/target", base);
	assert_int_equal(mkdir(target, 0755), 0);
	/* 100 * 201 bytes: five times PATH_MAX */
	deep_tree(root, 100, target);
	assert_int_equal(tplfs_tree_remove(root), 0);
	assert_int_equal(lstat(root, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* the symlinks went, not what they named */
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(tplfs_tree_remove(root), 0);	/* absent is fine */
}

static void a_mount_inside_stops_the_removal(void **state)
{
	char root[128], sub[160], elsewhere[128], keep[160];
	struct stat st;
	int fd;

	(void)state;
	snprintf(root, sizeof(root), "%s/r", base);
	snprintf(sub, sizeof(sub), "%s/r/m", base);
	snprintf(elsewhere, sizeof(elsewhere), "%s/e", base);
	snprintf(keep, sizeof(keep), "%s/e/keep", base);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(mkdir(elsewhere, 0755), 0);
	fd = open(keep, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	/* a bind mount of this very filesystem: the same st_dev */
	assert_int_equal(mount(elsewhere, sub, NULL, MS_BIND, NULL), 0);
	assert_int_equal(tplfs_tree_remove(root), -EXDEV);
	assert_int_equal(stat(keep, &st), 0);	/* nothing under the mount */
	assert_int_equal(umount(sub), 0);
	/* and another filesystem */
	assert_int_equal(mount("tmpfs", sub, "tmpfs", 0, NULL), 0);
	assert_int_equal(tplfs_tree_remove(root), -EXDEV);
	assert_int_equal(umount(sub), 0);
	assert_int_equal(tplfs_tree_remove(root), 0);
	assert_int_equal(stat(keep, &st), 0);
}

static void a_file_or_a_symlink_as_the_root(void **state)
{
	char path[128], target[128];
	struct stat st;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/file", base);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tplfs_tree_remove(path), 0);
	assert_int_equal(lstat(path, &st), -1);
	snprintf(target, sizeof(target), "%s/t", base);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(tplfs_tree_remove(path), 0);
	assert_int_equal(stat(target, &st), 0);
}

static void count_dir(void *arg)
{
	(*(int *)arg)++;
}

static void a_removal_counts_what_it_removes(void **state)
{
	struct tplfs_remove_progress p = { .dir_removed = count_dir };
	char root[128], target[128];
	_Atomic uint64_t removed = 0;
	int dirs = 0;

	(void)state;
	p.removed = &removed;
	p.arg = &dirs;
	snprintf(root, sizeof(root), "%s/deep", base);
	snprintf(target, sizeof(target), "%s/target", base);
	assert_int_equal(mkdir(target, 0755), 0);
	/* 5 directories with a file and a symlink each, and the root */
	deep_tree(root, 5, target);
	assert_int_equal(tplfs_tree_remove_counted(root, &p), 0);
	assert_int_equal(atomic_load(&removed), 5 * 3 + 1);
	assert_int_equal(dirs, 5);	/* each below the root, once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_tree_deeper_than_path_max_is_removed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_mount_inside_stops_the_removal,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_file_or_a_symlink_as_the_root,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_removal_counts_what_it_removes,
						setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_tree needs root (a bind mount)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
