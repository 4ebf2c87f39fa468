// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The stub's origin xattr: see origin.h and doc/stub-format.md.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "origin.h"

_Static_assert(sizeof(struct tplfs_origin) == TPLFS_ORIGIN_SIZE,
	       "struct tplfs_origin must be 48 bytes");

void tplfs_origin_encode(const struct tplfs_origin_info *info,
			 uint8_t out[TPLFS_ORIGIN_SIZE])
{
	struct tplfs_origin o = {
		.version = TPLFS_ORIGIN_VERSION,
		.algo = TPLFS_ALGO_FSVERITY_SHA256,
		.flags = htole16(0),
		.reserved = htole32(0),
		.size = htole64(info->size),
	};

	memcpy(o.digest, info->digest, sizeof(o.digest));
	memcpy(out, &o, sizeof(o));
}

int tplfs_origin_decode(const void *value, size_t len,
			struct tplfs_origin_info *info)
{
	struct tplfs_origin o;

	if (len != sizeof(o))
		return -EINVAL;
	memcpy(&o, value, sizeof(o));
	if (o.version != TPLFS_ORIGIN_VERSION ||
	    o.algo != TPLFS_ALGO_FSVERITY_SHA256)
		return -EPROTONOSUPPORT;
	if ((le16toh(o.flags) & ~TPLFS_ORIGIN_FLAGS_KNOWN) ||
	    le32toh(o.reserved))
		return -EOPNOTSUPP;
	info->size = le64toh(o.size);
	memcpy(info->digest, o.digest, sizeof(info->digest));
	return 0;
}

void tplfs_object_path(const uint8_t digest[TPLFS_DIGEST_SIZE], char *out)
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;
	int i;

	memcpy(p, "objects/", 8);
	p += 8;
	for (i = 0; i < TPLFS_DIGEST_SIZE; i++) {
		*p++ = hex[digest[i] >> 4];
		*p++ = hex[digest[i] & 0xf];
		if (i == 0)
			*p++ = '/';
	}
	*p = '\0';
}
