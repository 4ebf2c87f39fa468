/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Maintenance mode of a template (doc/rebase.md): NAME has a maintenance
 * container, made from NAME@VERSION, where the operator updates it before
 * publishing the next version. The record is <root>/maintenance/NAME, a
 * "key = value" file (kvfile.h) of this host: the container is.
 */
#ifndef TPLFS_MAINTENANCE_H
#define TPLFS_MAINTENANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct.h"

/**
 * struct tplfs_maintenance - one template name's maintenance
 * @template: NAME@VERSION the container was made from
 * @ct:       the maintenance container
 * @made:     maintain made it (else it was an existing container)
 * @since:    when maintenance began (seconds since the epoch)
 */
struct tplfs_maintenance {
	char template[256];
	char ct[TPLFS_CT_ID_MAX + 1];
	bool made;
	int64_t since;
};

/*
 * Read the record of template name @name under @root: 0, -ENOENT if NAME
 * is not in maintenance, or another negative errno with the reason in
 * @err (a record that is not one).
 */
int tplfs_maintenance_read(const char *root, const char *name,
			   struct tplfs_maintenance *m, char *err,
			   size_t errlen);
/*
 * Begin: write @m as the record of @name, on disk before it is in place;
 * -EEXIST if @name is in maintenance already (the record is never
 * replaced).
 */
int tplfs_maintenance_begin(const char *root, const char *name,
			    const struct tplfs_maintenance *m);
/* End: remove the record (0 if there was none). */
int tplfs_maintenance_end(const char *root, const char *name);

#endif /* TPLFS_MAINTENANCE_H */
