/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An operation a client asked for, run as a job (jobs.h): its request, its
 * outcome (a result or an error) and its progress. run() works in a worker
 * and fills the outcome; the loop then calls finish() (to release what the
 * operation held) and answers the request. While it runs, the timer sends
 * its progress to the client.
 */
#ifndef TPLFSD_OPJOB_H
#define TPLFSD_OPJOB_H

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>

#include "jobs.h"
#include "tplfsd.h"

struct opjob {
	struct job job;
	struct req *rq;
	struct daemon *d;
	void (*finish)(struct opjob *oj);	/* in the loop, may be NULL */
	/* the outcome, set by run() */
	enum tplfs_err err;
	int errnum;
	char msg[PATH_MAX + 512];
	json_object *result;
	/* progress, set by run(): what is being done (a phase may change
	 * it), how much of it (items and, when bytes_total is not 0, bytes) */
	const char *_Atomic what;
	_Atomic uint64_t done;
	_Atomic uint64_t total;
	_Atomic uint64_t bytes_done;
	_Atomic uint64_t bytes_total;
	const char *sent_what;
	uint64_t sent, sent_bytes;
	struct opjob *next_active;
};

/* A zeroed job of @size bytes (a struct that starts with struct opjob). */
void *opjob_new(struct req *rq, size_t size, void (*run)(struct job *job),
		void (*finish)(struct opjob *oj));
void opjob_submit(struct opjob *oj);

/* The operation failed with a message of its own. */
void opjob_fail(struct opjob *oj, enum tplfs_err err, int errnum,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The operation failed: "@what: strerror(@errnum)". */
void opjob_failno(struct opjob *oj, enum tplfs_err err, int errnum,
		  const char *what);
bool opjob_failed(const struct opjob *oj);

/* Send the progress of the running operations that moved (the timer). */
void opjob_progress_tick(struct daemon *d);

#endif /* TPLFSD_OPJOB_H */
