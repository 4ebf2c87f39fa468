// SPDX-License-Identifier: LGPL-2.1-or-later
/* The three-way decision of a rebase: see merge.h and doc/rebase.md. */
#include <string.h>

#include "merge.h"

bool tplfs_merge_same_content(const struct tplfs_merge_side *a,
			      const struct tplfs_merge_side *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case TPLFS_MERGE_ABSENT:
	case TPLFS_MERGE_DIR:
		return true;
	case TPLFS_MERGE_FILE:
		return a->digest_known && b->digest_known &&
		       a->size == b->size &&
		       !memcmp(a->digest, b->digest, sizeof(a->digest));
	case TPLFS_MERGE_SYMLINK:
		return a->target && b->target && !strcmp(a->target, b->target);
	case TPLFS_MERGE_SPECIAL:
		return a->special == b->special && a->major == b->major &&
		       a->minor == b->minor;
	}
	return false;
}

static bool same_meta(const struct tplfs_merge_side *a,
		      const struct tplfs_merge_side *b)
{
	if (a->kind == TPLFS_MERGE_ABSENT)
		return true;
	if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid)
		return false;
	return a->kind == TPLFS_MERGE_DIR ||
	       (a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec);
}

bool tplfs_merge_same(const struct tplfs_merge_side *a,
		      const struct tplfs_merge_side *b)
{
	return tplfs_merge_same_content(a, b) && same_meta(a, b);
}

static struct tplfs_merge_decision decided(enum tplfs_merge_action action,
					   bool meta_take, bool conflict,
					   const char *why)
{
	struct tplfs_merge_decision d = {
		.action = action, .meta_take = meta_take,
		.conflict = conflict, .why = why,
	};

	return d;
}

struct tplfs_merge_decision tplfs_merge_decide(const struct tplfs_merge_side *base,
					       const struct tplfs_merge_side *ours,
					       const struct tplfs_merge_side *theirs)
{
	bool theirs_content = !tplfs_merge_same_content(theirs, base);
	bool ours_content = !tplfs_merge_same_content(ours, base);

	if (tplfs_merge_same(theirs, base))
		return decided(TPLFS_MERGE_KEEP, false, false,
			       "unchanged in the template");
	if (tplfs_merge_same(ours, base)) {
		if (theirs->kind == TPLFS_MERGE_ABSENT)
			return decided(TPLFS_MERGE_REMOVE, false, false,
				       "removed in the template");
		return decided(TPLFS_MERGE_TAKE, true, false,
			       base->kind == TPLFS_MERGE_ABSENT ?
			       "new in the template" : "updated");
	}
	if (ours->kind == TPLFS_MERGE_ABSENT)	/* and base is not */
		return decided(TPLFS_MERGE_KEEP, false,
			       theirs_content && theirs->kind != TPLFS_MERGE_ABSENT,
			       theirs->kind == TPLFS_MERGE_ABSENT ?
			       "removed in both" : "removed in the container");
	if (!ours_content) {
		/* base's content, the container's metadata */
		if (theirs->kind == TPLFS_MERGE_ABSENT)
			return decided(TPLFS_MERGE_KEEP, false, true,
				       "removed in the template, changed in the container");
		if (!theirs_content)	/* theirs changed the metadata only */
			return decided(TPLFS_MERGE_KEEP, false, false,
				       "metadata changed in the container");
		if (theirs->kind != ours->kind)
			return decided(TPLFS_MERGE_KEEP, false, true,
				       "its type changed in the template, its metadata in the container");
		return decided(TPLFS_MERGE_TAKE, false, false,
			       "updated, the container's metadata kept");
	}
	/* the container changed the content */
	if (tplfs_merge_same_content(ours, theirs))
		return decided(TPLFS_MERGE_TAKE, false, false,
			       "the container already had the update");
	return decided(TPLFS_MERGE_KEEP, false, theirs_content,
		       !theirs_content ? "changed in the container" :
		       base->kind == TPLFS_MERGE_ABSENT ? "made in both" :
		       "changed in both");
}
