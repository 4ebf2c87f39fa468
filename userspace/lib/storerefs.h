/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * References in the store (issue 21, doc/store.md "Shared stores"): every
 * daemon keeps one file for each template each of its containers uses,
 * refs/NAME@VERSION/UUID, named by the container's uuid (host-neutral: it
 * moves with the container), holding which host and daemon root keep it.
 * Its mtime is the lease: renewed by the daemon that keeps it, on the
 * store's clock. template rm and store gc on any host see every host's
 * use through them; a reference is removed only by its own daemon, or,
 * stale, by an explicit prune.
 */
#ifndef TPLFS_STOREREFS_H
#define TPLFS_STOREREFS_H

#include <stddef.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "ct.h"

#define TPLFS_REFS_DIR		"refs"
/* A lease not renewed for this long is stale (listed as such, prunable). */
#define TPLFS_REF_STALE_S	(7 * 24 * 3600)

struct tplfs_ref {
	char tpl[256];			/* NAME@VERSION */
	char uuid[TPLFS_CT_UUID_LEN + 1];
	char host[256];			/* the host name, for people */
	char daemon[PATH_MAX + 64];	/* machine-id:root: who keeps it */
	char ct[TPLFS_CT_ID_MAX + 1];
	int64_t renewed;		/* its mtime: the store's clock */
};

/*
 * Make or renew @r's file (everything but @renewed). 0 or a negative
 * errno.
 */
int tplfs_ref_put(int store_fd, const struct tplfs_ref *r);
/* Is there a reference of @uuid to @tpl? */
bool tplfs_ref_exists(int store_fd, const char *tpl, const char *uuid);
/* Remove the reference of @uuid to @tpl (none: 0). 0 or -errno. */
int tplfs_ref_drop(int store_fd, const char *tpl, const char *uuid);

/*
 * Remove every reference of @uuid but those to the @nkeep templates
 * @keep. 0 or a negative errno.
 */
int tplfs_ref_drop_others(int store_fd, const char *uuid,
			  const char *const *keep, size_t nkeep);

/*
 * Call @fn for every reference (of template @tpl only, if not NULL), in
 * no order; a file that is not a reference is skipped. Stops at @fn's
 * non-zero return. 0, that, or a negative errno (refs/ unreadable).
 */
int tplfs_refs_each(int store_fd, const char *tpl,
		    int (*fn)(void *arg, const struct tplfs_ref *r), void *arg);

#endif /* TPLFS_STOREREFS_H */
