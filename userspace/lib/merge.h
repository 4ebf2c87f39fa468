/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The three-way decision of a rebase (issue 17), one path at a time: base
 * is the path in the manifest the container was made from, ours what the
 * container's private area holds there, theirs the path in the manifest
 * it moves to. Pure: it reads nothing and changes nothing; the caller
 * walks the three, asks, and applies (doc/rebase.md).
 *
 * The rules:
 * - the template did not change the path (theirs is base): ours stays;
 * - ours is still base (content and metadata): ours becomes theirs, or
 *   goes if theirs removed the path;
 * - ours has base's content but metadata of its own: the content follows
 *   theirs, the metadata stays ours; a path theirs removed stays (a
 *   conflict: the container changed it);
 * - a private file equal to base is still base: it becomes a stub of
 *   theirs (the always-private files too, only then);
 * - ours changed the content: ours stays; a conflict if theirs changed
 *   the content too, unless ours already is theirs (the container ran the
 *   same update), which becomes theirs with ours's metadata;
 * - a path the container removed stays removed (a conflict if theirs
 *   changed it), and a path new in theirs appears where ours has nothing.
 */
#ifndef TPLFS_MERGE_H
#define TPLFS_MERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "origin.h"

enum tplfs_merge_kind {
	TPLFS_MERGE_ABSENT,
	TPLFS_MERGE_FILE,	/* regular: a stub or a private file */
	TPLFS_MERGE_DIR,
	TPLFS_MERGE_SYMLINK,
	TPLFS_MERGE_SPECIAL,	/* a device node or a fifo */
};

/* One side's view of one path. */
struct tplfs_merge_side {
	enum tplfs_merge_kind kind;
	/* FILE: the content, as a digest; a private file not hashed (its
	 * size differs from base's, so it cannot be equal) has !digest_known */
	bool digest_known;
	uint8_t digest[TPLFS_DIGEST_SIZE];
	uint64_t size;
	const char *target;	/* SYMLINK */
	char special;		/* SPECIAL: 'c', 'b' or 'p' */
	uint32_t major, minor;
	/* the metadata a container may change without changing the content */
	uint32_t mode, uid, gid;
	int64_t mtime_sec;	/* not compared for directories (their
				 * entries move it) */
	uint32_t mtime_nsec;
};

enum tplfs_merge_action {
	TPLFS_MERGE_KEEP,	/* ours stays as it is */
	TPLFS_MERGE_TAKE,	/* ours becomes theirs (a directory: its
				 * metadata, if meta_take) */
	TPLFS_MERGE_REMOVE,	/* ours goes: theirs removed it */
};

struct tplfs_merge_decision {
	enum tplfs_merge_action action;
	bool meta_take;		/* with TAKE: theirs's metadata, else ours's */
	bool conflict;		/* both changed it: reported, ours kept */
	const char *why;	/* a few words, for the report */
};

/* True if @a and @b hold the same content (kind, digest, target, node). */
bool tplfs_merge_same_content(const struct tplfs_merge_side *a,
			      const struct tplfs_merge_side *b);

/* True if they hold the same content with the same metadata. */
bool tplfs_merge_same(const struct tplfs_merge_side *a,
		      const struct tplfs_merge_side *b);

struct tplfs_merge_decision tplfs_merge_decide(const struct tplfs_merge_side *base,
					       const struct tplfs_merge_side *ours,
					       const struct tplfs_merge_side *theirs);

#endif /* TPLFS_MERGE_H */
