/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dpkg's database, /var/lib/dpkg/status, merged three ways by package
 * (doc/rebase.md): every update of a template changes it, and so does
 * every package a container installs, so as a whole file it would always
 * be a conflict. A stanza (a paragraph, "Package:" and "Architecture:"
 * name it) follows the same rule as a file: the template's if the
 * container did not change it, the container's if the template did not,
 * either if both made it the same. Pure: bytes in, bytes out.
 */
#ifndef TPLFS_DPKGSTATUS_H
#define TPLFS_DPKGSTATUS_H

#include <stddef.h>

/*
 * Merge: base, ours and theirs are the three files' bytes. On success
 * (0) *@out is a malloc'd file of *@outlen bytes, stanzas sorted by
 * package and architecture, each followed by an empty line. -EAGAIN when
 * a package changed differently in ours and theirs (its name in @why),
 * -EINVAL when a file is not a status file (a stanza without "Package:",
 * a package twice), -ENOMEM.
 */
int tplfs_dpkg_status_merge(const char *base, size_t base_len,
			    const char *ours, size_t ours_len,
			    const char *theirs, size_t theirs_len,
			    char **out, size_t *outlen, char *why, size_t whylen);

#endif /* TPLFS_DPKGSTATUS_H */
