/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Least privilege for tplfsd: the capabilities it keeps, and no others. */
#ifndef TPLFS_CAPS_H
#define TPLFS_CAPS_H

#include <stddef.h>

/*
 * Keep exactly the capabilities tplfsd needs (doc/tplfsd.md says why each),
 * in the effective and permitted sets; clear the inheritable and ambient
 * sets and the bounding set of everything else; set no_new_privs. Fails,
 * changing nothing, if the process lacks one of them: the names of the
 * missing ones are in @err. Returns 0 or a negative errno.
 */
int tplfs_caps_restrict(char *err, size_t errlen);

/* The kept capabilities, comma-separated, for status output. */
const char *tplfs_caps_kept(void);

#endif /* TPLFS_CAPS_H */
