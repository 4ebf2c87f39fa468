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

struct tplfs_mlist;

struct tplfs_import_stats {
	uint64_t entries;	/* manifest entries */
	uint64_t files;		/* regular files (inodes, not links) */
	uint64_t bytes;		/* their bytes */
	uint64_t new_objects;	/* objects the store did not have */
	uint64_t new_bytes;	/* their bytes (holes included) */
	uint64_t stored_bytes;	/* the disk the new objects take (st_blocks) */
};

/*
 * The progress of storing the files: how many regular files (inodes) and
 * bytes are stored so far, and the totals the walk of the tree found.
 */
struct tplfs_import_progress {
	uint64_t files_done, files_total;
	uint64_t bytes_done, bytes_total;
};

/* Called once the tree is walked (nothing done yet) and after each file. */
typedef void (*tplfs_import_progress_fn)(void *arg,
					 const struct tplfs_import_progress *p);

/*
 * Import the tree at @src into the store open at @store_fd and write its
 * manifest (template @id, always-private paths @private) to @manifest.
 * The tree is walked first, then each file (each inode once, however many
 * links it has) is stored, reopened beneath @src without following a
 * symlink and refused if it is no longer the file the walk saw.
 * Refuses, with the path and the reason in @err, a tree that crosses a
 * mount point or loops, or a file type a template cannot hold (socket).
 * Every name is kept byte for byte. Objects
 * already written stay (they are content-addressed; store gc removes the
 * unreferenced). With TPLFS_IMPORT_ADOPT in @flags the tree is the
 * caller's to give (a tarball it extracted on the store's filesystem):
 * its files are moved into the store as the objects (tplfs_object_adopt)
 * instead of being copied; the caller removes what is left of the tree.
 * Returns 0 or a negative errno.
 */
#define TPLFS_IMPORT_ADOPT	0x1
int tplfs_import_dir(int store_fd, const char *src, const char *id,
		     const char *const *private, size_t nprivate,
		     unsigned int flags, FILE *manifest,
		     struct tplfs_import_stats *st,
		     tplfs_import_progress_fn progress, void *arg,
		     char *err, size_t errlen);

/*
 * Import a container's private area @src, made from the template @base,
 * as a new template (how a maintenance container is published,
 * doc/rebase.md): a stub (trusted.tplfs.origin) stands for its origin's
 * object, which the store must hold, and is not read; only private files
 * are hashed and stored. The container's own files are not taken: its
 * identity (tplfs_identity_path) and @base's always-private paths are
 * @base's entries (left out where @base has none, or where the area
 * removed their directory), and the always-private paths are @base's.
 * Otherwise as tplfs_import_dir.
 */
int tplfs_import_private_area(int store_fd, const char *src,
			      const struct tplfs_mlist *base, const char *id,
			      FILE *manifest, struct tplfs_import_stats *st,
			      tplfs_import_progress_fn progress, void *arg,
			      char *err, size_t errlen);

#endif /* TPLFS_IMPORT_H */
