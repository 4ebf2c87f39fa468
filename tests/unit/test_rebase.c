// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lib/rebase.c on a private area of the host (a container that is not
 * mounted): a container made from base by populate, changed in the ways
 * a container changes, rebased to theirs; then what each path became, and
 * that a second run (after a kill, or to the same version) changes
 * nothing. As root (trusted.*).
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
#include "mlist.h"
#include "origin.h"
#include "populate.h"
#include "rebase.h"

static char top[64];
static int store_fd, fs_fd, stage_fd;

struct ent {
	const char *path;
	char type;
	const char *text;	/* f: content; l: target; h: first link */
	unsigned int mode;
};

#define STATUS0 "Package: a\nArchitecture: amd64\nVersion: 1\n\nPackage: b\nArchitecture: all\nVersion: 1\n\n"
#define STATUS1 "Package: a\nArchitecture: amd64\nVersion: 2\n\nPackage: b\nArchitecture: all\nVersion: 1\n\n"
#define STATUS_OURS STATUS0 "Package: c\nArchitecture: amd64\nVersion: 9\n\n"
#define STATUS_MERGED "Package: a\nArchitecture: amd64\nVersion: 2\n\nPackage: b\nArchitecture: all\nVersion: 1\n\nPackage: c\nArchitecture: amd64\nVersion: 9\n\n"

/* Sorted by path, as a manifest is. */
static const struct ent base_ents[] = {
	{ "/", 'd', NULL, 0755 },
	{ "/deleted", 'f', "deleted v1\n", 0644 },
	{ "/etc", 'd', NULL, 0755 },
	{ "/etc/hostname", 'f', "template\n", 0644 },
	{ "/gone", 'f', "gone\n", 0644 },
	{ "/gone-changed", 'f', "gone too\n", 0644 },
	{ "/gone-meta", 'f', "gone, chmodded\n", 0644 },
	{ "/hl1", 'f', "linked v1\n", 0644 },
	{ "/hl2", 'h', "/hl1", 0644 },
	{ "/keep", 'f', "unchanged\n", 0644 },
	{ "/link", 'l', "keep", 0777 },
	{ "/meta", 'f', "meta v1\n", 0644 },
	{ "/mine", 'f', "mine v1\n", 0644 },
	{ "/olddir", 'd', NULL, 0755 },
	{ "/olddir/f", 'f', "old\n", 0644 },
	{ "/priv", 'f', "priv v1\n", 0644 },
	{ "/same", 'f', "same v1\n", 0644 },
	{ "/typechg", 'f', "a file\n", 0644 },
	{ "/tz", 'f', "zone\n", 0644 },
	{ "/upd", 'f', "upd v1\n", 0644 },
	{ "/var", 'd', NULL, 0755 },
	{ "/var/lib", 'd', NULL, 0755 },
	{ "/var/lib/dpkg", 'd', NULL, 0755 },
	{ "/var/lib/dpkg/status", 'f', STATUS0, 0644 },
};

static const struct ent theirs_ents[] = {
	{ "/", 'd', NULL, 0755 },
	{ "/deleted", 'f', "deleted v2\n", 0644 },
	{ "/etc", 'd', NULL, 0755 },
	{ "/etc/hostname", 'f', "template v2\n", 0644 },
	{ "/gone-changed", 'f', "gone too v2\n", 0644 },
	{ "/hl1", 'f', "linked v2\n", 0644 },
	{ "/hl2", 'h', "/hl1", 0644 },
	{ "/keep", 'f', "unchanged\n", 0644 },
	{ "/link", 'l', "upd", 0777 },
	{ "/meta", 'f', "meta v2\n", 0644 },
	{ "/mine", 'f', "mine v2\n", 0644 },
	{ "/new", 'f', "new\n", 0600 },
	{ "/newdir", 'd', NULL, 0700 },
	{ "/newdir/x", 'f', "x\n", 0644 },
	{ "/priv", 'f', "priv v2\n", 0644 },
	{ "/same", 'f', "same v2\n", 0644 },
	{ "/typechg", 'd', NULL, 0755 },
	{ "/typechg/c", 'f', "child\n", 0644 },
	{ "/tz", 'f', "zone\n", 0644 },	/* the same bytes, a new mtime */
	{ "/upd", 'f', "upd v2\n", 0640 },
	{ "/var", 'd', NULL, 0755 },
	{ "/var/lib", 'd', NULL, 0755 },
	{ "/var/lib/dpkg", 'd', NULL, 0755 },
	{ "/var/lib/dpkg/status", 'f', STATUS1, 0644 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void path_of(char *buf, const char *rel)
{
	snprintf(buf, PATH_MAX, "%s/fs%s", top, rel);
}

/* The object of @text, put in the store; its size and digest in @e. */
static void object(const char *text, struct tplfs_mentry *e)
{
	char path[PATH_MAX], obj[TPLFS_OBJECT_PATH_SIZE], dir[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/tmp", top);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(tplfs_digest_fd(fd, &e->size, e->digest), 0);
	close(fd);
	tplfs_object_path(e->digest, obj);
	snprintf(dir, sizeof(dir), "%s/store/%.10s", top, obj);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/store/%s", top, obj);
	assert_int_equal(rename(path, dir), 0);
}

/* The manifest of @v as text (*@text, malloc'd), /etc/hostname private. */
static size_t manifest(const char *id, const struct ent *v, size_t n,
		       char **text)
{
	const char *private[] = { "/etc/hostname" };
	struct tplfs_mwriter *w;
	size_t len = 0;
	FILE *f = open_memstream(text, &len);

	assert_int_equal(tplfs_mwriter_open(f, id, private, 1, &w), 0);
	for (size_t i = 0; i < n; i++) {
		struct tplfs_mentry e = {
			.path = (char *)v[i].path, .type = v[i].type,
			.mode = v[i].mode, .mtime_sec = 1000 + (int64_t)i,
		};

		if (e.type == 'f')
			object(v[i].text, &e);
		else if (e.type == 'l' || e.type == 'h')
			e.target = (char *)v[i].text;
		if (e.type == 'l')
			e.mode = 0777;
		assert_int_equal(tplfs_mwriter_add(w, &e), 0);
	}
	assert_int_equal(tplfs_mwriter_close(w), 0);
	fclose(f);
	return len;
}

static void load(const char *text, size_t len, struct tplfs_mlist *l)
{
	char err[256];
	FILE *f = fmemopen((void *)text, len, "r");

	memset(l, 0, sizeof(*l));
	assert_int_equal(tplfs_mlist_load(l, f, err, sizeof(err)), 0);
	fclose(f);
}

static char *base_text, *theirs_text;
static size_t base_len, theirs_len;
static struct tplfs_mlist base, theirs;

static int setup(void **state)
{
	struct tplfs_populate_stats st;
	char path[PATH_MAX], err[512];
	FILE *f;

	(void)state;
	strcpy(top, "/tmp/tplfs-rebase-XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/store", top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/store/objects", top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/store", top);
	store_fd = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/fs", top);
	assert_int_equal(mkdir(path, 0755), 0);
	fs_fd = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/stage", top);
	assert_int_equal(mkdir(path, 0700), 0);
	stage_fd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(store_fd >= 0 && fs_fd >= 0 && stage_fd >= 0);
	base_len = manifest("t@1", base_ents, N(base_ents), &base_text);
	theirs_len = manifest("t@2", theirs_ents, N(theirs_ents), &theirs_text);
	load(base_text, base_len, &base);
	load(theirs_text, theirs_len, &theirs);
	f = fmemopen(base_text, base_len, "r");
	assert_int_equal(tplfs_populate(store_fd, f, fs_fd, NULL, &st, NULL, err,
					sizeof(err)), 0);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	tplfs_mlist_free(&base);
	tplfs_mlist_free(&theirs);
	free(base_text);
	free(theirs_text);
	close(store_fd);
	close(fs_fd);
	close(stage_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd);
}

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	int fd;

	path_of(path, rel);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The content a path shows: a stub's object's, or its own. */
static char *content(const char *rel)
{
	static char buf[4096];
	struct tplfs_origin_info info;
	uint8_t v[TPLFS_ORIGIN_SIZE];
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	path_of(path, rel);
	n = lgetxattr(path, TPLFS_ORIGIN_XATTR, v, sizeof(v));
	if (n == TPLFS_ORIGIN_SIZE) {
		char obj[TPLFS_OBJECT_PATH_SIZE];

		assert_int_equal(tplfs_origin_decode(v, n, &info), 0);
		tplfs_object_path(info.digest, obj);
		fd = openat(store_fd, obj, O_RDONLY);
	} else {
		fd = open(path, O_RDONLY);
	}
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static bool is_stub(const char *rel)
{
	char path[PATH_MAX];

	path_of(path, rel);
	return lgetxattr(path, TPLFS_ORIGIN_XATTR, NULL, 0) == TPLFS_ORIGIN_SIZE;
}

static struct stat stat_of(const char *rel)
{
	struct stat sb = { 0 };
	char path[PATH_MAX];

	path_of(path, rel);
	if (lstat(path, &sb) < 0)
		sb.st_mode = 0;
	return sb;
}

struct seen {
	int n;
	char lines[64][160];
};

static void note(void *arg, const struct tplfs_rebase_item *it)
{
	struct seen *s = arg;

	if (s->n < 64)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s %s",
			 it->outcome, it->path);
}

static bool saw(const struct seen *s, const char *line)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->lines[i], line))
			return true;
	return false;
}

static int run(const struct tplfs_mlist *b, const struct tplfs_mlist *t,
	       bool dry, struct tplfs_rebase_report *rep, struct seen *s)
{
	struct tplfs_rebase_args a = {
		.fs_fd = fs_fd, .stage_fd = stage_fd, .store_fd = store_fd,
		.base = b, .theirs = t, .ops = &tplfs_relink_unmounted,
		.dry_run = dry, .item = note, .arg = s,
	};
	char err[512] = "";
	int ret;

	memset(s, 0, sizeof(*s));
	ret = tplfs_rebase(&a, rep, err, sizeof(err));
	if (ret)
		print_error("rebase: %s\n", err);
	return ret;
}

/* theirs's mtime of /tz (manifest(): 1000 + its index) */
static time_t tz_mtime(void)
{
	for (size_t i = 0; i < N(theirs_ents); i++)
		if (!strcmp(theirs_ents[i].path, "/tz"))
			return 1000 + (time_t)i;
	fail();
	return 0;
}

/* What the container did to its base. */
static void change_the_container(void)
{
	char path[PATH_MAX];

	put("/mine", "the container's own\n");
	path_of(path, "/meta");
	assert_int_equal(chmod(path, 0600), 0);
	put("/gone-changed", "changed before it went\n");
	path_of(path, "/gone-meta");
	assert_int_equal(chmod(path, 0600), 0);
	path_of(path, "/deleted");
	assert_int_equal(unlink(path), 0);
	put("/priv", "priv v1\n");	/* rewritten with the same bytes */
	put("/same", "same v2\n");	/* ran the same update itself */
	/* and so rewrote /tz with the same bytes and theirs's mtime (dpkg
	 * unpacking a package whose file did not change) */
	put("/tz", "zone\n");
	path_of(path, "/tz");
	{
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
					  { .tv_sec = tz_mtime() } };

		assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
	put("/var/lib/dpkg/status", STATUS_OURS);
	put("/own", "made by the container\n");
}

static void rebases_every_kind_of_path(void **state)
{
	struct tplfs_rebase_report rep;
	struct seen s;
	struct stat sb, sb2;
	ino_t meta_ino = stat_of("/meta").st_ino;
	ino_t upd_ino = stat_of("/upd").st_ino;
	char path[PATH_MAX];

	(void)state;
	change_the_container();

	/* a dry run says the same and changes nothing */
	assert_int_equal(run(&base, &theirs, true, &rep, &s), 0);
	assert_true(saw(&s, "updated /upd"));
	assert_true(saw(&s, "conflict /mine"));
	assert_string_equal(content("/upd"), "upd v1\n");
	assert_true(stat_of("/gone").st_mode);

	assert_int_equal(run(&base, &theirs, false, &rep, &s), 0);
	/* untouched: theirs, in its own inode, with theirs's mode */
	assert_string_equal(content("/upd"), "upd v2\n");
	sb = stat_of("/upd");
	assert_int_equal(sb.st_ino, upd_ino);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_true(is_stub("/upd"));
	assert_string_equal(content("/keep"), "unchanged\n");
	/* the container's mode kept, theirs's content */
	assert_string_equal(content("/meta"), "meta v2\n");
	assert_int_equal(stat_of("/meta").st_mode & 07777, 0600);
	assert_int_equal(stat_of("/meta").st_ino, meta_ino);
	/* changed in both: the container's, a conflict */
	assert_string_equal(content("/mine"), "the container's own\n");
	assert_true(saw(&s, "conflict /mine"));
	/* removed in theirs: gone if untouched, kept if changed */
	assert_int_equal(stat_of("/gone").st_mode, 0);
	assert_true(saw(&s, "removed /gone"));
	assert_string_equal(content("/gone-changed"), "changed before it went\n");
	assert_true(saw(&s, "conflict /gone-changed"));
	/* a stub of base's kept (its mode changed): base stays in use */
	assert_true(is_stub("/gone-meta"));
	assert_true(saw(&s, "conflict /gone-meta"));
	assert_int_equal(rep.old_stubs, 1);
	/* removed in the container: stays removed */
	assert_int_equal(stat_of("/deleted").st_mode, 0);
	assert_true(saw(&s, "conflict /deleted"));
	/* a private copy equal to base, and one already theirs: stubs */
	assert_true(is_stub("/priv"));
	assert_string_equal(content("/priv"), "priv v2\n");
	assert_true(is_stub("/same"));
	/* a private copy of theirs's content and metadata, where theirs
	 * changed the metadata only: a stub again, its mtime kept */
	assert_true(is_stub("/tz"));
	assert_string_equal(content("/tz"), "zone\n");
	assert_int_equal(stat_of("/tz").st_mtime, tz_mtime());
	/* new in theirs */
	assert_string_equal(content("/new"), "new\n");
	assert_int_equal(stat_of("/new").st_mode & 07777, 0600);
	assert_int_equal(stat_of("/newdir").st_mode & 07777, 0700);
	assert_int_equal(stat_of("/newdir").st_mtime,
			 1000 + 12);	/* its index in theirs_ents */
	assert_string_equal(content("/newdir/x"), "x\n");
	/* removed with its directory */
	assert_int_equal(stat_of("/olddir").st_mode, 0);
	/* a file that became a directory */
	assert_true(S_ISDIR(stat_of("/typechg").st_mode));
	assert_string_equal(content("/typechg/c"), "child\n");
	/* a symlink's new target */
	path_of(path, "/link");
	{
		char t[16] = "";

		assert_int_equal(readlink(path, t, sizeof(t) - 1), 3);
		assert_string_equal(t, "upd");
	}
	/* hard links: theirs's content, still one inode */
	assert_string_equal(content("/hl2"), "linked v2\n");
	sb = stat_of("/hl1");
	sb2 = stat_of("/hl2");
	assert_int_equal(sb.st_ino, sb2.st_ino);
	/* always private: a private copy of theirs, since it was base's */
	assert_false(is_stub("/etc/hostname"));
	assert_string_equal(content("/etc/hostname"), "template v2\n");
	/* dpkg's database merged by package */
	assert_false(is_stub("/var/lib/dpkg/status"));
	assert_string_equal(content("/var/lib/dpkg/status"), STATUS_MERGED);
	assert_int_equal(rep.merged, 1);
	/* the container's own file */
	assert_string_equal(content("/own"), "made by the container\n");
	/* the stage is left empty */
	path_of(path, "/../stage");
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	close(stage_fd);
	stage_fd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(stage_fd >= 0);

	/* run again from base (a kill before the commit): nothing moves */
	assert_int_equal(run(&base, &theirs, false, &rep, &s), 0);
	assert_string_equal(content("/upd"), "upd v2\n");
	assert_string_equal(content("/mine"), "the container's own\n");
	assert_string_equal(content("/var/lib/dpkg/status"), STATUS_MERGED);
	assert_int_equal(stat_of("/deleted").st_mode, 0);
	assert_int_equal(rep.created + rep.removed, 0);
	assert_int_equal(stat_of("/upd").st_ino, upd_ino);

	/* to the same version, from it: nothing at all */
	assert_int_equal(run(&theirs, &theirs, false, &rep, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(rep.updated + rep.created + rep.removed +
			 rep.conflicts + rep.merged, 0);
}

/* A directory theirs removed but the container put a file in is kept. */
static void keeps_a_removed_directory_the_container_uses(void **state)
{
	struct tplfs_rebase_report rep;
	struct seen s;

	(void)state;
	put("/olddir/mine", "a file of the container\n");
	assert_int_equal(run(&base, &theirs, false, &rep, &s), 0);
	assert_true(S_ISDIR(stat_of("/olddir").st_mode));
	assert_int_equal(stat_of("/olddir/f").st_mode, 0);
	assert_string_equal(content("/olddir/mine"), "a file of the container\n");
	assert_true(saw(&s, "conflict /olddir"));
}

/* A directory replaced by a symlink: nothing is made through it. */
static void never_follows_a_symlink_of_the_container(void **state)
{
	struct tplfs_rebase_report rep;
	struct seen s;
	char path[PATH_MAX + 8], outside[PATH_MAX];

	(void)state;
	snprintf(outside, sizeof(outside), "%s/outside", top);
	assert_int_equal(mkdir(outside, 0755), 0);
	/* /newdir does not exist in base: the container made it a symlink */
	path_of(path, "/newdir");
	assert_int_equal(symlink(outside, path), 0);
	assert_int_equal(run(&base, &theirs, false, &rep, &s), 0);
	snprintf(path, sizeof(path), "%s/x", outside);
	assert_int_equal(access(path, F_OK), -1);
	assert_true(saw(&s, "conflict /newdir"));
	assert_true(saw(&s, "conflict /newdir/x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rebases_every_kind_of_path,
						setup, teardown),
		cmocka_unit_test_setup_teardown(keeps_a_removed_directory_the_container_uses,
						setup, teardown),
		cmocka_unit_test_setup_teardown(never_follows_a_symlink_of_the_container,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
