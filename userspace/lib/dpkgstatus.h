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
 * A file of stanzas a package manager keeps, merged stanza by stanza:
 * dpkg's status (named by Package and Architecture) and debconf's
 * config.dat, templates.dat and passwords.dat (by Name). Every app
 * template and every update change them, so as whole files they would
 * always clash.
 */
struct tplfs_stanza_file {
	const char *path;
	const char *key, *key2;	/* the fields that name a stanza (key2: or NULL) */
};

/* The stanza file at @path, or NULL. */
const struct tplfs_stanza_file *tplfs_stanza_file(const char *path);
/* All of them: their number, *@files the array. */
size_t tplfs_stanza_files(const struct tplfs_stanza_file **files);

/* tplfs_dpkg_status_merge for any stanza file. */
int tplfs_stanza_merge(const struct tplfs_stanza_file *sf,
		       const char *base, size_t base_len,
		       const char *ours, size_t ours_len,
		       const char *theirs, size_t theirs_len,
		       char **out, size_t *outlen, char *why, size_t whylen);

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
