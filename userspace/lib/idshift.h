/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A container's ids shifted for a user namespace (ct create --userns
 * BASE:COUNT, doc/userns.md): the template's uid or gid N is written to the
 * private area as BASE + N, for N below COUNT. So are the ids inside POSIX
 * ACLs, and a file capability becomes a namespaced one (VFS_CAP_REVISION_3)
 * whose root is BASE, the id the namespace's root has on the host.
 */
#ifndef TPLFS_IDSHIFT_H
#define TPLFS_IDSHIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "mlist.h"

/* @count 0: no shift (the host's own ids) */
struct tplfs_idshift {
	uint32_t base;
	uint32_t count;
};

static inline bool tplfs_idshift_none(const struct tplfs_idshift *s)
{
	return !s || !s->count;
}

/*
 * Parse "BASE:COUNT" (decimal): BASE at least 1, COUNT at least 1, and
 * BASE + COUNT - 1 a valid id (below 4294967295, which is -1). 0, or
 * -EINVAL with the reason in @err.
 */
int tplfs_idshift_parse(const char *text, struct tplfs_idshift *s,
			char *err, size_t errlen);

/* "BASE:COUNT" into @buf (what tplfs_idshift_parse reads) */
void tplfs_idshift_format(const struct tplfs_idshift *s, char *buf,
			  size_t len);

/* The id @id shifted into *@out; -ERANGE if @id is not below COUNT. */
int tplfs_idshift_id(const struct tplfs_idshift *s, uint32_t id, uint32_t *out);

/*
 * Shift entry @e in place: owner, group, the ids of its POSIX ACLs
 * (system.posix_acl_access and _default), its file capability. A
 * malformed ACL or capability, or an id outside the range, is -EINVAL or
 * -ERANGE with the path and the reason in @err. Nothing is done when
 * tplfs_idshift_none(@s).
 */
int tplfs_idshift_entry(const struct tplfs_idshift *s, struct tplfs_mentry *e,
			char *err, size_t errlen);

/* The same for every entry of @l. */
int tplfs_idshift_mlist(const struct tplfs_idshift *s, struct tplfs_mlist *l,
			char *err, size_t errlen);

#endif /* TPLFS_IDSHIFT_H */
