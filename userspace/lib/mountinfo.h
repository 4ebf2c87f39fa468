/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tplfs mounts of this mount namespace, from /proc/self/mountinfo. */
#ifndef TPLFS_MOUNTINFO_H
#define TPLFS_MOUNTINFO_H

#include <limits.h>

struct tplfs_mount {
	char ct[64];		/* ct= ("" if the mount has none) */
	char target[PATH_MAX];	/* mount point, unescaped */
	int mnt_id;
};

/*
 * Call @fn for every tplfs mount listed in @path (normally
 * /proc/self/mountinfo); stop early if it returns non-zero. Returns the
 * number of mounts seen, or a negative errno.
 */
int tplfs_mounts_scan(const char *path,
		      int (*fn)(void *arg, const struct tplfs_mount *m),
		      void *arg);

#endif /* TPLFS_MOUNTINFO_H */
