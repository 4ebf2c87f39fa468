// SPDX-License-Identifier: LGPL-2.1-or-later
/* The template store: see store.h and doc/store.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "object.h"
#include "store.h"

/* templates/<name>/<version> and a file in it: bounded by the part sizes */
#define DIR_SIZE	192
#define PATH_SIZE	256

static bool part_valid(const char *s, const char *first, const char *rest)
{
	size_t len = strlen(s);

	if (len == 0 || len > TPLFS_TEMPLATE_PART_MAX || !strchr(first, s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!strchr(rest, s[i]))
			return false;
	return true;
}

#define LOWER	"abcdefghijklmnopqrstuvwxyz0123456789"
#define MIXED	LOWER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

bool tplfs_template_name_valid(const char *name)
{
	return part_valid(name, LOWER, LOWER "._-");
}

bool tplfs_template_version_valid(const char *version)
{
	return part_valid(version, MIXED, MIXED "._+-");
}

int tplfs_template_id_parse(const char *id, struct tplfs_template_id *t,
			    char *err, size_t errlen)
{
	const char *at = strchr(id, '@');
	size_t nlen;

	if (!at) {
		snprintf(err, errlen, "\"%s\" is not NAME@VERSION", id);
		return -EINVAL;
	}
	nlen = (size_t)(at - id);
	if (nlen > TPLFS_TEMPLATE_PART_MAX ||
	    strlen(at + 1) > TPLFS_TEMPLATE_PART_MAX) {
		snprintf(err, errlen, "template name or version too long");
		return -EINVAL;
	}
	memcpy(t->name, id, nlen);
	t->name[nlen] = '\0';
	strcpy(t->version, at + 1);
	if (!tplfs_template_name_valid(t->name)) {
		snprintf(err, errlen,
			 "\"%s\" is not a template name ([a-z0-9][a-z0-9._-]{0,62})",
			 t->name);
		return -EINVAL;
	}
	if (!tplfs_template_version_valid(t->version)) {
		snprintf(err, errlen,
			 "\"%s\" is not a template version ([A-Za-z0-9][A-Za-z0-9._+-]{0,62})",
			 t->version);
		return -EINVAL;
	}
	return 0;
}

int tplfs_store_open(const char *path)
{
	/*
	 * objects/ holds every template file's content, whatever its mode
	 * was (a 0600 ssh host key, /etc/shadow), and tmp/ extracted
	 * tarballs: root's only, made so again if they were not. The module
	 * opens objects with the mounter's credentials.
	 */
	static const struct {
		const char *name;
		mode_t mode;
	} dirs[] = {
		{ "objects", 0700 }, { "templates", 0755 }, { "cache", 0755 },
		{ "tmp", 0700 },
	};
	int fd, ret;

	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if ((mkdirat(fd, dirs[i].name, dirs[i].mode) < 0 &&
		     errno != EEXIST) ||
		    (dirs[i].mode == 0700 &&
		     fchmodat(fd, dirs[i].name, 0700, 0) < 0)) {
			ret = -errno;
			close(fd);
			return ret;
		}
	}
	return fd;
}

static void version_dir(const struct tplfs_template_id *t, char *buf,
			size_t size)
{
	snprintf(buf, size, "templates/%s/%s", t->name, t->version);
}

static int sync_dir(int store_fd, const char *dir)
{
	int fd = openat(store_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Write @text as file @name in @dir, atomically and durably. */
static int write_atomic(int store_fd, const char *dir, const char *name,
			const char *text)
{
	int fd = openat(store_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = tplfs_write_atomic(fd, name, text, strlen(text), 0644);
	close(fd);
	return ret;
}

enum tplfs_template_state tplfs_template_state(int store_fd,
					       const struct tplfs_template_id *t)
{
	char path[PATH_SIZE], buf[16] = "";
	ssize_t n;
	int fd;

	version_dir(t, path, sizeof(path));
	strcat(path, "/state");
	fd = openat(store_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		version_dir(t, path, sizeof(path));
		return faccessat(store_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) ?
		       TPLFS_TEMPLATE_ABSENT : TPLFS_TEMPLATE_IMPORTING;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strcmp(buf, "sealed\n") ? TPLFS_TEMPLATE_IMPORTING :
	       TPLFS_TEMPLATE_SEALED;
}

int tplfs_template_begin(int store_fd, const struct tplfs_template_id *t)
{
	char path[PATH_SIZE];

	snprintf(path, sizeof(path), "templates/%s", t->name);
	if (mkdirat(store_fd, path, 0755) < 0 && errno != EEXIST)
		return -errno;
	version_dir(t, path, sizeof(path));
	if (mkdirat(store_fd, path, 0755) < 0)
		return -errno;
	return write_atomic(store_fd, path, "state", "importing\n");
}

FILE *tplfs_template_manifest_create(int store_fd,
				     const struct tplfs_template_id *t)
{
	char path[PATH_SIZE];
	int fd;

	version_dir(t, path, sizeof(path));
	strcat(path, "/.manifest.tmp");
	fd = openat(store_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

int tplfs_template_seal(int store_fd, const struct tplfs_template_id *t,
			FILE *manifest)
{
	char dir[DIR_SIZE], tmp[PATH_SIZE], final[PATH_SIZE];
	int ret = 0;

	if (fflush(manifest) || fsync(fileno(manifest)) < 0)
		ret = errno ? -errno : -EIO;
	if (fclose(manifest) && !ret)
		ret = -errno;
	if (ret)
		return ret;
	version_dir(t, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), "%s/.manifest.tmp", dir);
	snprintf(final, sizeof(final), "%s/manifest", dir);
	if (fchmodat(store_fd, tmp, 0444, 0) < 0 ||
	    renameat(store_fd, tmp, store_fd, final) < 0)
		return -errno;
	ret = sync_dir(store_fd, dir);
	return ret ? ret : write_atomic(store_fd, dir, "state", "sealed\n");
}

FILE *tplfs_template_manifest_open(int store_fd,
				   const struct tplfs_template_id *t)
{
	char path[PATH_SIZE];
	int fd;

	if (tplfs_template_state(store_fd, t) != TPLFS_TEMPLATE_SEALED) {
		errno = ENOENT;
		return NULL;
	}
	version_dir(t, path, sizeof(path));
	strcat(path, "/manifest");
	fd = openat(store_fd, path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? NULL : fdopen(fd, "r");
}

int tplfs_template_remove(int store_fd, const struct tplfs_template_id *t)
{
	static const char *const files[] = { "state", "manifest",
					     ".manifest.tmp", ".state.tmp" };
	char dir[DIR_SIZE], path[PATH_SIZE];

	version_dir(t, dir, sizeof(dir));
	/* The state first: a crash half-way leaves an "importing" version,
	 * which recovery removes, never a sealed one without its manifest. */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (unlinkat(store_fd, path, 0) < 0 && errno != ENOENT)
			return -errno;
	}
	if (unlinkat(store_fd, dir, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	snprintf(path, sizeof(path), "templates/%s", t->name);
	unlinkat(store_fd, path, AT_REMOVEDIR);	/* if empty */
	return sync_dir(store_fd, "templates");
}

int tplfs_template_latest(int store_fd, const char *name, char *version)
{
	struct tplfs_template_id t;
	struct dirent *de;
	DIR *dir;
	int fd;

	version[0] = '\0';
	if (!tplfs_template_name_valid(name))
		return -EINVAL;
	strcpy(t.name, name);
	fd = openat(store_fd, "templates", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		int nfd = openat(fd, name, O_RDONLY | O_DIRECTORY |
				 O_NOFOLLOW | O_CLOEXEC);

		close(fd);
		fd = nfd;
	}
	dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? -ENOENT : -errno;
	}
	while ((de = readdir(dir))) {
		if (!tplfs_template_version_valid(de->d_name) ||
		    (version[0] && strverscmp(de->d_name, version) <= 0))
			continue;
		strcpy(t.version, de->d_name);
		if (tplfs_template_state(store_fd, &t) == TPLFS_TEMPLATE_SEALED)
			strcpy(version, de->d_name);
	}
	closedir(dir);
	return version[0] ? 0 : -ENOENT;
}

int tplfs_templates_each(int store_fd,
			 int (*fn)(void *arg, const struct tplfs_template_id *t,
				   enum tplfs_template_state state),
			 void *arg)
{
	struct dirent *nd, *vd;
	DIR *names, *versions;
	int fd, ret = 0;

	fd = openat(store_fd, "templates", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	names = fdopendir(fd);
	if (!names) {
		close(fd);
		return -errno;
	}
	while (!ret && (nd = readdir(names))) {
		if (!tplfs_template_name_valid(nd->d_name))
			continue;
		fd = openat(dirfd(names), nd->d_name,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		versions = fd < 0 ? NULL : fdopendir(fd);
		if (!versions) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (!ret && (vd = readdir(versions))) {
			struct tplfs_template_id t;

			if (!tplfs_template_version_valid(vd->d_name))
				continue;
			strcpy(t.name, nd->d_name);
			strcpy(t.version, vd->d_name);
			ret = fn(arg, &t, tplfs_template_state(store_fd, &t));
		}
		closedir(versions);
	}
	closedir(names);
	return ret;
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, TPLFS_DIGEST_SIZE);
}

static int gc_one(void *arg, const struct tplfs_object_entry *e)
{
	struct tplfs_gc *gc = arg;
	struct stat st;

	if (!e->is_object && !e->is_temporary)
		return 0;	/* not ours: leave it */
	if (e->is_object && bsearch(e->digest, gc->keep, gc->nkeep,
				    sizeof(*gc->keep), cmp_digest)) {
		gc->kept++;
		return 0;
	}
	if (fstatat(e->dir_fd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;	/* gone already */
	if (e->is_temporary && gc->tmp_grace &&
	    st.st_mtime > gc->clock - (int64_t)gc->tmp_grace) {
		gc->young++;
		return 0;
	}
	if (!gc->dry_run && unlinkat(e->dir_fd, e->name, 0) < 0)
		return 0;	/* gone already, or not ours to remove */
	gc->nremoved++;
	gc->freed_bytes += (uint64_t)st.st_blocks * 512;
	if (gc->removed) {
		char what[TPLFS_OBJECT_PATH_SIZE + NAME_MAX];

		if (e->is_object)
			snprintf(what, sizeof(what), "%02x%s", e->dir, e->name);
		else
			snprintf(what, sizeof(what), "objects/%02x/%s", e->dir,
				 e->name);
		gc->removed(gc->arg, what);
	}
	return 0;
}

static void gc_dir_done(void *arg, unsigned int dir)
{
	struct tplfs_gc *gc = arg;

	if (gc->dir_done)
		gc->dir_done(gc->arg, dir);
}

int tplfs_store_clock(int store_fd, int64_t *now)
{
	struct stat st;
	int fd, ret = 0;

	fd = openat(store_fd, TPLFS_GC_CLOCK_FILE, O_WRONLY | O_CREAT |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (futimens(fd, NULL) < 0 || fstat(fd, &st) < 0)
		ret = -errno;
	else
		*now = st.st_mtime;
	close(fd);
	return ret;
}

int tplfs_store_gc(int store_fd, struct tplfs_gc *gc)
{
	gc->nremoved = gc->freed_bytes = gc->kept = gc->young = 0;
	if (gc->tmp_grace) {
		int ret = tplfs_store_clock(store_fd, &gc->clock);

		if (ret)
			return ret;
	}
	return tplfs_objects_each(store_fd, gc_one, gc_dir_done, gc);
}
