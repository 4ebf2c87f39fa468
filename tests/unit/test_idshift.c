// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of ids shifted for a user namespace (userspace/lib/idshift.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "idshift.h"

static const struct tplfs_idshift shift = { .base = 524288, .count = 65536 };

static void parse_takes_base_and_count(void **state)
{
	struct tplfs_idshift s;
	char err[256];

	(void)state;
	assert_int_equal(tplfs_idshift_parse("524288:65536", &s, err, sizeof(err)), 0);
	assert_int_equal(s.base, 524288);
	assert_int_equal(s.count, 65536);
	assert_int_equal(tplfs_idshift_parse("4294901759:65535", &s, err,
					     sizeof(err)), 0);
}

static void parse_refuses_what_is_not_a_range(void **state)
{
	static const char *const bad[] = {
		"", ":", "524288", "524288:", ":65536", "0:65536", "1:0",
		"-1:5", "1:-5", "524288:65536:1", "0x10:5", "99999999999:1",
		"4294901760:65536", "1 :2", "4294967295:1",
	};
	struct tplfs_idshift s = { 7, 7 };
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(tplfs_idshift_parse(bad[i], &s, err, sizeof(err)),
				 -EINVAL);
		assert_true(strstr(err, "userns") != NULL);
	}
	assert_int_equal(s.base, 7);	/* untouched */
}

static struct tplfs_xattr xattr(const char *name, const void *v, size_t len)
{
	struct tplfs_xattr x = { .name = (char *)name, .len = len };

	x.value = malloc(len);
	assert_non_null(x.value);
	memcpy(x.value, v, len);
	return x;
}

static void entry_owner_acl_and_caps_are_shifted(void **state)
{
	/* user::rw- user:1000:r-- group::r-- group:33:rw- mask::rw- other::r-- */
	static const uint8_t acl[] = {
		2, 0, 0, 0,
		0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
		0x02, 0, 4, 0, 0xe8, 0x03, 0, 0,
		0x04, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		0x08, 0, 6, 0, 33, 0, 0, 0,
		0x10, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	};
	/* cap_net_raw+ep, revision 2 */
	static const uint8_t cap2[20] = {
		1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0,
	};
	struct tplfs_xattr xs[2] = {
		xattr("security.capability", cap2, sizeof(cap2)),
		xattr("system.posix_acl_access", acl, sizeof(acl)),
	};
	struct tplfs_mentry e = {
		.path = "/usr/bin/ping", .type = 'f', .uid = 0, .gid = 1000,
		.xattrs = xs, .nxattrs = 2,
	};
	uint8_t want[24];
	char err[256];

	(void)state;
	assert_int_equal(tplfs_idshift_entry(&shift, &e, err, sizeof(err)), 0);
	assert_int_equal(e.uid, 524288);
	assert_int_equal(e.gid, 525288);
	/* revision 3, the same sets, root 524288 (0x00080000) */
	memcpy(want, cap2, sizeof(cap2));
	want[3] = 3;
	memcpy(want + 20, (uint8_t[]){ 0, 0, 8, 0 }, 4);
	assert_int_equal(xs[0].len, 24);
	assert_memory_equal(xs[0].value, want, 24);
	/* user:1000 -> 525288 (0x000803e8), group:33 -> 524321; the rest kept */
	assert_memory_equal(xs[1].value + 16, ((uint8_t[]){ 0xe8, 0x03, 8, 0 }), 4);
	assert_memory_equal(xs[1].value + 32, ((uint8_t[]){ 0x21, 0, 8, 0 }), 4);
	assert_memory_equal(xs[1].value + 8, acl + 8, 4);
	assert_memory_equal(xs[1].value + 44, acl + 44, 8);
	free(xs[0].value);
	free(xs[1].value);
}

static void revision_3_capability_has_its_root_shifted(void **state)
{
	uint8_t cap3[24] = { 0, 0, 0, 3, 0, 0x20, 0 };
	struct tplfs_xattr x;
	struct tplfs_mentry e = { .path = "/p", .type = 'f', .nxattrs = 1 };
	char err[256];

	(void)state;
	cap3[20] = 5;	/* root 5 */
	x = xattr("security.capability", cap3, sizeof(cap3));
	e.xattrs = &x;
	assert_int_equal(tplfs_idshift_entry(&shift, &e, err, sizeof(err)), 0);
	assert_memory_equal(x.value + 20, ((uint8_t[]){ 5, 0, 8, 0 }), 4);
	free(x.value);
}

static void out_of_range_and_malformed_are_refused(void **state)
{
	static const uint8_t short_acl[] = { 2, 0, 0, 0, 1, 0 };
	static const uint8_t acl_far[] = {
		2, 0, 0, 0, 0x02, 0, 4, 0, 0, 0, 1, 0,	/* user:65536 */
	};
	static const uint8_t bad_cap[16] = { 0, 0, 0, 2 };
	struct tplfs_mentry e = { .path = "/etc/x", .type = 'f', .uid = 65536 };
	struct tplfs_xattr x;
	char err[256];

	(void)state;
	assert_int_equal(tplfs_idshift_entry(&shift, &e, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "/etc/x"));
	assert_non_null(strstr(err, "owner"));

	e.uid = 0;
	e.gid = 70000;
	assert_int_equal(tplfs_idshift_entry(&shift, &e, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "group"));

	e.uid = e.gid = 0;	/* a failed shift may have shifted some */
	e.nxattrs = 1;
	e.xattrs = &x;
	x = xattr("system.posix_acl_default", short_acl, sizeof(short_acl));
	assert_int_equal(tplfs_idshift_entry(&shift, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "malformed POSIX ACL"));
	free(x.value);

	e.uid = e.gid = 0;
	x = xattr("system.posix_acl_access", acl_far, sizeof(acl_far));
	assert_int_equal(tplfs_idshift_entry(&shift, &e, err, sizeof(err)), -ERANGE);
	free(x.value);

	e.uid = e.gid = 0;
	x = xattr("security.capability", bad_cap, sizeof(bad_cap));
	assert_int_equal(tplfs_idshift_entry(&shift, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "malformed file capability"));
	free(x.value);
}

static void no_shift_changes_nothing(void **state)
{
	struct tplfs_mentry e = { .path = "/x", .type = 'f', .uid = 99999999 };
	char err[256];

	(void)state;
	assert_int_equal(tplfs_idshift_entry(NULL, &e, err, sizeof(err)), 0);
	assert_int_equal(e.uid, 99999999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_takes_base_and_count),
		cmocka_unit_test(parse_refuses_what_is_not_a_range),
		cmocka_unit_test(entry_owner_acl_and_caps_are_shifted),
		cmocka_unit_test(revision_3_capability_has_its_root_shifted),
		cmocka_unit_test(out_of_range_and_malformed_are_refused),
		cmocka_unit_test(no_shift_changes_nothing),
	};

	return cmocka_run_group_tests_name("idshift", tests, NULL, NULL);
}
