/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Importing a directory tree into the store: every regular file's content
 * becomes an object (object.h), and the tree's metadata a manifest
 * (manifest.h). Template versions and their states are the caller's.
 */
#ifndef TPLFS_IMPORT_H
#define TPLFS_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct tplfs_import_stats {
	uint64_t entries;	/* manifest entries */
	uint64_t files;		/* regular files (inodes, not links) */
	uint64_t bytes;		/* their bytes */
	uint64_t new_objects;	/* objects the store did not have */
	uint64_t new_bytes;	/* their bytes */
};

/* Called after each regular file is stored, with the count so far. */
typedef void (*tplfs_import_progress_fn)(void *arg, uint64_t files_done);

/*
 * Import the tree at @src into the store open at @store_fd and write its
 * manifest (template @id, always-private paths @private) to @manifest.
 * Refuses, with the path and the reason in @err, a tree that crosses a
 * mount point or loops, or a file type a template cannot hold (socket).
 * Every name is kept byte for byte. Objects
 * already written stay (they are content-addressed; store gc removes the
 * unreferenced). Returns 0 or a negative errno.
 */
int tplfs_import_dir(int store_fd, const char *src, const char *id,
		     const char *const *private, size_t nprivate,
		     FILE *manifest, struct tplfs_import_stats *st,
		     tplfs_import_progress_fn progress, void *arg,
		     char *err, size_t errlen);

#endif /* TPLFS_IMPORT_H */
