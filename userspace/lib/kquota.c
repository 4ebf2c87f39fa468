// SPDX-License-Identifier: LGPL-2.1-or-later
/* SET_QUOTA and GET_QUOTA on /dev/tplfs, synchronously. */
#include <errno.h>
#include <string.h>

#include "devcmd.h"
#include "kquota.h"

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
	ret = tplfs_dev_call(TPLFS_CMD_GET_QUOTA, &c, sizeof(c));
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
	ret = tplfs_dev_call(TPLFS_CMD_SET_QUOTA, &c, sizeof(c));
	return ret < 0 ? ret : 0;
}
