// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel channel on /dev/tplfs: see kchan.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devcmd.h"
#include "kchan.h"
#include "log.h"
#include "tplfsd.h"

#define KCHAN_DEV	"/dev/" TPLFS_DEV_NAME
#define KCHAN_BATCH	32
#define KCHAN_RECHECK_MAX	16
#define KCHAN_RECHECK_TICKS	300	/* seconds */

struct kchan {
	struct daemon *d;
	int fd;
	bool waiting;
	bool stopping;
	bool warned;
	unsigned int inflight;		/* commands on the ring */
	unsigned long long seq;		/* next event wanted */
	unsigned long long events;
	/*
	 * The module posts MOUNT from fill_super, before the mount is in
	 * /proc/self/mountinfo: a ct announced and not seen there yet is
	 * looked for again at each tick, for KCHAN_RECHECK_TICKS at most.
	 */
	struct { char ct[TPLFS_CT_NAME_SIZE]; unsigned int ticks; }
		recheck[KCHAN_RECHECK_MAX];
	struct loop_op wait_op;
	struct loop_op abort_op;
	struct tplfs_event buf[KCHAN_BATCH];
};

struct stats_cmd {
	struct loop_op op;
	struct kchan *kc;
	kchan_stats_fn done;
	void *arg;
	struct tplfs_mount_stats st;
};

static struct kchan *kchan(struct daemon *d)
{
	if (!d->kchan) {
		d->kchan = calloc(1, sizeof(*d->kchan));
		if (!d->kchan)
			return NULL;
		d->kchan->d = d;
		d->kchan->fd = -1;
		d->kchan->seq = 1;
	}
	return d->kchan;
}

static void close_if_done(struct kchan *kc)
{
	if (kc->fd >= 0 && kc->inflight == 0 && kc->stopping) {
		close(kc->fd);
		kc->fd = -1;
	}
}

static void wait_arm(struct kchan *kc);

static bool ct_mounted(struct daemon *d, const char *ct)
{
	struct ctstate *c = ct_find(d, ct);

	return c && c->mounted;
}

/* @ct was announced (MOUNT): look for it until it shows, or @gone. */
static void recheck_set(struct kchan *kc, const char *ct, bool gone)
{
	int free_slot = -1;

	for (int i = 0; i < KCHAN_RECHECK_MAX; i++) {
		if (kc->recheck[i].ticks && !strcmp(kc->recheck[i].ct, ct)) {
			if (gone)
				kc->recheck[i].ticks = 0;
			return;
		}
		if (!kc->recheck[i].ticks && free_slot < 0)
			free_slot = i;
	}
	if (gone || free_slot < 0 || ct_mounted(kc->d, ct))
		return;
	snprintf(kc->recheck[free_slot].ct, sizeof(kc->recheck[0].ct), "%s",
		 ct);
	kc->recheck[free_slot].ticks = KCHAN_RECHECK_TICKS;
}

void kchan_tick(struct daemon *d)
{
	struct kchan *kc = kchan(d);
	bool any = false;

	for (int i = 0; i < KCHAN_RECHECK_MAX; i++)
		any |= kc->recheck[i].ticks != 0;
	if (!any)
		return;
	ct_rescan(d);
	for (int i = 0; i < KCHAN_RECHECK_MAX; i++) {
		if (!kc->recheck[i].ticks)
			continue;
		if (ct_mounted(d, kc->recheck[i].ct))
			kc->recheck[i].ticks = 0;
		else
			kc->recheck[i].ticks--;
	}
}

static void handle_event(struct kchan *kc, const struct tplfs_event *ev)
{
	struct daemon *d = kc->d;
	char ct[TPLFS_CT_NAME_SIZE];

	memcpy(ct, ev->ct, sizeof(ct));
	ct[sizeof(ct) - 1] = '\0';
	kc->events++;
	switch (ev->type) {
	case TPLFS_EV_MOUNT:
	case TPLFS_EV_UMOUNT:
		log_info("kernel: %s %s",
			 ev->type == TPLFS_EV_MOUNT ? "mounted" : "unmounted",
			 ct[0] ? ct : "(no ct=)");
		ct_rescan(d);
		if (ct[0])
			recheck_set(kc, ct, ev->type == TPLFS_EV_UMOUNT);
		break;
	case TPLFS_EV_LOST:
		log_warn("kernel: %llu events lost; rescanning mounts",
			 (unsigned long long)ev->arg[0]);
		ct_rescan(d);
		break;
	case TPLFS_EV_QUOTA_SOFT:
	case TPLFS_EV_QUOTA_HARD:
	case TPLFS_EV_QUOTA_UNDER:
	case TPLFS_EV_QUOTA_CHECKPOINT:
		ctquota_event(d, ct, ev);
		break;
	default:
		log_info("kernel: event %u for %s", ev->type, ct);
		break;
	}
}

static void wait_done(struct loop_op *op, int res, unsigned int flags)
{
	struct kchan *kc = (struct kchan *)((char *)op -
					    offsetof(struct kchan, wait_op));

	(void)flags;
	kc->waiting = false;
	kc->inflight--;
	if (res > 0) {
		for (int i = 0; i < res && i < KCHAN_BATCH; i++) {
			const struct tplfs_event *ev = &kc->buf[i];

			handle_event(kc, ev);
			/* LOST stands for arg[0] events from its seq on. */
			kc->seq = ev->seq + (ev->type == TPLFS_EV_LOST ?
					     ev->arg[0] : 1);
		}
	} else if (res < 0 && res != -ECANCELED && res != -EINTR) {
		log_err("%s: WAIT_EVENT: %s; events no longer followed",
			KCHAN_DEV, strerror(-res));
		kc->stopping = true;
	}
	if (!kc->stopping && res != -ECANCELED)
		wait_arm(kc);
	close_if_done(kc);
}

static void wait_arm(struct kchan *kc)
{
	struct tplfs_cmd_wait w = {
		.seq = kc->seq,
		.addr = (__u64)(uintptr_t)kc->buf,
		.count = KCHAN_BATCH,
		.timeout_ms = 0,
	};
	struct io_uring_sqe *sqe;

	kc->waiting = true;
	kc->inflight++;
	kc->wait_op.done = wait_done;
	sqe = loop_sqe(&kc->d->loop, &kc->wait_op);
	tplfs_cmd_prep(sqe, kc->fd, TPLFS_CMD_WAIT_EVENT, &w, sizeof(w));
}

void kchan_open(struct daemon *d)
{
	struct kchan *kc = kchan(d);

	if (!kc || kc->fd >= 0 || kc->stopping)
		return;
	kc->fd = open(KCHAN_DEV, O_RDWR | O_CLOEXEC);
	if (kc->fd < 0) {
		if (!kc->warned)
			log_warn("%s: %s; running without the kernel channel (modprobe tplfs), retrying",
				 KCHAN_DEV, strerror(errno));
		kc->warned = true;
		return;
	}
	log_info("%s open: following kernel events", KCHAN_DEV);
	/* The synchronous client (quota) shares the file: one module ref. */
	tplfs_dev_adopt(fcntl(kc->fd, F_DUPFD_CLOEXEC, 3));
	kc->warned = false;
	ct_rescan(d);
	wait_arm(kc);
}

bool kchan_available(struct daemon *d)
{
	return d->kchan && d->kchan->fd >= 0 && !d->kchan->stopping;
}

static void abort_done(struct loop_op *op, int res, unsigned int flags)
{
	struct kchan *kc = (struct kchan *)((char *)op -
					    offsetof(struct kchan, abort_op));

	(void)flags;
	(void)res;
	kc->inflight--;
	close_if_done(kc);
}

void kchan_stop(struct daemon *d)
{
	struct kchan *kc = d->kchan;
	struct tplfs_cmd_abort a = { 0 };

	if (!kc || kc->stopping)
		return;
	kc->stopping = true;
	if (kc->waiting) {
		struct io_uring_sqe *sqe;

		kc->inflight++;
		kc->abort_op.done = abort_done;
		sqe = loop_sqe(&d->loop, &kc->abort_op);
		tplfs_cmd_prep(sqe, kc->fd, TPLFS_CMD_ABORT, &a, sizeof(a));
	}
	close_if_done(kc);
}

bool kchan_idle(struct daemon *d)
{
	return !d->kchan || d->kchan->fd < 0;
}

unsigned long long kchan_events(struct daemon *d)
{
	return d->kchan ? d->kchan->events : 0;
}

unsigned long long kchan_next_seq(struct daemon *d)
{
	return d->kchan ? d->kchan->seq : 0;
}

static void stats_done(struct loop_op *op, int res, unsigned int flags)
{
	struct stats_cmd *sc = (struct stats_cmd *)op;
	struct kchan *kc = sc->kc;

	(void)flags;
	kc->inflight--;
	sc->done(sc->arg, res < 0 ? res : 0, &sc->st);
	free(sc);
	close_if_done(kc);
}

void kchan_get_stats(struct daemon *d, const char *ct, kchan_stats_fn done,
		     void *arg)
{
	struct kchan *kc = d->kchan;
	struct tplfs_cmd_stats cmd;
	struct io_uring_sqe *sqe;
	struct stats_cmd *sc;

	if (!kchan_available(d)) {
		done(arg, -ENODEV, NULL);
		return;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		done(arg, -ENOMEM, NULL);
		return;
	}
	memset(&cmd, 0, sizeof(cmd));
	strncpy(cmd.ct, ct, sizeof(cmd.ct) - 1);
	cmd.addr = (__u64)(uintptr_t)&sc->st;
	cmd.len = sizeof(sc->st);
	sc->op.done = stats_done;
	sc->kc = kc;
	sc->done = done;
	sc->arg = arg;
	kc->inflight++;
	sqe = loop_sqe(&d->loop, &sc->op);
	tplfs_cmd_prep(sqe, kc->fd, TPLFS_CMD_GET_STATS, &cmd, sizeof(cmd));
}
