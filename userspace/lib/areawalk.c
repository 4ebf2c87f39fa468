// SPDX-License-Identifier: LGPL-2.1-or-later
/* A walk of a private area, file by file: see areawalk.h. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "areawalk.h"
#include "grow.h"

struct tplfs_areawalk {
	char *path;		/* "/a/b/name", grown as needed */
	size_t cap;
	char *err;
	size_t errlen;
};

struct frame {
	DIR *dir;
	size_t len;	/* of w->path, this directory's */
};

const char *tplfs_areawalk_path(const struct tplfs_areawalk *w)
{
	return w->path[0] ? w->path : "/";
}

int tplfs_areawalk_fail(struct tplfs_areawalk *w, int ret, const char *what)
{
	snprintf(w->err, w->errlen, "%s: %s: %s", tplfs_areawalk_path(w), what,
		 strerror(-ret));
	return ret;
}

/* Make w->path "@len bytes of it" + "/" + @name. */
static int set_path(struct tplfs_areawalk *w, size_t len, const char *name)
{
	size_t need = len + 1 + strlen(name) + 1;

	while (need > w->cap) {
		char *p = realloc(w->path, w->cap ? 2 * w->cap : 256);

		if (!p)
			return -ENOMEM;
		w->path = p;
		w->cap = w->cap ? 2 * w->cap : 256;
	}
	w->path[len] = '/';
	strcpy(w->path + len + 1, name);
	return 0;
}

/* Open directory @name of @dirfd as the next frame. */
static int push(struct tplfs_areawalk *w, struct frame **stack, size_t *cap,
		size_t depth, int dirfd, const char *name)
{
	int fd;

	if (tplfs_grow(stack, cap, depth, sizeof(**stack), 16))
		return -ENOMEM;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return tplfs_areawalk_fail(w, -errno, "open");
	(*stack)[depth].dir = fdopendir(fd);
	if (!(*stack)[depth].dir) {
		close(fd);
		return tplfs_areawalk_fail(w, -errno, "open");
	}
	(*stack)[depth].len = strlen(w->path);
	return 0;
}

static int walk(int fs_fd, bool every, tplfs_areawalk_fn fn, void *arg,
		char *err, size_t errlen)
{
	struct tplfs_areawalk w = { .err = err, .errlen = errlen };
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0;
	struct stat root;
	int ret;

	err[0] = '\0';
	ret = set_path(&w, 0, "");
	if (ret)
		goto out;
	w.path[0] = '\0';
	if (fstat(fs_fd, &root) < 0) {
		ret = tplfs_areawalk_fail(&w, -errno, "stat");
		goto out;
	}
	if (every)
		ret = fn(&w, arg, fs_fd, ".", &root);
	if (!ret)
		ret = push(&w, &stack, &cap, 0, fs_fd, ".");
	if (!ret)
		depth = 1;
	while (depth && !ret) {
		DIR *dir = stack[depth - 1].dir;
		struct dirent *de;
		struct stat sb;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			ret = errno ? tplfs_areawalk_fail(&w, -errno, "reading") : 0;
			closedir(dir);
			depth--;
			continue;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = set_path(&w, stack[depth - 1].len, de->d_name);
		if (ret)
			break;
		if (fstatat(dirfd(dir), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) < 0) {
			ret = tplfs_areawalk_fail(&w, -errno, "stat");
			break;
		}
		/* never into another filesystem mounted inside */
		if (sb.st_dev != root.st_dev)
			continue;
		if (S_ISREG(sb.st_mode) || every)
			ret = fn(&w, arg, dirfd(dir), de->d_name, &sb);
		if (!ret && S_ISDIR(sb.st_mode) &&
		    !(ret = push(&w, &stack, &cap, depth, dirfd(dir),
				 de->d_name)))
			depth++;
	}
out:
	while (depth)
		closedir(stack[--depth].dir);
	free(stack);
	free(w.path);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

int tplfs_areawalk(int fs_fd, tplfs_areawalk_fn fn, void *arg, char *err,
		   size_t errlen)
{
	return walk(fs_fd, false, fn, arg, err, errlen);
}

int tplfs_areawalk_every(int fs_fd, tplfs_areawalk_fn fn, void *arg,
			 char *err, size_t errlen)
{
	return walk(fs_fd, true, fn, arg, err, errlen);
}
