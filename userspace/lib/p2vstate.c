// SPDX-License-Identifier: LGPL-2.1-or-later
/* p2v.conf: see p2vstate.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "kvfile.h"
#include "p2vstate.h"

struct reading {
	struct tplfs_p2v_state *st;
	char from[sizeof(((struct tplfs_p2v_plan *)0)->from)];
	const char *mounts[TPLFS_P2V_MOUNTS_MAX];
	size_t nmounts;
	const char *excludes[TPLFS_P2V_EXCLUDES_MAX];
	size_t nexcludes;
};

static int number(const char *key, const char *value, uint64_t *out,
		  char *err, size_t errlen)
{
	char *end;

	errno = 0;
	*out = strtoull(value, &end, 10);
	if (errno || end == value || *end) {
		snprintf(err, errlen, "%s: not a number: %s", key, value);
		return -1;
	}
	return 0;
}

static int take(void *arg, const char *key, const char *value, char *err,
		size_t errlen)
{
	struct reading *r = arg;
	struct tplfs_p2v_state *st = r->st;
	uint64_t v;

	if (!strcmp(key, "from")) {
		snprintf(r->from, sizeof(r->from), "%s", value);
		return 0;
	}
	if (!strcmp(key, "mount") || !strcmp(key, "exclude")) {
		bool m = key[0] == 'm';
		size_t *n = m ? &r->nmounts : &r->nexcludes;
		const char **list = m ? r->mounts : r->excludes;
		char *s;

		if (*n == (m ? TPLFS_P2V_MOUNTS_MAX : TPLFS_P2V_EXCLUDES_MAX)) {
			snprintf(err, errlen, "too many %s lines", key);
			return -1;
		}
		s = strdup(value);
		if (!s) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		list[(*n)++] = s;
		return 0;
	}
	if (number(key, value, &v, err, errlen))
		return -1;
	if (!strcmp(key, "started"))
		st->started = (int64_t)v;
	else if (!strcmp(key, "transfers"))
		st->transfers = v;
	else if (!strcmp(key, "source_bytes"))
		st->source_bytes = v;
	else if (!strcmp(key, "source_inodes"))
		st->source_inodes = v;
	else if (!strcmp(key, "finished"))
		st->finished = (int64_t)v;
	return 0;	/* a key of a later version: ignored */
}

int tplfs_p2v_state_read(int dirfd, struct tplfs_p2v_state *st, char *err,
			 size_t errlen)
{
	struct reading r = { .st = st };
	char path[64];
	int ret;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd,
		 TPLFS_P2V_STATE_FILE);
	ret = tplfs_kv_read(path, take, &r, err, errlen);
	if (!ret && !r.from[0]) {
		snprintf(err, errlen, "%s: no \"from\"", TPLFS_P2V_STATE_FILE);
		ret = -EINVAL;
	}
	if (!ret)
		ret = tplfs_p2v_plan_init(&st->plan, r.from, r.mounts,
					  r.nmounts, r.excludes, r.nexcludes,
					  err, errlen);
	for (size_t i = 0; i < r.nmounts; i++)
		free((char *)r.mounts[i]);
	for (size_t i = 0; i < r.nexcludes; i++)
		free((char *)r.excludes[i]);
	return ret;
}

int tplfs_p2v_state_write(int dirfd, const struct tplfs_p2v_state *st)
{
	const struct tplfs_p2v_plan *p = &st->plan;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# the p2v of this container (tplctl ct p2v, doc/p2v.md)\n");
	fprintf(f, "from = %s\n", p->from);
	for (size_t i = 0; i < p->nmounts; i++)
		fprintf(f, "mount = %s\n", p->mounts[i]);
	for (size_t i = 0; i < p->nexcludes; i++)
		fprintf(f, "exclude = %s\n", p->excludes[i]);
	fprintf(f, "started = %" PRId64 "\ntransfers = %" PRIu64 "\n",
		st->started, st->transfers);
	if (st->finished)
		fprintf(f, "source_bytes = %" PRIu64 "\nsource_inodes = %" PRIu64
			"\nfinished = %" PRId64 "\n", st->source_bytes,
			st->source_inodes, st->finished);
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	ret = tplfs_write_atomic(dirfd, TPLFS_P2V_STATE_FILE, text, len, 0600);
	free(text);
	return ret;
}
