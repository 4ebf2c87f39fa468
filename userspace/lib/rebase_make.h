/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a rebase makes and changes in a private area (rebase.c decides):
 * a file's metadata set as a manifest entry says, and new entries made in
 * the stage directory, whole, before they are renamed into place.
 */
#ifndef TPLFS_REBASE_MAKE_H
#define TPLFS_REBASE_MAKE_H

#include <stdbool.h>

#include "manifest.h"

/*
 * Owner, mode, xattrs (theirs replace all but trusted.tplfs.*) and mtime
 * of the entry @name of @dfd (a symlink not followed) made @m's. 0 or a
 * negative errno.
 */
int tplfs_rb_set_meta(int dfd, const char *name, const struct tplfs_mentry *m);

/*
 * Read the metadata of @name of @dfd into @m (type, mode, owner, mtime,
 * xattrs but trusted.tplfs.*), to give a replacement the container's own.
 * Free with tplfs_rb_meta_free. 0 or a negative errno.
 */
int tplfs_rb_meta_read(int dfd, const char *name, struct tplfs_mentry *m);
void tplfs_rb_meta_free(struct tplfs_mentry *m);

/*
 * Make @name in @stage_fd as the entry @e ('d', 'f', 'l', 'c', 'b', 'p')
 * says, with the metadata of @meta (@e's own or the container's): a
 * regular file is a stub of @e's object, or with @copy a private copy of
 * it from the store at @store_fd. 0 or a negative errno.
 */
int tplfs_rb_make(int stage_fd, const char *name, const struct tplfs_mentry *e,
		  const struct tplfs_mentry *meta, bool copy, int store_fd);

/* Make @name in @stage_fd a file holding @len bytes of @data, @meta's. */
int tplfs_rb_make_data(int stage_fd, const char *name, const void *data,
		       size_t len, const struct tplfs_mentry *meta);

#endif /* TPLFS_REBASE_MAKE_H */
