/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A rebase (issue 17, doc/rebase.md): a container's private area moves
 * from the template version it was made from (base) to another (theirs),
 * keeping what the container changed. Every path of base or theirs is
 * decided by the three-way engine (merge.h) and the decision applied: a
 * stub's origin swapped in its own inode (the container's open files keep
 * the object they had), metadata set, a path made or removed. Everything
 * new is made in a stage directory on the same filesystem and renamed
 * into place, whole. Run again on a private area left half-way (a kill),
 * it finishes the work: a path already moved is ours equal to theirs,
 * which the engine takes as done.
 */
#ifndef TPLFS_REBASE_H
#define TPLFS_REBASE_H

#include <stdbool.h>
#include <stdint.h>

#include "merge.h"
#include "mlist.h"
#include "relink.h"

struct tplfs_rebase_report {
	uint64_t paths;		/* paths of base or theirs looked at */
	uint64_t updated;	/* followed theirs in place (content or metadata) */
	uint64_t created;	/* made, new in theirs (or of a new type) */
	uint64_t removed;	/* removed, as theirs did */
	uint64_t kept;		/* changed by the container, theirs did not */
	uint64_t conflicts;	/* changed in both: the container's kept */
	uint64_t merged;	/* changed in both, merged (dpkg's status) */
	uint64_t busy;		/* open or changed meanwhile: left as they were */
	uint64_t old_stubs;	/* stubs kept naming an object theirs has not:
				 * base's objects stay in use */
};

/* One path the rebase did (or, dry, would do) something about. */
struct tplfs_rebase_item {
	const char *path;
	const char *outcome;	/* "updated", "created", "removed", "kept",
				 * "conflict", "merged", "busy" */
	const char *why;	/* the engine's few words, or the error */
};

struct tplfs_rebase_args {
	int fs_fd;		/* the private area (private/<ct>/fs) */
	int stage_fd;		/* an empty directory on its filesystem */
	int store_fd;		/* the store: always-private copies, dpkg */
	const struct tplfs_mlist *base;
	const struct tplfs_mlist *theirs;
	const struct tplfs_relink_ops *ops;	/* mounted or not */
	bool dry_run;
	/* each path not left as it was (with a conflict: left) */
	void (*item)(void *arg, const struct tplfs_rebase_item *it);
	void *arg;
	/* report: the paths decided, one at a time */
	void (*progress)(void *arg);
};

/*
 * Rebase the private area of @a. Returns 0 (conflicts, busy files and
 * paths that cannot be made are reported, not errors), or a negative
 * errno with the path and reason in @err: what was applied stays, and
 * running it again carries on.
 */
int tplfs_rebase(const struct tplfs_rebase_args *a,
		 struct tplfs_rebase_report *rep, char *err, size_t errlen);

#endif /* TPLFS_REBASE_H */
