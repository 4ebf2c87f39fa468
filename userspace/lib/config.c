// SPDX-License-Identifier: LGPL-2.1-or-later
/* The host's tplfs settings: see config.h and doc/tplfsd.md. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "kvfile.h"

void tplfs_config_defaults(struct tplfs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->root, TPLFS_ROOT_DEFAULT);
	strcpy(cfg->store, TPLFS_STORE_DEFAULT);
	strcpy(cfg->socket, "/run/tplfs/tplfsd.sock");
	cfg->max_clients = 1024;
	cfg->max_clients_per_uid = 64;
	cfg->idle_timeout = 300;
	strcpy(cfg->verity, "off");
}

static int set_path(char *dst, const char *value, char *err, size_t errlen)
{
	if (value[0] != '/') {
		snprintf(err, errlen, "\"%s\" is not an absolute path", value);
		return -1;
	}
	if (strlen(value) >= PATH_MAX) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	strcpy(dst, value);
	return 0;
}

static int parse_uint(const char *value, unsigned long max,
		      unsigned long *out)
{
	char *end;

	if (!*value || *value == '-' || *value == '+')
		return -1;
	errno = 0;
	*out = strtoul(value, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

static int set_group(struct tplfs_config *cfg, const char *value,
		     char *err, size_t errlen)
{
	unsigned long gid;
	struct group *gr;

	if (!parse_uint(value, (gid_t)-2, &gid)) {
		cfg->read_gid = (gid_t)gid;
	} else {
		gr = getgrnam(value);
		if (!gr) {
			snprintf(err, errlen, "no group \"%s\"", value);
			return -1;
		}
		cfg->read_gid = gr->gr_gid;
	}
	cfg->has_read_group = true;
	return 0;
}

/* The settings that are a number from 1 to max. */
static const struct {
	const char *key;
	size_t offset;
	unsigned long max;
} uint_settings[] = {
	{ "max_clients", offsetof(struct tplfs_config, max_clients), 65536 },
	{ "max_clients_per_uid",
	  offsetof(struct tplfs_config, max_clients_per_uid), 65536 },
	{ "idle_timeout", offsetof(struct tplfs_config, idle_timeout), 86400 },
};

static int config_setting(void *arg, const char *key, const char *value,
			  char *err, size_t errlen)
{
	struct tplfs_config *cfg = arg;
	unsigned long n;

	if (!strcmp(key, "root"))
		return set_path(cfg->root, value, err, errlen);
	if (!strcmp(key, "store"))
		return set_path(cfg->store, value, err, errlen);
	if (!strcmp(key, "socket"))
		return set_path(cfg->socket, value, err, errlen);
	if (!strcmp(key, "read_group"))
		return set_group(cfg, value, err, errlen);
	if (!strcmp(key, "verity")) {
		if (strcmp(value, "off") && strcmp(value, "on") &&
		    strcmp(value, "require")) {
			snprintf(err, errlen, "verity: off, on or require");
			return -1;
		}
		strcpy(cfg->verity, value);
		return 0;
	}
	for (size_t i = 0; i < sizeof(uint_settings) / sizeof(uint_settings[0]);
	     i++) {
		if (strcmp(key, uint_settings[i].key))
			continue;
		if (parse_uint(value, uint_settings[i].max, &n) || n == 0) {
			snprintf(err, errlen, "%s: 1 to %lu", key,
				 uint_settings[i].max);
			return -1;
		}
		*(unsigned int *)((char *)cfg + uint_settings[i].offset) =
			(unsigned int)n;
		return 0;
	}
	snprintf(err, errlen, "unknown setting \"%s\"", key);
	return -1;
}

int tplfs_config_read(struct tplfs_config *cfg, const char *path,
		      bool optional, char *err, size_t errlen)
{
	int ret = tplfs_kv_read(path, config_setting, cfg, err, errlen);

	if (ret == -ENOENT && optional)
		return 0;
	return ret;
}
