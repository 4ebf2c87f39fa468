// SPDX-License-Identifier: LGPL-2.1-or-later
/* tplfs mounts from mountinfo: see mountinfo.h and proc(5). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/tplfs.h>

#include "mountinfo.h"

/* Undo mountinfo's octal escapes (\040 for a space ...) into @dst. */
static int unescape(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		if (c == '\\' && i + 3 < len &&
		    src[i + 1] >= '0' && src[i + 1] <= '3' &&
		    src[i + 2] >= '0' && src[i + 2] <= '7' &&
		    src[i + 3] >= '0' && src[i + 3] <= '7') {
			c = (char)((src[i + 1] - '0') << 6 |
				   (src[i + 2] - '0') << 3 | (src[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= size)
			return -ENAMETOOLONG;
		dst[o++] = c;
	}
	dst[o] = '\0';
	return 0;
}

/* The value of ct= among the comma-separated super options @opts. */
static void find_ct(char *dst, size_t size, const char *opts)
{
	const char *p = opts;

	dst[0] = '\0';
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 3 && !strncmp(p, "ct=", 3) && len - 3 < size) {
			memcpy(dst, p + 3, len - 3);
			dst[len - 3] = '\0';
			return;
		}
		p = end ? end + 1 : NULL;
	}
}

/*
 * A line: ID PARENT MAJ:MIN ROOT TARGET OPTS [OPTIONAL...] - FSTYPE SOURCE
 * SUPEROPTS
 */
static int parse_line(char *line, struct tplfs_mount *m)
{
	char *field[6], *sep, *save = NULL, *fstype, *superopts;
	int n = 0;

	sep = strstr(line, " - ");
	if (!sep)
		return -1;
	*sep = '\0';
	for (char *t = strtok_r(line, " ", &save); t && n < 6;
	     t = strtok_r(NULL, " ", &save))
		field[n++] = t;
	if (n < 6)
		return -1;
	save = NULL;
	fstype = strtok_r(sep + 3, " ", &save);
	if (!fstype || strcmp(fstype, TPLFS_FSTYPE))
		return 1;
	strtok_r(NULL, " ", &save);	/* source */
	superopts = strtok_r(NULL, " \n", &save);
	m->mnt_id = atoi(field[0]);
	if (unescape(m->target, sizeof(m->target), field[4],
		     strlen(field[4])))
		return -1;
	find_ct(m->ct, sizeof(m->ct), superopts);
	return 0;
}

int tplfs_mounts_scan(const char *path,
		      int (*fn)(void *arg, const struct tplfs_mount *m),
		      void *arg)
{
	char *line = NULL;
	size_t cap = 0;
	int count = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		struct tplfs_mount m;

		if (parse_line(line, &m))
			continue;
		count++;
		if (fn(arg, &m))
			break;
	}
	free(line);
	fclose(f);
	return count;
}
