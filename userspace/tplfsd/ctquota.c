// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-container quota in the daemon (doc/quota.md). The limits live in
 * ct.conf; usage lives in the kernel while the container is mounted and in
 * private/<ct>/quota.usage otherwise:
 *
 * mount      SET_QUOTA with the limits and the usage of quota.usage, which
 *            is then marked "mounted". Not "clean" (an unclean stop, or no
 *            file): the container is mounted at once with those numbers and
 *            a background rescan makes them exact.
 * rescan     GET_QUOTA (gen), io_uring statx scan of the private area,
 *            SET_QUOTA with TPLFS_QSET_IF_GEN: taken only if nothing was
 *            charged meanwhile, else tried again.
 * checkpoint every TPLFSD_CHECKPOINT_S and on the kernel's checkpoint
 *            events: GET_QUOTA into quota.usage.
 * umount     GET_QUOTA, umount, quota.usage written "clean".
 *
 * Everything touching a container's quota.usage holds its usage lock, so
 * a checkpoint never overwrites what an umount wrote.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "ctusage.h"
#include "kquota.h"
#include "log.h"
#include "opjob.h"
#include "units.h"
#include "usage_scan.h"

#define TPLFSD_CHECKPOINT_S	60	/* seconds between checkpoints */
#define RESCAN_TRIES		20	/* before waiting for the next checkpoint */
#define USAGE_LOCKS		32

static pthread_mutex_t usage_locks[USAGE_LOCKS] = {
	[0 ... USAGE_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER
};

static pthread_mutex_t *usage_lock(const char *id)
{
	unsigned int h = 5381;

	while (*id)
		h = h * 33 + (unsigned char)*id++;
	return &usage_locks[h % USAGE_LOCKS];
}

void ctquota_lock(const char *id)
{
	pthread_mutex_lock(usage_lock(id));
}

void ctquota_unlock(const char *id)
{
	pthread_mutex_unlock(usage_lock(id));
}

void ctquota_kernel_limits(struct tplfs_quota *q,
			   const struct tplfs_ct_limits *l)
{
	q->res[TPLFS_QRES_BYTES].soft = l->bytes_soft;
	q->res[TPLFS_QRES_BYTES].hard = l->bytes_hard;
	q->res[TPLFS_QRES_INODES].soft = l->inodes_soft;
	q->res[TPLFS_QRES_INODES].hard = l->inodes_hard;
	q->res[TPLFS_QRES_BYTES].grace = l->grace;
	q->res[TPLFS_QRES_INODES].grace = l->grace;
}

static void to_kernel_usage(struct tplfs_quota *q,
			    const struct tplfs_ct_usage *u)
{
	q->res[TPLFS_QRES_BYTES].used = u->bytes;
	q->res[TPLFS_QRES_INODES].used = u->inodes;
	q->res[TPLFS_QRES_BYTES].grace_end = u->bytes_grace_end;
	q->res[TPLFS_QRES_INODES].grace_end = u->inodes_grace_end;
}

static void from_kernel(struct tplfs_ct_usage *u, const struct tplfs_quota *q,
			bool clean)
{
	u->bytes = q->res[TPLFS_QRES_BYTES].used;
	u->inodes = q->res[TPLFS_QRES_INODES].used;
	u->bytes_grace_end = q->res[TPLFS_QRES_BYTES].grace_end;
	u->inodes_grace_end = q->res[TPLFS_QRES_INODES].grace_end;
	u->clean = clean;
}

/* Write quota.usage into private/<id>; logged on failure. */
static int write_usage(const char *private_dir, const struct tplfs_ct_usage *u)
{
	int fd = open(private_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = fd < 0 ? -errno : tplfs_ct_usage_write(fd, u);

	if (fd >= 0)
		close(fd);
	if (ret)
		log_err("%s/%s: %s", private_dir, TPLFS_CTUSAGE_FILE,
			strerror(-ret));
	return ret;
}

static void usage_path(char *buf, size_t size, const char *private_dir)
{
	snprintf(buf, size, "%s/%s", private_dir, TPLFS_CTUSAGE_FILE);
}

int ctquota_created(const char *private_dir, const char *fs)
{
	struct tplfs_ct_usage cu = { .clean = true };
	struct tplfs_usage u;
	char err[PATH_MAX + 128];
	int ret;

	ret = tplfs_usage_scan_path(fs, &u, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	cu.bytes = u.bytes;
	cu.inodes = u.inodes;
	return write_usage(private_dir, &cu);
}

bool ctquota_mounted(const char *id, const struct tplfs_ct_paths *p,
		     const struct tplfs_ct_limits *limits)
{
	struct tplfs_quota q = { .size = sizeof(q) };
	struct tplfs_ct_usage u;
	char path[PATH_MAX + 32], err[PATH_MAX + 128];
	bool exact;
	int ret;

	pthread_mutex_lock(usage_lock(id));
	usage_path(path, sizeof(path), p->private_dir);
	ret = tplfs_ct_usage_read(path, &u, err, sizeof(err));
	if (ret && ret != -ENOENT)
		log_err("%s; its usage will be rescanned", err);
	exact = !ret && u.clean;
	if (!exact)
		log_info("ct %s: usage %s until a rescan", id,
			 ret ? "counted from 0" : "of the last checkpoint");
	ctquota_kernel_limits(&q, limits);
	to_kernel_usage(&q, &u);
	ret = tplfs_kquota_set(id, &q, TPLFS_QSET_LIMITS | TPLFS_QSET_USAGE);
	if (ret)
		log_err("ct %s: SET_QUOTA: %s; mounted without its quota", id,
			strerror(-ret));
	u.clean = false;
	write_usage(p->private_dir, &u);
	pthread_mutex_unlock(usage_lock(id));
	return !exact && !ret;
}

int ctquota_umount(const char *id, const char *private_dir,
		   const char *target, bool force)
{
	struct tplfs_quota q;
	struct tplfs_ct_usage u;
	int got, ret = 0;

	pthread_mutex_lock(usage_lock(id));
	got = tplfs_kquota_get(id, true, &q);
	if (umount2(target, force ? MNT_DETACH : 0) < 0)
		ret = -errno;
	/* A lazy umount leaves it writable: its usage is not final. */
	if (!ret && !got) {
		from_kernel(&u, &q, !force);
		write_usage(private_dir, &u);
	}
	pthread_mutex_unlock(usage_lock(id));
	return ret;
}

/* --- background jobs: rescans and checkpoints --------------------------------- */

struct quota_job {
	struct job job;
	struct daemon *d;
	char id[TPLFS_CT_ID_MAX + 1];
	struct tplfs_ct_paths paths;
	bool rescan;
	/* the outcome, for the loop */
	int err;
	char msg[PATH_MAX + 128];
	struct tplfs_usage found;
	uint64_t before_bytes, before_inodes;
	unsigned int tries;
	double secs;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rescan_run(struct quota_job *qj)
{
	struct tplfs_quota q;
	struct tplfs_ct_usage u;
	double start = now_s();
	int ret;

	jobs_test_point("ct.rescan:begin");
	for (qj->tries = 1; qj->tries <= RESCAN_TRIES; qj->tries++) {
		ret = tplfs_kquota_get(qj->id, true, &q);
		if (ret)
			break;
		qj->before_bytes = q.res[TPLFS_QRES_BYTES].used;
		qj->before_inodes = q.res[TPLFS_QRES_INODES].used;
		ret = tplfs_usage_scan_path(qj->paths.fs, &qj->found, qj->msg,
				 sizeof(qj->msg));
		if (ret)
			break;
		q.res[TPLFS_QRES_BYTES].used = qj->found.bytes;
		q.res[TPLFS_QRES_INODES].used = qj->found.inodes;
		pthread_mutex_lock(usage_lock(qj->id));
		ret = tplfs_kquota_set(qj->id, &q, TPLFS_QSET_USAGE |
				       TPLFS_QSET_IF_GEN);
		if (!ret) {
			from_kernel(&u, &q, false);
			write_usage(qj->paths.private_dir, &u);
		}
		pthread_mutex_unlock(usage_lock(qj->id));
		if (ret != -EAGAIN)
			break;
		/* Written to meanwhile: again, a little later. */
		usleep(50000 * qj->tries);
	}
	if (ret && !qj->msg[0])
		snprintf(qj->msg, sizeof(qj->msg), "%s", strerror(-ret));
	qj->err = ret;
	qj->secs = now_s() - start;
}

/* quota.usage from the kernel, if it changed. */
static void checkpoint_run(struct quota_job *qj)
{
	struct tplfs_ct_usage old, u;
	struct tplfs_quota q;

	pthread_mutex_lock(usage_lock(qj->id));
	qj->err = tplfs_kquota_get(qj->id, true, &q);
	if (!qj->err) {
		char path[PATH_MAX + 32], err[PATH_MAX + 128];

		from_kernel(&u, &q, false);
		usage_path(path, sizeof(path), qj->paths.private_dir);
		if (tplfs_ct_usage_read(path, &old, err, sizeof(err)) ||
		    memcmp(&old, &u, sizeof(u)))
			qj->err = write_usage(qj->paths.private_dir, &u);
	}
	pthread_mutex_unlock(usage_lock(qj->id));
}

static void quota_job_run(struct job *job)
{
	struct quota_job *qj = (struct quota_job *)job;

	if (qj->rescan)
		rescan_run(qj);
	else
		checkpoint_run(qj);
}

static void quota_job_done(struct job *job)
{
	struct quota_job *qj = (struct quota_job *)job;
	struct ctstate *ct = ct_find(qj->d, qj->id);

	if (qj->rescan) {
		if (ct)
			ct->rescan = qj->err ? RESCAN_PENDING : RESCAN_NONE;
		if (!qj->err)
			log_info("ct %s: usage rescanned in %.3f s: %llu bytes, %llu inodes (was %llu, %llu)",
				 qj->id, qj->secs,
				 (unsigned long long)qj->found.bytes,
				 (unsigned long long)qj->found.inodes,
				 (unsigned long long)qj->before_bytes,
				 (unsigned long long)qj->before_inodes);
		else if (qj->err == -EAGAIN)
			log_warn("ct %s: usage rescan: written to during %u scans; tried again at the next checkpoint",
				 qj->id, RESCAN_TRIES);
		else if (qj->err != -ENOENT)
			log_err("ct %s: usage rescan: %s", qj->id, qj->msg);
	} else if (qj->err && qj->err != -ENOENT) {
		log_err("ct %s: quota checkpoint: %s", qj->id,
			strerror(-qj->err));
	}
	free(qj);
}

static void quota_job_submit(struct daemon *d, struct ctstate *ct,
			     bool rescan)
{
	struct quota_job *qj = calloc(1, sizeof(*qj));

	if (!qj || tplfs_ct_paths(&d->cfg, ct->id, &qj->paths)) {
		free(qj);
		return;
	}
	qj->job.run = quota_job_run;
	qj->job.done = quota_job_done;
	qj->job.quick = !rescan;
	qj->d = d;
	qj->rescan = rescan;
	snprintf(qj->id, sizeof(qj->id), "%s", ct->id);
	if (rescan)
		ct->rescan = RESCAN_RUNNING;
	jobs_submit(d, &qj->job);
}

void ctquota_rescan(struct daemon *d, const char *id)
{
	struct ctstate *ct = ct_find(d, id);

	if (ct && ct->mounted && ct->rescan != RESCAN_RUNNING)
		quota_job_submit(d, ct, true);
}

void ctquota_checkpoint(struct daemon *d, const char *id)
{
	struct ctstate *ct = ct_find(d, id);

	if (ct && ct->mounted && !ct->busy)
		quota_job_submit(d, ct, false);
}

void ctquota_tick(struct daemon *d)
{
	static unsigned int ticks;

	if (++ticks < TPLFSD_CHECKPOINT_S)
		return;
	ticks = 0;
	for (struct ctstate *ct = d->cts; ct; ct = ct->next) {
		if (!ct->mounted || ct->busy)
			continue;
		if (ct->rescan == RESCAN_PENDING)
			quota_job_submit(d, ct, true);
		else if (ct->rescan == RESCAN_NONE)
			quota_job_submit(d, ct, false);
	}
}

void ctquota_event(struct daemon *d, const char *id,
		   const struct tplfs_event *ev)
{
	const char *what = ev->arg[0] == TPLFS_QRES_INODES ? "inode" : "block";
	char when[64];
	time_t t;

	switch (ev->type) {
	case TPLFS_EV_QUOTA_SOFT:
		t = (time_t)ev->arg[1];
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z",
			 localtime(&t));
		log_warn("ct %s: over its soft %s limit; grace period until %s",
			 id, what, when);
		break;
	case TPLFS_EV_QUOTA_HARD:
		log_warn("ct %s: %s limit reached (%llu used): allocations refused",
			 id, what, (unsigned long long)ev->arg[1]);
		break;
	case TPLFS_EV_QUOTA_UNDER:
		log_info("ct %s: back under its soft %s limit (%llu used)", id,
			 what, (unsigned long long)ev->arg[1]);
		break;
	case TPLFS_EV_QUOTA_CHECKPOINT:
		ctquota_checkpoint(d, id);
		break;
	}
}
