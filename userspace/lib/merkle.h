/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A streaming builder of the fs-verity file digest (SHA-256, 4 KiB blocks,
 * no salt, version 1), fed block by block, in which a run of all-zero
 * blocks costs O(1) per tree level however long it is. It does no I/O:
 * digest.c reads the file and says which blocks are holes.
 */
#ifndef TPLFS_MERKLE_H
#define TPLFS_MERKLE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/tplfs.h>

#define TPLFS_MERKLE_BLOCK_SIZE	4096

struct tplfs_merkle;

/*
 * Start the digest of a file of @size bytes. Returns NULL (errno set) if
 * out of memory or if OpenSSL fails.
 */
struct tplfs_merkle *tplfs_merkle_new(uint64_t size);

/*
 * Add the next data block, @len bytes of @data: TPLFS_MERKLE_BLOCK_SIZE,
 * or fewer for the file's last block (it is zero-padded). Returns 0, or
 * -EINVAL if that is more than the file has, or -EIO if hashing fails.
 */
int tplfs_merkle_add(struct tplfs_merkle *m, const void *data, size_t len);

/*
 * Add the next @count blocks, all zeros (a hole; the file's last block may
 * be short). Costs O(levels), not O(@count). Returns as tplfs_merkle_add.
 */
int tplfs_merkle_add_zeros(struct tplfs_merkle *m, uint64_t count);

/*
 * After all of the file's blocks, write its digest. Returns 0, or -EINVAL
 * if fewer blocks were added than the file has, or -EIO.
 */
int tplfs_merkle_finish(struct tplfs_merkle *m,
			uint8_t digest[TPLFS_DIGEST_SIZE]);

/* After an error, only this is left to do. */
void tplfs_merkle_free(struct tplfs_merkle *m);

#endif /* TPLFS_MERKLE_H */
