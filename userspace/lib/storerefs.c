// SPDX-License-Identifier: LGPL-2.1-or-later
/* References in the store: see storerefs.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "kvfile.h"
#include "store.h"
#include "storerefs.h"

static bool tpl_valid(const char *tpl)
{
	struct tplfs_template_id t;
	char err[128];

	return !tplfs_template_id_parse(tpl, &t, err, sizeof(err));
}

/* refs/@tpl, made if @make; its fd or a negative errno. */
static int tpl_dir(int store_fd, const char *tpl, bool make)
{
	char path[sizeof(TPLFS_REFS_DIR) + 256];
	int fd;

	if (!tpl_valid(tpl))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", TPLFS_REFS_DIR, tpl);
	if (make && ((mkdirat(store_fd, TPLFS_REFS_DIR, 0755) < 0 &&
		      errno != EEXIST) ||
		     (mkdirat(store_fd, path, 0755) < 0 && errno != EEXIST)))
		return -errno;
	fd = openat(store_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int tplfs_ref_put(int store_fd, const struct tplfs_ref *r)
{
	char text[PATH_MAX + 1024];
	int fd, n, ret;

	if (!tplfs_ct_uuid_valid(r->uuid))
		return -EINVAL;
	fd = tpl_dir(store_fd, r->tpl, true);
	if (fd < 0)
		return fd;
	n = snprintf(text, sizeof(text), "host = %s\ndaemon = %s\nct = %s\n",
		     r->host, r->daemon, r->ct);
	ret = n < (int)sizeof(text) ?
	      tplfs_write_atomic(fd, r->uuid, text, (size_t)n, 0644) :
	      -ENAMETOOLONG;
	close(fd);
	return ret;
}

bool tplfs_ref_exists(int store_fd, const char *tpl, const char *uuid)
{
	char path[sizeof(TPLFS_REFS_DIR) + 256 + TPLFS_CT_UUID_LEN + 2];

	if (!tpl_valid(tpl) || !tplfs_ct_uuid_valid(uuid))
		return false;
	snprintf(path, sizeof(path), "%s/%s/%s", TPLFS_REFS_DIR, tpl, uuid);
	return !faccessat(store_fd, path, F_OK, AT_SYMLINK_NOFOLLOW);
}

int tplfs_ref_drop(int store_fd, const char *tpl, const char *uuid)
{
	int fd = tpl_dir(store_fd, tpl, false), ret = 0;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (unlinkat(fd, uuid, 0) < 0 && errno != ENOENT)
		ret = -errno;
	/* the last one takes the directory (another writer may refill it) */
	close(fd);
	return ret;
}

/* refs/ as a DIR in *@top (NULL if there is none yet). 0 or -errno. */
static int open_top(int store_fd, DIR **top)
{
	int fd = openat(store_fd, TPLFS_REFS_DIR, O_RDONLY | O_DIRECTORY |
			O_NOFOLLOW | O_CLOEXEC);

	*top = NULL;
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	*top = fdopendir(fd);
	if (!*top) {
		close(fd);
		return -errno;
	}
	return 0;
}

int tplfs_ref_drop_others(int store_fd, const char *uuid,
			  const char *const *keep, size_t nkeep)
{
	struct dirent *de;
	DIR *top;
	int ret;

	ret = open_top(store_fd, &top);
	if (ret || !top)
		return ret;
	while ((de = readdir(top))) {
		bool kept = false;
		int err;

		if (!tpl_valid(de->d_name))
			continue;
		for (size_t i = 0; i < nkeep && !kept; i++)
			kept = !strcmp(keep[i], de->d_name);
		if (kept)
			continue;
		err = tplfs_ref_drop(store_fd, de->d_name, uuid);
		if (err && !ret)
			ret = err;
	}
	closedir(top);
	return ret;
}

static int ref_setting(void *arg, const char *key, const char *value,
		       char *err, size_t errlen)
{
	struct tplfs_ref *r = arg;
	char *to = !strcmp(key, "host") ? r->host :
		   !strcmp(key, "daemon") ? r->daemon :
		   !strcmp(key, "ct") ? r->ct : NULL;
	size_t size = !strcmp(key, "host") ? sizeof(r->host) :
		      !strcmp(key, "daemon") ? sizeof(r->daemon) :
		      sizeof(r->ct);

	(void)err;
	(void)errlen;
	if (to)
		snprintf(to, size, "%s", value);
	return 0;
}

/* The references in refs/@tpl (open as @dfd), each given to @fn. */
static int each_in(int dfd, const char *tpl,
		   int (*fn)(void *arg, const struct tplfs_ref *r), void *arg)
{
	DIR *dir = fdopendir(dfd);
	struct dirent *de;
	int ret = 0;

	if (!dir) {
		close(dfd);
		return -errno;
	}
	while (!ret && (de = readdir(dir))) {
		struct tplfs_ref r = { 0 };
		char path[32 + sizeof(r.uuid)], err[256];
		struct stat st;

		if (!tplfs_ct_uuid_valid(de->d_name) ||
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		snprintf(r.tpl, sizeof(r.tpl), "%s", tpl);
		strcpy(r.uuid, de->d_name);
		r.renewed = st.st_mtime;
		snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd(dir),
			 r.uuid);
		if (tplfs_kv_read(path, ref_setting, &r, err, sizeof(err)))
			continue;	/* gone meanwhile */
		ret = fn(arg, &r);
	}
	closedir(dir);
	return ret;
}

int tplfs_refs_each(int store_fd, const char *tpl,
		    int (*fn)(void *arg, const struct tplfs_ref *r), void *arg)
{
	struct dirent *de;
	DIR *top;
	int ret;

	if (tpl) {
		int fd = tpl_dir(store_fd, tpl, false);

		if (fd == -ENOENT)
			return 0;
		return fd < 0 ? fd : each_in(fd, tpl, fn, arg);
	}
	ret = open_top(store_fd, &top);
	if (ret || !top)
		return ret;
	while (!ret && (de = readdir(top))) {
		int dfd;

		if (!tpl_valid(de->d_name))
			continue;
		dfd = tpl_dir(store_fd, de->d_name, false);
		if (dfd >= 0)
			ret = each_in(dfd, de->d_name, fn, arg);
	}
	closedir(top);
	return ret;
}
