/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The digest that names an object: fs-verity, SHA-256, 4 KiB blocks, no salt. */
#ifndef TPLFS_DIGEST_H
#define TPLFS_DIGEST_H

#include <stdint.h>
#include <linux/tplfs.h>

/*
 * Compute the digest of the regular file open at @fd, from offset 0 to its
 * end, and its size. Returns 0 or a negative errno.
 */
int tplfs_digest_fd(int fd, uint64_t *size, uint8_t digest[TPLFS_DIGEST_SIZE]);

#endif /* TPLFS_DIGEST_H */
