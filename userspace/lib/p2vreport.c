// SPDX-License-Identifier: LGPL-2.1-or-later
/* A migrated server's configuration that names what it no longer has. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "beneath.h"
#include "p2vreport.h"

/* A configuration file is read up to this; the rest is not looked at. */
#define REPORT_READ_MAX	(1 << 20)

struct report {
	void (*note)(void *arg, const char *text);
	void *arg;
	long n;
	char *const *mounts;
	size_t nmounts;
};

static void say(struct report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct report *r, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->n++;
	r->note(r->arg, text);
}

/*
 * The contents of @path (beneath @fs_fd, NUL-terminated, at most
 * REPORT_READ_MAX bytes), or NULL: absent (nothing said) or unreadable
 * (said).
 */
static char *slurp(struct report *r, int fs_fd, const char *path)
{
	char *buf;
	ssize_t len, got = 0;
	int fd;

	fd = tplfs_open_beneath(fs_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd == -ENOENT)
		return NULL;
	if (fd < 0) {
		say(r, "/%s: not read (%s)", path, fd == -ELOOP ?
		    "a symlink on the way" : strerror(-fd));
		return NULL;
	}
	buf = malloc(REPORT_READ_MAX + 1);
	while (buf && got < REPORT_READ_MAX &&
	       (len = read(fd, buf + got, REPORT_READ_MAX - got)) > 0)
		got += len;
	close(fd);
	if (!buf) {
		say(r, "/%s: not read (out of memory)", path);
		return NULL;
	}
	buf[got] = '\0';
	return buf;
}

static bool joined(const struct report *r, const char *dir)
{
	for (size_t i = 0; i < r->nmounts; i++)
		if (!strcmp(r->mounts[i], dir))
			return true;
	return false;
}

static bool pseudo_fs(const char *type)
{
	static const char *const types[] = {
		"proc", "sysfs", "devpts", "devtmpfs", "tmpfs", "cgroup",
		"cgroup2", "securityfs", "debugfs", "mqueue", "hugetlbfs",
		"fusectl", "configfs", "pstore", "efivarfs", "binfmt_misc",
		NULL
	};

	for (size_t i = 0; types[i]; i++)
		if (!strcmp(type, types[i]))
			return true;
	return false;
}

static void fstab(struct report *r, int fs_fd)
{
	char *text = slurp(r, fs_fd, "etc/fstab"), *save = NULL;

	if (!text)
		return;
	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char spec[256], dir[256], type[64];

		l += strspn(l, " \t");
		if (*l == '#' || sscanf(l, "%255s %255s %63s", spec, dir, type) != 3)
			continue;
		if (!strcmp(type, "swap"))
			say(r, "/etc/fstab: swap %s: a container has no swap of its own",
			    spec);
		else if (pseudo_fs(type))
			continue;
		else if (!strcmp(dir, "/"))
			say(r, "/etc/fstab: %s on / (%s): the container's root is its private area, not this filesystem",
			    spec, type);
		else if (joined(r, dir))
			say(r, "/etc/fstab: %s on %s (%s): joined into the container's tree (--mount); the entry would mount over it",
			    spec, dir, type);
		else
			say(r, "/etc/fstab: %s on %s (%s): not copied (no --mount %s); the container has no such filesystem",
			    spec, dir, type, dir);
	}
	free(text);
}

/* ifupdown: "iface NAME ..." of every interface but the loopback */
static void ifupdown_file(struct report *r, int fs_fd, const char *path)
{
	char *text = slurp(r, fs_fd, path), *save = NULL;

	if (!text)
		return;
	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char name[64];

		l += strspn(l, " \t");
		if (sscanf(l, "iface %63s", name) == 1 && strcmp(name, "lo"))
			say(r, "/%s: interface %s: the container's interfaces are its runtime's (check the name)",
			    path, name);
	}
	free(text);
}

/*
 * Every regular file of directory @dir (beneath @fs_fd) whose name ends
 * in @suffix ("" for all), in name order, given to @fn.
 */
static void each_file(struct report *r, int fs_fd, const char *dir,
		      const char *suffix,
		      void (*fn)(struct report *r, int fs_fd, const char *path))
{
	struct dirent **names;
	char path[PATH_MAX];
	int dfd, n;

	dfd = tplfs_open_beneath(fs_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd == -ENOENT || dfd == -ENOTDIR)
		return;
	if (dfd < 0) {
		say(r, "/%s: not read (%s)", dir, strerror(-dfd));
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	n = scandir(path, &names, NULL, alphasort);
	close(dfd);
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t ln = strlen(nm), ls = strlen(suffix);

		if (nm[0] != '.' && ln >= ls && !strcmp(nm + ln - ls, suffix)) {
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			fn(r, fs_fd, path);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

/* systemd-networkd: the Name= a .network matches, what a .link renames */
static void networkd_file(struct report *r, int fs_fd, const char *path)
{
	char *text = slurp(r, fs_fd, path), *save = NULL;
	bool link = strlen(path) > 5 && !strcmp(path + strlen(path) - 5, ".link");

	if (!text)
		return;
	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, " \t");
		if (!strncmp(l, "Name=", 5) || !strncmp(l, "MACAddress=", 11) ||
		    (link && !strncmp(l, "OriginalName=", 13)))
			say(r, "/%s: %s: names an interface the container may not have",
			    path, l);
	}
	free(text);
}

static void named_file(struct report *r, int fs_fd, const char *path)
{
	char *text = slurp(r, fs_fd, path);

	if (text)
		say(r, "/%s: names the server's interfaces (%s)", path,
		    strstr(path, "netplan") ? "netplan" : "udev persistent names");
	free(text);
}

long tplfs_p2v_report(int fs_fd, char *const *mounts, size_t nmounts,
		      void (*note)(void *arg, const char *text), void *arg)
{
	struct report r = { .note = note, .arg = arg, .mounts = mounts,
			    .nmounts = nmounts };

	fstab(&r, fs_fd);
	ifupdown_file(&r, fs_fd, "etc/network/interfaces");
	each_file(&r, fs_fd, "etc/network/interfaces.d", "", ifupdown_file);
	each_file(&r, fs_fd, "etc/systemd/network", ".network", networkd_file);
	each_file(&r, fs_fd, "etc/systemd/network", ".link", networkd_file);
	each_file(&r, fs_fd, "etc/netplan", ".yaml", named_file);
	named_file(&r, fs_fd, "etc/udev/rules.d/70-persistent-net.rules");
	return r.n;
}
