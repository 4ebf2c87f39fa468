/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A walk of a container's private area that calls back for each regular
 * file: relink (stubs made of private files) and unlink (private files
 * made of stubs). Iterative, so any depth; never into another filesystem
 * mounted inside; nothing followed through a symlink.
 */
#ifndef TPLFS_AREAWALK_H
#define TPLFS_AREAWALK_H

#include <stddef.h>
#include <sys/stat.h>

struct tplfs_areawalk;

/*
 * Called for each regular file (or entry) @name of directory @dirfd, @sb its lstat;
 * tplfs_areawalk_path() is its path in the area ("/etc/passwd"). Returns
 * 0 to go on, or a negative errno (after tplfs_areawalk_fail) to stop.
 */
typedef int (*tplfs_areawalk_fn)(struct tplfs_areawalk *w, void *arg,
				 int dirfd, const char *name,
				 const struct stat *sb);

/* The path of the file being visited. */
const char *tplfs_areawalk_path(const struct tplfs_areawalk *w);

/* "PATH: @what: strerror(-@ret)" into the walk's error; returns @ret. */
int tplfs_areawalk_fail(struct tplfs_areawalk *w, int ret, const char *what);

/*
 * Walk the area open at @fs_fd, calling @fn for every regular file.
 * Returns 0, what @fn returned to stop, or a negative errno, with the path
 * and the reason in @err.
 */
int tplfs_areawalk(int fs_fd, tplfs_areawalk_fn fn, void *arg, char *err,
		   size_t errlen);

/*
 * The same for every entry, whatever its type: the root first (@dirfd
 * @fs_fd, @name "."), a directory before what it holds.
 */
int tplfs_areawalk_every(int fs_fd, tplfs_areawalk_fn fn, void *arg,
			 char *err, size_t errlen);

#endif /* TPLFS_AREAWALK_H */
