// SPDX-License-Identifier: LGPL-2.1-or-later
/* GET_ORIGIN and SET_ORIGIN on /dev/tplfs, synchronously. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "devcmd.h"
#include "korigin.h"

static int korigin_payload(struct tplfs_cmd_origin *c, const char *ct, int fd,
			   const void *addr, uint32_t len)
{
	memset(c, 0, sizeof(*c));
	if (strlen(ct) >= sizeof(c->ct))
		return -EINVAL;
	strcpy(c->ct, ct);
	c->addr = (uintptr_t)addr;
	c->len = len;
	c->fd = fd;
	return 0;
}

int tplfs_korigin_get(const char *ct, int fd, struct tplfs_origin_state *st)
{
	struct tplfs_cmd_origin c;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = korigin_payload(&c, ct, fd, st, sizeof(*st));
	if (ret)
		return ret;
	ret = tplfs_dev_call(TPLFS_CMD_GET_ORIGIN, &c, sizeof(c));
	return ret < 0 ? ret : 0;
}

int tplfs_korigin_set(const char *ct, int fd,
		      const struct tplfs_origin_state *expect,
		      const uint8_t origin[TPLFS_ORIGIN_SIZE])
{
	struct tplfs_origin_swap sw;
	struct tplfs_cmd_origin c;
	int ret;

	memset(&sw, 0, sizeof(sw));
	sw.expect = *expect;
	sw.expect.size = sizeof(sw.expect);
	memcpy(sw.origin, origin, sizeof(sw.origin));
	ret = korigin_payload(&c, ct, fd, &sw, sizeof(sw));
	if (ret)
		return ret;
	ret = tplfs_dev_call(TPLFS_CMD_SET_ORIGIN, &c, sizeof(c));
	return ret < 0 ? ret : 0;
}
