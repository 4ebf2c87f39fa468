// SPDX-License-Identifier: LGPL-2.1-or-later
/* Ids shifted for a user namespace: see idshift.h. */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idshift.h"

/* <linux/posix_acl_xattr.h> and <linux/posix_acl.h>, which userspace lacks */
#define ACL_XATTR_VERSION	0x0002
#define ACL_TAG_USER		0x02
#define ACL_TAG_GROUP		0x08
#define ACL_HEADER_SIZE		4
#define ACL_ENTRY_SIZE		8

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static int parse_u32(const char *s, const char *end, uint32_t *v)
{
	uint64_t n = 0;

	if (s == end || end - s > 10)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (n > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)n;
	return 0;
}

int tplfs_idshift_parse(const char *text, struct tplfs_idshift *s,
			char *err, size_t errlen)
{
	const char *colon = strchr(text, ':');
	struct tplfs_idshift t;

	if (!colon || parse_u32(text, colon, &t.base) ||
	    parse_u32(colon + 1, colon + strlen(colon), &t.count)) {
		snprintf(err, errlen, "userns: \"%s\" is not BASE:COUNT", text);
		return -EINVAL;
	}
	if (!t.base || !t.count) {
		snprintf(err, errlen,
			 "userns: BASE and COUNT must be at least 1 (BASE 0 is the host's own ids: leave userns out)");
		return -EINVAL;
	}
	/* the last id must be valid: (uid_t)-1 is none */
	if ((uint64_t)t.base + t.count - 1 >= UINT32_MAX) {
		snprintf(err, errlen, "userns: %" PRIu32 ":%" PRIu32
			 " goes past the largest id (4294967294)",
			 t.base, t.count);
		return -EINVAL;
	}
	*s = t;
	return 0;
}

void tplfs_idshift_format(const struct tplfs_idshift *s, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%" PRIu32 ":%" PRIu32, s->base, s->count);
}

int tplfs_idshift_id(const struct tplfs_idshift *s, uint32_t id, uint32_t *out)
{
	if (id >= s->count)
		return -ERANGE;
	*out = s->base + id;
	return 0;
}

static int shift_acl(const struct tplfs_idshift *s, struct tplfs_xattr *x,
		     const char **why)
{
	size_t n;

	if (x->len < ACL_HEADER_SIZE ||
	    (x->len - ACL_HEADER_SIZE) % ACL_ENTRY_SIZE ||
	    get_le32(x->value) != ACL_XATTR_VERSION) {
		*why = "a malformed POSIX ACL";
		return -EINVAL;
	}
	n = (x->len - ACL_HEADER_SIZE) / ACL_ENTRY_SIZE;
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = x->value + ACL_HEADER_SIZE + i * ACL_ENTRY_SIZE;
		uint16_t tag = (uint16_t)(e[0] | e[1] << 8);
		uint32_t id;

		if (tag != ACL_TAG_USER && tag != ACL_TAG_GROUP)
			continue;
		if (tplfs_idshift_id(s, get_le32(e + 4), &id)) {
			*why = "an ACL entry's id outside the range";
			return -ERANGE;
		}
		put_le32(e + 4, id);
	}
	return 0;
}

/*
 * A capability of revision 1 or 2 is the host root's; made revision 3 with
 * the namespace's root (BASE), so that it holds for programs run inside
 * the namespace. Revision 3 has its root shifted.
 */
static int shift_caps(const struct tplfs_idshift *s, struct tplfs_xattr *x,
		      const char **why)
{
	uint32_t magic = x->len >= 4 ? get_le32(x->value) : 0;
	uint32_t rev = magic & VFS_CAP_REVISION_MASK, root;
	uint8_t *v;

	if (rev == VFS_CAP_REVISION_3 && x->len == XATTR_CAPS_SZ_3) {
		if (tplfs_idshift_id(s, get_le32(x->value + 20), &root)) {
			*why = "a file capability's root outside the range";
			return -ERANGE;
		}
		put_le32(x->value + 20, root);
		return 0;
	}
	if (!((rev == VFS_CAP_REVISION_1 && x->len == XATTR_CAPS_SZ_1) ||
	      (rev == VFS_CAP_REVISION_2 && x->len == XATTR_CAPS_SZ_2))) {
		*why = "a malformed file capability";
		return -EINVAL;
	}
	v = calloc(1, XATTR_CAPS_SZ_3);
	if (!v) {
		*why = "out of memory";
		return -ENOMEM;
	}
	memcpy(v, x->value, x->len);	/* revision 1: the upper half stays 0 */
	put_le32(v, (magic & VFS_CAP_FLAGS_MASK) | VFS_CAP_REVISION_3);
	put_le32(v + 20, s->base);
	free(x->value);
	x->value = v;
	x->len = XATTR_CAPS_SZ_3;
	return 0;
}

int tplfs_idshift_entry(const struct tplfs_idshift *s, struct tplfs_mentry *e,
			char *err, size_t errlen)
{
	const char *why = NULL;
	int ret = 0;

	if (tplfs_idshift_none(s) || e->type == 'h' || e->type == '-')
		return 0;
	if (tplfs_idshift_id(s, e->uid, &e->uid)) {
		why = "its owner is outside the range";
		ret = -ERANGE;
	} else if (tplfs_idshift_id(s, e->gid, &e->gid)) {
		why = "its group is outside the range";
		ret = -ERANGE;
	}
	for (size_t i = 0; !ret && i < e->nxattrs; i++) {
		struct tplfs_xattr *x = &e->xattrs[i];

		if (!strcmp(x->name, "system.posix_acl_access") ||
		    !strcmp(x->name, "system.posix_acl_default"))
			ret = shift_acl(s, x, &why);
		else if (!strcmp(x->name, "security.capability"))
			ret = shift_caps(s, x, &why);
	}
	if (ret)
		snprintf(err, errlen,
			 "%s: cannot shift its ids to %" PRIu32 ":%" PRIu32 ": %s",
			 e->path, s->base, s->count, why);
	return ret;
}

int tplfs_idshift_mlist(const struct tplfs_idshift *s, struct tplfs_mlist *l,
			char *err, size_t errlen)
{
	for (size_t i = 0; i < l->n; i++) {
		int ret = tplfs_idshift_entry(s, &l->v[i], err, errlen);

		if (ret)
			return ret;
	}
	return 0;
}
