// SPDX-License-Identifier: LGPL-2.1-or-later
/* private/<ct>/quota.usage: see ctusage.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "ctusage.h"
#include "kvfile.h"

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int usage_setting(void *arg, const char *key, const char *value,
			 char *err, size_t errlen)
{
	struct tplfs_ct_usage *u = arg;
	uint64_t v;

	if (!strcmp(key, "state")) {
		if (strcmp(value, "clean") && strcmp(value, "mounted")) {
			snprintf(err, errlen, "state: clean or mounted");
			return -1;
		}
		u->clean = !strcmp(value, "clean");
		return 0;
	}
	if (parse_u64(value, &v)) {
		snprintf(err, errlen, "%s: \"%s\" is not a number", key, value);
		return -1;
	}
	if (!strcmp(key, "bytes"))
		u->bytes = v;
	else if (!strcmp(key, "inodes"))
		u->inodes = v;
	else if (!strcmp(key, "bytes_grace_end") && v <= INT64_MAX)
		u->bytes_grace_end = (int64_t)v;
	else if (!strcmp(key, "inodes_grace_end") && v <= INT64_MAX)
		u->inodes_grace_end = (int64_t)v;
	else {
		snprintf(err, errlen, "unknown setting \"%s\"", key);
		return -1;
	}
	return 0;
}

int tplfs_ct_usage_read(const char *path, struct tplfs_ct_usage *u,
			char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	return tplfs_kv_read(path, usage_setting, u, err, errlen);
}

int tplfs_ct_usage_write(int dirfd, const struct tplfs_ct_usage *u)
{
	char text[512];
	int n;

	n = snprintf(text, sizeof(text),
		     "# tplfs quota usage (doc/quota.md); written by tplfsd\n"
		     "state = %s\nbytes = %" PRIu64 "\ninodes = %" PRIu64 "\n"
		     "bytes_grace_end = %" PRId64 "\ninodes_grace_end = %" PRId64 "\n",
		     u->clean ? "clean" : "mounted", u->bytes, u->inodes,
		     u->bytes_grace_end > 0 ? u->bytes_grace_end : 0,
		     u->inodes_grace_end > 0 ? u->inodes_grace_end : 0);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -EOVERFLOW;
	return tplfs_write_atomic(dirfd, TPLFS_CTUSAGE_FILE, text, (size_t)n,
				  0644);
}
