// SPDX-License-Identifier: LGPL-2.1-or-later
/* Containers: see ct.h and doc/tplfsd.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "atomic.h"
#include "ct.h"
#include "kvfile.h"

bool tplfs_ct_id_valid(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > TPLFS_CT_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return false;
	}
	return true;
}

static int ct_conf_setting(void *arg, const char *key, const char *value,
			   char *err, size_t errlen)
{
	struct tplfs_ct_conf *conf = arg;

	if (!strcmp(key, "template")) {
		if (strlen(value) >= sizeof(conf->template)) {
			snprintf(err, errlen, "template name too long");
			return -1;
		}
		strcpy(conf->template, value);
		return 0;
	}
	if (!strcmp(key, "backend")) {
		if (strcmp(value, "dir")) {
			snprintf(err, errlen,
				 "backend \"%s\" is not supported (only \"dir\")",
				 value);
			return -1;
		}
		strcpy(conf->backend, value);
		return 0;
	}
	if (!strcmp(key, "volatile")) {
		if (strcmp(value, "yes") && strcmp(value, "no")) {
			snprintf(err, errlen, "volatile: yes or no");
			return -1;
		}
		conf->is_volatile = !strcmp(value, "yes");
		return 0;
	}
	snprintf(err, errlen, "unknown setting \"%s\"", key);
	return -1;
}

int tplfs_ct_conf_read(const char *path, struct tplfs_ct_conf *conf,
		       char *err, size_t errlen)
{
	memset(conf, 0, sizeof(*conf));
	strcpy(conf->backend, "dir");
	return tplfs_kv_read(path, ct_conf_setting, conf, err, errlen);
}

int tplfs_ct_conf_write(int dirfd, const struct tplfs_ct_conf *conf)
{
	char text[512];
	int n;

	n = snprintf(text, sizeof(text),
		     "# tplfs container (doc/tplfsd.md)\ntemplate = %s\nbackend = %s\n%s",
		     conf->template, conf->backend,
		     conf->is_volatile ? "volatile = yes\n" : "");
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENAMETOOLONG;
	return tplfs_write_atomic(dirfd, "ct.conf", text, (size_t)n, 0644);
}

int tplfs_ct_paths(const struct tplfs_config *cfg, const char *id,
		   struct tplfs_ct_paths *p)
{
	if ((size_t)snprintf(p->private_dir, sizeof(p->private_dir),
			     "%s/private/%s", cfg->root, id) >=
	    sizeof(p->private_dir) ||
	    (size_t)snprintf(p->fs, sizeof(p->fs), "%s/private/%s/fs",
			     cfg->root, id) >= sizeof(p->fs) ||
	    (size_t)snprintf(p->conf, sizeof(p->conf), "%s/private/%s/ct.conf",
			     cfg->root, id) >= sizeof(p->conf) ||
	    (size_t)snprintf(p->root, sizeof(p->root), "%s/root/%s",
			     cfg->root, id) >= sizeof(p->root))
		return -ENAMETOOLONG;
	return 0;
}
