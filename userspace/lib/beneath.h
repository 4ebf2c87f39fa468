/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening a path of a tree that may be hostile (a template, a container). */
#ifndef TPLFS_BENEATH_H
#define TPLFS_BENEATH_H

#include <sys/types.h>

/*
 * openat2(@root_fd, @path) with @flags and @mode, never leaving the tree
 * (RESOLVE_BENEATH, RESOLVE_NO_XDEV) nor following a symlink, the last
 * component's included. Returns the fd or a negative errno (ELOOP: a
 * symlink on the way).
 */
int tplfs_open_beneath(int root_fd, const char *path, int flags, mode_t mode);

#endif /* TPLFS_BENEATH_H */
