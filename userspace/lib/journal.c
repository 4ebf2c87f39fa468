// SPDX-License-Identifier: LGPL-2.1-or-later
/* The daemon's journal: see journal.h. */
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
#include "journal.h"

#define SUFFIX ".json"

int tplfs_journal_open(const char *dir)
{
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int tplfs_journal_write(int dirfd, const char *name, json_object *rec)
{
	char final[NAME_MAX + 1], *text;
	size_t len;
	int ret;

	if ((size_t)snprintf(final, sizeof(final), "%s" SUFFIX, name) >=
	    sizeof(final))
		return -ENAMETOOLONG;
	if (asprintf(&text, "%s\n", json_object_to_json_string_ext(rec,
		     JSON_C_TO_STRING_PLAIN)) < 0)
		return -ENOMEM;
	len = strlen(text);
	ret = tplfs_write_atomic(dirfd, final, text, len, 0600);
	free(text);
	return ret;
}

int tplfs_journal_remove(int dirfd, const char *name)
{
	char final[NAME_MAX + 1];

	if ((size_t)snprintf(final, sizeof(final), "%s" SUFFIX, name) >=
	    sizeof(final))
		return -ENAMETOOLONG;
	if (unlinkat(dirfd, final, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(dirfd) < 0 ? -errno : 0;
}

static json_object *read_record(int dirfd, const char *file)
{
	char buf[65536];
	ssize_t n;
	int fd;

	fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return json_tokener_parse(buf);
}

int tplfs_journal_each(int dirfd,
		       void (*fn)(void *arg, const char *name, json_object *rec),
		       void *arg)
{
	struct dirent *de;
	int count = 0, fd;
	DIR *d;

	fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char name[NAME_MAX + 1];
		json_object *rec;

		if (tplfs_is_atomic_leftover(de->d_name)) {
			unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		if (len <= strlen(SUFFIX) ||
		    strcmp(de->d_name + len - strlen(SUFFIX), SUFFIX))
			continue;
		memcpy(name, de->d_name, len - strlen(SUFFIX));
		name[len - strlen(SUFFIX)] = '\0';
		rec = read_record(dirfd, de->d_name);
		fn(arg, name, rec);
		json_object_put(rec);
		count++;
	}
	closedir(d);
	return count;
}
