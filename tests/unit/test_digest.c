// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the object digest (userspace/lib/digest.c). The expected
 * values were computed by `fsverity digest` (Debian's fsverity package), an
 * implementation independent of ours.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "digest.h"

/* A temporary file holding @len bytes of @c. */
static int temp_file(int c, size_t len)
{
	char name[] = "/tmp/tplfs-digest-XXXXXX";
	int fd = mkstemp(name);
	char *buf = malloc(len + 1);

	assert_true(fd >= 0);
	assert_non_null(buf);
	unlink(name);
	memset(buf, c, len);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	free(buf);
	return fd;
}

static void expect_digest(int c, size_t len, const char *hex)
{
	uint8_t digest[TPLFS_DIGEST_SIZE];
	char got[TPLFS_DIGEST_HEX_SIZE + 1];
	uint64_t size = 12345;
	int fd = temp_file(c, len);

	assert_int_equal(tplfs_digest_fd(fd, &size, digest), 0);
	close(fd);
	for (int i = 0; i < TPLFS_DIGEST_SIZE; i++)
		sprintf(got + 2 * i, "%02x", digest[i]);
	assert_string_equal(got, hex);
	assert_int_equal(size, len);
}

static void digest_of_an_empty_file(void **state)
{
	(void)state;
	expect_digest('x', 0, "3d248ca542a24fc62d1c43b916eae501"
			      "6878e2533c88238480b26128a1f1af95");
}

static void digest_of_one_block(void **state)
{
	(void)state;
	expect_digest('a', 4096, "a2a808ddaced77f0b6b3068f47b14b5a"
				 "1fb3fc43674993ab11b8e7e6f2d089e2");
}

static void digest_of_many_blocks_with_a_tail(void **state)
{
	(void)state;
	expect_digest('z', 100000, "10e3318cc91e095f7c66cba76cb19d46"
				   "891d4b4013ae6d5e87f514c26a4fe5f7");
}

static void digest_refuses_a_directory(void **state)
{
	uint8_t digest[TPLFS_DIGEST_SIZE];
	uint64_t size;
	int fd = open("/", 0);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(tplfs_digest_fd(fd, &size, digest), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(digest_of_an_empty_file),
		cmocka_unit_test(digest_of_one_block),
		cmocka_unit_test(digest_of_many_blocks_with_a_tail),
		cmocka_unit_test(digest_refuses_a_directory),
	};

	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
