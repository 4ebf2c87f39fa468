/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Physical-to-container migration (doc/p2v.md): what is copied from a
 * server and how. A source is "[USER@]HOST:/PATH" (over ssh) or a local
 * directory "/PATH" (a mounted disk image); each --mount PATH of the server
 * is a filesystem of its own, joined into the one container tree. A plan
 * is one rsync pass a filesystem: the root first, then each mount in name
 * order, none crossing into another filesystem. Pure: strings in, argv
 * out; nothing here touches the disk.
 */
#ifndef TPLFS_P2VPLAN_H
#define TPLFS_P2VPLAN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define TPLFS_P2V_MOUNTS_MAX	32
#define TPLFS_P2V_EXCLUDES_MAX	64
#define TPLFS_P2V_HOST_MAX	255

struct tplfs_p2v_plan {
	bool remote;
	char host[TPLFS_P2V_HOST_MAX + 1];	/* "[USER@]HOST", remote only */
	char root[PATH_MAX];	/* the server's tree: "/" or "/srv/image" */
	char from[TPLFS_P2V_HOST_MAX + 1 + PATH_MAX];	/* as normalised */
	char *mounts[TPLFS_P2V_MOUNTS_MAX];	/* "/home", sorted */
	size_t nmounts;
	char *excludes[TPLFS_P2V_EXCLUDES_MAX];	/* as given */
	size_t nexcludes;
};

/*
 * Check and normalise the source @from, the @nmounts @mounts (paths of
 * the server, absolute) and the @nexcludes rsync @excludes (a pattern
 * starting with '/' is anchored at the server's root). Refused (-EINVAL,
 * the reason in @err): a host that could be taken for an option, a
 * relative path, "." or ".." components, control characters, a mount
 * given twice or "/" itself, an exclude that rsync would read as a rule.
 * 0, -EINVAL, -ENAMETOOLONG or -ENOMEM; free with tplfs_p2v_plan_free.
 */
int tplfs_p2v_plan_init(struct tplfs_p2v_plan *p, const char *from,
			const char *const *mounts, size_t nmounts,
			const char *const *excludes, size_t nexcludes,
			char *err, size_t errlen);
void tplfs_p2v_plan_free(struct tplfs_p2v_plan *p);

/* The passes: 1 + the mounts. */
size_t tplfs_p2v_passes(const struct tplfs_p2v_plan *p);
/* The filesystem pass @i copies: "/" or the mount. */
const char *tplfs_p2v_pass_path(const struct tplfs_p2v_plan *p, size_t i);

/*
 * The argv of rsync for pass @i into the staging tree @dest: archive with
 * hard links, ACLs, xattrs, sparse files, numeric ids and devices; one
 * filesystem; --delete and --partial, so that a rerun sends only what is
 * missing; the host's own xattrs (tplfs_p2v_host_xattr) filtered out on
 * both sides; the volatile paths (root pass), the mounts below this one
 * and the excludes that fall in it left out; compressed over ssh.
 * NULL-terminated, malloc'd: free with tplfs_p2v_argv_free. NULL: -ENOMEM
 * or a path too long.
 */
char **tplfs_p2v_rsync_argv(const struct tplfs_p2v_plan *p, size_t i,
			    const char *dest);
void tplfs_p2v_argv_free(char **argv);

/*
 * Is xattr @name one the host uses for its own purposes (a stub's origin,
 * overlayfs's)? A source can never bring one in.
 */
bool tplfs_p2v_host_xattr(const char *name);

/* The paths left out of the root pass, anchored ("/proc/ *" ...). */
extern const char *const tplfs_p2v_volatile[];

#endif /* TPLFS_P2VPLAN_H */
