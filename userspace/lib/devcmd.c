// SPDX-License-Identifier: LGPL-2.1-or-later
/* Commands to /dev/tplfs; see devcmd.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "devcmd.h"

#define DEV_PATH	"/dev/" TPLFS_DEV_NAME

static struct {
	pthread_mutex_t lock;
	int fd;
	bool ring_ok;
	struct io_uring ring;
} dev = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

void tplfs_cmd_prep(struct io_uring_sqe *sqe, int fd, __u32 op,
		    const void *payload, size_t len)
{
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	memset(sqe->cmd, 0, TPLFS_CMD_AREA);
	memcpy(sqe->cmd, payload, len < TPLFS_CMD_AREA ? len : TPLFS_CMD_AREA);
}

/* The file and the ring, opened if they are not; under dev.lock. */
static int dev_ready(void)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 };

	if (dev.fd < 0) {
		dev.fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		if (dev.fd < 0)
			return -errno;
	}
	if (!dev.ring_ok) {
		int ret = io_uring_queue_init_params(2, &dev.ring, &p);
		if (ret < 0)
			return ret;
		dev.ring_ok = true;
	}
	return 0;
}

int tplfs_dev_call(__u32 op, const void *payload, size_t len)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int ret;

	pthread_mutex_lock(&dev.lock);
	ret = dev_ready();
	if (ret)
		goto out;
	sqe = io_uring_get_sqe(&dev.ring);
	if (!sqe) {		/* a ring of 2 with nothing in flight */
		ret = -EBUSY;
		goto out;
	}
	tplfs_cmd_prep(sqe, dev.fd, op, payload, len);
	ret = io_uring_submit(&dev.ring);
	if (ret < 0)
		goto out;
	do
		ret = io_uring_wait_cqe(&dev.ring, &cqe);
	while (ret == -EINTR);
	if (!ret) {
		ret = cqe->res;
		io_uring_cqe_seen(&dev.ring, cqe);
	}
out:
	pthread_mutex_unlock(&dev.lock);
	return ret;
}

void tplfs_dev_adopt(int fd)
{
	if (fd < 0)
		return;
	pthread_mutex_lock(&dev.lock);
	if (dev.fd < 0) {
		dev.fd = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&dev.lock);
	if (fd >= 0)
		close(fd);
}

void tplfs_dev_close(void)
{
	pthread_mutex_lock(&dev.lock);
	if (dev.ring_ok)
		io_uring_queue_exit(&dev.ring);
	dev.ring_ok = false;
	if (dev.fd >= 0)
		close(dev.fd);
	dev.fd = -1;
	pthread_mutex_unlock(&dev.lock);
}
