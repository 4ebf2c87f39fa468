// SPDX-License-Identifier: LGPL-2.1-or-later
/* Metadata and new entries of a rebase: see rebase_make.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "object.h"
#include "origin.h"
#include "rebase_make.h"

#define OWN_PREFIX	"trusted.tplfs."

static bool is_own(const char *name)
{
	return !strncmp(name, OWN_PREFIX, strlen(OWN_PREFIX));
}

static bool has_xattr(const struct tplfs_mentry *m, const char *name)
{
	for (size_t i = 0; i < m->nxattrs; i++)
		if (!strcmp(m->xattrs[i].name, name))
			return true;
	return false;
}

/* The names of @proc's xattrs, malloc'd ("" list: NULL, 0). */
static ssize_t list_xattrs(const char *proc, char **out)
{
	ssize_t len = llistxattr(proc, NULL, 0);

	*out = NULL;
	if (len < 0)
		return errno == ENOTSUP ? 0 : -errno;
	if (!len)
		return 0;
	*out = malloc((size_t)len);
	if (!*out)
		return -ENOMEM;
	len = llistxattr(proc, *out, (size_t)len);
	if (len < 0) {
		free(*out);
		*out = NULL;
		return -errno;	/* ERANGE: one was added meanwhile */
	}
	return len;
}

/* Remove the xattrs @m has not (but ours), then set @m's. */
static int set_xattrs(const char *proc, const struct tplfs_mentry *m)
{
	char *names;
	ssize_t len = list_xattrs(proc, &names);

	if (len < 0)
		return (int)len;
	for (char *n = names; n && n < names + len; n += strlen(n) + 1)
		if (!is_own(n) && !has_xattr(m, n) && lremovexattr(proc, n) < 0 &&
		    errno != ENODATA) {
			free(names);
			return -errno;
		}
	free(names);
	for (size_t i = 0; i < m->nxattrs; i++)
		if (lsetxattr(proc, m->xattrs[i].name, m->xattrs[i].value,
			      m->xattrs[i].len, 0) < 0)
			return -errno;
	return 0;
}

int tplfs_rb_set_meta(int dfd, const char *name, const struct tplfs_mentry *m)
{
	struct timespec ts[2] = {
		{ .tv_nsec = UTIME_OMIT },
		{ .tv_sec = m->mtime_sec, .tv_nsec = m->mtime_nsec },
	};
	char proc[64 + NAME_MAX];
	int ret;

	if (fchownat(dfd, name, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* chown cleared the set-id bits: the mode after it */
	if (m->type != 'l' && fchmodat(dfd, name, m->mode, 0) < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dfd, name);
	ret = set_xattrs(proc, m);
	if (ret)
		return ret;
	return utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int tplfs_rb_meta_read(int dfd, const char *name, struct tplfs_mentry *m)
{
	char proc[64 + NAME_MAX], *names;
	struct stat sb;
	ssize_t len;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	m->type = S_ISLNK(sb.st_mode) ? 'l' : S_ISDIR(sb.st_mode) ? 'd' : 'f';
	m->mode = sb.st_mode & 07777;
	m->uid = sb.st_uid;
	m->gid = sb.st_gid;
	m->mtime_sec = sb.st_mtim.tv_sec;
	m->mtime_nsec = (uint32_t)sb.st_mtim.tv_nsec;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dfd, name);
	len = list_xattrs(proc, &names);
	if (len < 0)
		return (int)len;
	for (char *n = names; n && n < names + len && !ret; n += strlen(n) + 1) {
		struct tplfs_xattr *x, *grown;
		ssize_t vlen;

		if (is_own(n))
			continue;
		grown = realloc(m->xattrs, (m->nxattrs + 1) * sizeof(*grown));
		if (!grown) {
			ret = -ENOMEM;
			break;
		}
		m->xattrs = grown;
		x = &m->xattrs[m->nxattrs];
		memset(x, 0, sizeof(*x));
		vlen = lgetxattr(proc, n, NULL, 0);
		x->name = strdup(n);
		x->value = vlen >= 0 ? malloc(vlen ? (size_t)vlen : 1) : NULL;
		if (vlen < 0 || !x->name || !x->value) {
			ret = vlen < 0 ? -errno : -ENOMEM;
			free(x->name);
			free(x->value);
			break;
		}
		m->nxattrs++;
		vlen = lgetxattr(proc, n, x->value, (size_t)vlen);
		if (vlen < 0)
			ret = -errno;
		else
			x->len = (size_t)vlen;
	}
	free(names);
	if (ret)
		tplfs_rb_meta_free(m);
	return ret;
}

void tplfs_rb_meta_free(struct tplfs_mentry *m)
{
	for (size_t i = 0; i < m->nxattrs; i++) {
		free(m->xattrs[i].name);
		free(m->xattrs[i].value);
	}
	free(m->xattrs);
	memset(m, 0, sizeof(*m));
}

static int make_file(int stage_fd, const char *name, const struct tplfs_mentry *e,
		     bool copy, int store_fd)
{
	struct tplfs_origin_info info = { .size = e->size };
	int fd, ret;

	fd = openat(stage_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	memcpy(info.digest, e->digest, sizeof(info.digest));
	if (copy) {
		ret = tplfs_object_copy_out(store_fd, &info, fd);
	} else {
		uint8_t origin[TPLFS_ORIGIN_SIZE];

		tplfs_origin_encode(&info, origin);
		ret = fsetxattr(fd, TPLFS_ORIGIN_XATTR, origin, sizeof(origin),
				XATTR_CREATE) < 0 ? -errno : 0;
	}
	close(fd);
	return ret;
}

int tplfs_rb_make(int stage_fd, const char *name, const struct tplfs_mentry *e,
		  const struct tplfs_mentry *meta, bool copy, int store_fd)
{
	int ret = 0;

	switch (e->type) {
	case 'd':
		ret = mkdirat(stage_fd, name, 0700) < 0 ? -errno : 0;
		break;
	case 'f':
		ret = make_file(stage_fd, name, e, copy, store_fd);
		break;
	case 'l':
		ret = symlinkat(e->target, stage_fd, name) < 0 ? -errno : 0;
		break;
	case 'c':
	case 'b':
	case 'p':
		ret = mknodat(stage_fd, name, (e->type == 'c' ? S_IFCHR :
			      e->type == 'b' ? S_IFBLK : S_IFIFO) | 0600,
			      makedev(e->major, e->minor)) < 0 ? -errno : 0;
		break;
	default:
		return -EINVAL;
	}
	if (!ret) {
		struct tplfs_mentry m = *meta;

		m.type = e->type;	/* a symlink's mode is not set */
		ret = tplfs_rb_set_meta(stage_fd, name, &m);
	}
	return ret;
}

int tplfs_rb_make_data(int stage_fd, const char *name, const void *data,
		       size_t len, const struct tplfs_mentry *meta)
{
	const char *p = data;
	int fd, ret = 0;

	fd = openat(stage_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (!ret && len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
		else {
			p += n;
			len -= (size_t)n;
		}
	}
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (!ret) {
		struct tplfs_mentry m = *meta;

		m.type = 'f';
		ret = tplfs_rb_set_meta(stage_fd, name, &m);
	}
	return ret;
}
