/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building a container's private area from a template manifest: real
 * directories, symlinks, device nodes and fifos; a stub (an empty file with
 * trusted.tplfs.origin) for every regular file, carrying the file's owner,
 * mode, times and xattrs; hard links as links of one stub; and a real copy
 * of the content for the template's always-private paths.
 */
#ifndef TPLFS_POPULATE_H
#define TPLFS_POPULATE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "idshift.h"

struct tplfs_populate_stats {
	uint64_t entries;	/* manifest entries made */
	uint64_t stubs;		/* regular files made as stubs */
	uint64_t copies;	/* regular files copied (always private) */
	uint64_t copy_bytes;	/* their bytes */
};

/*
 * Populate the empty directory @root_fd from the manifest @manifest, taking
 * always-private content from the store at @store_fd. Nothing is synced:
 * the caller builds aside, syncs and renames into place. Every path is
 * resolved beneath @root_fd without following symlinks. If @done is not
 * NULL, the count of entries made is stored there as they are made (for
 * another thread to read: progress). Returns 0 or a negative errno, with
 * the entry and the reason in @err. If @shift is not NULL, every entry's
 * ids are shifted by it (tplfs_idshift_entry) as they are made.
 */
int tplfs_populate(int store_fd, FILE *manifest, int root_fd,
		   const struct tplfs_idshift *shift,
		   struct tplfs_populate_stats *st, _Atomic uint64_t *done,
		   char *err, size_t errlen);

/*
 * The same for a full clone: every regular file a private copy of its
 * object (tplfs_object_copy_out: reflinked where the filesystem can),
 * none a stub; counted as copies.
 */
int tplfs_populate_full(int store_fd, FILE *manifest, int root_fd,
			const struct tplfs_idshift *shift,
			struct tplfs_populate_stats *st,
			_Atomic uint64_t *done, char *err, size_t errlen);

#endif /* TPLFS_POPULATE_H */
