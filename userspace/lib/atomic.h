/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small files replaced atomically and durably. */
#ifndef TPLFS_ATOMIC_H
#define TPLFS_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Make @name in directory @dirfd hold the @len bytes of @buf, or leave it
 * as it was: write ".<name>.tmp", fsync it, rename it over @name, fsync the
 * directory. Returns 0 or a negative errno.
 */
int tplfs_write_atomic(int dirfd, const char *name, const void *buf,
		       size_t len, mode_t mode);

/* Is @name the temporary file of an interrupted tplfs_write_atomic? */
bool tplfs_is_atomic_leftover(const char *name);

#endif /* TPLFS_ATOMIC_H */
