// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of the origin xattr encoding (userspace/lib/origin.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "origin.h"

static void fill_digest(uint8_t *d, uint8_t start)
{
	for (int i = 0; i < TPLFS_DIGEST_SIZE; i++)
		d[i] = (uint8_t)(start + i);
}

/* The exact bytes of the design's layout, little-endian. */
static void encode_matches_the_documented_layout(void **state)
{
	struct tplfs_origin_info info = { .size = 0x0102030405060708ULL };
	uint8_t want[TPLFS_ORIGIN_SIZE] = {
		1, 1, 0, 0, 0, 0, 0, 0,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
	};
	uint8_t got[TPLFS_ORIGIN_SIZE];

	(void)state;
	fill_digest(info.digest, 0xa0);
	fill_digest(want + 16, 0xa0);
	tplfs_origin_encode(&info, got);
	assert_memory_equal(want, got, sizeof(want));
}

static void decode_inverts_encode(void **state)
{
	struct tplfs_origin_info in = { .size = 123456789 }, out;
	uint8_t buf[TPLFS_ORIGIN_SIZE];

	(void)state;
	fill_digest(in.digest, 7);
	tplfs_origin_encode(&in, buf);
	assert_int_equal(tplfs_origin_decode(buf, sizeof(buf), &out), 0);
	assert_int_equal(out.size, in.size);
	assert_memory_equal(out.digest, in.digest, TPLFS_DIGEST_SIZE);
}

static void decode_keeps_the_largest_size(void **state)
{
	struct tplfs_origin_info in = { .size = UINT64_MAX }, out;
	uint8_t buf[TPLFS_ORIGIN_SIZE];

	(void)state;
	tplfs_origin_encode(&in, buf);
	assert_int_equal(tplfs_origin_decode(buf, sizeof(buf), &out), 0);
	assert_true(out.size == UINT64_MAX);
}

static void decode_refuses_wrong_lengths(void **state)
{
	struct tplfs_origin_info in = { .size = 1 }, out = { .size = 99 };
	uint8_t buf[TPLFS_ORIGIN_SIZE + 1] = { 0 };

	(void)state;
	tplfs_origin_encode(&in, buf);
	assert_int_equal(tplfs_origin_decode(buf, 0, &out), -EINVAL);
	assert_int_equal(tplfs_origin_decode(buf, 47, &out), -EINVAL);
	assert_int_equal(tplfs_origin_decode(buf, 49, &out), -EINVAL);
	assert_int_equal(out.size, 99);
}

static void decode_refuses_unknown_version_and_algorithm(void **state)
{
	struct tplfs_origin_info in = { .size = 1 }, out = { .size = 99 };
	uint8_t buf[TPLFS_ORIGIN_SIZE];

	(void)state;
	tplfs_origin_encode(&in, buf);
	buf[0] = 2;
	assert_int_equal(tplfs_origin_decode(buf, sizeof(buf), &out),
			 -EPROTONOSUPPORT);
	buf[0] = 0;
	assert_int_equal(tplfs_origin_decode(buf, sizeof(buf), &out),
			 -EPROTONOSUPPORT);
	buf[0] = 1;
	buf[1] = 2;
	assert_int_equal(tplfs_origin_decode(buf, sizeof(buf), &out),
			 -EPROTONOSUPPORT);
	assert_int_equal(out.size, 99);
}

static void decode_refuses_unknown_flags_and_reserved(void **state)
{
	struct tplfs_origin_info in = { .size = 1 }, out = { .size = 99 };
	uint8_t buf[TPLFS_ORIGIN_SIZE];

	(void)state;
	for (int byte = 2; byte < 8; byte++) {
		tplfs_origin_encode(&in, buf);
		buf[byte] = 0x80;
		assert_int_equal(tplfs_origin_decode(buf, sizeof(buf), &out),
				 -EOPNOTSUPP);
	}
	assert_int_equal(out.size, 99);
}

static void object_path_is_the_two_level_hex_form(void **state)
{
	uint8_t digest[TPLFS_DIGEST_SIZE];
	char path[TPLFS_OBJECT_PATH_SIZE];

	(void)state;
	fill_digest(digest, 0xab);
	tplfs_object_path(digest, path);
	assert_string_equal(path, "objects/ab/"
			    "acadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9ca");
	assert_int_equal(strlen(path) + 1, TPLFS_OBJECT_PATH_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_matches_the_documented_layout),
		cmocka_unit_test(decode_inverts_encode),
		cmocka_unit_test(decode_keeps_the_largest_size),
		cmocka_unit_test(decode_refuses_wrong_lengths),
		cmocka_unit_test(decode_refuses_unknown_version_and_algorithm),
		cmocka_unit_test(decode_refuses_unknown_flags_and_reserved),
		cmocka_unit_test(object_path_is_the_two_level_hex_form),
	};

	return cmocka_run_group_tests_name("origin", tests, NULL, NULL);
}
