/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * private/<ct>/quota.usage: a container's quota usage as last persisted by
 * tplfsd (at umount, and at checkpoints while it is mounted), so that a
 * mount needs no scan of the private area. "state = clean" only after an
 * orderly umount: any other state means the numbers may be stale and a
 * background rescan must make them exact (doc/quota.md).
 */
#ifndef TPLFS_CTUSAGE_H
#define TPLFS_CTUSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TPLFS_CTUSAGE_FILE	"quota.usage"

/**
 * struct tplfs_ct_usage - the contents of quota.usage
 * @bytes:            allocated bytes in the private area
 * @inodes:           inodes in it
 * @bytes_grace_end:  when the grace period of the soft byte limit ends
 *                    (seconds since the epoch), 0 if not over it
 * @inodes_grace_end: the same for inodes
 * @clean:            written at an orderly umount
 */
struct tplfs_ct_usage {
	uint64_t bytes;
	uint64_t inodes;
	int64_t bytes_grace_end;
	int64_t inodes_grace_end;
	bool clean;
};

/*
 * Read @path. Returns 0, -ENOENT when there is none, or another negative
 * errno with a message in @err.
 */
int tplfs_ct_usage_read(const char *path, struct tplfs_ct_usage *u,
			char *err, size_t errlen);

/* Write quota.usage in the container's directory @dirfd, atomically. */
int tplfs_ct_usage_write(int dirfd, const struct tplfs_ct_usage *u);

#endif /* TPLFS_CTUSAGE_H */
