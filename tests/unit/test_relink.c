// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib/relink.c on a private area of the host (a container that is not
 * mounted: the unmounted operations): which files become stubs, which are
 * hashed, which are left, and what a stub keeps. As root (trusted.*).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "digest.h"
#include "manifest.h"
#include "origin.h"
#include "relink.h"

#define A "the content of object A\n"
#define B "bbbbbbbbbbbbbbbb\n"

static char top[64];

static void put(const char *rel, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/fs%s", top, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void digest_of(const char *text, struct tplfs_mentry *e)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/tmp", top);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(tplfs_digest_fd(fd, &e->size, e->digest), 0);
	close(fd);
	unlink(path);
}

/* A manifest with /a (A), /b (B) and the always-private /etc/hostname (A). */
static void objset(struct tplfs_objset *s)
{
	const char *private[] = { "/etc/hostname" };
	struct { const char *path; char type; const char *text; } ents[] = {
		{ "/", 'd', NULL }, { "/a", 'f', A }, { "/b", 'f', B },
		{ "/etc", 'd', NULL }, { "/etc/hostname", 'f', A },
	};
	struct tplfs_mwriter *w;
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(tplfs_mwriter_open(f, "t@1", private, 1, &w), 0);
	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		struct tplfs_mentry e = { .path = (char *)ents[i].path,
					  .type = ents[i].type, .mode = 0755 };

		if (e.type == 'f')
			digest_of(ents[i].text, &e);
		assert_int_equal(tplfs_mwriter_add(w, &e), 0);
	}
	assert_int_equal(tplfs_mwriter_close(w), 0);
	fclose(f);
	f = fmemopen(text, len, "r");
	memset(s, 0, sizeof(*s));
	assert_int_equal(tplfs_objset_add_manifest(s, f, err, sizeof(err)), 0);
	fclose(f);
	free(text);
}

static bool is_stub(const char *rel, struct tplfs_origin_info *info)
{
	uint8_t v[TPLFS_ORIGIN_SIZE];
	char path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/fs%s", top, rel);
	n = lgetxattr(path, TPLFS_ORIGIN_XATTR, v, sizeof(v));
	return n == TPLFS_ORIGIN_SIZE && !tplfs_origin_decode(v, n, info);
}

static struct stat stat_of(const char *rel)
{
	char path[PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/fs%s", top, rel);
	assert_int_equal(lstat(path, &sb), 0);
	return sb;
}

static int setup(void **state)
{
	char path[PATH_MAX];

	(void)state;
	strcpy(top, "/tmp/tplfs-relink-XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/fs", top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/fs/etc", top);
	assert_int_equal(mkdir(path, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd);
}

static void counted(void *arg, const char *path)
{
	assert_int_equal(path[0], '/');
	(*(int *)arg)++;
}

static void relinks_what_equals_an_object(void **state)
{
	struct tplfs_relink_report rep;
	struct tplfs_origin_info info;
	struct tplfs_objset set;
	char path[PATH_MAX], deep[PATH_MAX], err[512];
	struct stat before, after;
	struct timespec old[2] = { { 0, UTIME_OMIT }, { 1000000000, 123 } };
	int fs, n = 0;

	(void)state;
	objset(&set);
	put("/etc/os-release", A, 0640);
	assert_int_equal(chown(strcat(strcpy(path, top), "/fs/etc/os-release"),
			       1000, 1001), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(setxattr(path, "user.note", "kept", 4, 0), 0);
	put("/etc/hostname", A, 0644);		/* always private */
	put("/same-size", "BBBBBBBBBBBBBBBB\n", 0644);	/* B's size, not B */
	put("/other-size", "x\n", 0644);
	put("/empty", "", 0644);
	put("/h1", B, 0755);
	snprintf(path, sizeof(path), "%s/fs/h1", top);
	snprintf(deep, sizeof(deep), "%s/fs/h2", top);
	assert_int_equal(link(path, deep), 0);
	/* a stub already (with data a crash left in it) */
	put("/stub", A, 0644);
	snprintf(path, sizeof(path), "%s/fs/stub", top);
	assert_int_equal(setxattr(path, TPLFS_ORIGIN_XATTR, "x", 1, 0), 0);
	snprintf(path, sizeof(path), "%s/fs/link", top);
	assert_int_equal(symlink("a", path), 0);
	/* 300 levels down: no recursion */
	strcpy(deep, "");
	for (int i = 0; i < 300; i++) {
		strcat(deep, "/d");
		snprintf(path, sizeof(path), "%s/fs%s", top, deep);
		assert_int_equal(mkdir(path, 0755), 0);
		if (strlen(deep) > 500)
			break;
	}
	strcat(deep, "/deep");
	put(deep, A, 0600);
	before = stat_of("/etc/os-release");

	snprintf(path, sizeof(path), "%s/fs", top);
	fs = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(fs >= 0);

	/* a dry run counts and changes nothing */
	assert_int_equal(tplfs_relink(fs, &set, &tplfs_relink_unmounted, true,
				      counted, &n, &rep, err, sizeof(err)), 0);
	/* os-release, h1 and h2 (one inode, both names), deep */
	assert_int_equal(rep.relinked, 4);
	n = 0;
	assert_false(is_stub("/etc/os-release", &info));

	assert_int_equal(tplfs_relink(fs, &set, &tplfs_relink_unmounted, false,
				      counted, &n, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.relinked, 3);
	assert_int_equal(n, 3);
	/* os-release, same-size, h1 and deep hashed; other-size not */
	assert_int_equal(rep.hashed, 4);
	assert_int_equal(rep.changed + rep.busy, 0);
	assert_true(rep.bytes > 0);

	assert_true(is_stub("/etc/os-release", &info));
	assert_int_equal(info.size, strlen(A));
	after = stat_of("/etc/os-release");
	assert_int_equal(after.st_size, 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_mode, before.st_mode);
	assert_int_equal(after.st_uid, 1000);
	assert_int_equal(after.st_gid, 1001);
	assert_int_equal(after.st_mtim.tv_sec, 1000000000);
	assert_int_equal(after.st_mtim.tv_nsec, 123);
	snprintf(path, sizeof(path), "%s/fs/etc/os-release", top);
	assert_int_equal(getxattr(path, "user.note", err, sizeof(err)), 4);

	assert_true(is_stub("/h1", &info) && is_stub("/h2", &info));
	assert_int_equal(stat_of("/h2").st_nlink, 2);
	assert_true(is_stub(deep, &info));
	assert_false(is_stub("/etc/hostname", &info));
	assert_int_equal(stat_of("/etc/hostname").st_size, strlen(A));
	assert_false(is_stub("/same-size", &info));
	assert_false(is_stub("/other-size", &info));

	/* a second run finds nothing left to do */
	assert_int_equal(tplfs_relink(fs, &set, &tplfs_relink_unmounted, false,
				      NULL, NULL, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.relinked, 0);
	close(fs);
	tplfs_objset_free(&set);
}

/* A file that changes between its hash and the swap is left, counted. */
static int change_file(void *arg, int fd, struct tplfs_origin_state *st)
{
	int ret = tplfs_relink_unmounted.state(arg, fd, st);

	st->file_size++;	/* as if it had grown since */
	return ret;
}

static void leaves_a_file_that_changed(void **state)
{
	struct tplfs_relink_ops ops = tplfs_relink_unmounted;
	struct tplfs_relink_report rep;
	struct tplfs_origin_info info;
	struct tplfs_objset set;
	char path[PATH_MAX], err[512];
	int fs;

	(void)state;
	objset(&set);
	put("/a", A, 0644);
	ops.state = change_file;
	snprintf(path, sizeof(path), "%s/fs", top);
	fs = open(path, O_RDONLY | O_DIRECTORY);
	assert_int_equal(tplfs_relink(fs, &set, &ops, false, NULL, NULL, &rep,
				      err, sizeof(err)), 0);
	assert_int_equal(rep.relinked, 0);
	assert_int_equal(rep.changed, 1);
	assert_false(is_stub("/a", &info));
	assert_int_equal(stat_of("/a").st_size, strlen(A));
	close(fs);
	tplfs_objset_free(&set);
}

/* v2 capability: cap_net_bind_service permitted, effective */
static const unsigned char cap[20] = { 1, 0, 0, 2, 0, 4 };

static void keeps_file_capabilities(void **state)
{
	struct tplfs_relink_report rep;
	struct tplfs_origin_info info;
	struct tplfs_objset set;
	char path[PATH_MAX], stub[PATH_MAX], err[512], got[64];
	int fs;

	(void)state;
	objset(&set);
	put("/bin-with-cap", A, 04755);
	snprintf(path, sizeof(path), "%s/fs/bin-with-cap", top);
	assert_int_equal(setxattr(path, "security.capability", cap, sizeof(cap), 0), 0);
	/* a stub a crash left with its capabilities only in their backup */
	put("/stub-crashed", "", 0755);
	snprintf(stub, sizeof(stub), "%s/fs/stub-crashed", top);
	assert_int_equal(setxattr(stub, TPLFS_ORIGIN_XATTR, "x", 1, 0), 0);
	assert_int_equal(setxattr(stub, TPLFS_CAPS_XATTR, cap, sizeof(cap), 0), 0);
	snprintf(err, sizeof(err), "%s/fs", top);
	fs = open(err, O_RDONLY | O_DIRECTORY);
	assert_int_equal(tplfs_relink(fs, &set, &tplfs_relink_unmounted, false,
				      NULL, NULL, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.relinked, 1);
	assert_true(is_stub("/bin-with-cap", &info));
	/* a truncate drops them: put back, and the backup gone */
	assert_int_equal(getxattr(path, "security.capability", got, sizeof(got)),
			 sizeof(cap));
	assert_memory_equal(got, cap, sizeof(cap));
	assert_int_equal(getxattr(path, TPLFS_CAPS_XATTR, got, sizeof(got)), -1);
	assert_int_equal(stat_of("/bin-with-cap").st_mode & 07777, 04755);
	assert_int_equal(getxattr(stub, "security.capability", got, sizeof(got)),
			 sizeof(cap));
	assert_int_equal(getxattr(stub, TPLFS_CAPS_XATTR, got, sizeof(got)), -1);
	close(fs);
	tplfs_objset_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(relinks_what_equals_an_object,
						setup, teardown),
		cmocka_unit_test_setup_teardown(leaves_a_file_that_changed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(keeps_file_capabilities,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
