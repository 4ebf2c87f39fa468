// SPDX-License-Identifier: LGPL-2.1-or-later
/* Maintenance records of template names: see maintenance.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvfile.h"
#include "maintenance.h"
#include "store.h"
#include "tree.h"

static int record_path(char *buf, size_t size, const char *root,
		       const char *name)
{
	if (!tplfs_template_name_valid(name))
		return -EINVAL;
	return tplfs_path(buf, size, "%s/maintenance/%s", root, name);
}

static int read_one(void *arg, const char *key, const char *value,
		    char *err, size_t errlen)
{
	struct tplfs_maintenance *m = arg;
	struct tplfs_template_id t;
	char *end;

	if (!strcmp(key, "template")) {
		if (tplfs_template_id_parse(value, &t, err, errlen))
			return -1;
		snprintf(m->template, sizeof(m->template), "%s", value);
	} else if (!strcmp(key, "ct")) {
		if (!tplfs_ct_id_valid(value)) {
			snprintf(err, errlen, "ct: not a container id");
			return -1;
		}
		snprintf(m->ct, sizeof(m->ct), "%s", value);
	} else if (!strcmp(key, "made")) {
		if (strcmp(value, "yes") && strcmp(value, "no")) {
			snprintf(err, errlen, "made: yes or no");
			return -1;
		}
		m->made = !strcmp(value, "yes");
	} else if (!strcmp(key, "since")) {
		errno = 0;
		m->since = strtoll(value, &end, 10);
		if (errno || *end || end == value) {
			snprintf(err, errlen, "since: seconds since the epoch");
			return -1;
		}
	} else {
		snprintf(err, errlen, "unknown setting \"%s\"", key);
		return -1;
	}
	return 0;
}

int tplfs_maintenance_read(const char *root, const char *name,
			   struct tplfs_maintenance *m, char *err,
			   size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	memset(m, 0, sizeof(*m));
	err[0] = '\0';
	ret = record_path(path, sizeof(path), root, name);
	if (ret)
		return ret;
	ret = tplfs_kv_read(path, read_one, m, err, errlen);
	if (ret)
		return ret;
	if (!m->template[0] || !m->ct[0]) {
		snprintf(err, errlen, "%s: needs template and ct", path);
		return -EINVAL;
	}
	return 0;
}

int tplfs_maintenance_begin(const char *root, const char *name,
			    const struct tplfs_maintenance *m)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX + 16], text[512];
	int fd, len, ret;

	ret = record_path(path, sizeof(path), root, name);
	if (ret)
		return ret;
	ret = tplfs_path(dir, sizeof(dir), "%s/maintenance", root);
	if (ret)
		return ret;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	len = snprintf(text, sizeof(text),
		       "template = %s\nct = %s\nmade = %s\nsince = %" PRId64 "\n",
		       m->template, m->ct, m->made ? "yes" : "no", m->since);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	unlink(tmp);	/* a leftover of a crash: the daemon's own name */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len || fsync(fd) < 0) {
		ret = errno ? -errno : -EIO;
		close(fd);
		unlink(tmp);
		return ret;
	}
	close(fd);
	/* never over a record: one maintenance of a name at a time */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
		ret = -errno;
		unlink(tmp);
		return ret;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int tplfs_maintenance_end(const char *root, const char *name)
{
	char path[PATH_MAX];
	int ret = record_path(path, sizeof(path), root, name);

	if (ret)
		return ret;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
