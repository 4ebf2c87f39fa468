/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blocking work, off the event loop. Some system calls the daemon needs
 * have no io_uring form (mount(2), umount2(2), chown, mknod, and
 * fsync-ordered journal writes that must finish before the next step); they
 * run in worker threads. A job's run() executes in a worker; its done()
 * then runs in the loop's thread, woken through an eventfd read by the
 * ring. Two pools: bulk work (imports, container creation, exports, gc)
 * and quick work (listings, mount, umount), so that a few long imports
 * never hold up a ct list.
 */
#ifndef TPLFSD_JOBS_H
#define TPLFSD_JOBS_H

#include <stdbool.h>

struct daemon;

struct job {
	void (*run)(struct job *job);	/* in a worker thread */
	void (*done)(struct job *job);	/* in the loop thread */
	bool quick;			/* the quick pool, else bulk */
	struct job *next;
};

int jobs_start(struct daemon *d, unsigned int nbulk, unsigned int nquick);
void jobs_submit(struct daemon *d, struct job *job);
/* Jobs submitted and not yet done. */
unsigned int jobs_pending(struct daemon *d);
/* Stop the workers (no job may be pending). */
void jobs_stop(struct daemon *d);

/*
 * A fault-injection point for the recovery tests: if $TPLFSD_TEST_PAUSE
 * is @point, log it and block this worker forever, so that a test can
 * kill -9 the daemon at a known step; if it is @point@FILE, hold there
 * until FILE exists (a gate the test opens when it has seen what it must);
 * if it is @point=MS, sleep MS milliseconds there. A no-op otherwise.
 */
void jobs_test_point(const char *point);

#endif /* TPLFSD_JOBS_H */
