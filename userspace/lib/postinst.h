/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which maintainer scripts an application template runs in a container
 * after ct app add, when it was imported with --run-postinst (doc/apps.md):
 * the packages the layer installs, found in dpkg's status, in the order
 * dpkg would configure them. Pure: bytes in, names out.
 */
#ifndef TPLFS_POSTINST_H
#define TPLFS_POSTINST_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The packages installed ("Status: install ok installed") in @status and
 * not in @base_status (dpkg's status files of the layer's tree and of the
 * version it lies over) whose postinst @has_postinst(@arg, NAME) says the
 * tree has, NAME being what /var/lib/dpkg/info/NAME.postinst is named
 * (PKG, or PKG:ARCH for a Multi-Arch: same package). Ordered so that a
 * package comes after those of them it depends on (Depends, Pre-Depends);
 * by name where that does not decide, and in a cycle. On success (0)
 * *@out is a malloc'd array of *@n malloc'd names (free with
 * tplfs_postinst_free); -EINVAL with @err said for a stanza without
 * Package or a bad name, -ENOMEM.
 */
int tplfs_postinst_order(const char *base_status, size_t base_len,
			 const char *status, size_t len,
			 bool (*has_postinst)(void *arg, const char *name),
			 void *arg, char ***out, size_t *n,
			 char *err, size_t errlen);
void tplfs_postinst_free(char **names, size_t n);

#endif /* TPLFS_POSTINST_H */
