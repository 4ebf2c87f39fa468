// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Physical-to-container migration's library: the plan and its rsync
 * (lib/p2vplan.c), the host-xattr check (lib/p2vcheck.c) and the
 * configuration report (lib/p2vreport.c). As root (trusted.*).
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

#include "p2vcheck.h"
#include "p2vplan.h"
#include "p2vreport.h"
#include "p2vstate.h"
#include "rsyncout.h"

static char err[512];

static int plan(struct tplfs_p2v_plan *p, const char *from,
		const char *m1, const char *m2, const char *x1, const char *x2)
{
	const char *m[2] = { m1, m2 }, *x[2] = { x1, x2 };

	return tplfs_p2v_plan_init(p, from, m, (m1 != NULL) + (m2 != NULL),
				   x, (x1 != NULL) + (x2 != NULL), err,
				   sizeof(err));
}

static void sources_are_normalised(void **state)
{
	struct tplfs_p2v_plan p;

	(void)state;
	assert_int_equal(plan(&p, "root@web1.example:/", NULL, NULL, NULL, NULL), 0);
	assert_true(p.remote);
	assert_string_equal(p.host, "root@web1.example");
	assert_string_equal(p.root, "/");
	assert_string_equal(p.from, "root@web1.example:/");
	tplfs_p2v_plan_free(&p);
	assert_int_equal(plan(&p, "10.0.0.7://srv//img/", NULL, NULL, NULL, NULL), 0);
	assert_string_equal(p.from, "10.0.0.7:/srv/img");
	tplfs_p2v_plan_free(&p);
	assert_int_equal(plan(&p, "/mnt/disk/", NULL, NULL, NULL, NULL), 0);
	assert_false(p.remote);
	assert_string_equal(p.host, "");
	assert_string_equal(p.from, "/mnt/disk");
	tplfs_p2v_plan_free(&p);
	/* a ':' after the first '/' is part of a local path */
	assert_int_equal(plan(&p, "/mnt/a:b", NULL, NULL, NULL, NULL), 0);
	assert_false(p.remote);
	tplfs_p2v_plan_free(&p);
}

static void hostile_sources_are_refused(void **state)
{
	static const char *const bad[] = {
		"-oProxyCommand=sh:/",	/* an option to ssh */
		"root@-x:/",
		"-l@host:/",
		"@host:/",
		"host:relative",
		"relative/dir",
		"host:/a/../etc",
		"/srv/./x",
		"ho st:/",
		"host\n:/",
		"/a\nb",
		":/",
	};
	struct tplfs_p2v_plan p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(plan(&p, bad[i], NULL, NULL, NULL, NULL), -EINVAL);
		assert_true(err[0]);
	}
}

static void bad_mounts_and_excludes_are_refused(void **state)
{
	struct tplfs_p2v_plan p;

	(void)state;
	assert_int_equal(plan(&p, "/s", "/home", "/home/", NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(plan(&p, "/s", "/", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(plan(&p, "/s", "home", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(plan(&p, "/s", "/a/../b", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(plan(&p, "/s", NULL, NULL, "+ /etc", NULL), -EINVAL);
	assert_int_equal(plan(&p, "/s", NULL, NULL, "- x", NULL), -EINVAL);
	assert_int_equal(plan(&p, "/s", NULL, NULL, "!", NULL), -EINVAL);
	assert_int_equal(plan(&p, "/s", NULL, NULL, "", NULL), -EINVAL);
	assert_int_equal(plan(&p, "/s", "/home", NULL, "/home/", NULL), -EINVAL);
	assert_non_null(strstr(err, "is a --mount"));
}

static bool has(char **argv, const char *arg)
{
	for (size_t i = 0; argv[i]; i++)
		if (!strcmp(argv[i], arg))
			return true;
	return false;
}

static size_t argc_of(char **argv)
{
	size_t n = 0;

	while (argv[n])
		n++;
	return n;
}

static void each_filesystem_is_a_pass(void **state)
{
	struct tplfs_p2v_plan p;
	char **a;
	size_t n;

	(void)state;
	assert_int_equal(plan(&p, "root@h:/", "/home", "/home/www",
			      "/home/www/cache", "*.tmp"), 0);
	assert_int_equal(tplfs_p2v_passes(&p), 3);
	assert_string_equal(tplfs_p2v_pass_path(&p, 1), "/home");
	assert_string_equal(tplfs_p2v_pass_path(&p, 2), "/home/www");
	assert_null(tplfs_p2v_rsync_argv(&p, 3, "/st/fs"));

	/* the root: everything kept, one filesystem, volatile paths out */
	a = tplfs_p2v_rsync_argv(&p, 0, "/st/fs");
	assert_non_null(a);
	n = argc_of(a);
	assert_string_equal(a[0], "rsync");
	assert_true(has(a, "-aHAXS"));
	assert_true(has(a, "--numeric-ids"));
	assert_true(has(a, "--one-file-system"));
	assert_true(has(a, "--delete"));
	assert_true(has(a, "--partial"));
	assert_true(has(a, "--compress"));
	assert_true(has(a, "--filter=-x trusted.tplfs.*"));
	assert_true(has(a, "--filter=-x trusted.overlay.*"));
	assert_true(has(a, "--filter=-x system.*"));
	assert_true(has(a, "--exclude=/proc/*"));
	assert_true(has(a, "--exclude=/swapfile"));
	/* the mounts below it are theirs, and kept from --delete */
	assert_true(has(a, "--exclude=/home/*"));
	assert_true(has(a, "--exclude=/home/www/*"));
	assert_true(has(a, "--exclude=*.tmp"));
	assert_false(has(a, "--exclude=/home/www/cache"));
	assert_string_equal(a[n - 2], "root@h:/");
	assert_string_equal(a[n - 1], "/st/fs/");
	tplfs_p2v_argv_free(a);

	/* /home: its nested mount out, its excludes made relative to it */
	a = tplfs_p2v_rsync_argv(&p, 1, "/st/fs");
	n = argc_of(a);
	assert_false(has(a, "--exclude=/proc/*"));
	assert_true(has(a, "--exclude=/lost+found"));
	assert_true(has(a, "--exclude=/www/*"));
	assert_false(has(a, "--exclude=/home/*"));
	assert_true(has(a, "--exclude=*.tmp"));
	assert_string_equal(a[n - 2], "root@h:/home/");
	assert_string_equal(a[n - 1], "/st/fs/home/");
	tplfs_p2v_argv_free(a);

	/* /home/www: the exclude that falls in it */
	a = tplfs_p2v_rsync_argv(&p, 2, "/st/fs");
	n = argc_of(a);
	assert_true(has(a, "--exclude=/cache"));
	assert_false(has(a, "--exclude=/www/*"));
	assert_string_equal(a[n - 2], "root@h:/home/www/");
	assert_string_equal(a[n - 1], "/st/fs/home/www/");
	tplfs_p2v_argv_free(a);
	tplfs_p2v_plan_free(&p);

	/* a local tree: no host, no compression, its path before each */
	assert_int_equal(plan(&p, "/mnt/img", "/home", NULL, NULL, NULL), 0);
	a = tplfs_p2v_rsync_argv(&p, 1, "/st/fs");
	n = argc_of(a);
	assert_false(has(a, "--compress"));
	assert_string_equal(a[n - 2], "/mnt/img/home/");
	tplfs_p2v_argv_free(a);
	a = tplfs_p2v_rsync_argv(&p, 0, "/st/fs");
	n = argc_of(a);
	assert_string_equal(a[n - 2], "/mnt/img/");
	tplfs_p2v_argv_free(a);
	tplfs_p2v_plan_free(&p);
}

static void host_xattrs_are_named(void **state)
{
	(void)state;
	assert_true(tplfs_p2v_host_xattr("trusted.tplfs.origin"));
	assert_true(tplfs_p2v_host_xattr("trusted.overlay.redirect"));
	assert_false(tplfs_p2v_host_xattr("trusted.tplfs"));
	assert_false(tplfs_p2v_host_xattr("security.capability"));
	assert_false(tplfs_p2v_host_xattr("user.tplfs.origin"));
}

static char top[64];

static void mk(const char *rel, const char *text)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void mkd(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void xset(const char *rel, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	assert_int_equal(lsetxattr(path, name, "x", 1, 0), 0);
}

static int tree_setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/tplfs-p2v.XXXXXX");
	assert_non_null(mkdtemp(top));
	return 0;
}

static int tree_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd);
}

struct finds {
	char text[16][512];
	size_t n;
};

static void found(void *arg, const char *path, const char *xattr)
{
	struct finds *f = arg;

	if (f->n < 16)
		snprintf(f->text[f->n++], sizeof(f->text[0]), "%s %s", path, xattr);
}

static void note(void *arg, const char *text)
{
	struct finds *f = arg;

	if (f->n < 16)
		snprintf(f->text[f->n++], sizeof(f->text[0]), "%s", text);
}

static void forged_host_xattrs_are_found_anywhere(void **state)
{
	struct finds f = { 0 };
	char path[PATH_MAX];
	int fd;

	(void)state;
	mkd("etc");
	mkd("etc/deep");
	mk("etc/deep/file", "x");
	mk("etc/clean", "y");
	xset("etc/clean", "user.mine");
	xset("etc/deep/file", "trusted.tplfs.origin");
	xset("etc", "trusted.overlay.opaque");
	snprintf(path, sizeof(path), "%s/link", top);
	assert_int_equal(symlink("/etc/shadow", path), 0);
	xset("link", "trusted.tplfs.origin");
	fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(tplfs_p2v_host_xattrs(fd, found, &f, err, sizeof(err)), 3);
	close(fd);
	/* a directory before what it holds; the symlink itself, not its target */
	assert_string_equal(f.text[0], "/etc trusted.overlay.opaque");
	assert_non_null(strstr(f.text[1], "/etc/deep/file trusted.tplfs.origin"));
	assert_string_equal(f.text[2], "/link trusted.tplfs.origin");

	/* the root of the tree too */
	xset(".", "trusted.tplfs.origin");
	memset(&f, 0, sizeof(f));
	fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_int_equal(tplfs_p2v_host_xattrs(fd, found, &f, err, sizeof(err)), 4);
	close(fd);
	assert_string_equal(f.text[0], "/ trusted.tplfs.origin");
}

static void configuration_to_change_is_reported(void **state)
{
	char *mounts[] = { "/home" };
	struct finds f = { 0 };
	char path[PATH_MAX];
	int fd;

	(void)state;
	mkd("etc");
	mk("etc/fstab",
	   "# a comment\n"
	   "UUID=1 / ext4 errors=remount-ro 0 1\n"
	   "  /dev/sdb1 /home ext4 defaults 0 2\n"
	   "/dev/sdc1\t/data xfs defaults 0 2\n"
	   "/swapfile none swap sw 0 0\n"
	   "proc /proc proc defaults 0 0\n"
	   "tmpfs /tmp tmpfs defaults 0 0\n");
	mkd("etc/network");
	mk("etc/network/interfaces",
	   "auto lo\niface lo inet loopback\nallow-hotplug ens3\niface ens3 inet dhcp\n");
	mkd("etc/systemd");
	mkd("etc/systemd/network");
	mk("etc/systemd/network/10-wan.network", "[Match]\nName=enp1s0\n[Network]\nDHCP=yes\n");
	mk("etc/systemd/network/ignored.conf", "Name=x\n");
	mkd("etc/udev");
	mkd("etc/udev/rules.d");
	/* a symlink: not followed out of the tree, said */
	snprintf(path, sizeof(path), "%s/etc/udev/rules.d/70-persistent-net.rules", top);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(tplfs_p2v_report(fd, mounts, 1, note, &f), 7);
	close(fd);
	assert_non_null(strstr(f.text[0], "UUID=1 on / (ext4)"));
	assert_non_null(strstr(f.text[1], "/dev/sdb1 on /home (ext4): joined"));
	assert_non_null(strstr(f.text[2], "/dev/sdc1 on /data (xfs): not copied"));
	assert_non_null(strstr(f.text[3], "swap /swapfile"));
	assert_non_null(strstr(f.text[4], "/etc/network/interfaces: interface ens3"));
	assert_non_null(strstr(f.text[5], "10-wan.network: Name=enp1s0"));
	assert_non_null(strstr(f.text[6], "70-persistent-net.rules: not read (a symlink"));
}

static void nothing_to_report_in_a_bare_tree(void **state)
{
	struct finds f = { 0 };
	int fd;

	(void)state;
	fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_int_equal(tplfs_p2v_report(fd, NULL, 0, note, &f), 0);
	assert_int_equal(tplfs_p2v_host_xattrs(fd, found, &f, err, sizeof(err)), 0);
	close(fd);
}

static void rsync_progress_and_stats_are_read(void **state)
{
	struct tplfs_rsync_progress p = { 0 };

	(void)state;
	assert_true(tplfs_rsync_line(&p, "              2   0%    0.00kB/s    0:00:00  "));
	assert_int_equal(p.bytes, 2);
	assert_true(tplfs_rsync_line(&p, "    300,051 100%  143.07MB/s    0:00:00 (xfr#21, to-chk=7/23)"));
	assert_int_equal(p.bytes, 300051);
	assert_int_equal(p.percent, 100);
	assert_int_equal(p.files_left, 7);
	assert_int_equal(p.files_total, 23);
	assert_false(tplfs_rsync_line(&p, ""));
	assert_false(tplfs_rsync_line(&p, "sending incremental file list"));
	assert_false(tplfs_rsync_line(&p, "12 files to consider"));
	assert_false(tplfs_rsync_line(&p, "Number of files: 23 (reg: 21, dir: 2)"));
	assert_false(tplfs_rsync_line(&p, "Number of regular files transferred: 1,021"));
	assert_false(tplfs_rsync_line(&p, "Total file size: 300,051 bytes"));
	assert_false(tplfs_rsync_line(&p, "Total bytes sent: 301,407"));
	assert_false(tplfs_rsync_line(&p, "Total bytes received: 421"));
	assert_int_equal(p.files, 23);
	assert_int_equal(p.transferred, 1021);
	assert_int_equal(p.size, 300051);
	assert_int_equal(p.sent, 301407);
	assert_int_equal(p.received, 421);
	/* the progress figures are not moved by those */
	assert_int_equal(p.bytes, 300051);
}

static void state_is_kept_across_a_write_and_a_read(void **state)
{
	struct tplfs_p2v_state st = { .started = 1700000000, .transfers = 3 };
	struct tplfs_p2v_state back;
	int fd;

	(void)state;
	assert_int_equal(plan(&st.plan, "root@h:/srv/x", "/home", "/var/lib",
			      "/var/log/*", "*.tmp"), 0);
	fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_int_equal(tplfs_p2v_state_read(fd, &back, err, sizeof(err)), -ENOENT);
	assert_int_equal(tplfs_p2v_state_write(fd, &st), 0);
	assert_int_equal(tplfs_p2v_state_read(fd, &back, err, sizeof(err)), 0);
	assert_string_equal(back.plan.from, "root@h:/srv/x");
	assert_int_equal(back.plan.nmounts, 2);
	assert_string_equal(back.plan.mounts[1], "/var/lib");
	assert_int_equal(back.plan.nexcludes, 2);
	assert_string_equal(back.plan.excludes[0], "/var/log/*");
	assert_int_equal(back.started, 1700000000);
	assert_int_equal(back.transfers, 3);
	assert_int_equal(back.finished, 0);
	tplfs_p2v_plan_free(&back.plan);
	st.finished = 1700000500;
	st.source_bytes = 123456789;
	st.source_inodes = 4242;
	assert_int_equal(tplfs_p2v_state_write(fd, &st), 0);
	assert_int_equal(tplfs_p2v_state_read(fd, &back, err, sizeof(err)), 0);
	assert_int_equal(back.finished, 1700000500);
	assert_int_equal(back.source_bytes, 123456789);
	assert_int_equal(back.source_inodes, 4242);
	tplfs_p2v_plan_free(&back.plan);
	tplfs_p2v_plan_free(&st.plan);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sources_are_normalised),
		cmocka_unit_test(hostile_sources_are_refused),
		cmocka_unit_test(bad_mounts_and_excludes_are_refused),
		cmocka_unit_test(each_filesystem_is_a_pass),
		cmocka_unit_test(host_xattrs_are_named),
		cmocka_unit_test(rsync_progress_and_stats_are_read),
		cmocka_unit_test_setup_teardown(state_is_kept_across_a_write_and_a_read,
						tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(forged_host_xattrs_are_found_anywhere,
						tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(configuration_to_change_is_reported,
						tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(nothing_to_report_in_a_bare_tree,
						tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
