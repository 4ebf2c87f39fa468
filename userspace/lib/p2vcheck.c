// SPDX-License-Identifier: LGPL-2.1-or-later
/* A tree's host xattrs: see p2vcheck.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "areawalk.h"
#include "p2vcheck.h"
#include "p2vplan.h"

struct check {
	void (*found)(void *arg, const char *path, const char *xattr);
	void *arg;
	long n;
	char *names;
	size_t cap;
};

/* The names of @path's xattrs into c->names; their length or -errno. */
static ssize_t list_names(struct check *c, const char *path)
{
	for (;;) {
		ssize_t len = llistxattr(path, NULL, 0);
		char *p;

		if (len < 0)
			return errno == ENOTSUP ? 0 : -errno;
		if (!len)
			return 0;
		if ((size_t)len > c->cap) {
			p = realloc(c->names, len + 256);
			if (!p)
				return -ENOMEM;
			c->names = p;
			c->cap = len + 256;
		}
		len = llistxattr(path, c->names, c->cap);
		if (len >= 0)
			return len;
		if (errno != ERANGE)	/* ERANGE: it grew meanwhile */
			return -errno;
	}
}

static int visit(struct tplfs_areawalk *w, void *arg, int dirfd,
		 const char *name, const struct stat *sb)
{
	struct check *c = arg;
	char path[64 + NAME_MAX];
	ssize_t len;

	(void)sb;
	/* the entry itself, through its directory: no *at listxattr */
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
	len = list_names(c, path);
	if (len < 0)
		return tplfs_areawalk_fail(w, (int)len, "listing its xattrs");
	for (ssize_t off = 0; off < len; off += strlen(c->names + off) + 1)
		if (tplfs_p2v_host_xattr(c->names + off)) {
			c->n++;
			c->found(c->arg, tplfs_areawalk_path(w), c->names + off);
		}
	return 0;
}

long tplfs_p2v_host_xattrs(int fs_fd,
			   void (*found)(void *arg, const char *path,
					 const char *xattr),
			   void *arg, char *err, size_t errlen)
{
	struct check c = { .found = found, .arg = arg };
	int ret;

	ret = tplfs_areawalk_every(fs_fd, visit, &c, err, errlen);
	free(c.names);
	return ret ? ret : c.n;
}
