/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small files replaced atomically and durably. */
#ifndef TPLFS_ATOMIC_H
#define TPLFS_ATOMIC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Make @name in directory @dirfd hold the @len bytes of @buf, or leave it
 * as it was (struct tplfs_atomic, below). Returns 0 or a negative errno.
 */
int tplfs_write_atomic(int dirfd, const char *name, const void *buf,
		       size_t len, mode_t mode);

/*
 * A file written under a temporary name and renamed over @name in @dirfd
 * once complete. The temporary name is new (O_EXCL: never a symlink or a
 * file someone put there), ".<name>.<random>.tmp".
 */
struct tplfs_atomic {
	int dirfd;
	int fd;			/* write the content here */
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 1];
};

/* Create the temporary file (mode @mode). Returns 0 or a negative errno. */
int tplfs_atomic_begin(struct tplfs_atomic *a, int dirfd, const char *name,
		       mode_t mode);
/*
 * fsync it, rename it over @name, fsync the directory, and check that
 * @name is still this file (-ESTALE if another writer's replaced it at
 * once). The temporary file is gone either way. Returns 0 or -errno.
 */
int tplfs_atomic_commit(struct tplfs_atomic *a);
/* Give up: remove the temporary file. */
void tplfs_atomic_abort(struct tplfs_atomic *a);

/* Is @name the temporary file of an interrupted tplfs_write_atomic? */
bool tplfs_is_atomic_leftover(const char *name);

#endif /* TPLFS_ATOMIC_H */
