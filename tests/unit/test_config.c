// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the settings files and container helpers
 * (userspace/lib/{kvfile,config,ct,mountinfo}.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "ct.h"
#include "mountinfo.h"

static char *write_tmp(const char *text)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/tplfs-unit-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void config_reads_every_setting(void **state)
{
	struct tplfs_config cfg;
	char err[256];
	char *path = write_tmp("# tplfs\n\n root = /srv/tplfs \nstore=/mnt/store\n"
			       "socket = /run/t.sock\nread_group = 4242\n"
			       "max_clients = 7\nmax_clients_per_uid = 3\n"
			       "idle_timeout = 60\nverity = require\n");

	(void)state;
	tplfs_config_defaults(&cfg);
	assert_int_equal(tplfs_config_read(&cfg, path, false, err, sizeof(err)), 0);
	assert_string_equal(cfg.root, "/srv/tplfs");
	assert_string_equal(cfg.store, "/mnt/store");
	assert_string_equal(cfg.socket, "/run/t.sock");
	assert_true(cfg.has_read_group);
	assert_int_equal(cfg.read_gid, 4242);
	assert_int_equal(cfg.max_clients, 7);
	assert_int_equal(cfg.max_clients_per_uid, 3);
	assert_int_equal(cfg.idle_timeout, 60);
	assert_string_equal(cfg.verity, "require");
	unlink(path);
	tplfs_config_defaults(&cfg);
	assert_string_equal(cfg.verity, "off");
}

static void config_errors_name_the_line(void **state)
{
	static const char *const bad[][2] = {
		{ "root = relative\n", ":1: \"relative\" is not an absolute path" },
		{ "\n\nbogus = 1\n", ":3: unknown setting \"bogus\"" },
		{ "root\n", ":1: expected \"key = value\"" },
		{ "max_clients = -1\n", ":1: max_clients: 1 to 65536" },
		{ "max_clients_per_uid = 0\n", ":1: max_clients_per_uid: 1 to 65536" },
		{ "idle_timeout = 86401\n", ":1: idle_timeout: 1 to 86400" },
		{ "read_group = no-such-group-tplfs\n", ":1: no group" },
		{ "verity = yes\n", ":1: verity: off, on or require" },
	};
	struct tplfs_config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = write_tmp(bad[i][0]);

		tplfs_config_defaults(&cfg);
		assert_int_equal(tplfs_config_read(&cfg, path, false, err,
						   sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i][1]))
			fail_msg("%s: got \"%s\"", bad[i][0], err);
		assert_non_null(strstr(err, path));
		unlink(path);
	}
	assert_int_equal(tplfs_config_read(&cfg, "/nonexistent/tplfs.conf",
					   true, err, sizeof(err)), 0);
	assert_int_equal(tplfs_config_read(&cfg, "/nonexistent/tplfs.conf",
					   false, err, sizeof(err)), -ENOENT);
}

static void ct_ids(void **state)
{
	(void)state;
	assert_true(tplfs_ct_id_valid("web1"));
	assert_true(tplfs_ct_id_valid("0"));
	assert_true(tplfs_ct_id_valid("a-b_c"));
	assert_true(tplfs_ct_id_valid("a23456789012345678901234567890123456789012345678901234567890123"));
	assert_false(tplfs_ct_id_valid("a234567890123456789012345678901234567890123456789012345678901234"));
	assert_false(tplfs_ct_id_valid(""));
	assert_false(tplfs_ct_id_valid("-a"));
	assert_false(tplfs_ct_id_valid("_a"));
	assert_false(tplfs_ct_id_valid("Web"));
	assert_false(tplfs_ct_id_valid("a.b"));
	assert_false(tplfs_ct_id_valid("a/b"));
	assert_false(tplfs_ct_id_valid(".."));
}

static void ct_conf(void **state)
{
	struct tplfs_ct_conf conf;
	char err[512], *path;

	(void)state;
	path = write_tmp("template = debian-12@1\nvolatile = yes\n");
	assert_int_equal(tplfs_ct_conf_read(path, &conf, err, sizeof(err)), 0);
	assert_string_equal(conf.template, "debian-12@1");
	assert_string_equal(conf.backend, "dir");
	assert_true(conf.is_volatile);
	unlink(path);
	path = write_tmp("backend = thin\n");
	assert_int_equal(tplfs_ct_conf_read(path, &conf, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "backend \"thin\" is not supported"));
	unlink(path);
}

/* ct.conf's uses: read, added to once, written back (relink --against). */
static void ct_conf_uses(void **state)
{
	struct tplfs_ct_conf conf;
	char err[512], *path, text[2048];
	int dfd, fd;
	ssize_t n;

	(void)state;
	path = write_tmp("template = os@1\nuses = app@1 os@2\n");
	assert_int_equal(tplfs_ct_conf_read(path, &conf, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(conf.nuses, 2);
	assert_string_equal(conf.uses[1], "os@2");
	assert_int_equal(tplfs_ct_conf_use(&conf, "os@1"), 0);	/* its own */
	assert_int_equal(tplfs_ct_conf_use(&conf, "app@1"), 0);	/* there */
	assert_int_equal(tplfs_ct_conf_use(&conf, "os@3"), 1);
	strcpy(text, "/tmp/tplfs-unit-XXXXXX");
	assert_non_null(mkdtemp(text));
	dfd = open(text, O_RDONLY | O_DIRECTORY);
	assert_int_equal(tplfs_ct_conf_write(dfd, &conf), 0);
	fd = openat(dfd, "ct.conf", O_RDONLY);
	n = read(fd, text + 100, sizeof(text) - 101);
	assert_true(n > 0);
	text[100 + n] = '\0';
	assert_non_null(strstr(text + 100, "\nuses = app@1 os@2 os@3\n"));
	close(fd);
	unlinkat(dfd, "ct.conf", 0);
	close(dfd);
	assert_int_equal(rmdir(text), 0);
	for (int i = 3; i < TPLFS_CT_USES_MAX; i++) {
		char t[16];

		snprintf(t, sizeof(t), "t%d@1", i);
		assert_int_equal(tplfs_ct_conf_use(&conf, t), 1);
	}
	assert_int_equal(tplfs_ct_conf_use(&conf, "one-more@1"), -ENOSPC);
	path = write_tmp("uses = bad\n");
	assert_int_equal(tplfs_ct_conf_read(path, &conf, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "uses: \"bad\" is not NAME@VERSION"));
	unlink(path);
}

struct seen {
	int n;
	struct tplfs_mount m[4];
};

static int collect(void *arg, const struct tplfs_mount *m)
{
	struct seen *s = arg;

	s->m[s->n++] = *m;
	return 0;
}

static void mountinfo_finds_tplfs_mounts(void **state)
{
	struct seen s = { 0 };
	char *path = write_tmp(
		"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"40 22 0:50 / /var/lib/tplfs/root/web1 rw,relatime shared:20 - tplfs tplfs rw,private=/p,store=/s,ct=web1\n"
		"41 22 0:51 / /mnt/with\\040space rw - tplfs tplfs rw,ct=b,volatile,private=/q,store=/s\n"
		"42 22 0:52 / /mnt/noct rw master:3 - tplfs tplfs rw,private=/q,store=/s\n"
		"43 22 0:53 / /mnt/ovl rw - overlay overlay rw,lowerdir=/a\n");

	(void)state;
	assert_int_equal(tplfs_mounts_scan(path, collect, &s), 3);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.m[0].ct, "web1");
	assert_string_equal(s.m[0].target, "/var/lib/tplfs/root/web1");
	assert_int_equal(s.m[0].mnt_id, 40);
	assert_string_equal(s.m[1].ct, "b");
	assert_string_equal(s.m[1].target, "/mnt/with space");
	assert_string_equal(s.m[2].ct, "");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_reads_every_setting),
		cmocka_unit_test(config_errors_name_the_line),
		cmocka_unit_test(ct_ids),
		cmocka_unit_test(ct_conf),
		cmocka_unit_test(ct_conf_uses),
		cmocka_unit_test(mountinfo_finds_tplfs_mounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
