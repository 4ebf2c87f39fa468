/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p2v.conf: what a p2v was started with (the source, its mounts and
 * excludes, as normalised), how many transfers it had, and, once it is a
 * container, what the server used and when it was finished. In the
 * staging area (private/.<id>.p2v/) while it is one, then kept in the
 * container's private directory as its record.
 */
#ifndef TPLFS_P2VSTATE_H
#define TPLFS_P2VSTATE_H

#include <stdint.h>

#include "p2vplan.h"

#define TPLFS_P2V_STATE_FILE	"p2v.conf"

struct tplfs_p2v_state {
	struct tplfs_p2v_plan plan;
	int64_t started;	/* the first transfer, epoch seconds */
	uint64_t transfers;	/* transfers begun */
	uint64_t source_bytes;	/* what the tree used when finished */
	uint64_t source_inodes;
	int64_t finished;	/* 0 while staged */
};

/*
 * Read @dirfd's p2v.conf: 0, -ENOENT, or another negative errno with the
 * reason in @err. Free with tplfs_p2v_plan_free(&st->plan).
 */
int tplfs_p2v_state_read(int dirfd, struct tplfs_p2v_state *st, char *err,
			 size_t errlen);
/* Write it, atomically and durably. 0 or a negative errno. */
int tplfs_p2v_state_write(int dirfd, const struct tplfs_p2v_state *st);

#endif /* TPLFS_P2VSTATE_H */
