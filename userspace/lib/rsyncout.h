/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What rsync says on its standard output with --info=progress2 and
 * --stats, read line by line (a progress line ends in '\r'): the bytes
 * and files done so far, and at the end the totals, so that tplctl can
 * give a p2v's progress in its own words.
 */
#ifndef TPLFS_RSYNCOUT_H
#define TPLFS_RSYNCOUT_H

#include <stdbool.h>
#include <stdint.h>

struct tplfs_rsync_progress {
	uint64_t bytes;		/* of the files' data, done */
	unsigned int percent;
	uint64_t files_left;	/* to-chk=LEFT/TOTAL: still to check */
	uint64_t files_total;
	/* --stats */
	uint64_t files;		/* Number of files */
	uint64_t transferred;	/* Number of regular files transferred */
	uint64_t received;	/* Total bytes received (the wire's) */
	uint64_t sent;		/* Total bytes sent */
	uint64_t size;		/* Total file size */
};

/*
 * Take one line (without its '\r' or '\n') into @p. True if it was a
 * progress line (the figures moved), false for anything else (a stats line
 * is taken too).
 */
bool tplfs_rsync_line(struct tplfs_rsync_progress *p, const char *line);

#endif /* TPLFS_RSYNCOUT_H */
