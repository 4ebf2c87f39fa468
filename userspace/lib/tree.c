// SPDX-License-Identifier: LGPL-2.1-or-later
/* Whole trees: see tree.h. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "tree.h"

/* A directory on the way down from the root of a removal. */
struct down {
	dev_t dev;
	ino_t ino;	/* the parent, to check ".." against on the way up */
	char *name;	/* this directory's name in it */
};

static void removed_one(struct tplfs_remove_progress *p)
{
	if (p && p->removed)
		atomic_fetch_add(p->removed, 1);
}

/*
 * Empty directory @fd of what is not a directory; the first directory
 * found is returned in *@sub (malloc'd, NULL if none). A directory of
 * another mount (by mount id: a bind mount of the same filesystem has the
 * same st_dev) is never entered: -EXDEV.
 */
static int empty_files(int fd, uint64_t root_mnt, char **sub,
		       struct tplfs_remove_progress *p)
{
	struct dirent *de;
	struct statx stx;
	int dfd = dup(fd), ret = 0;
	DIR *dir = dfd < 0 ? NULL : fdopendir(dfd);

	*sub = NULL;
	if (!dir) {
		ret = -errno;
		if (dfd >= 0)
			close(dfd);
		return ret;
	}
	while (!ret && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (statx(fd, de->d_name, AT_SYMLINK_NOFOLLOW,
			  STATX_TYPE | STATX_MNT_ID, &stx) < 0) {
			ret = errno == ENOENT ? 0 : -errno;
		} else if (!S_ISDIR(stx.stx_mode)) {
			if (unlinkat(fd, de->d_name, 0) == 0) {
				removed_one(p);
			} else if (errno != ENOENT) {
				ret = -errno;
			}
		} else if (!(stx.stx_mask & STATX_MNT_ID) ||
			   stx.stx_mnt_id != root_mnt) {
			ret = -EXDEV;	/* a mount point: never into it */
		} else {
			*sub = strdup(de->d_name);
			ret = *sub ? 1 : -ENOMEM;
		}
	}
	closedir(dir);
	return ret < 0 ? ret : 0;
}

/*
 * Depth first with one directory open at a time: down by name, up by
 * "..", checked against the directory we came from, so that any depth a
 * filesystem allows is removed (deeper than PATH_MAX too), with no
 * recursion and no path longer than a name.
 */
int tplfs_tree_remove(const char *path)
{
	return tplfs_tree_remove_counted(path, NULL);
}

int tplfs_tree_remove_counted(const char *path,
			      struct tplfs_remove_progress *p)
{
	struct down *stack = NULL;
	size_t depth = 0, cap = 0;
	struct statx root;
	struct stat st;
	char *sub;
	int fd, nfd, ret;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW,
		  STATX_TYPE | STATX_MNT_ID, &root) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(root.stx_mode)) {
		if (unlink(path) < 0)
			return -errno;
		removed_one(p);
		return 0;
	}
	if (!(root.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;	/* kernels before 5.8 */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ret = empty_files(fd, root.stx_mnt_id, &sub, p);
		if (ret)
			break;
		if (sub) {	/* down into it */
			if (fstat(fd, &st) < 0)
				ret = -errno;
			else if (tplfs_grow(&stack, &cap, depth, sizeof(*stack),
					    64))
				ret = -ENOMEM;
			if (ret) {
				free(sub);
				break;
			}
			nfd = openat(fd, sub, O_RDONLY | O_DIRECTORY |
				     O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0) {
				ret = -errno;
				free(sub);
				break;
			}
			stack[depth].dev = st.st_dev;
			stack[depth].ino = st.st_ino;
			stack[depth++].name = sub;
			close(fd);
			fd = nfd;
			continue;
		}
		if (depth == 0)
			break;	/* the root is empty */
		/* up, and remove the directory just emptied */
		nfd = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0 || fstat(nfd, &st) < 0) {
			ret = -errno;
			if (nfd >= 0)
				close(nfd);
			break;
		}
		close(fd);
		fd = nfd;
		depth--;
		if (st.st_dev != stack[depth].dev ||
		    st.st_ino != stack[depth].ino) {
			ret = -ESTALE;	/* moved while we were below */
			free(stack[depth].name);
			break;
		}
		ret = unlinkat(fd, stack[depth].name, AT_REMOVEDIR) < 0 ?
		      -errno : 0;
		free(stack[depth].name);
		if (ret)
			break;
		removed_one(p);
		if (p && p->dir_removed)
			p->dir_removed(p->arg);
	}
	close(fd);
	while (depth > 0)
		free(stack[--depth].name);
	free(stack);
	if (!ret && rmdir(path) < 0)
		ret = -errno;
	if (!ret)
		removed_one(p);
	return ret;
}

/* nftw has no argument for its callback: the usage being summed. */
struct linked {
	dev_t dev;
	ino_t ino;
	uint64_t bytes;
};
static __thread struct tplfs_tree_usage *usage;
static __thread struct linked *seen;
static __thread size_t nseen, capseen;

static int count_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	usage->bytes += (uint64_t)st->st_blocks * 512;
	usage->inodes++;
	/* links are counted once after the walk: no search per entry */
	if (st->st_nlink > 1 && !S_ISDIR(st->st_mode)) {
		if (tplfs_grow(&seen, &capseen, nseen, sizeof(*seen), 64))
			return -ENOMEM;
		seen[nseen].dev = st->st_dev;
		seen[nseen].ino = st->st_ino;
		seen[nseen].bytes = (uint64_t)st->st_blocks * 512;
		nseen++;
	}
	return 0;
}

static int cmp_linked(const void *a, const void *b)
{
	const struct linked *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int tplfs_tree_usage(const char *path, struct tplfs_tree_usage *u)
{
	int ret;

	u->bytes = 0;
	u->inodes = 0;
	usage = u;
	nseen = 0;
	ret = nftw(path, count_one, 64, FTW_PHYS | FTW_MOUNT);
	qsort(seen, nseen, sizeof(*seen), cmp_linked);
	for (size_t i = 1; i < nseen; i++) {
		if (!cmp_linked(&seen[i], &seen[i - 1])) {
			u->bytes -= seen[i].bytes;
			u->inodes--;
		}
	}
	free(seen);
	seen = NULL;
	capseen = 0;
	return ret < 0 ? -errno : ret;
}

int tplfs_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}
