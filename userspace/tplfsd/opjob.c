// SPDX-License-Identifier: GPL-2.0-or-later
/* Operations run as jobs: see opjob.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opjob.h"

static struct opjob *active;	/* running operations, for progress */

static void opjob_done(struct job *job)
{
	struct opjob *oj = (struct opjob *)job, **pp;

	for (pp = &active; *pp; pp = &(*pp)->next_active) {
		if (*pp == oj) {
			*pp = oj->next_active;
			break;
		}
	}
	if (oj->finish)
		oj->finish(oj);
	if (opjob_failed(oj)) {
		json_object_put(oj->result);
		req_reply(oj->rq, tplfs_reply_error(oj->err, oj->errnum, "%s",
						    oj->msg));
	} else {
		req_reply(oj->rq, tplfs_reply_ok(oj->result));
	}
	free(oj);
}

void *opjob_new(struct req *rq, size_t size, void (*run)(struct job *job),
		void (*finish)(struct opjob *oj))
{
	struct opjob *oj = calloc(1, size);

	if (!oj) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, ENOMEM,
						"out of memory"));
		return NULL;
	}
	oj->rq = rq;
	oj->d = rq->d;
	oj->job.run = run;
	oj->job.done = opjob_done;
	oj->finish = finish;
	return oj;
}

void opjob_submit(struct opjob *oj)
{
	oj->next_active = active;
	active = oj;
	jobs_submit(oj->d, &oj->job);
}

void opjob_fail(struct opjob *oj, enum tplfs_err err, int errnum,
		const char *fmt, ...)
{
	va_list ap;

	oj->err = err;
	oj->errnum = errnum;
	va_start(ap, fmt);
	vsnprintf(oj->msg, sizeof(oj->msg), fmt, ap);
	va_end(ap);
}

void opjob_failno(struct opjob *oj, enum tplfs_err err, int errnum,
		  const char *what)
{
	opjob_fail(oj, err, errnum, "%s: %s", what, strerror(errnum));
}

bool opjob_failed(const struct opjob *oj)
{
	return oj->msg[0] != '\0';
}

void opjob_progress_tick(struct daemon *d)
{
	(void)d;
	for (struct opjob *oj = active; oj; oj = oj->next_active) {
		const char *what = atomic_load(&oj->what);
		uint64_t done = atomic_load(&oj->done);
		uint64_t bytes = atomic_load(&oj->bytes_done);
		json_object *msg;

		/* news: it moved, or a new phase after one was told */
		if (!what || (done == oj->sent && bytes == oj->sent_bytes &&
			      (what == oj->sent_what || !oj->sent_what)))
			continue;
		oj->sent_what = what;
		oj->sent = done;
		oj->sent_bytes = bytes;
		msg = tplfs_progress_new(what, done, atomic_load(&oj->total));
		tplfs_progress_bytes(msg, bytes, atomic_load(&oj->bytes_total));
		req_progress(oj->rq, msg);
	}
}
