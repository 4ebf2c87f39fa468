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

/* Workers and the queue they take jobs from. */
struct pool {
	struct jobs *js;
	pthread_cond_t cond;
	struct job *queue, **queue_tail;	/* waiting for a worker */
	unsigned int nthreads;
	pthread_t *threads;
};

struct jobs {
	struct daemon *d;
	pthread_mutex_t lock;
	struct pool pools[2];			/* bulk, quick */
	struct job *finished;			/* waiting for done() */
	unsigned int pending;
	bool stop;
	int efd;
	uint64_t ebuf;
	struct loop_op read_op;
};

static void *worker(void *arg)
{
	struct pool *pool = arg;
	struct jobs *js = pool->js;

	pthread_mutex_lock(&js->lock);
	for (;;) {
		struct job *job;
		uint64_t one = 1;

		while (!pool->queue && !js->stop)
			pthread_cond_wait(&pool->cond, &js->lock);
		if (!pool->queue)
			break;
		job = pool->queue;
		pool->queue = job->next;
		if (!pool->queue)
			pool->queue_tail = &pool->queue;
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
}

static void arm_read(struct jobs *js)
{
	struct io_uring_sqe *sqe = loop_sqe(&js->d->loop, &js->read_op);

	io_uring_prep_read(sqe, js->efd, &js->ebuf, sizeof(js->ebuf), 0);
}

static int pool_start(struct jobs *js, struct pool *pool, unsigned int n)
{
	pool->js = js;
	pthread_cond_init(&pool->cond, NULL);
	pool->queue_tail = &pool->queue;
	pool->threads = calloc(n, sizeof(*pool->threads));
	if (!pool->threads)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		int err = pthread_create(&pool->threads[i], NULL, worker, pool);

		if (err)
			return -err;
		pool->nthreads++;
	}
	return 0;
}

int jobs_start(struct daemon *d, unsigned int nbulk, unsigned int nquick)
{
	struct jobs *js = calloc(1, sizeof(*js));
	int ret;

	if (!js)
		return -ENOMEM;
	js->d = d;
	pthread_mutex_init(&js->lock, NULL);
	js->read_op.done = efd_done;
	js->efd = eventfd(0, EFD_CLOEXEC);
	if (js->efd < 0)
		return -errno;
	ret = pool_start(js, &js->pools[0], nbulk);
	if (!ret)
		ret = pool_start(js, &js->pools[1], nquick);
	if (ret)
		return ret;
	d->jobs = js;
	arm_read(js);
	return 0;
}

void jobs_submit(struct daemon *d, struct job *job)
{
	struct jobs *js = d->jobs;
	struct pool *pool = &js->pools[job->quick];

	job->next = NULL;
	js->pending++;
	pthread_mutex_lock(&js->lock);
	*pool->queue_tail = job;
	pool->queue_tail = &job->next;
	pthread_cond_signal(&pool->cond);
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
	for (int p = 0; p < 2; p++)
		pthread_cond_broadcast(&js->pools[p].cond);
	pthread_mutex_unlock(&js->lock);
	for (int p = 0; p < 2; p++)
		for (unsigned int i = 0; i < js->pools[p].nthreads; i++)
			pthread_join(js->pools[p].threads[i], NULL);
}

void jobs_test_point(const char *point)
{
	const char *want = getenv("TPLFSD_TEST_PAUSE");
	size_t len = strlen(point);
	long ms;

	if (!want || strncmp(want, point, len) ||
	    (want[len] != '\0' && want[len] != '=' && want[len] != '@'))
		return;
	log_info("test pause at %s", point);
	if (want[len] == '\0') {
		for (;;)
			pause();
	}
	if (want[len] == '@') {
		/* a gate the test opens: held until the file exists */
		while (access(want + len + 1, F_OK) < 0)
			usleep(10000);
		log_info("test pause at %s: released", point);
		return;
	}
	ms = atol(want + len + 1);
	usleep((useconds_t)ms * 1000);
}
