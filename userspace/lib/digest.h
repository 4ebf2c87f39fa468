/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The digest that names an object: fs-verity, SHA-256, 4 KiB blocks, no salt. */
#ifndef TPLFS_DIGEST_H
#define TPLFS_DIGEST_H

#include <stdint.h>
#include <linux/tplfs.h>

/*
 * Compute the digest of the regular file open at @fd, from offset 0 to its
 * end, and its size. Returns 0 or a negative errno (-EIO if the file
 * shrinks meanwhile). The file offset is left as it was.
 *
 * A file without holes (or on a filesystem without SEEK_HOLE) is read
 * whole through libfsverity. A file with holes is walked with SEEK_DATA
 * and SEEK_HOLE: a 4 KiB block that overlaps data is read and hashed, one
 * wholly inside a hole is known to be zeros, and a run of those costs a
 * few hashes per Merkle tree level whatever its length, so a 16 GiB file
 * that is mostly hole takes milliseconds. The digest is the same.
 */
int tplfs_digest_fd(int fd, uint64_t *size, uint8_t digest[TPLFS_DIGEST_SIZE]);

/*
 * Open @name in @dirfd to hash it and swap it for a stub: read-only,
 * never through a symlink, not blocking on a FIFO, and without moving
 * its atime (O_NOATIME, where the caller may: its owner or CAP_FOWNER).
 * A read that moves the atime logs the inode, and on xfs that moves
 * i_version, which the swap's expectation includes: the file would be
 * taken as changed since it was hashed. -errno on failure.
 */
int tplfs_open_to_hash(int dirfd, const char *name);

/* The same, always by the sparse path, holes or not: for the unit tests. */
int tplfs_digest_fd_sparse(int fd, uint64_t *size,
			   uint8_t digest[TPLFS_DIGEST_SIZE]);

#endif /* TPLFS_DIGEST_H */
