// SPDX-License-Identifier: LGPL-2.1-or-later
/* rsync's progress and stats lines: see rsyncout.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsyncout.h"

/* "1,234,567" at @s: its value; @end after it. */
static uint64_t grouped(const char *s, const char **end)
{
	uint64_t v = 0;

	while ((*s >= '0' && *s <= '9') || (*s == ',' && s[1] >= '0' &&
					    s[1] <= '9')) {
		if (*s != ',')
			v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*end = s;
	return v;
}

/* The number after "@label" in @line, if it starts so. */
static bool stat_line(const char *line, const char *label, uint64_t *out)
{
	size_t n = strlen(label);
	const char *end;

	if (strncmp(line, label, n))
		return false;
	line += n;
	while (*line == ' ')
		line++;
	*out = grouped(line, &end);
	return end != line;
}

bool tplfs_rsync_line(struct tplfs_rsync_progress *p, const char *line)
{
	const char *s = line, *end;
	uint64_t bytes;

	while (*s == ' ')
		s++;
	bytes = grouped(s, &end);
	if (end != s && *end == ' ') {
		s = end;
		while (*s == ' ')
			s++;
		end = s;
		while (*end >= '0' && *end <= '9')
			end++;
		if (end != s && *end == '%') {
			const char *chk = strstr(end, "to-chk=");
			unsigned long long left, total;

			p->bytes = bytes;
			p->percent = (unsigned int)strtoul(s, NULL, 10);
			if (chk && sscanf(chk, "to-chk=%llu/%llu", &left,
					  &total) == 2) {
				p->files_left = left;
				p->files_total = total;
			}
			return true;
		}
	}
	if (!stat_line(line, "Number of files:", &p->files) &&
	    !stat_line(line, "Number of regular files transferred:",
		       &p->transferred) &&
	    !stat_line(line, "Total bytes received:", &p->received) &&
	    !stat_line(line, "Total bytes sent:", &p->sent))
		stat_line(line, "Total file size:", &p->size);
	return false;
}
