/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event loop: one io_uring ring (128-byte SQEs, for /dev/tplfs
 * passthrough commands), every completion dispatched to the loop_op whose
 * address is its user_data. Nothing else in tplfsd waits.
 */
#ifndef TPLFSD_LOOP_H
#define TPLFSD_LOOP_H

#include <stdbool.h>
#include <liburing.h>

struct loop_op;
typedef void (*loop_done_fn)(struct loop_op *op, int res, unsigned int flags);

/* One operation in flight: embed it, set @done, pass it to loop_sqe(). */
struct loop_op {
	loop_done_fn done;
};

struct loop {
	struct io_uring ring;
	unsigned int inflight;	/* operations submitted, not completed */
	bool stop;		/* leave loop_run() when set */
	/* after each batch of completions, if set: may set @stop */
	void (*idle)(struct loop *loop);
};

int loop_init(struct loop *loop, unsigned int entries);
void loop_exit(struct loop *loop);

/*
 * A submission entry for @op (never NULL: submits what is queued to make
 * room). The caller fills it with an io_uring_prep_*() and must not change
 * its user_data.
 */
struct io_uring_sqe *loop_sqe(struct loop *loop, struct loop_op *op);

/* Run until loop->stop is set; returns 0 or a negative errno. */
int loop_run(struct loop *loop);

#endif /* TPLFSD_LOOP_H */
