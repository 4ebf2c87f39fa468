/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tree's usage as the module charges it to a container's quota, fast:
 * statx through io_uring, for the daemon's rescan of a private area after an
 * unclean stop. Every inode counts once (the root included, a hard-linked
 * file once), with its allocated bytes (stx_blocks * 512, as du counts);
 * symlinks are never followed and other filesystems never entered.
 */
#ifndef TPLFS_USAGE_SCAN_H
#define TPLFS_USAGE_SCAN_H

#include <stddef.h>
#include <stdint.h>

struct tplfs_usage {
	uint64_t bytes;		/* allocated bytes */
	uint64_t inodes;	/* inodes */
	uint64_t dirs;		/* directories walked (informational) */
};

/*
 * Scan the tree whose root directory is open as @rootfd (not closed, its
 * offset untouched). An entry on another device than the root is neither
 * counted nor entered; one that vanishes during the scan is skipped (the
 * tree may be live). Returns 0, or a negative errno with the path (relative
 * to the root) and the reason in @err; @usage is then zero. Thread-safe:
 * one io_uring per call, no global state.
 */
int tplfs_usage_scan(int rootfd, struct tplfs_usage *usage, char *err,
		     size_t errlen);

/* The same for the directory at @path. */
int tplfs_usage_scan_path(const char *path, struct tplfs_usage *usage,
			  char *err, size_t errlen);

#endif /* TPLFS_USAGE_SCAN_H */
