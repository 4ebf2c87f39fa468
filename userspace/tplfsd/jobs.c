// SPDX-License-Identifier: GPL-2.0-or-later
/* Blocking work in worker threads: see jobs.h. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "jobs.h"
#include "log.h"
#include "tplfsd.h"

struct jobs {
	struct daemon *d;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *queue, **queue_tail;	/* waiting for a worker */
	struct job *finished;			/* waiting for done() */
	unsigned int pending;
	bool stop;
	unsigned int nthreads;
	pthread_t *threads;
	int efd;
	uint64_t ebuf;
	struct loop_op read_op;
};

static void *worker(void *arg)
{
	struct jobs *js = arg;

	pthread_mutex_lock(&js->lock);
	for (;;) {
		struct job *job;
		uint64_t one = 1;

		while (!js->queue && !js->stop)
			pthread_cond_wait(&js->cond, &js->lock);
		if (!js->queue)
			break;
		job = js->queue;
		js->queue = job->next;
		if (!js->queue)
			js->queue_tail = &js->queue;
		pthread_mutex_unlock(&js->lock);

		job->run(job);

		pthread_mutex_lock(&js->lock);
		job->next = js->finished;
		js->finished = job;
		if (write(js->efd, &one, sizeof(one)) < 0)
			log_err("eventfd write: %s", strerror(errno));
	}
	pthread_mutex_unlock(&js->lock);
	return NULL;
}

static void arm_read(struct jobs *js);

static void efd_done(struct loop_op *op, int res, unsigned int flags)
{
	struct jobs *js = (struct jobs *)((char *)op -
					  offsetof(struct jobs, read_op));
	struct job *list, *next, *rev = NULL;

	(void)flags;
	if (res < 0 && res != -EINTR && res != -EAGAIN)
		log_err("eventfd read: %s", strerror(-res));
	pthread_mutex_lock(&js->lock);
	list = js->finished;
	js->finished = NULL;
	pthread_mutex_unlock(&js->lock);
	for (; list; list = next) {	/* oldest first */
		next = list->next;
		list->next = rev;
		rev = list;
	}
	for (; rev; rev = next) {
		next = rev->next;
		js->pending--;
		rev->done(rev);
	}
	if (!js->stop)
		arm_read(js);
	daemon_check_exit(js->d);
}

static void arm_read(struct jobs *js)
{
	struct io_uring_sqe *sqe = loop_sqe(&js->d->loop, &js->read_op);

	io_uring_prep_read(sqe, js->efd, &js->ebuf, sizeof(js->ebuf), 0);
}

int jobs_start(struct daemon *d, unsigned int nthreads)
{
	struct jobs *js = calloc(1, sizeof(*js));

	if (!js)
		return -ENOMEM;
	js->d = d;
	pthread_mutex_init(&js->lock, NULL);
	pthread_cond_init(&js->cond, NULL);
	js->queue_tail = &js->queue;
	js->read_op.done = efd_done;
	js->efd = eventfd(0, EFD_CLOEXEC);
	js->threads = calloc(nthreads, sizeof(*js->threads));
	if (js->efd < 0 || !js->threads)
		return -ENOMEM;
	for (unsigned int i = 0; i < nthreads; i++) {
		int err = pthread_create(&js->threads[i], NULL, worker, js);

		if (err)
			return -err;
		js->nthreads++;
	}
	d->jobs = js;
	arm_read(js);
	return 0;
}

void jobs_submit(struct daemon *d, struct job *job)
{
	struct jobs *js = d->jobs;

	job->next = NULL;
	js->pending++;
	pthread_mutex_lock(&js->lock);
	*js->queue_tail = job;
	js->queue_tail = &job->next;
	pthread_cond_signal(&js->cond);
	pthread_mutex_unlock(&js->lock);
}

unsigned int jobs_pending(struct daemon *d)
{
	return d->jobs ? d->jobs->pending : 0;
}

void jobs_stop(struct daemon *d)
{
	struct jobs *js = d->jobs;

	if (!js)
		return;
	pthread_mutex_lock(&js->lock);
	js->stop = true;
	pthread_cond_broadcast(&js->cond);
	pthread_mutex_unlock(&js->lock);
	for (unsigned int i = 0; i < js->nthreads; i++)
		pthread_join(js->threads[i], NULL);
}

void jobs_test_point(const char *point)
{
	const char *want = getenv("TPLFSD_TEST_PAUSE");
	size_t len = strlen(point);
	long ms;

	if (!want || strncmp(want, point, len) ||
	    (want[len] != '\0' && want[len] != '='))
		return;
	log_info("test pause at %s", point);
	if (want[len] == '\0') {
		for (;;)
			pause();
	}
	ms = atol(want + len + 1);
	usleep((useconds_t)ms * 1000);
}
