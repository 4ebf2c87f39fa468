// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the template manifest (userspace/lib/manifest.c) against the
 * test vector tests/unit/vectors/manifest-v1.txt and doc/manifest.md.
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

#include "manifest.h"

#ifndef VECTORS
#define VECTORS "tests/unit/vectors"
#endif

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Read all of @text; returns the reader's final result, error in @err. */
static int read_all(const char *text, size_t len, char *err, size_t errlen,
		    int *entries)
{
	FILE *f = fmemopen((void *)text, len, "r");
	struct tplfs_mreader *r;
	struct tplfs_mentry e;
	int ret;

	*entries = 0;
	ret = tplfs_mreader_open(f, &r, err, errlen);
	if (!ret) {
		while ((ret = tplfs_mreader_next(r, &e, err, errlen)) == 1)
			(*entries)++;
		tplfs_mreader_close(r);
	}
	fclose(f);
	return ret;
}

static void the_vector_reads_as_documented(void **state)
{
	struct tplfs_mreader *r;
	struct tplfs_mentry e;
	char err[256];
	size_t len;
	char *text = slurp(VECTORS "/manifest-v1.txt", &len);
	FILE *f = fmemopen(text, len, "r");
	int n = 0, ret;

	(void)state;
	assert_int_equal(tplfs_mreader_open(f, &r, err, sizeof(err)), 0);
	assert_string_equal(tplfs_mreader_template(r), "debian-12@1");
	while ((ret = tplfs_mreader_next(r, &e, err, sizeof(err))) == 1) {
		n++;
		if (!strcmp(e.path, "/a b")) {
			assert_int_equal(e.type, 'f');
			assert_int_equal(e.uid, 1000);
			assert_int_equal(e.mtime_sec, 1700000001);
			assert_int_equal(e.mtime_nsec, 1);
			assert_int_equal(e.digest[0], 0x3d);
			assert_int_equal(e.digest[31], 0x95);
		} else if (!strcmp(e.path, "/big")) {
			assert_true(e.size == 5000000000ULL);	/* over 4 GiB */
			assert_int_equal(e.mtime_sec, -1);
			assert_int_equal(e.mtime_nsec, 999999999);
		} else if (!strcmp(e.path, "/bin")) {
			assert_string_equal(e.target, "usr/bin");
		} else if (!strcmp(e.path, "/dev/sda")) {
			assert_int_equal(e.type, 'b');
			assert_int_equal(e.major, 8);
			assert_int_equal(e.gid, 6);
		} else if (!strcmp(e.path, "/new\nline")) {
			assert_int_equal(e.size, 1);
		} else if (!strcmp(e.path, "/pct%")) {
			assert_int_equal(e.mode, 04755);
			assert_int_equal(e.nxattrs, 3);
			assert_string_equal(e.xattrs[0].name, "security.capability");
			assert_int_equal(e.xattrs[0].len, 20);
			assert_string_equal(e.xattrs[1].name, "user.a=b");
			assert_int_equal(e.xattrs[1].len, 0);
			assert_int_equal(e.xattrs[2].len, 3);
			assert_int_equal(e.xattrs[2].value[1], 0xff);
		} else if (!strcmp(e.path, "/pct% link")) {
			assert_int_equal(e.type, 'h');
			assert_string_equal(e.target, "/pct%");
		} else if (!strncmp(e.path, "/utf8-", 6)) {
			assert_string_equal(e.path, "/utf8-\xc3\xa9-bad-\xff");
		}
	}
	assert_int_equal(ret, 0);
	assert_int_equal(n, 16);
	assert_int_equal(tplfs_mreader_nprivate(r), 2);
	assert_string_equal(tplfs_mreader_private(r, 1), "/etc/machine-id");
	tplfs_mreader_close(r);
	fclose(f);
	free(text);
}

/* Reading then writing gives back the same bytes: one tree, one manifest. */
static void read_then_write_is_byte_identical(void **state)
{
	const char *private[] = { "/etc/hostname", "/etc/machine-id" };
	struct tplfs_mreader *r;
	struct tplfs_mwriter *w;
	struct tplfs_mentry e;
	char err[256], *out = NULL;
	size_t len, outlen = 0;
	char *text = slurp(VECTORS "/manifest-v1.txt", &len);
	FILE *in = fmemopen(text, len, "r"), *o = open_memstream(&out, &outlen);
	int ret;

	(void)state;
	assert_int_equal(tplfs_mreader_open(in, &r, err, sizeof(err)), 0);
	assert_int_equal(tplfs_mwriter_open(o, "debian-12@1", private, 2, &w), 0);
	while ((ret = tplfs_mreader_next(r, &e, err, sizeof(err))) == 1)
		assert_int_equal(tplfs_mwriter_add(w, &e), 0);
	assert_int_equal(ret, 0);
	assert_int_equal(tplfs_mwriter_close(w), 0);
	fclose(o);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, text, len);
	tplfs_mreader_close(r);
	fclose(in);
	free(out);
	free(text);
}

#define HEAD "tplfs-manifest 1\ntemplate t@1\n"
#define ROOT "/ d 0755 0 0 0.000000000\n"
#define DIG "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void bad_manifests_are_refused_with_the_line(void **state)
{
	static const char *const bad[][2] = {
		{ "", "not a tplfs manifest" },
		{ "tplfs-manifest 3\ntemplate t@1\n", "version 3 is not supported" },
		{ "tplfs-manifest 1\ntemplate t\n", "line 2: expected \"template" },
		{ HEAD ROOT, "no end line" },
		{ HEAD ROOT "end 1", "line 4: line without its line feed" },
		{ HEAD ROOT "end 2\n", "end line says 2 entries, saw 1" },
		{ HEAD "end 0\n", "no entries" },
		{ HEAD "/a d 0755 0 0 0.000000000\nend 1\n", "first entry must be the directory /" },
		{ HEAD ROOT "/b d 0755 0 0 0.000000000\n/a d 0755 0 0 0.000000000\nend 3\n", "line 5: entries out of order" },
		{ HEAD ROOT "/a d 0755 0 0 0.000000000\n/a d 0755 0 0 0.000000000\nend 3\n", "out of order or repeated" },
		{ HEAD ROOT "/a/../b d 0755 0 0 0.000000000\nend 2\n", "bad path" },
		{ HEAD ROOT "/a/ d 0755 0 0 0.000000000\nend 2\n", "bad path" },
		{ HEAD ROOT "/a%2F d 0755 0 0 0.000000000\nend 2\n", "bad path" },
		{ HEAD ROOT "/a%0a d 0755 0 0 0.000000000\nend 2\n", "bad path" },
		{ HEAD ROOT "/a%00 d 0755 0 0 0.000000000\nend 2\n", "bad path" },
		{ HEAD ROOT "/a  d 0755 0 0 0.000000000\nend 2\n", "empty field" },
		{ HEAD ROOT "/a z 0755 0 0 0.000000000\nend 2\n", "expected \"PATH TYPE" },
		{ HEAD ROOT "/a d 755 0 0 0.000000000\nend 2\n", "bad mode" },
		{ HEAD ROOT "/a d 0758 0 0 0.000000000\nend 2\n", "bad mode" },
		{ HEAD ROOT "/a d 0755 -1 0 0.000000000\nend 2\n", "bad mode, owner" },
		{ HEAD ROOT "/a d 0755 0 0 0.5\nend 2\n", "bad mode, owner or time" },
		{ HEAD ROOT "/a f 0644 0 0 0.000000000 1\nend 2\n", "too few fields" },
		{ HEAD ROOT "/a f 0644 0 0 0.000000000 1 " DIG "0\nend 2\n", "bad size or digest" },
		{ HEAD ROOT "/a f 0644 0 0 0.000000000 x " DIG "\nend 2\n", "bad size or digest" },
		{ HEAD ROOT "/a f 0644 0 0 0.000000000 1 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\nend 2\n", "bad size or digest" },
		{ HEAD ROOT "/a c 0644 0 0 0.000000000 13\nend 2\n", "bad device number" },
		{ HEAD ROOT "/a h /b\nend 2\n", "hard link to a path that is not an earlier regular file" },
		{ HEAD ROOT "/a d 0755 0 0 0.000000000\n/b h /a\nend 3\n", "not an earlier regular file" },
		{ HEAD ROOT "/a f 0644 0 0 0.000000000 1 " DIG "\n/b h /a x:u=00\nend 3\n", "PATH h TARGETPATH" },
		{ HEAD ROOT "/a d 0755 0 0 0.000000000 x:user.b=00 x:user.a=00\nend 2\n", "bad xattr" },
		{ HEAD ROOT "/a d 0755 0 0 0.000000000 x:user.a=0\nend 2\n", "bad xattr" },
		{ HEAD ROOT "/a d 0755 0 0 0.000000000 x:user.a=0A\nend 2\n", "bad xattr" },
		{ HEAD ROOT "/a d 0755 0 0 0.000000000 y\nend 2\n", "bad xattr" },
		{ HEAD ROOT "end 1\nextra\n", "data after the end line" },
		{ HEAD ROOT "/x/y d 0755 0 0 0.000000000\nend 2\n", "parent is not a directory" },
		{ HEAD ROOT "/l l 0777 0 0 0.000000000 /\n/l/x f 0644 0 0 0.000000000 1 " DIG "\nend 3\n", "parent is not a directory" },
		{ HEAD "private /b\nprivate /a\n" ROOT "end 1\n", "bad private path" },
		{ HEAD ROOT "private /a\nend 1\n", "private after the entries" },
	};
	char err[256];
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = read_all(bad[i][0], strlen(bad[i][0]), err, sizeof(err), &n);

		if (ret >= 0)
			fail_msg("accepted: %s", bad[i][0]);
		if (!strstr(err, bad[i][1]))
			fail_msg("%s: expected \"%s\", got \"%s\"", bad[i][0],
				 bad[i][1], err);
		assert_non_null(strstr(err, "manifest line "));
	}
	/* And the smallest good one. */
	assert_int_equal(read_all(HEAD ROOT "end 1\n", strlen(HEAD ROOT "end 1\n"),
				  err, sizeof(err), &n), 0);
	assert_int_equal(n, 1);
}

static void every_byte_escapes_and_back(void **state)
{
	unsigned char all[256];
	size_t len;
	char *e, *u;

	(void)state;
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	e = tplfs_manifest_escape(all, sizeof(all));
	assert_null(strchr(e, ' '));
	assert_null(strchr(e, '\n'));
	u = tplfs_manifest_unescape(e, &len);
	assert_int_equal(len, 256);
	assert_memory_equal(u, all, 256);
	free(e);
	free(u);
	/* The encoding is unique: lower-case hex and escaped plain bytes fail. */
	assert_null(tplfs_manifest_unescape("%0a", &len));
	assert_null(tplfs_manifest_unescape("%41", &len));
	assert_null(tplfs_manifest_unescape("%4", &len));
	assert_null(tplfs_manifest_unescape("a b", &len));
	u = tplfs_manifest_unescape("%25%20", &len);
	assert_string_equal(u, "% ");
	free(u);
}

static void the_writer_refuses_what_the_reader_would(void **state)
{
	struct tplfs_mentry root = { .path = "/", .type = 'd', .mode = 0755 };
	struct tplfs_mentry e = { .path = "/a", .type = 'd', .mode = 0755 };
	const char *unsorted[] = { "/b", "/a" };
	struct tplfs_mwriter *w;
	char *out = NULL;
	size_t outlen = 0;
	FILE *o = open_memstream(&out, &outlen);

	(void)state;
	assert_int_equal(tplfs_mwriter_open(o, "t@1", unsorted, 2, &w), -EINVAL);
	assert_int_equal(tplfs_mwriter_open(o, "no-version", NULL, 0, &w), -EINVAL);
	assert_int_equal(tplfs_mwriter_open(o, "t@1", NULL, 0, &w), 0);
	assert_int_equal(tplfs_mwriter_add(w, &e), -EINVAL);	/* root first */
	assert_int_equal(tplfs_mwriter_add(w, &root), 0);
	assert_int_equal(tplfs_mwriter_add(w, &root), -EINVAL);	/* repeated */
	e.path = "/a/./b";
	assert_int_equal(tplfs_mwriter_add(w, &e), -EINVAL);
	e.path = "/a";
	e.mode = 010000;
	assert_int_equal(tplfs_mwriter_add(w, &e), -EINVAL);
	e.mode = 0755;
	assert_int_equal(tplfs_mwriter_add(w, &e), 0);
	assert_int_equal(tplfs_mwriter_close(w), 0);
	fclose(o);
	assert_string_equal(out, "tplfs-manifest 1\ntemplate t@1\n"
			    "/ d 0755 0 0 0.000000000\n/a d 0755 0 0 0.000000000\nend 2\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_vector_reads_as_documented),
		cmocka_unit_test(read_then_write_is_byte_identical),
		cmocka_unit_test(bad_manifests_are_refused_with_the_line),
		cmocka_unit_test(every_byte_escapes_and_back),
		cmocka_unit_test(the_writer_refuses_what_the_reader_would),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
