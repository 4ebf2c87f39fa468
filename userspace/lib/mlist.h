/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A template manifest read whole into memory, for the operations that
 * look paths up in it (a rebase reads two at once). Entries stay in the
 * manifest's order (by the bytes of their path), so a lookup is a binary
 * search; a hard link ('h') can be resolved to the file it links to.
 */
#ifndef TPLFS_MLIST_H
#define TPLFS_MLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "manifest.h"

struct tplfs_mlist {
	struct tplfs_mentry *v;
	size_t n, cap;
	char **private;		/* the always-private paths, sorted */
	size_t nprivate;
	char id[256];		/* NAME@VERSION, from its header */
	char layer_of[256];	/* a layer (doc/manifest.md version 2): the
				 * version it lies over; else empty */
	char **postinst;	/* a layer's: packages to configure, in order */
	size_t npostinst;
};

/*
 * Read the manifest @f into @l (zeroed by the caller). Returns 0, or a
 * negative errno with the line and reason in @err (then @l is freed).
 */
int tplfs_mlist_load(struct tplfs_mlist *l, FILE *f, char *err, size_t errlen);
void tplfs_mlist_free(struct tplfs_mlist *l);

/* The entry of @path, or NULL. */
const struct tplfs_mentry *tplfs_mlist_find(const struct tplfs_mlist *l,
					    const char *path);

/* The entry a hard link names (its first link), else @e itself. */
const struct tplfs_mentry *tplfs_mlist_resolve(const struct tplfs_mlist *l,
					       const struct tplfs_mentry *e);

/* Is @path one of the always-private paths? */
bool tplfs_mlist_is_private(const struct tplfs_mlist *l, const char *path);

#endif /* TPLFS_MLIST_H */
