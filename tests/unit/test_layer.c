// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of application templates as layers (userspace/lib/layer.c,
 * doc/manifest.md version 2): the layer vector reads and writes back byte
 * for byte; a layer made by diff and applied to its base gives the full
 * tree back, for every kind of change; what does not fit is refused,
 * naming the path; two layers stack only where they change different
 * paths.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "layer.h"
#include "manifest.h"

#ifndef VECTORS
#define VECTORS "tests/unit/vectors"
#endif

#define D1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define D3 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void load(struct tplfs_mlist *l, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	char err[256];
	int ret;

	memset(l, 0, sizeof(*l));
	ret = tplfs_mlist_load(l, f, err, sizeof(err));
	if (ret)
		fail_msg("%s: %s", err, text);
	fclose(f);
}

/* @l written as a version 1 manifest named @id: malloc'd text. */
static char *text_of(const struct tplfs_mlist *l, const char *id)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(tplfs_mlist_write(l, id, f), 0);
	fclose(f);
	return out;
}

static char *diff(const struct tplfs_mlist *base, const struct tplfs_mlist *full,
		  int *ret)
{
	char *out = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	*ret = tplfs_layer_diff(base, "os@1", full, "app@1", NULL, 0, f, err,
				sizeof(err));
	fclose(f);
	return out;
}

static void the_layer_vector_reads_and_writes_back(void **state)
{
	struct tplfs_mreader *r;
	struct tplfs_mwriter *w;
	struct tplfs_mentry e;
	char err[256], *text, *out = NULL;
	const char *priv[] = { "/etc/curlrc" };
	size_t len = 0, outlen = 0;
	FILE *in, *o;
	long n;
	int ret, count = 0;

	(void)state;
	in = fopen(VECTORS "/manifest-v2-layer.txt", "re");
	assert_non_null(in);
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	rewind(in);
	text = malloc((size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, in), (size_t)n);
	fclose(in);
	len = (size_t)n;
	in = fmemopen(text, len, "r");
	o = open_memstream(&out, &outlen);
	assert_int_equal(tplfs_mreader_open(in, &r, err, sizeof(err)), 0);
	assert_string_equal(tplfs_mreader_template(r), "curl@1");
	assert_string_equal(tplfs_mreader_layer_of(r), "debian-12@1");
	assert_int_equal(tplfs_mwriter_open_layer(o, "curl@1", "debian-12@1",
						  priv, 1, &w), 0);
	while ((ret = tplfs_mreader_next(r, &e, err, sizeof(err))) == 1) {
		count++;
		if (!strcmp(e.path, "/var/cache/old"))
			assert_int_equal(e.type, '-');
		if (!strcmp(e.path, "/usr/bin/curl-link"))
			assert_string_equal(e.target, "/usr/bin/curl");
		assert_int_equal(tplfs_mwriter_add(w, &e), 0);
	}
	assert_int_equal(ret, 0);
	assert_int_equal(count, 5);
	assert_int_equal(tplfs_mwriter_close(w), 0);
	fclose(o);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, text, len);
	tplfs_mreader_close(r);
	fclose(in);
	free(out);
	free(text);
}

#define LHEAD "tplfs-manifest 2\ntemplate a@1\nlayer-of t@1\n"

static void bad_layers_are_refused(void **state)
{
	static const char *const bad[][2] = {
		{ "tplfs-manifest 3\ntemplate a@1\n", "version 3 is not supported (only 1 and 2)" },
		{ "tplfs-manifest 2\ntemplate a@1\n/a -\nend 1\n", "expected \"layer-of" },
		{ "tplfs-manifest 2\ntemplate a@1\nlayer-of a@1\n", "another version" },
		{ LHEAD "/ -\nend 1\n", "a deletion is" },
		{ LHEAD "/a - x\nend 1\n", "a deletion is" },
		{ LHEAD "/b -\n/a -\nend 2\n", "out of order" },
		{ LHEAD "/a h /b\nend 1\n", "not an earlier regular file" },
		{ LHEAD "end 0\n", "no entries" },
		/* a deletion is a layer's only */
		{ "tplfs-manifest 1\ntemplate t@1\n/ d 0755 0 0 0.000000000\n/a -\nend 2\n", "expected \"PATH TYPE" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tplfs_mlist l = { 0 };
		FILE *f = fmemopen((void *)bad[i][0], strlen(bad[i][0]), "r");
		int ret = tplfs_mlist_load(&l, f, err, sizeof(err));

		fclose(f);
		if (ret >= 0)
			fail_msg("accepted: %s", bad[i][0]);
		if (!strstr(err, bad[i][1]))
			fail_msg("%s: expected \"%s\", got \"%s\"", bad[i][0],
				 bad[i][1], err);
	}
}

#define HEAD(id) "tplfs-manifest 1\ntemplate " id "\n"
#define DIR(p) p " d 0755 0 0 1.000000000\n"
#define DIRT(p, t) p " d 0755 0 0 " t ".000000000\n"
#define FILE_(p, d) p " f 0644 0 0 1.000000000 1 " d "\n"

static const char base_text[] =
	HEAD("os@1") "private /etc/hostname\n"
	DIR("/") DIR("/etc") FILE_("/etc/hostname", D1) FILE_("/etc/keep", D1)
	FILE_("/etc/meta", D1) FILE_("/etc/passwd", D1)
	DIR("/opt") DIR("/opt/old") FILE_("/opt/old/a", D1) DIR("/opt/old/b")
	FILE_("/opt/old/b/c", D1) FILE_("/opt/old2", D1)
	DIR("/srv") FILE_("/srv/x", D1)
	DIR("/usr") DIR("/usr/bin") FILE_("/usr/bin/a", D1) "/usr/bin/a2 h /usr/bin/a\n"
	FILE_("/usr/bin/b", D1) "/usr/bin/b2 h /usr/bin/b\n"
	"/usr/bin/sh l 0777 0 0 1.000000000 dash\n"
	"end 21\n";

/* What an install makes of it: every kind of change. */
static const char full_text[] =
	HEAD("os@1") "private /etc/app.conf\nprivate /etc/hostname\n"
	DIR("/") DIR("/etc") FILE_("/etc/app.conf", D2) FILE_("/etc/hostname", D1)
	FILE_("/etc/keep", D1)
	"/etc/meta f 0600 0 0 1.000000000 1 " D1 "\n"	/* mode */
	FILE_("/etc/passwd", D2)			/* content */
	DIR("/opt") FILE_("/opt/old2", D1)		/* /opt/old gone, whole */
	"/srv f 0644 0 0 1.000000000 1 " D3 "\n"	/* a directory now a file */
	DIR("/usr") DIRT("/usr/bin", "99")		/* its mtime only */
	FILE_("/usr/bin/a", D1) "/usr/bin/a2 h /usr/bin/a\n"
	FILE_("/usr/bin/b", D2) "/usr/bin/b2 h /usr/bin/b\n"	/* a group changed */
	FILE_("/usr/bin/new", D3) "/usr/bin/new2 h /usr/bin/a\n"	/* a new link */
	"/usr/bin/sh l 0777 0 0 1.000000000 bash\n"
	DIR("/usr/share") FILE_("/usr/share/x", D3)
	"end 21\n";

static void a_layer_applied_to_its_base_is_the_tree(void **state)
{
	struct tplfs_mlist base, full, layer = { 0 }, out = { 0 };
	char *ltext, *want, *got, err[512];
	FILE *f;
	int ret;

	(void)state;
	load(&base, base_text);
	load(&full, full_text);
	ltext = diff(&base, &full, &ret);
	assert_int_equal(ret, 0);
	/* topmost deletions only; the mtime of /usr/bin is not a change;
	 * the new link's first link comes with it */
	assert_non_null(strstr(ltext, "\n/opt/old -\n"));
	assert_null(strstr(ltext, "/opt/old/a"));
	assert_null(strstr(ltext, "/srv/x"));
	assert_null(strstr(ltext, "/usr/bin "));
	assert_null(strstr(ltext, "/etc/keep"));
	assert_non_null(strstr(ltext, "\n/usr/bin/a f "));
	assert_null(strstr(ltext, "/usr/bin/b2"));	/* it follows its first link */
	assert_non_null(strstr(ltext, "layer-of os@1\nprivate /etc/app.conf\n/"));
	f = fmemopen(ltext, strlen(ltext), "r");
	assert_int_equal(tplfs_mlist_load(&layer, f, err, sizeof(err)), 0);
	fclose(f);
	assert_string_equal(layer.layer_of, "os@1");
	ret = tplfs_layer_apply(&out, &base, &layer, NULL, NULL, "os@1", err, sizeof(err));
	if (ret)
		fail_msg("%s", err);
	/* the same tree, but for /usr/bin's mtime, which stays base's */
	want = text_of(&full, "os@1");
	got = text_of(&out, "os@1");
	*strstr(want, "/usr/bin d 0755 0 0 99") = '\0';
	assert_memory_equal(got, want, strlen(want));
	assert_non_null(strstr(got, "\n/usr/bin d 0755 0 0 1.000000000\n"));
	assert_string_equal(strstr(got, "\n/usr/bin/a f"),
			    strstr(strchr(want + strlen(want) + 1, '\n'), "\n/usr/bin/a f"));
	free(want);
	free(got);
	free(ltext);
	tplfs_mlist_free(&base);
	tplfs_mlist_free(&full);
	tplfs_mlist_free(&layer);
	tplfs_mlist_free(&out);
}

static void an_unchanged_tree_is_an_empty_layer(void **state)
{
	struct tplfs_mlist base;
	char *ltext;
	int ret;

	(void)state;
	load(&base, base_text);
	ltext = diff(&base, &base, &ret);
	assert_int_equal(ret, -ENODATA);
	free(ltext);
	tplfs_mlist_free(&base);
}

static void a_layer_that_does_not_fit_is_refused_naming_the_path(void **state)
{
	struct tplfs_mlist base, layer, out = { 0 };
	char err[512];

	(void)state;
	load(&base, base_text);
	/* its directory is not in the tree */
	load(&layer, LHEAD FILE_("/nodir/x", D2) "end 1\n");
	assert_int_equal(tplfs_layer_apply(&out, &base, &layer, NULL, NULL, "t@1+a@1",
					   err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a@1 does not fit its tree at /nodir/x"));
	tplfs_mlist_free(&layer);
	/* a hard link whose first link it deletes */
	load(&layer, LHEAD "/usr/bin/a -\nend 1\n");
	assert_int_equal(tplfs_layer_apply(&out, &base, &layer, NULL, NULL, "t@1+a@1",
					   err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at /usr/bin/a2"));
	tplfs_mlist_free(&layer);
	/* not a layer */
	assert_int_equal(tplfs_layer_apply(&out, &base, &base, NULL, NULL, "t@1+a@1",
					   err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an application template"));
	tplfs_mlist_free(&base);
}

static void layers_stack_where_they_change_different_paths(void **state)
{
	struct tplfs_mlist base, a, b, c, ab = { 0 }, abc = { 0 };
	char err[512];

	(void)state;
	load(&base, base_text);
	load(&a, "tplfs-manifest 2\ntemplate a@1\nlayer-of os@1\n"
	     FILE_("/etc/a", D2) "/opt/old -\nend 2\n");
	load(&b, "tplfs-manifest 2\ntemplate b@1\nlayer-of os@1\n"
	     FILE_("/etc/b", D2) FILE_("/srv/x", D3) "end 2\n");
	/* c changes what a deleted, beneath */
	load(&c, "tplfs-manifest 2\ntemplate c@1\nlayer-of os@1\n"
	     FILE_("/opt/old/a", D3) "end 1\n");
	if (tplfs_layer_apply(&ab, &base, &a, &base, NULL, "os@1+a@1", err, sizeof(err)))
		fail_msg("%s", err);
	tplfs_mlist_free(&ab);
	assert_int_equal(tplfs_layer_apply(&ab, &base, &a, NULL, NULL, "os@1+a@1", err,
					   sizeof(err)), 0);
	assert_int_equal(tplfs_layer_apply(&abc, &ab, &b, &base, NULL, "os@1+a@1", err,
					   sizeof(err)), 0);
	assert_non_null(tplfs_mlist_find(&abc, "/etc/a"));
	assert_non_null(tplfs_mlist_find(&abc, "/etc/b"));
	assert_null(tplfs_mlist_find(&abc, "/opt/old"));
	tplfs_mlist_free(&abc);
	assert_int_equal(tplfs_layer_apply(&abc, &ab, &c, &base, NULL, "os@1+a@1", err,
					   sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "/opt/old/a: changed beneath c@1"));
	/* the same file from another app, written at another time: no clash */
	tplfs_mlist_free(&c);
	load(&c, "tplfs-manifest 2\ntemplate c@1\nlayer-of os@1\n"
	     "/etc/a f 0644 0 0 7.000000000 1 " D2 "\nend 1\n");
	assert_int_equal(tplfs_layer_apply(&abc, &ab, &c, &base, NULL, "os@1+a@1", err,
					   sizeof(err)), 0);
	tplfs_mlist_free(&abc);
	/* a layer applied twice makes the same changes: no clash */
	assert_int_equal(tplfs_layer_apply(&abc, &ab, &a, &base, NULL, "os@1+a@1", err,
					   sizeof(err)), 0);
	tplfs_mlist_free(&abc);
	tplfs_mlist_free(&ab);
	tplfs_mlist_free(&a);
	tplfs_mlist_free(&b);
	tplfs_mlist_free(&c);
	tplfs_mlist_free(&base);
}

/* A package manager's logs, caches and backups stay out of a layer. */
static void volatile_paths_stay_out_of_a_layer(void **state)
{
	static const char vbase[] =
		HEAD("os@1") DIR("/") DIR("/etc") FILE_("/etc/ld.so.cache", D1)
		DIR("/var") DIR("/var/lib") DIR("/var/lib/apt")
		FILE_("/var/lib/apt/extended_states", D1)
		DIR("/var/lib/dpkg") FILE_("/var/lib/dpkg/status", D1)
		FILE_("/var/lib/dpkg/status-old", D1)
		DIR("/var/log") FILE_("/var/log/dpkg.log", D1) "end 12\n";
	static const char vfull[] =
		HEAD("os@1") DIR("/") DIR("/etc") FILE_("/etc/ld.so.cache", D2)
		DIR("/var") DIR("/var/lib") DIR("/var/lib/apt")
		FILE_("/var/lib/apt/extended_states", D2)
		DIR("/var/lib/dpkg") FILE_("/var/lib/dpkg/status", D2)
		FILE_("/var/lib/dpkg/status-old", D2)
		DIR("/var/log") FILE_("/var/log/dpkg.log", D2)
		DIR("/var/log/nginx") FILE_("/var/log/nginx/error.log", D3)
		"end 14\n";
	struct tplfs_mlist base, full;
	const char *body;
	char *ltext;
	int ret;

	(void)state;
	load(&base, vbase);
	load(&full, vfull);
	ltext = diff(&base, &full, &ret);
	assert_int_equal(ret, 0);
	body = strstr(ltext, "layer-of os@1\n");
	assert_non_null(body);
	assert_string_equal(body + 14,
			    "/var/lib/dpkg/status f 0644 0 0 1.000000000 1 " D2 "\n"
			    "/var/log/nginx d 0755 0 0 1.000000000\nend 2\n");
	assert_true(tplfs_layer_volatile("/var/cache/apt/pkgcache.bin", 'f'));
	assert_true(tplfs_layer_volatile("/var/cache/debconf/config.dat-old", 'f'));
	assert_false(tplfs_layer_volatile("/var/cache/debconf/config.dat", 'f'));
	assert_false(tplfs_layer_volatile("/var/log", 'd'));
	assert_false(tplfs_layer_volatile("/etc/ld.so.cache.d", 'f'));
	free(ltext);
	tplfs_mlist_free(&base);
	tplfs_mlist_free(&full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_layer_vector_reads_and_writes_back),
		cmocka_unit_test(bad_layers_are_refused),
		cmocka_unit_test(a_layer_applied_to_its_base_is_the_tree),
		cmocka_unit_test(an_unchanged_tree_is_an_empty_layer),
		cmocka_unit_test(a_layer_that_does_not_fit_is_refused_naming_the_path),
		cmocka_unit_test(layers_stack_where_they_change_different_paths),
		cmocka_unit_test(volatile_paths_stay_out_of_a_layer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
