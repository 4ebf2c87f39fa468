/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mounting tplfs with the mount API (fsopen, fsconfig, fsmount,
 * move_mount): each option is its own string, so a path may hold a comma,
 * and what the module says about a refusal (its fs_context log) comes back
 * to the caller instead of the kernel log.
 */
#ifndef TPLFS_FSMOUNT_H
#define TPLFS_FSMOUNT_H

#include <stdbool.h>
#include <stddef.h>

struct tplfs_mount_opts {
	const char *private_dir;	/* private= (required) */
	const char *store;		/* store= (required) */
	const char *ct;			/* ct=, or NULL */
	bool is_volatile;		/* volatile */
	const char *verity;		/* verity=, or NULL (off) */
};

/*
 * Mount tplfs with @o on @target. Returns 0 or a negative errno; on failure
 * @msg holds the kernel's messages for the mount ("tplfs: ct=web1: already
 * mounted"), or else the step that failed and its error.
 */
int tplfs_fsmount(const struct tplfs_mount_opts *o, const char *target,
		  char *msg, size_t len);

/*
 * The error and warning messages readable from the fs_context log @fd,
 * without their level letters, joined with "; " into @msg (which is left
 * as it was when there are none). Informational messages are dropped.
 * Returns the number of messages kept.
 */
int tplfs_fc_log_read(int fd, char *msg, size_t len);

#endif /* TPLFS_FSMOUNT_H */
