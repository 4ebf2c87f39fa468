// SPDX-License-Identifier: GPL-2.0-or-later
/* The event loop: see loop.h and doc/tplfsd.md. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "loop.h"

int loop_init(struct loop *loop, unsigned int entries)
{
	struct io_uring_params p;

	memset(loop, 0, sizeof(*loop));
	memset(&p, 0, sizeof(p));
	/* 80-byte command payloads for /dev/tplfs; one thread submits. */
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER;
	return io_uring_queue_init_params(entries, &loop->ring, &p);
}

void loop_exit(struct loop *loop)
{
	io_uring_queue_exit(&loop->ring);
}

struct io_uring_sqe *loop_sqe(struct loop *loop, struct loop_op *op)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&loop->ring)))
		io_uring_submit(&loop->ring);
	/* Zero all 128 bytes: prep helpers clear only the first 64. */
	memset(sqe, 0, 128);
	io_uring_sqe_set_data(sqe, op);
	loop->inflight++;
	return sqe;
}

int loop_run(struct loop *loop)
{
	while (!loop->stop) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		int ret;

		ret = io_uring_submit_and_wait(&loop->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN) {
			log_err("io_uring_submit_and_wait: %s", strerror(-ret));
			return ret;
		}
		io_uring_for_each_cqe(&loop->ring, head, cqe) {
			struct loop_op *op = io_uring_cqe_get_data(cqe);
			int res = cqe->res;
			unsigned int flags = cqe->flags;

			seen++;
			if (!(flags & IORING_CQE_F_MORE))
				loop->inflight--;
			if (op)
				op->done(op, res, flags);
		}
		io_uring_cq_advance(&loop->ring, seen);
		if (loop->idle)
			loop->idle(loop);
	}
	return 0;
}
