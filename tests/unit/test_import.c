// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of importing a directory tree (userspace/lib/import.c): a tree
 * with every kind of file is stored once per content and described exactly
 * by its manifest; loops, mount points and sockets are refused. Root is
 * needed for device nodes, owners, trusted xattrs and bind mounts (make
 * check runs as root).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "import.h"
#include "manifest.h"
#include "mlist.h"
#include "origin.h"
#include "populate.h"
#include "tarball.h"
#include "unlink.h"

#include <archive.h>
#include <archive_entry.h>

struct fixture {
	char dir[64];
	char src[96];
	char store[96];
	int store_fd;
	unsigned int flags;	/* of the imports: TPLFS_IMPORT_* */
};

static void put_at(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void put(const char *path, const char *text)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* "<src>/<rel>", in one of four rotating buffers */
static const char *at(const struct fixture *f, const char *rel)
{
	static char bufs[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", f->src, rel);
	return bufs[i];
}

static void set_cap(const char *path)
{
	static const char cap[20] = { 1, 0, 0, 2, 0, 0x20 };	/* CAP_SYS_CHROOT */

	assert_int_equal(setxattr(path, "security.capability", cap, 20, 0), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/tplfs-import-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->src, sizeof(f->src), "%s/src", f->dir);
	snprintf(f->store, sizeof(f->store), "%s/store", f->dir);
	assert_int_equal(mkdir(f->src, 0755), 0);
	assert_int_equal(mkdir(f->store, 0755), 0);
	f->store_fd = open(f->store, O_RDONLY | O_DIRECTORY);
	assert_true(f->store_fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	close(f->store_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Import f->src, telling @progress; the manifest text in *text (malloc'd). */
static int import_told(struct fixture *f, struct tplfs_import_stats *st,
		       char **text, tplfs_import_progress_fn progress,
		       void *arg, char *err, size_t errlen)
{
	const char *private[] = { "/etc/hostname" };
	size_t len = 0;
	FILE *m = open_memstream(text, &len);
	int ret;

	ret = tplfs_import_dir(f->store_fd, f->src, "t@1", private, 1,
			       f->flags, m, st, progress, arg, err, errlen);
	fclose(m);
	return ret;
}

static int import(struct fixture *f, struct tplfs_import_stats *st,
		  char **text, char *err, size_t errlen)
{
	return import_told(f, st, text, NULL, NULL, err, errlen);
}

static const char *line_of(const char *text, const char *prefix)
{
	static char line[1024];
	const char *p = text;

	while (p && *p) {
		const char *end = strchr(p, '\n');

		if (!strncmp(p, prefix, strlen(prefix)) &&
		    p[strlen(prefix)] == ' ') {
			size_t n = (size_t)(end - p);

			memcpy(line, p, n);
			line[n] = '\0';
			return line;
		}
		p = end ? end + 1 : NULL;
	}
	return "";
}

/*
 * What the import tests start from: etc/hostname; same1 and same2 of one
 * content; same1 set-uid, owned by 123:456; zlink a hard link of same1.
 */
static void put_common_tree(struct fixture *f)
{
	assert_int_equal(mkdir(at(f, "etc"), 0755), 0);
	put(at(f, "etc/hostname"), "template\n");
	put(at(f, "same1"), "same content\n");
	put(at(f, "same2"), "same content\n");
	/* chown before chmod: a chown clears set-id bits */
	assert_int_equal(chown(at(f, "same1"), 123, 456), 0);
	assert_int_equal(chmod(at(f, "same1"), 04755), 0);
	assert_int_equal(link(at(f, "same1"), at(f, "zlink")), 0);
}

static void a_tree_of_every_kind(void **state)
{
	struct fixture *f = *state;
	struct tplfs_import_stats st;
	char err[512], *text = NULL;
	struct timespec ts[2] = { { 1700000000, 5 }, { 1700000000, 5 } };
	int ret;

	put_common_tree(f);
	put(at(f, "new\nline \xff"), "odd name\n");
	assert_int_equal(setxattr(at(f, "same1"), "user.k", "v\0w", 3, 0), 0);
	assert_int_equal(setxattr(at(f, "same1"), "trusted.tplfs.origin", "x", 1, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, at(f, "same1"), ts, 0), 0);
	assert_int_equal(symlink("etc/hostname", at(f, "sym")), 0);
	assert_int_equal(mkfifo(at(f, "fifo"), 0600), 0);
	assert_int_equal(mknod(at(f, "null"), S_IFCHR | 0666, makedev(1, 3)), 0);
	assert_int_equal(chmod(at(f, "null"), 0666), 0);	/* past the umask */

	ret = import(f, &st, &text, err, sizeof(err));
	if (ret)
		fail_msg("import: %s", err);
	/* / etc etc/hostname fifo new.. null same1 same2 sym zlink */
	assert_int_equal(st.entries, 10);
	assert_int_equal(st.files, 4);		/* zlink is a link of same1 */
	assert_int_equal(st.new_objects, 3);	/* same1 and same2 share one */
	assert_non_null(strstr(text, "tplfs-manifest 1\ntemplate t@1\nprivate /etc/hostname\n/ d "));
	assert_string_equal(line_of(text, "/same1"),
		"/same1 f 4755 123 456 1700000000.000000005 13 "
		/* fsverity digest --hash-alg=sha256 --block-size=4096 */
		"97328b1a23305985e8a5c7032a2a50cd70ad8ee67d8c0cd62071f227bb2409fd x:user.k=760077");
	assert_string_equal(line_of(text, "/zlink"), "/zlink h /same1");
	assert_non_null(strstr(line_of(text, "/sym"), "/sym l 0777 0 0 "));
	assert_string_equal(strrchr(line_of(text, "/sym"), ' '), " etc/hostname");
	assert_non_null(strstr(line_of(text, "/null"), "/null c 0666 0 0 "));
	assert_non_null(strstr(line_of(text, "/null"), " 1:3"));
	assert_non_null(strstr(line_of(text, "/fifo"), "/fifo p 0600 "));
	assert_non_null(strstr(text, "\n/new%0Aline%20%FF f 0644 "));
	assert_null(strstr(text, "trusted.tplfs"));	/* never carried in */
	assert_non_null(strstr(text, "\nend 10\n"));
	{	/* and the reader accepts what the import wrote */
		FILE *m = fmemopen(text, strlen(text), "r");
		struct tplfs_mreader *r;
		struct tplfs_mentry e;
		int n = 0;

		assert_int_equal(tplfs_mreader_open(m, &r, err, sizeof(err)), 0);
		while ((ret = tplfs_mreader_next(r, &e, err, sizeof(err))) == 1)
			n++;
		if (ret)
			fail_msg("%s", err);
		assert_int_equal(n, 10);
		tplfs_mreader_close(r);
		fclose(m);
	}
	free(text);
}

/* What the progress callback saw. */
struct seen {
	int calls;
	struct tplfs_import_progress first, last;
	bool monotonic;
	/* after the walk, before any file is stored (the first call, which
	 * comes before the storers start): replace this path by a symlink */
	const char *swap;
};

static void on_progress(void *arg, const struct tplfs_import_progress *p)
{
	struct seen *s = arg;

	if (!s->calls++)
		s->first = *p;
	else if (p->files_done < s->last.files_done ||
		 p->bytes_done < s->last.bytes_done ||
		 p->files_total != s->first.files_total ||
		 p->bytes_total != s->first.bytes_total)
		s->monotonic = false;
	s->last = *p;
	if (s->swap && s->calls == 1) {
		assert_int_equal(unlink(s->swap), 0);
		assert_int_equal(symlink("/etc/shadow", s->swap), 0);
	}
}

static void progress_has_totals_and_holes_are_not_stored(void **state)
{
	struct fixture *f = *state;
	struct seen seen = { .monotonic = true };
	struct tplfs_import_stats st;
	char err[512], *text = NULL;
	int fd;

	put(at(f, "a"), "aaaa");
	put(at(f, "b"), "bbbbbbbb");
	assert_int_equal(link(at(f, "b"), at(f, "b2")), 0);
	/* 1 GiB with 4 KiB of data at its end */
	fd = open(at(f, "sparse"), O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "data", 4, (1 << 30) - 4), 4);
	close(fd);

	if (import_told(f, &st, &text, on_progress, &seen, err, sizeof(err)))
		fail_msg("import: %s", err);
	free(text);
	/* known before the first file: 3 inodes (b2 is b), their bytes */
	assert_int_equal(seen.first.files_done, 0);
	assert_int_equal(seen.first.files_total, 3);
	assert_int_equal(seen.first.bytes_total, 4 + 8 + (1 << 30));
	assert_true(seen.monotonic);
	assert_int_equal(seen.calls, 4);	/* the totals, then each file */
	assert_int_equal(seen.last.files_done, 3);
	assert_int_equal(seen.last.bytes_done, seen.last.bytes_total);
	assert_int_equal(st.new_bytes, 4 + 8 + (1 << 30));
	/* the store grew by blocks, not by the hole: three objects of a
	 * block or a few each */
	assert_true(st.stored_bytes > 0);
	assert_true(st.stored_bytes <= 3 * 64 * 1024);
}

static void a_file_replaced_during_the_import_is_refused(void **state)
{
	struct fixture *f = *state;
	struct seen seen = { .monotonic = true };
	struct tplfs_import_stats st;
	char err[512], *text = NULL;
	int ret;

	put(at(f, "a"), "first");
	put(at(f, "z"), "last");
	seen.swap = at(f, "z");
	ret = import_told(f, &st, &text, on_progress, &seen, err, sizeof(err));
	free(text);
	/* the symlink is not followed out of the tree (to /etc/shadow) */
	assert_int_equal(ret, -ELOOP);
	assert_non_null(strstr(err, "/z: "));
}

/* A tree 1500 levels deep: it crashed the recursive walk at 700. */
static void a_very_deep_tree_imports(void **state)
{
	struct fixture *f = *state;
	struct tplfs_import_stats st;
	char err[512], *text = NULL;
	int fd = open(f->src, O_RDONLY | O_DIRECTORY), nfd;

	assert_true(fd >= 0);
	for (int i = 0; i < 1500; i++) {
		assert_int_equal(mkdirat(fd, "a", 0755), 0);
		nfd = openat(fd, "a", O_RDONLY | O_DIRECTORY);
		assert_true(nfd >= 0);
		close(fd);
		fd = nfd;
	}
	put_at(fd, "leaf", "deep\n");
	close(fd);
	if (import(f, &st, &text, err, sizeof(err)))
		fail_msg("import: %s", err);
	assert_int_equal(st.entries, 1 + 1500 + 1);
	assert_int_equal(st.files, 1);
	free(text);
	/* 2100 levels: a path past PATH_MAX, refused by name, no crash */
	fd = open(at(f, "a"), O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 1500; i++) {
		nfd = openat(fd, "a", O_RDONLY | O_DIRECTORY);
		if (nfd < 0)
			break;
		close(fd);
		fd = nfd;
	}
	for (int i = 0; i < 600; i++) {
		assert_int_equal(mkdirat(fd, "b", 0755), 0);
		nfd = openat(fd, "b", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = nfd;
	}
	close(fd);
	text = NULL;
	assert_int_equal(import(f, &st, &text, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "path too long"));
	free(text);
}

static void loops_mounts_and_sockets_are_refused(void **state)
{
	struct fixture *f = *state;
	struct tplfs_import_stats st;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[512], *text = NULL;
	int s;

	assert_int_equal(mkdir(at(f, "loop"), 0755), 0);
	assert_int_equal(mount(f->src, at(f, "loop"), NULL, MS_BIND, NULL), 0);
	assert_int_equal(import(f, &st, &text, err, sizeof(err)), -EXDEV);
	assert_non_null(strstr(err, "/loop: a mount point"));
	free(text);
	text = NULL;
	umount2(at(f, "loop"), MNT_DETACH);
	rmdir(at(f, "loop"));

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", f->src);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(import(f, &st, &text, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/sock: a socket"));
	close(s);
	free(text);
}

/* A tree imported then populated as a private area: the same metadata,
 * stubs for regular files, a real copy for the always-private one. */
static void populate_gives_back_the_tree_as_stubs(void **state)
{
	struct fixture *f = *state;
	struct tplfs_import_stats st;
	struct tplfs_populate_stats ps;
	struct timespec ts[2] = { { 1600000000, 7 }, { 1600000000, 7 } };
	char err[512], path[256], priv[128], buf[256], *text = NULL;
	struct tplfs_origin_info info;
	struct stat a, b;
	ssize_t n;
	FILE *m;
	int root;

	assert_int_equal(mkdir(at(f, "etc"), 0750), 0);
	put(at(f, "etc/hostname"), "template\n");
	put(at(f, "etc/passwd"), "root:x:0:0\n");
	assert_int_equal(chown(at(f, "etc/passwd"), 0, 42), 0);
	assert_int_equal(chmod(at(f, "etc/passwd"), 04640), 0);
	set_cap(at(f, "etc/passwd"));
	assert_int_equal(utimensat(AT_FDCWD, at(f, "etc/passwd"), ts, 0), 0);
	assert_int_equal(link(at(f, "etc/passwd"), at(f, "etc/link")), 0);
	assert_int_equal(symlink("passwd", at(f, "etc/sym")), 0);
	assert_int_equal(mknod(at(f, "null"), S_IFCHR | 0600, makedev(1, 3)), 0);
	assert_int_equal(utimensat(AT_FDCWD, at(f, "etc"), ts, 0), 0);
	if (import(f, &st, &text, err, sizeof(err)))
		fail_msg("import: %s", err);

	snprintf(priv, sizeof(priv), "%s/priv", f->dir);
	assert_int_equal(mkdir(priv, 0700), 0);
	root = open(priv, O_RDONLY | O_DIRECTORY);
	m = fmemopen(text, strlen(text), "r");
	if (tplfs_populate(f->store_fd, m, root, NULL, &ps, NULL, err, sizeof(err)))
		fail_msg("populate: %s", err);
	fclose(m);
	assert_int_equal(ps.entries, st.entries);
	assert_int_equal(ps.stubs, 1);		/* /etc/passwd (and its link) */
	assert_int_equal(ps.copies, 1);		/* /etc/hostname is private */

	/* The stub: empty, its origin names the content, its metadata kept. */
	assert_int_equal(lstat(at(f, "etc/passwd"), &a), 0);
	snprintf(path, sizeof(path), "%s/etc/passwd", priv);
	assert_int_equal(lstat(path, &b), 0);
	assert_int_equal(b.st_size, 0);
	assert_int_equal(b.st_mode, a.st_mode);	/* 04640, after the chown */
	assert_int_equal(b.st_gid, 42);
	assert_int_equal(b.st_mtim.tv_nsec, 7);
	assert_int_equal(b.st_nlink, 2);
	n = getxattr(path, "trusted.tplfs.origin", buf, sizeof(buf));
	assert_int_equal(n, TPLFS_ORIGIN_SIZE);
	assert_int_equal(tplfs_origin_decode(buf, (size_t)n, &info), 0);
	assert_int_equal(info.size, 11);
	assert_int_equal(getxattr(path, "security.capability", buf, sizeof(buf)), 20);
	snprintf(buf, sizeof(buf), "%s/etc/link", priv);
	assert_int_equal(lstat(buf, &a), 0);
	assert_int_equal(a.st_ino, b.st_ino);	/* a link of the one stub */
	/* The always-private file has its content. */
	snprintf(path, sizeof(path), "%s/etc/hostname", priv);
	assert_int_equal(lstat(path, &b), 0);
	assert_int_equal(b.st_size, 9);
	assert_int_equal(getxattr(path, "trusted.tplfs.origin", buf, sizeof(buf)), -1);
	/* The symlink, the device, the directory's own time. */
	snprintf(path, sizeof(path), "%s/etc/sym", priv);
	n = readlink(path, buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "passwd", 6);
	snprintf(path, sizeof(path), "%s/null", priv);
	assert_int_equal(lstat(path, &b), 0);
	assert_true(S_ISCHR(b.st_mode));
	assert_int_equal(b.st_rdev, makedev(1, 3));
	snprintf(path, sizeof(path), "%s/etc", priv);
	assert_int_equal(lstat(path, &b), 0);
	assert_int_equal(b.st_mode & 07777, 0750);
	assert_int_equal(b.st_mtim.tv_sec, 1600000000);
	close(root);
	free(text);
}

/* A populate into a non-empty area fails rather than mixing trees. */
static void populate_refuses_to_overwrite(void **state)
{
	struct fixture *f = *state;
	struct tplfs_populate_stats ps;
	const char *text = "tplfs-manifest 1\ntemplate t@1\n"
		"/ d 0755 0 0 0.000000000\n/a d 0755 0 0 0.000000000\nend 2\n";
	char err[512], priv[128];
	FILE *m;
	int root;

	snprintf(priv, sizeof(priv), "%s/src", f->dir);
	strcat(priv, "/a");
	put(priv, "already here");
	*strrchr(priv, '/') = '\0';
	root = open(priv, O_RDONLY | O_DIRECTORY);
	m = fmemopen((void *)text, strlen(text), "r");
	assert_int_equal(tplfs_populate(f->store_fd, m, root, NULL, &ps, NULL, err,
					sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "/a: cannot make it: File exists"));
	fclose(m);
	close(root);
}

/* Export a template, extract and import the tarball: the same manifest. */
static void export_then_import_gives_the_same_manifest(void **state)
{
	struct fixture *f = *state;
	struct tplfs_import_stats st;
	char err[512], path[256], tarball[128], *a = NULL, *b = NULL;
	uint64_t n;
	int out;
	FILE *m;

	assert_int_equal(mkdir(at(f, "etc"), 0755), 0);
	put(at(f, "etc/hostname"), "template\n");
	put(at(f, "big"), "");
	assert_int_equal(truncate(at(f, "big"), 5 << 20), 0);	/* a hole */
	put(at(f, "name with\nnewline and \xff"), "odd\n");
	assert_int_equal(setxattr(at(f, "big"), "user.bin", "\0\1\2", 3, 0), 0);
	set_cap(at(f, "big"));
	assert_int_equal(link(at(f, "big"), at(f, "hard")), 0);
	assert_int_equal(symlink("/etc/hostname", at(f, "abs")), 0);
	assert_int_equal(mkfifo(at(f, "fifo"), 0640), 0);
	assert_int_equal(mknod(at(f, "zero"), S_IFCHR | 0666, makedev(1, 5)), 0);
	assert_int_equal(chmod(f->src, 0711), 0);
	if (import(f, &st, &a, err, sizeof(err)))
		fail_msg("import: %s", err);

	snprintf(tarball, sizeof(tarball), "%s/t.tar.zst", f->dir);
	m = fmemopen(a, strlen(a), "r");
	out = open(tarball, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(out >= 0);
	if (tplfs_tarball_export(f->store_fd, m, out, tarball, &n, err,
				 sizeof(err)))
		fail_msg("export: %s", err);
	close(out);
	fclose(m);
	assert_int_equal(n, st.entries);

	/* Extract where the source was, and import it again. */
	snprintf(path, sizeof(path), "rm -rf %s && mkdir %s", f->src, f->src);
	assert_int_equal(system(path), 0);
	{	/* in a thread of its own working directory: not the process's */
		char before[PATH_MAX], after[PATH_MAX];

		assert_non_null(getcwd(before, sizeof(before)));
		if (tplfs_tarball_extract(tarball, f->src, &n, NULL, NULL, err,
					  sizeof(err)))
			fail_msg("extract: %s", err);
		assert_non_null(getcwd(after, sizeof(after)));
		assert_string_equal(after, before);
	}
	if (import(f, &st, &b, err, sizeof(err)))
		fail_msg("import of the export: %s", err);
	assert_string_equal(b, a);
	free(a);
	free(b);
}

/* Write a tarball of one regular file named @name (and a hard link). */
static void evil_tarball(const char *path, const char *name, const char *hard)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 0);
	if (hard)
		archive_entry_set_hardlink(e, hard);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
}

static void tarballs_that_escape_are_refused(void **state)
{
	static const char *const evil[][3] = {
		{ "/etc/passwd", NULL, "absolute or \"..\" paths are refused" },
		{ "a/../../x", NULL, "absolute or \"..\" paths are refused" },
		{ "x", "../../etc/shadow", "linking to ../../etc/shadow" },
		{ "x", "/etc/shadow", "absolute or \"..\" paths are refused" },
	};
	struct fixture *f = *state;
	char err[512], tarball[128];
	uint64_t n;

	snprintf(tarball, sizeof(tarball), "%s/evil.tar", f->dir);
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		evil_tarball(tarball, evil[i][0], evil[i][1]);
		assert_int_equal(tplfs_tarball_extract(tarball, f->src, &n, NULL, NULL, err,
						       sizeof(err)), -EINVAL);
		if (!strstr(err, evil[i][2]))
			fail_msg("%s: got \"%s\"", evil[i][0], err);
		assert_int_equal(n, 0);
	}
	/* Nothing was written outside, or inside. */
	assert_int_equal(access("/x", F_OK), -1);
	assert_int_equal(rmdir(f->src), 0);
	assert_int_equal(mkdir(f->src, 0755), 0);
	assert_true(tplfs_tarball_extract("/nonexistent.tar", f->src, &n, NULL, NULL, err,
					  sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent.tar"));
}

/* Every object of the store at @store_fd: @n of them, the store owner's,
 * 0444, no xattrs, @n_links each. */
static void objects_are_plain(int store_fd, int n, nlink_t n_links)
{
	char path[320], list[256];
	int found = 0;

	for (unsigned int d = 0; d < 256; d++) {
		char dir[16];
		DIR *dh;
		struct dirent *de;
		int dfd;

		snprintf(dir, sizeof(dir), "objects/%02x", d);
		dfd = openat(store_fd, dir, O_RDONLY | O_DIRECTORY);
		if (dfd < 0)
			continue;
		dh = fdopendir(dfd);
		assert_non_null(dh);
		while ((de = readdir(dh))) {
			struct stat sb;

			if (de->d_name[0] == '.')
				continue;
			assert_int_equal(fstatat(dfd, de->d_name, &sb, 0), 0);
			assert_int_equal(sb.st_mode, S_IFREG | 0444);
			assert_int_equal(sb.st_uid, geteuid());
			assert_int_equal(sb.st_gid, getegid());
			assert_int_equal(sb.st_nlink, n_links);
			snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd,
				 de->d_name);
			assert_int_equal(llistxattr(path, list, sizeof(list)), 0);
			found++;
		}
		closedir(dh);
	}
	assert_int_equal(found, n);
}

/*
 * A tree the caller gives (TPLFS_IMPORT_ADOPT): the same manifest as a
 * copy gives, its files linked in as objects that look like written ones;
 * from another filesystem, copied as before and left as they were.
 */
static void an_adopted_tree_gives_the_same_manifest(void **state)
{
	struct fixture *f = *state;
	struct tplfs_import_stats st;
	char err[512], cmd[512], copy[128], *a = NULL, *b = NULL;
	struct stat sb;

	put_common_tree(f);
	put(at(f, "empty"), "");
	assert_int_equal(setxattr(at(f, "same1"), "user.k", "v", 1, 0), 0);
	set_cap(at(f, "same1"));
	snprintf(copy, sizeof(copy), "%s/copy", f->dir);
	snprintf(cmd, sizeof(cmd), "cp -a %s %s", f->src, copy);
	assert_int_equal(system(cmd), 0);

	if (import(f, &st, &a, err, sizeof(err)))
		fail_msg("import: %s", err);
	assert_int_equal(st.new_objects, 3);	/* hostname, same, empty */
	snprintf(cmd, sizeof(cmd), "rm -rf %s/objects", f->store);
	assert_int_equal(system(cmd), 0);
	f->flags = TPLFS_IMPORT_ADOPT;
	if (import(f, &st, &b, err, sizeof(err)))
		fail_msg("adopting import: %s", err);
	assert_string_equal(b, a);
	assert_int_equal(st.new_objects, 3);
	/* each new object is one of the tree's files, moved out of it (the
	 * caller removes the rest); of same1 and same2, at least the one a
	 * storer took first (both, if two hashed them at once: the later
	 * is dropped at the commit); zlink keeps same1's inode */
	assert_int_equal(access(at(f, "etc/hostname"), F_OK), -1);
	assert_true((access(at(f, "same1"), F_OK) == 0) +
		    (access(at(f, "same2"), F_OK) == 0) <= 1);
	assert_int_equal(stat(at(f, "zlink"), &sb), 0);
	assert_int_equal(sb.st_nlink, 2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->src);
	assert_int_equal(system(cmd), 0);
	objects_are_plain(f->store_fd, 3, 1);

	/* another filesystem (tmpfs): copied, the tree left as it was */
	snprintf(cmd, sizeof(cmd), "rm -rf %s/objects", f->store);
	assert_int_equal(system(cmd), 0);
	snprintf(f->src, sizeof(f->src), "/dev/shm/tplfs-import-%d", getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -a %s %s", f->src, copy,
		 f->src);
	assert_int_equal(system(cmd), 0);
	free(b);
	b = NULL;
	if (import(f, &st, &b, err, sizeof(err)))
		fail_msg("adopting import from tmpfs: %s", err);
	assert_string_equal(b, a);
	assert_int_equal(stat(at(f, "same1"), &sb), 0);
	assert_int_equal(sb.st_mode, S_IFREG | 04755);
	assert_int_equal(sb.st_nlink, 2);
	assert_int_equal(getxattr(at(f, "same1"), "user.k", cmd, sizeof(cmd)), 1);
	objects_are_plain(f->store_fd, 3, 1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->src);
	assert_int_equal(system(cmd), 0);
	free(a);
	free(b);
}

/*
 * Populate f->dir/@name (made @mode) from the manifest @text, as a full
 * clone if @full: the area's fd, its path in @priv.
 */
static int populated(struct fixture *f, const char *text, const char *name,
		     mode_t mode, bool full, struct tplfs_populate_stats *ps,
		     char *priv, size_t len)
{
	FILE *m = fmemopen((void *)text, strlen(text), "r");
	char err[512];
	int root;

	snprintf(priv, len, "%s/%s", f->dir, name);
	assert_int_equal(mkdir(priv, mode), 0);
	root = open(priv, O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);
	if ((full ? tplfs_populate_full : tplfs_populate)(f->store_fd, m, root,
							   NULL, ps, NULL, err,
							   sizeof(err)))
		fail_msg("populate: %s", err);
	fclose(m);
	return root;
}

/* tplfs_import_private_area of f->src, made from the manifest @base. */
static int import_area(struct fixture *f, const char *base,
		       struct tplfs_import_stats *st, char **text,
		       tplfs_import_progress_fn progress, void *arg,
		       char *err, size_t errlen)
{
	struct tplfs_mlist l = { 0 };
	FILE *bm = fmemopen((void *)base, strlen(base), "r");
	size_t len = 0;
	FILE *m;
	int ret;

	assert_int_equal(tplfs_mlist_load(&l, bm, err, errlen), 0);
	fclose(bm);
	m = open_memstream(text, &len);
	ret = tplfs_import_private_area(f->store_fd, f->src, &l, "t@2", m, st,
					progress, arg, err, errlen);
	fclose(m);
	tplfs_mlist_free(&l);
	return ret;
}

/* A file of a private area made private with @content. */
static void privatize(const char *priv, const char *path, const char *content)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s/%s", priv, path);
	removexattr(full, TPLFS_ORIGIN_XATTR);
	put(full, content);
}

/*
 * A container's private area imports as a template whose stubs are their
 * origins' objects, never read (only private files are stored); its own
 * identity (machine-id, ssh host keys) and always-private files are not
 * taken: the template's entries stand for them. A stub whose object is
 * missing is refused.
 */
static void a_private_area_imports_with_its_stubs(void **state)
{
	struct fixture *f = *state;
	struct tplfs_import_stats st;
	struct tplfs_populate_stats ps;
	struct seen seen = { .monotonic = true };
	char err[512], priv[96], *text = NULL, *text2 = NULL, obj[160];
	char line[1024];
	static const char *const own[] = {
		"/etc/hostname", "/etc/machine-id",
		"/etc/ssh/ssh_host_ed25519_key",
		"/etc/ssh/ssh_host_ed25519_key.pub",
	};
	uint8_t v[TPLFS_ORIGIN_SIZE];
	struct tplfs_origin_info info;
	int fd;

	assert_int_equal(mkdir(at(f, "etc"), 0755), 0);
	assert_int_equal(mkdir(at(f, "etc/ssh"), 0755), 0);
	put(at(f, "etc/hostname"), "template\n");
	put(at(f, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
	put(at(f, "etc/ssh/ssh_host_ed25519_key"), "template's key\n");
	put(at(f, "etc/ssh/ssh_host_ed25519_key.pub"), "template's pub\n");
	put(at(f, "etc/passwd"), "root:x:0:0\n");
	put(at(f, "etc/group"), "root:x:0:\n");
	if (import(f, &st, &text, err, sizeof(err)))
		fail_msg("import: %s", err);
	close(populated(f, text, "priv", 0755, false, &ps, priv, sizeof(priv)));
	/* the container changed group and made a file of its own */
	privatize(priv, "etc/group", "root:x:0:\nstaff:x:50:\n");
	privatize(priv, "etc/motd", "hello\n");
	/* and it has an identity of its own, and a name */
	privatize(priv, "etc/hostname", "maint\n");
	privatize(priv, "etc/machine-id", "fedcba9876543210fedcba9876543210\n");
	privatize(priv, "etc/ssh/ssh_host_ed25519_key", "its own key\n");
	privatize(priv, "etc/ssh/ssh_host_ed25519_key.pub", "its own pub\n");
	privatize(priv, "etc/ssh/ssh_host_rsa_key", "its rsa key\n");

	snprintf(f->src, sizeof(f->src), "%s", priv);
	if (import_area(f, text, &st, &text2, on_progress, &seen, err,
			sizeof(err)))
		fail_msg("import of the private area: %s", err);
	/* the stub's line is the template's; group and motd read */
	snprintf(line, sizeof(line), "%s", line_of(text, "/etc/passwd"));
	assert_true(line[0]);
	assert_string_equal(line_of(text2, "/etc/passwd"), line);
	snprintf(line, sizeof(line), "%s", line_of(text, "/etc/group"));
	assert_true(line[0]);
	assert_string_not_equal(line_of(text2, "/etc/group"), line);
	assert_true(line_of(text2, "/etc/motd")[0]);
	assert_int_equal(seen.first.files_total, 2);
	assert_int_equal(st.new_objects, 2);	/* group, motd */
	/* the identity and the always-private file are the template's */
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		snprintf(line, sizeof(line), "%s", line_of(text, own[i]));
		assert_true(line[0]);
		assert_string_equal(line_of(text2, own[i]), line);
	}
	assert_false(line_of(text2, "/etc/ssh/ssh_host_rsa_key")[0]);
	assert_non_null(strstr(text2, "private /etc/hostname\n"));

	/* a stub whose object the store lost */
	snprintf(obj, sizeof(obj), "%s/etc/passwd", priv);
	assert_int_equal(getxattr(obj, TPLFS_ORIGIN_XATTR, v, sizeof(v)),
			 TPLFS_ORIGIN_SIZE);
	assert_int_equal(tplfs_origin_decode(v, sizeof(v), &info), 0);
	tplfs_object_path(info.digest, obj);
	fd = open(f->store, O_RDONLY | O_DIRECTORY);
	assert_int_equal(unlinkat(fd, obj, 0), 0);
	close(fd);
	free(text2);
	text2 = NULL;
	assert_int_equal(import_area(f, text, &st, &text2, NULL, NULL, err,
				     sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/etc/passwd"));
	assert_non_null(strstr(err, "the store does not have"));
	free(text);
	free(text2);
}

/* @path's bytes equal @want, and it is no stub. */
static void holds(const char *path, const char *want)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(getxattr(path, TPLFS_ORIGIN_XATTR, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENODATA);
}

/*
 * ct unlink of an unmounted container: every stub becomes a private copy
 * in its own inode, owner, set-id mode, file capabilities, mtime and hard
 * links kept; a capability backup a crashed copy left is what is put
 * back; a second run finds nothing to do. A full clone is populated with
 * copies only.
 */
static void unlink_makes_stubs_private_copies(void **state)
{
	struct fixture *f = *state;
	struct tplfs_import_stats st;
	struct tplfs_populate_stats ps;
	struct tplfs_unlink_report rep;
	const struct timespec ts[2] = { { 1600000000, 7 }, { 1600000000, 7 } };
	char err[512], priv[128], path[192], lpath[192], *text = NULL;
	uint8_t cap[64];
	struct stat a, b;
	int root;

	assert_int_equal(mkdir(at(f, "etc"), 0755), 0);
	put(at(f, "etc/hostname"), "template\n");
	put(at(f, "etc/passwd"), "root:x:0:0\n");
	assert_int_equal(chown(at(f, "etc/passwd"), 0, 42), 0);
	assert_int_equal(chmod(at(f, "etc/passwd"), 04750), 0);
	set_cap(at(f, "etc/passwd"));
	assert_int_equal(utimensat(AT_FDCWD, at(f, "etc/passwd"), ts, 0), 0);
	assert_int_equal(link(at(f, "etc/passwd"), at(f, "etc/link")), 0);
	put(at(f, "etc/group"), "root:x:0:\n");
	if (import(f, &st, &text, err, sizeof(err)))
		fail_msg("import: %s", err);
	root = populated(f, text, "priv", 0700, false, &ps, priv, sizeof(priv));
	assert_int_equal(ps.stubs, 2);		/* passwd (and link), group */
	/* a crash of a copy-up left its backup of the capabilities */
	snprintf(path, sizeof(path), "%s/etc/group", priv);
	assert_int_equal(setxattr(path, "trusted.tplfs.caps", "\x01\x00\x00\x02"
				  "\x00\x20\x00\x00\x00\x00\x00\x00"
				  "\x00\x00\x00\x00\x00\x00\x00\x00", 20, 0), 0);

	if (tplfs_unlink_area(root, f->store_fd, -1, &rep, err, sizeof(err)))
		fail_msg("unlink: %s", err);
	assert_int_equal(rep.stubs, 2);
	assert_int_equal(rep.copied, 2);
	assert_int_equal(rep.bytes, 11 + 10);
	snprintf(path, sizeof(path), "%s/etc/passwd", priv);
	holds(path, "root:x:0:0\n");
	assert_int_equal(lstat(at(f, "etc/passwd"), &a), 0);
	assert_int_equal(lstat(path, &b), 0);
	assert_int_equal(b.st_mode, a.st_mode);		/* 04750 */
	assert_int_equal(b.st_gid, 42);
	assert_int_equal(b.st_mtim.tv_sec, 1600000000);
	assert_int_equal(b.st_mtim.tv_nsec, 7);
	assert_int_equal(getxattr(path, "security.capability", cap, sizeof(cap)),
			 20);
	snprintf(lpath, sizeof(lpath), "%s/etc/link", priv);
	assert_int_equal(lstat(lpath, &a), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	snprintf(path, sizeof(path), "%s/etc/group", priv);
	holds(path, "root:x:0:\n");
	assert_int_equal(getxattr(path, "security.capability", cap, sizeof(cap)),
			 20);
	assert_int_equal(getxattr(path, "trusted.tplfs.caps", cap, sizeof(cap)),
			 -1);
	if (tplfs_unlink_area(root, f->store_fd, -1, &rep, err, sizeof(err)))
		fail_msg("unlink again: %s", err);
	assert_int_equal(rep.stubs, 0);
	close(root);

	/* a full clone: copies only */
	close(populated(f, text, "full", 0700, true, &ps, priv, sizeof(priv)));
	assert_int_equal(ps.stubs, 0);
	assert_int_equal(ps.copies, 3);		/* hostname, passwd, group */
	snprintf(path, sizeof(path), "%s/etc/passwd", priv);
	holds(path, "root:x:0:0\n");
	assert_int_equal(lstat(path, &b), 0);
	assert_int_equal(b.st_mode & 07777, 04750);
	assert_int_equal(getxattr(path, "security.capability", cap, sizeof(cap)),
			 20);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_tree_of_every_kind, setup,
						teardown),
		cmocka_unit_test_setup_teardown(loops_mounts_and_sockets_are_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_very_deep_tree_imports,
						setup, teardown),
		cmocka_unit_test_setup_teardown(progress_has_totals_and_holes_are_not_stored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_file_replaced_during_the_import_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(populate_gives_back_the_tree_as_stubs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(populate_refuses_to_overwrite,
						setup, teardown),
		cmocka_unit_test_setup_teardown(export_then_import_gives_the_same_manifest,
						setup, teardown),
		cmocka_unit_test_setup_teardown(tarballs_that_escape_are_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(unlink_makes_stubs_private_copies,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_private_area_imports_with_its_stubs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(an_adopted_tree_gives_the_same_manifest,
						setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_import needs root (device nodes, owners, trusted xattrs, bind mounts)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
