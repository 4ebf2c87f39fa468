// SPDX-License-Identifier: LGPL-2.1-or-later
/* Containers: see ct.h and doc/tplfsd.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "atomic.h"
#include "ct.h"
#include "kvfile.h"
#include "store.h"
#include "units.h"

int tplfs_ct_uuid_new(char out[TPLFS_CT_UUID_LEN + 1])
{
	unsigned char r[TPLFS_CT_UUID_LEN / 2];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -EIO;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

bool tplfs_ct_uuid_valid(const char *uuid)
{
	size_t n = strspn(uuid, "0123456789abcdef");

	return n == TPLFS_CT_UUID_LEN && !uuid[n];
}

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
	if (!strcmp(key, "uses")) {
		char copy[TPLFS_CT_USES_MAX * 256], *save, *t;

		if (strlen(value) >= sizeof(copy)) {
			snprintf(err, errlen, "uses: too long");
			return -1;
		}
		strcpy(copy, value);
		for (t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			if (strlen(t) >= sizeof(conf->uses[0]) || !strchr(t, '@')) {
				snprintf(err, errlen, "uses: \"%s\" is not NAME@VERSION", t);
				return -1;
			}
			if (tplfs_ct_conf_use(conf, t) < 0) {
				snprintf(err, errlen, "uses: more than %d templates",
					 TPLFS_CT_USES_MAX);
				return -1;
			}
		}
		return 0;
	}
	if (!strcmp(key, "apps")) {
		char copy[TPLFS_CT_APPS_MAX * 256], *save, *t;

		if (strlen(value) >= sizeof(copy)) {
			snprintf(err, errlen, "apps: too long");
			return -1;
		}
		strcpy(copy, value);
		for (t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			struct tplfs_template_id id;
			char why[256];

			if (tplfs_template_id_parse(t, &id, why, sizeof(why))) {
				snprintf(err, errlen, "apps: %s", why);
				return -1;
			}
			if (tplfs_ct_apps_find(&conf->apps, id.name) >= 0) {
				snprintf(err, errlen, "apps: %s twice", id.name);
				return -1;
			}
			if (conf->apps.n == TPLFS_CT_APPS_MAX) {
				snprintf(err, errlen, "apps: more than %d",
					 TPLFS_CT_APPS_MAX);
				return -1;
			}
			strcpy(conf->apps.v[conf->apps.n++], t);
		}
		return 0;
	}
	if (!strcmp(key, "uuid")) {
		if (!tplfs_ct_uuid_valid(value)) {
			snprintf(err, errlen, "uuid: not %d hex digits",
				 TPLFS_CT_UUID_LEN);
			return -1;
		}
		strcpy(conf->uuid, value);
		return 0;
	}
	if (!strcmp(key, "userns"))
		return tplfs_idshift_parse(value, &conf->userns, err, errlen) ? -1 : 0;
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
	if (!strcmp(key, "clone")) {
		if (strcmp(value, "full") && strcmp(value, "linked")) {
			snprintf(err, errlen, "clone: full or linked");
			return -1;
		}
		conf->full = !strcmp(value, "full");
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
	if (!strcmp(key, "quota_bytes") &&
	    !tplfs_parse_limits(value, &conf->limits.bytes_soft,
				&conf->limits.bytes_hard))
		return 0;
	if (!strcmp(key, "quota_inodes") &&
	    !tplfs_parse_limits(value, &conf->limits.inodes_soft,
				&conf->limits.inodes_hard))
		return 0;
	if (!strcmp(key, "quota_grace") &&
	    !tplfs_parse_duration(value, &conf->limits.grace))
		return 0;
	if (!strncmp(key, "quota_", 6) && (!strcmp(key + 6, "bytes") ||
	    !strcmp(key + 6, "inodes") || !strcmp(key + 6, "grace"))) {
		snprintf(err, errlen, "%s: \"%s\" is not %s", key, value,
			 key[6] == 'g' ? "a duration (7d, 1h30m, 90s)" :
			 "SOFT[:HARD] with SOFT <= HARD (10G, 1G:2G)");
		return -1;
	}
	snprintf(err, errlen, "unknown setting \"%s\"", key);
	return -1;
}

int tplfs_ct_conf_read(const char *path, struct tplfs_ct_conf *conf,
		       char *err, size_t errlen)
{
	memset(conf, 0, sizeof(*conf));
	strcpy(conf->backend, "dir");
	conf->limits.grace = TPLFS_GRACE_DEFAULT;
	return tplfs_kv_read(path, ct_conf_setting, conf, err, errlen);
}

int tplfs_ct_apps_find(const struct tplfs_ct_apps *apps, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < apps->n; i++)
		if (!strncmp(apps->v[i], name, len) && apps->v[i][len] == '@')
			return (int)i;
	return -1;
}

int tplfs_ct_conf_use(struct tplfs_ct_conf *conf, const char *tpl)
{
	if (!strcmp(conf->template, tpl))
		return 0;
	for (size_t i = 0; i < conf->apps.n; i++)
		if (!strcmp(conf->apps.v[i], tpl))
			return 0;
	for (size_t i = 0; i < conf->nuses; i++)
		if (!strcmp(conf->uses[i], tpl))
			return 0;
	if (conf->nuses == TPLFS_CT_USES_MAX || strlen(tpl) >= sizeof(conf->uses[0]))
		return -ENOSPC;
	strcpy(conf->uses[conf->nuses++], tpl);
	return 1;
}

int tplfs_ct_conf_write(int dirfd, const struct tplfs_ct_conf *conf)
{
	const struct tplfs_ct_limits *l = &conf->limits;
	char text[1024 + (TPLFS_CT_USES_MAX + TPLFS_CT_APPS_MAX) * 256];
	char uses[TPLFS_CT_USES_MAX * 256 + 16] = "";
	char apps[TPLFS_CT_APPS_MAX * 256 + 16] = "";
	char userns[64] = "", uuid[TPLFS_CT_UUID_LEN + 16] = "";
	size_t used = 0;
	int n;

	for (size_t i = 0; i < conf->apps.n; i++)
		used += (size_t)snprintf(apps + used, sizeof(apps) - used, "%s%s",
					 i ? " " : "apps = ", conf->apps.v[i]);
	if (conf->apps.n)
		snprintf(apps + used, sizeof(apps) - used, "\n");
	used = 0;
	if (conf->uuid[0])
		snprintf(uuid, sizeof(uuid), "uuid = %s\n", conf->uuid);
	if (!tplfs_idshift_none(&conf->userns)) {
		char range[32];

		tplfs_idshift_format(&conf->userns, range, sizeof(range));
		snprintf(userns, sizeof(userns), "userns = %s\n", range);
	}

	for (size_t i = 0; i < conf->nuses; i++)
		used += (size_t)snprintf(uses + used, sizeof(uses) - used, "%s%s",
					 i ? " " : "uses = ", conf->uses[i]);
	if (conf->nuses)
		snprintf(uses + used, sizeof(uses) - used, "\n");
	n = snprintf(text, sizeof(text),
		     "# tplfs container (doc/tplfsd.md)\n%stemplate = %s\n%s%s%sbackend = %s\n%s%s"
		     "# quota: bytes and inodes SOFT:HARD (0: none), grace in seconds\n"
		     "quota_bytes = %llu:%llu\nquota_inodes = %llu:%llu\nquota_grace = %llu\n",
		     uuid, conf->template, apps, uses, userns, conf->backend,
		     conf->full ? "clone = full\n" : "",
		     conf->is_volatile ? "volatile = yes\n" : "",
		     (unsigned long long)l->bytes_soft,
		     (unsigned long long)l->bytes_hard,
		     (unsigned long long)l->inodes_soft,
		     (unsigned long long)l->inodes_hard,
		     (unsigned long long)l->grace);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENAMETOOLONG;
	return tplfs_write_atomic(dirfd, "ct.conf", text, (size_t)n, 0644);
}

int tplfs_ct_conf_save(const char *private_dir,
		       const struct tplfs_ct_conf *conf)
{
	int fd = open(private_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = tplfs_ct_conf_write(fd, conf);
	close(fd);
	return ret;
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
