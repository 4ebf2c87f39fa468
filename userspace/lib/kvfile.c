// SPDX-License-Identifier: LGPL-2.1-or-later
/* "key = value" files: see kvfile.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvfile.h"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int tplfs_kv_read(const char *path, tplfs_kv_fn fn, void *arg,
		  char *err, size_t errlen)
{
	char *line = NULL, why[256];
	size_t cap = 0;
	unsigned int lineno = 0;
	ssize_t n;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *key, *value, *eq;

		lineno++;
		if ((size_t)n != strlen(line)) {
			snprintf(err, errlen, "%s:%u: NUL byte in line",
				 path, lineno);
			ret = -EINVAL;
			break;
		}
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected \"key = value\"",
				 path, lineno);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		why[0] = '\0';
		if (fn(arg, key, value, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			ret = -EINVAL;
			break;
		}
	}
	if (!ret && ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
	free(line);
	fclose(f);
	return ret;
}
