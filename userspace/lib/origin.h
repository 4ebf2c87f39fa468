/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The stub's origin xattr (trusted.tplfs.origin): encoding and validation,
 * as the kernel module reads it (include/uapi/linux/tplfs.h).
 */
#ifndef TPLFS_ORIGIN_H
#define TPLFS_ORIGIN_H

#include <stddef.h>
#include <stdint.h>
#include <linux/tplfs.h>

/* An origin in host byte order. */
struct tplfs_origin_info {
	uint64_t size;                          /* object size in bytes */
	uint8_t digest[TPLFS_DIGEST_SIZE];      /* fs-verity SHA-256 digest */
};

/*
 * Encode @info into the 48-byte xattr value @out (version 1, algorithm
 * fs-verity SHA-256, no flags).
 */
void tplfs_origin_encode(const struct tplfs_origin_info *info,
			 uint8_t out[TPLFS_ORIGIN_SIZE]);

/*
 * Decode and validate an xattr value of @len bytes. Returns 0, or -EINVAL
 * for a wrong length, -EPROTONOSUPPORT for an unknown version or algorithm,
 * -EOPNOTSUPP for unknown flags or non-zero reserved bits; then @info is
 * untouched.
 */
int tplfs_origin_decode(const void *value, size_t len,
			struct tplfs_origin_info *info);

/*
 * The object path of a digest relative to the store: "objects/ab/cdef…"
 * (NUL-terminated, lower-case hex). @out must hold TPLFS_OBJECT_PATH_SIZE.
 */
#define TPLFS_OBJECT_PATH_SIZE (sizeof("objects/") + 2 + 1 + TPLFS_DIGEST_HEX_SIZE - 2)
void tplfs_object_path(const uint8_t digest[TPLFS_DIGEST_SIZE], char *out);

/*
 * A file's capabilities, kept while its data goes or comes: a truncate or a
 * write drops security.capability, so it is saved here first and put back
 * after (the module's copy-up does the same, kmod/copy_up.c). A copy a
 * crash left wins over what the file has.
 */
#define TPLFS_CAPS_XATTR	TPLFS_XATTR_PREFIX "caps"
#define TPLFS_CAPS_MAX		64	/* vfs_cap_data v3 is 24 bytes */

#endif /* TPLFS_ORIGIN_H */
