// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of the packages an app template configures in a container
 * (userspace/lib/postinst.c) and of their manifest header lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "manifest.h"
#include "postinst.h"

static const char base[] =
	"Package: base-files\nStatus: install ok installed\nVersion: 12.4\n\n"
	"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
	"Multi-Arch: same\nVersion: 2.36\n\n";

/* the layer adds, in name order: nginx-light (needs nginx-common and
 * libc6), nginx-common, libnginx-mod:amd64 (Multi-Arch: same, needed by
 * nginx-light), doc-only (no postinst), half (not configured), and cycle-a
 * and cycle-b that need each other */
static const char layer[] =
	"Package: base-files\nStatus: install ok installed\nVersion: 12.4\n\n"
	"Package: cycle-a\nStatus: install ok installed\nDepends: cycle-b\n\n"
	"Package: cycle-b\nStatus: install ok installed\nDepends: cycle-a\n\n"
	"Package: doc-only\nStatus: install ok installed\n\n"
	"Package: half\nStatus: install ok half-configured\n\n"
	"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
	"Multi-Arch: same\nVersion: 2.36\n\n"
	"Package: libnginx-mod\nStatus: install ok installed\nArchitecture: amd64\n"
	"Multi-Arch: same\nDepends: libc6 (>= 2.34)\n\n"
	"Package: nginx-common\nStatus: install ok installed\n"
	"Pre-Depends: base-files\n\n"
	"Package: nginx-light\nStatus: install ok installed\n"
	"Depends: libc6 (>= 2.34), libnginx-mod:any,\n nginx-common (= 1.22) | nginx-full\n\n";

static bool has_postinst(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "doc-only") != 0;
}

static void new_packages_in_dependency_order(void **state)
{
	char **names, err[256];
	size_t n;

	(void)state;
	assert_int_equal(tplfs_postinst_order(base, sizeof(base) - 1, layer,
					      sizeof(layer) - 1, has_postinst,
					      NULL, &names, &n, err,
					      sizeof(err)), 0);
	assert_int_equal(n, 5);
	/* what nginx-light needs before it; the cycle, by name, when
	 * nothing else is ready */
	assert_string_equal(names[0], "libnginx-mod:amd64");
	assert_string_equal(names[1], "nginx-common");
	assert_string_equal(names[2], "nginx-light");
	assert_string_equal(names[3], "cycle-a");
	assert_string_equal(names[4], "cycle-b");
	tplfs_postinst_free(names, n);
}

static void nothing_new_is_nothing(void **state)
{
	char **names, err[256];
	size_t n;

	(void)state;
	assert_int_equal(tplfs_postinst_order(base, sizeof(base) - 1, base,
					      sizeof(base) - 1, has_postinst,
					      NULL, &names, &n, err,
					      sizeof(err)), 0);
	assert_int_equal(n, 0);
	tplfs_postinst_free(names, n);
}

static void a_stanza_without_package_is_refused(void **state)
{
	static const char bad[] = "Status: install ok installed\n\n";
	char **names, err[256];
	size_t n;

	(void)state;
	assert_int_equal(tplfs_postinst_order(base, sizeof(base) - 1, bad,
					      sizeof(bad) - 1, has_postinst,
					      NULL, &names, &n, err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "without Package"));
}

static void package_names(void **state)
{
	static const char *const good[] = { "nginx-light", "g++", "libc6:amd64",
					    "0ad", "x.y-z+w" };
	static const char *const bad[] = { "", "a", "Nginx", "-x", "a b",
					   "a/b", "libc6:", "libc6:AMD", "a:b:c",
					   "x;rm" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(tplfs_manifest_pkg_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(tplfs_manifest_pkg_valid(bad[i]));
}

/* Write a layer with postinst lines, read it back; the reader refuses
 * them where they may not be. */
static void header_lines_round_trip_and_misplaced_ones_are_refused(void **state)
{
	static const char *const cases[][2] = {
		{ "tplfs-manifest 1\ntemplate os@1\npostinst app\n/ d 0755 0 0 0.000000000\nend 1\n",
		  "not a layer" },
		{ "tplfs-manifest 2\ntemplate app@1\nlayer-of os@1\npostinst app\nprivate /etc/x\n/etc d 0755 0 0 0.000000000\nend 1\n",
		  "private after postinst" },
		{ "tplfs-manifest 2\ntemplate app@1\nlayer-of os@1\npostinst app\npostinst app\n/etc d 0755 0 0 0.000000000\nend 1\n",
		  "twice" },
		{ "tplfs-manifest 2\ntemplate app@1\nlayer-of os@1\npostinst ../x\n/etc d 0755 0 0 0.000000000\nend 1\n",
		  "bad postinst" },
		{ "tplfs-manifest 2\ntemplate app@1\nlayer-of os@1\n/etc d 0755 0 0 0.000000000\npostinst app\nend 1\n",
		  "after the entries" },
	};
	struct tplfs_mentry e = { .path = "/etc", .type = 'd', .mode = 0755 };
	const char *const priv[] = { "/etc/app.conf" };
	struct tplfs_mreader *r;
	struct tplfs_mwriter *w;
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_int_equal(tplfs_mwriter_open_layer(f, "app@1", "os@1", priv, 1, &w), 0);
	assert_int_equal(tplfs_mwriter_postinst(w, "nginx-common"), 0);
	assert_int_equal(tplfs_mwriter_postinst(w, "libc6:amd64"), 0);
	assert_int_equal(tplfs_mwriter_postinst(w, "bad name"), -EINVAL);
	assert_int_equal(tplfs_mwriter_add(w, &e), 0);
	assert_int_equal(tplfs_mwriter_postinst(w, "late"), -EINVAL);
	assert_int_equal(tplfs_mwriter_close(w), 0);
	fclose(f);
	assert_non_null(strstr(text, "private /etc/app.conf\npostinst nginx-common\npostinst libc6:amd64\n/etc d"));

	f = fmemopen(text, len, "r");
	assert_int_equal(tplfs_mreader_open(f, &r, err, sizeof(err)), 0);
	assert_int_equal(tplfs_mreader_next(r, &e, err, sizeof(err)), 1);
	assert_int_equal(tplfs_mreader_npostinst(r), 2);
	assert_string_equal(tplfs_mreader_postinst(r, 0), "nginx-common");
	assert_string_equal(tplfs_mreader_postinst(r, 1), "libc6:amd64");
	assert_null(tplfs_mreader_postinst(r, 2));
	assert_int_equal(tplfs_mreader_nprivate(r), 1);
	assert_int_equal(tplfs_mreader_next(r, &e, err, sizeof(err)), 0);
	tplfs_mreader_close(r);
	fclose(f);
	free(text);

	/* a version-1 writer takes none */
	f = open_memstream(&text, &len);
	assert_int_equal(tplfs_mwriter_open(f, "os@1", NULL, 0, &w), 0);
	assert_int_equal(tplfs_mwriter_postinst(w, "app"), -EINVAL);
	e.path = "/";
	assert_int_equal(tplfs_mwriter_add(w, &e), 0);
	assert_int_equal(tplfs_mwriter_close(w), 0);
	fclose(f);
	free(text);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		f = fmemopen((void *)cases[i][0], strlen(cases[i][0]), "r");
		ret = tplfs_mreader_open(f, &r, err, sizeof(err));
		if (!ret) {
			while ((ret = tplfs_mreader_next(r, &e, err, sizeof(err))) == 1)
				;
			tplfs_mreader_close(r);
		}
		fclose(f);
		assert_true(ret < 0);
		if (!strstr(err, cases[i][1]))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_packages_in_dependency_order),
		cmocka_unit_test(nothing_new_is_nothing),
		cmocka_unit_test(a_stanza_without_package_is_refused),
		cmocka_unit_test(package_names),
		cmocka_unit_test(header_lines_round_trip_and_misplaced_ones_are_refused),
	};

	return cmocka_run_group_tests_name("postinst", tests, NULL, NULL);
}
