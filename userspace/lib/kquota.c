// SPDX-License-Identifier: LGPL-2.1-or-later
/* SET_QUOTA and GET_QUOTA on /dev/tplfs, synchronously. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <string.h>
#include <unistd.h>

#include "kquota.h"

#define KQUOTA_DEV	"/dev/" TPLFS_DEV_NAME

/* One passthrough command with @payload (80 bytes), waited for. */
static int kquota_cmd(uint32_t op, const struct tplfs_cmd_quota *payload)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int fd, ret;

	fd = open(KQUOTA_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = io_uring_queue_init_params(2, &ring, &p);
	if (ret < 0)
		goto out_close;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	memset(sqe->cmd, 0, 80);
	memcpy(sqe->cmd, payload, sizeof(*payload));
	ret = io_uring_submit(&ring);
	if (ret >= 0) {
		do
			ret = io_uring_wait_cqe(&ring, &cqe);
		while (ret == -EINTR);
		if (!ret) {
			ret = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	io_uring_queue_exit(&ring);
out_close:
	close(fd);
	return ret;
}

static int kquota_payload(struct tplfs_cmd_quota *c, const char *ct,
			  const struct tplfs_quota *q, uint32_t flags)
{
	memset(c, 0, sizeof(*c));
	if (strlen(ct) >= sizeof(c->ct))
		return -EINVAL;
	strcpy(c->ct, ct);
	c->addr = (uintptr_t)q;
	c->len = sizeof(*q);
	c->flags = flags;
	return 0;
}

int tplfs_kquota_get(const char *ct, bool sync, struct tplfs_quota *q)
{
	struct tplfs_cmd_quota c;
	int ret;

	memset(q, 0, sizeof(*q));
	ret = kquota_payload(&c, ct, q, sync ? TPLFS_QGET_SYNC : 0);
	if (ret)
		return ret;
	ret = kquota_cmd(TPLFS_CMD_GET_QUOTA, &c);
	return ret < 0 ? ret : 0;
}

int tplfs_kquota_set(const char *ct, const struct tplfs_quota *q,
		     uint32_t flags)
{
	struct tplfs_quota copy = *q;
	struct tplfs_cmd_quota c;
	int ret;

	copy.size = sizeof(copy);
	copy.flags = 0;
	ret = kquota_payload(&c, ct, &copy, flags);
	if (ret)
		return ret;
	ret = kquota_cmd(TPLFS_CMD_SET_QUOTA, &c);
	return ret < 0 ? ret : 0;
}
