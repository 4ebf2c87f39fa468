/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tplfs: template-backed container filesystem, the interface between the
 * kernel module and userspace (tplfsd, tplctl, tests).
 *
 * See doc/stub-format.md for the on-disk stub and its rules.
 */
#ifndef _UAPI_LINUX_TPLFS_H
#define _UAPI_LINUX_TPLFS_H

#include <linux/types.h>

/* The filesystem type name and statfs magic ("TPLF"). */
#define TPLFS_FSTYPE		"tplfs"
#define TPLFS_SUPER_MAGIC	0x54504c46

/*
 * The stub: a zero-length regular file in a private area carrying this
 * xattr. The object it stands for is <store>/objects/<hex[0..1]>/<hex[2..63]>
 * where hex is the lower-case hex form of @digest.
 */
#define TPLFS_XATTR_PREFIX	"trusted.tplfs."
#define TPLFS_ORIGIN_XATTR	TPLFS_XATTR_PREFIX "origin"

#define TPLFS_ORIGIN_VERSION	1

/* fs-verity digest, SHA-256, 4096-byte blocks, no salt */
#define TPLFS_ALGO_FSVERITY_SHA256	1

#define TPLFS_DIGEST_SIZE	32
#define TPLFS_DIGEST_HEX_SIZE	(2 * TPLFS_DIGEST_SIZE)

/* No flag is defined yet; a stub carrying an unknown flag is malformed. */
#define TPLFS_ORIGIN_FLAGS_KNOWN	0

/**
 * struct tplfs_origin - value of the trusted.tplfs.origin xattr (48 bytes)
 * @version:  TPLFS_ORIGIN_VERSION
 * @algo:     TPLFS_ALGO_FSVERITY_SHA256
 * @flags:    none defined, must be 0
 * @reserved: must be 0
 * @size:     size of the object in bytes, so that stat never opens it
 * @digest:   fs-verity digest of the object
 */
struct tplfs_origin {
	__u8	version;
	__u8	algo;
	__le16	flags;
	__le32	reserved;
	__le64	size;
	__u8	digest[TPLFS_DIGEST_SIZE];
};

#define TPLFS_ORIGIN_SIZE	48

#endif /* _UAPI_LINUX_TPLFS_H */
