// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of objects (userspace/lib/object.c): a staged object is not
 * in the store until it is committed, a second writer of the same content
 * finds it, and a file that changes between its hash and its copy is
 * refused (-ESTALE) rather than stored under a name its content does not
 * have.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "digest.h"
#include "object.h"

struct fixture {
	char dir[64];
	int dfd;	/* the test's directory; the store is dir/store */
	int store_fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/tplfs-object-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dfd >= 0);
	assert_int_equal(mkdirat(f->dfd, "store", 0755), 0);
	f->store_fd = openat(f->dfd, "store", O_RDONLY | O_DIRECTORY);
	assert_true(f->store_fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	close(f->store_fd);
	close(f->dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int source(struct fixture *f, const char *name, const char *text)
{
	int fd = openat(f->dfd, name, O_RDWR | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static bool in_store(struct fixture *f, const struct tplfs_origin_info *info)
{
	char path[TPLFS_OBJECT_PATH_SIZE];

	tplfs_object_path(info->digest, path);
	return faccessat(f->store_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void staged_then_committed(void **state)
{
	struct fixture *f = *state;
	struct tplfs_origin_info a, b;
	char tmp[TPLFS_OBJECT_TMP_SIZE], tmp2[TPLFS_OBJECT_TMP_SIZE];
	int fa = source(f, "a", "content\n"), fb = source(f, "b", "content\n");

	assert_int_equal(tplfs_object_stage(f->store_fd, fa, &a, tmp), 1);
	assert_false(in_store(f, &a));
	assert_int_equal(faccessat(f->store_fd, tmp, F_OK, 0), 0);
	/* a twin staged meanwhile: the first commit wins, the second is 0 */
	assert_int_equal(tplfs_object_stage(f->store_fd, fb, &b, tmp2), 1);
	assert_int_equal(tplfs_object_commit(f->store_fd, &a, tmp), 1);
	assert_true(in_store(f, &a));
	assert_int_equal(tplfs_object_commit(f->store_fd, &b, tmp2), 0);
	assert_int_equal(faccessat(f->store_fd, tmp2, F_OK, 0), -1);
	/* and once it is there, staging finds it */
	assert_int_equal(tplfs_object_stage(f->store_fd, fb, &b, tmp2), 0);
	assert_string_equal(tmp2, "");
	assert_int_equal(a.size, 8);
	close(fa);
	close(fb);
}

static int victim = -1;

/* Another writer, between the hash and the copy. */
static void append_a_byte(int src_fd)
{
	(void)src_fd;
	assert_int_equal(write(victim, "!", 1), 1);
}

static void a_file_changed_between_hash_and_copy_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tplfs_origin_info info;
	char tmp[TPLFS_OBJECT_TMP_SIZE];
	int fd = source(f, "c", "before\n");

	victim = fd;
	tplfs_object_stage_hook = append_a_byte;
	assert_int_equal(tplfs_object_stage(f->store_fd, fd, &info, tmp), -ESTALE);
	tplfs_object_stage_hook = NULL;
	assert_string_equal(tmp, "");
	assert_false(in_store(f, &info));
	/* and tplfs_object_put, the one-call form, says the same */
	tplfs_object_stage_hook = append_a_byte;
	assert_int_equal(tplfs_object_put(f->store_fd, fd, &info), -ESTALE);
	tplfs_object_stage_hook = NULL;
	assert_false(in_store(f, &info));
	/* nothing left behind in the object's directory */
	{
		char path[TPLFS_OBJECT_PATH_SIZE], cmd[256];

		tplfs_object_path(info.digest, path);
		path[sizeof("objects/xx") - 1] = '\0';
		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/store/%s' 2>/dev/null)\"",
			 f->dir, path);
		assert_int_equal(system(cmd), 0);
	}
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(staged_then_committed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_file_changed_between_hash_and_copy_is_refused,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
