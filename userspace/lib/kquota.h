/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A mounted container's quota in the kernel: SET_QUOTA and GET_QUOTA on
 * /dev/tplfs (doc/control-device.md), each a synchronous command on the
 * process's one client (devcmd.h), so that any thread may call them.
 */
#ifndef TPLFS_KQUOTA_H
#define TPLFS_KQUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/tplfs.h>

/*
 * GET_QUOTA of the mount of container @ct; @sync has the module measure
 * the inodes it caches first. Returns 0, -ENOENT when @ct is not mounted,
 * or another negative errno.
 */
int tplfs_kquota_get(const char *ct, bool sync, struct tplfs_quota *q);

/*
 * SET_QUOTA with @flags (TPLFS_QSET_*). Returns 0, -ENOENT, -EAGAIN (with
 * TPLFS_QSET_IF_GEN, usage changed since q->gen), or another negative errno.
 */
int tplfs_kquota_set(const char *ct, const struct tplfs_quota *q,
		     uint32_t flags);

#endif /* TPLFS_KQUOTA_H */
