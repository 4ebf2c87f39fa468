/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Commands to /dev/tplfs (doc/control-device.md): io_uring passthrough
 * commands with an 80-byte payload in a 128-byte SQE. tplfs_cmd_prep()
 * prepares one on any ring (the daemon's loop, the test tools' rings);
 * tplfs_dev_call() runs one synchronously on the process's one client, a
 * /dev/tplfs file and a small ring opened at the first call and reused, so
 * that any thread may call it (one command at a time).
 */
#ifndef TPLFS_DEVCMD_H
#define TPLFS_DEVCMD_H

#include <liburing.h>
#include <stddef.h>

#include <linux/tplfs.h>

#define TPLFS_CMD_AREA	80	/* the payload area of an SQE128 */

/*
 * @sqe, from a ring set up with IORING_SETUP_SQE128, as command @op on the
 * /dev/tplfs file @fd: @len bytes of @payload (at most TPLFS_CMD_AREA),
 * the rest of the area zeroed. The caller sets user_data.
 */
void tplfs_cmd_prep(struct io_uring_sqe *sqe, int fd, __u32 op,
		    const void *payload, size_t len);

/*
 * Command @op with @payload, submitted and waited for on the process's
 * client. Returns the command's result (>= 0) or a negative errno:
 * -ENOENT or -ENODEV when /dev/tplfs cannot be opened (no module).
 */
int tplfs_dev_call(__u32 op, const void *payload, size_t len);

/*
 * Give the client @fd, an open /dev/tplfs file (the daemon passes a dup of
 * its kernel channel's, so that the process holds the module once). The
 * client takes @fd, or closes it if it has a file already.
 */
void tplfs_dev_adopt(int fd);

/* Close the client's file and ring; the next call opens them again. */
void tplfs_dev_close(void);

#endif /* TPLFS_DEVCMD_H */
