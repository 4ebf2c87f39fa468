// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of sizes and durations (userspace/lib/units.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "units.h"

static void sizes(void **state)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{ "0", 0 }, { "100000", 100000 }, { "1K", 1024 },
		{ "10G", 10ULL << 30 }, { "1.5T", 3ULL << 39 },
		{ "0.5M", 512 * 1024 }, { "16383T", 16383ULL << 40 },
	};
	static const char *const bad[] = {
		"", "K", "1KB", "1 G", "-1", "1.5", "1x", "1.G.", "G1", "1..5M",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(tplfs_parse_size(good[i].s, &v), 0);
		assert_true(v == good[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tplfs_parse_size(bad[i], &v) != -EINVAL)
			fail_msg("accepted: \"%s\"", bad[i]);
	assert_int_equal(tplfs_parse_size("16777216T", &v), -ERANGE);	/* 2^64 */
	assert_int_equal(tplfs_parse_size("99999999999999999999", &v), -ERANGE);
}

static void limits(void **state)
{
	uint64_t soft, hard;

	(void)state;
	assert_int_equal(tplfs_parse_limits("10G", &soft, &hard), 0);
	assert_true(soft == 10ULL << 30 && hard == soft);
	assert_int_equal(tplfs_parse_limits("512M:1G", &soft, &hard), 0);
	assert_true(soft == 512ULL << 20 && hard == 1ULL << 30);
	assert_int_equal(tplfs_parse_limits("2G:1G", &soft, &hard), -EINVAL);
	assert_int_equal(tplfs_parse_limits("1G:", &soft, &hard), -EINVAL);
	assert_int_equal(tplfs_parse_limits(":1G", &soft, &hard), -EINVAL);
	assert_int_equal(tplfs_parse_limits("1G:2G:3G", &soft, &hard), -EINVAL);
}

static void durations(void **state)
{
	uint64_t s;

	(void)state;
	assert_int_equal(tplfs_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(tplfs_parse_duration("90s", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(tplfs_parse_duration("1h30m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(tplfs_parse_duration("7d", &s), 0);
	assert_int_equal(s, 604800);
	assert_int_equal(tplfs_parse_duration("1w2d3h4m5s", &s), 0);
	assert_int_equal(s, 604800 + 172800 + 10800 + 240 + 5);
	assert_int_equal(tplfs_parse_duration("0", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(tplfs_parse_duration("", &s), -EINVAL);
	assert_int_equal(tplfs_parse_duration("h", &s), -EINVAL);
	assert_int_equal(tplfs_parse_duration("1h30", &s), -EINVAL);
	assert_int_equal(tplfs_parse_duration("1y", &s), -EINVAL);
	assert_int_equal(tplfs_parse_duration("-1s", &s), -EINVAL);
	assert_int_equal(tplfs_parse_duration("99999999999999999999w", &s), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(limits),
		cmocka_unit_test(durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
