/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel channel: /dev/tplfs, driven by io_uring passthrough commands
 * on the loop's ring (doc/control-device.md). One WAIT_EVENT is always
 * pending while the device is open; GET_STATS answers ct.stats. When the
 * module is not loaded the daemon runs without it and tries again on every
 * timer tick.
 */
#ifndef TPLFSD_KCHAN_H
#define TPLFSD_KCHAN_H

#include <stdbool.h>
#include <linux/tplfs.h>

struct daemon;

/* Open /dev/tplfs if it is not open; start waiting for events. */
void kchan_open(struct daemon *d);
/* Once a second: look again for mounts announced and not seen yet. */
void kchan_tick(struct daemon *d);
bool kchan_available(struct daemon *d);
/* The daemon is stopping: abort the pending wait and close the device. */
void kchan_stop(struct daemon *d);
/* Nothing of the channel is in flight. */
bool kchan_idle(struct daemon *d);
/* Events received since start, and the next sequence number wanted. */
unsigned long long kchan_events(struct daemon *d);
unsigned long long kchan_next_seq(struct daemon *d);

/*
 * Ask for the counters of container @ct. @done is called from the loop with
 * 0 and the counters, or a negative errno (-ENOENT: not mounted, -ENODEV:
 * no module).
 */
typedef void (*kchan_stats_fn)(void *arg, int err,
			       const struct tplfs_mount_stats *st);
void kchan_get_stats(struct daemon *d, const char *ct, kchan_stats_fn done,
		     void *arg);

#endif /* TPLFSD_KCHAN_H */
