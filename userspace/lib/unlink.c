// SPDX-License-Identifier: LGPL-2.1-or-later
/* Stubs made private copies: see unlink.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/tplfs.h>

#include "areawalk.h"
#include "beneath.h"
#include "object.h"
#include "origin.h"
#include "unlink.h"

struct unlink {
	int store_fd;
	int mnt_fd;
	struct tplfs_unlink_report *rep;
};

/*
 * The file capabilities to keep across the copy, as the module keeps
 * them (kmod/copy_up.c): a backup a crash left wins over what the stub
 * has now, else what it has is backed up. The length, 0 if none.
 */
static ssize_t save_caps(int fd, char *caps)
{
	ssize_t len = fgetxattr(fd, TPLFS_CAPS_XATTR, caps, TPLFS_CAPS_MAX);

	if (len > 0)
		return len;
	len = fgetxattr(fd, "security.capability", caps, TPLFS_CAPS_MAX);
	if (len < 0)
		return errno == ENODATA || errno == EOPNOTSUPP ? 0 : -errno;
	if (len && fsetxattr(fd, TPLFS_CAPS_XATTR, caps, (size_t)len, 0) < 0)
		return -errno;
	return len;
}

/* Not mounted: the stub open at @fd (@sb its lstat) becomes a copy. */
static int copy_in(struct unlink *u, int fd, const struct stat *sb,
		   const struct tplfs_origin_info *info)
{
	const struct timespec ts[2] = { sb->st_atim, sb->st_mtim };
	char caps[TPLFS_CAPS_MAX];
	ssize_t ncaps = save_caps(fd, caps);
	struct stat now;
	int ret;

	if (ncaps < 0)
		return (int)ncaps;
	/* data a crashed copy left is not its content: from the start */
	if (ftruncate(fd, 0) < 0)
		return -errno;
	ret = tplfs_object_copy_out(u->store_fd, info, fd);
	if (ret)
		return ret;
	/* a write drops capabilities, and set-id bits without CAP_FSETID */
	if (ncaps && fsetxattr(fd, "security.capability", caps,
			       (size_t)ncaps, 0) < 0)
		return -errno;
	if (fstat(fd, &now) < 0)
		return -errno;
	if (now.st_mode != sb->st_mode && fchmod(fd, sb->st_mode & 07777) < 0)
		return -errno;
	if (futimens(fd, ts) < 0 || fsync(fd) < 0)
		return -errno;
	/* the commit */
	if (fremovexattr(fd, TPLFS_ORIGIN_XATTR) < 0)
		return -errno;
	if (ncaps && fremovexattr(fd, TPLFS_CAPS_XATTR) < 0 && errno != ENODATA)
		return -errno;
	return 0;
}

/*
 * Mounted: open it for reading and writing through the mount, which is
 * the module's copy-up (a write-only open defers it to the first write).
 */
static int copy_up(struct unlink *u, const char *path)
{
	int fd = tplfs_open_beneath(u->mnt_fd, path + 1,
				    O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);

	if (fd == -ETXTBSY || fd == -EBUSY) {
		u->rep->busy++;
		return 1;
	}
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int unlink_file(struct tplfs_areawalk *w, void *arg, int dirfd,
		       const char *name, const struct stat *sb)
{
	struct unlink *u = arg;
	uint8_t v[TPLFS_ORIGIN_SIZE];
	struct tplfs_origin_info info;
	ssize_t len;
	int fd, ret;

	fd = openat(dirfd, name, (u->mnt_fd < 0 ? O_RDWR : O_RDONLY) |
		    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return tplfs_areawalk_fail(w, -errno, "open");
	len = fgetxattr(fd, TPLFS_ORIGIN_XATTR, v, sizeof(v));
	if (len < 0 && errno == ENODATA) {
		close(fd);
		return 0;	/* private already */
	}
	u->rep->stubs++;
	if (len < 0 || tplfs_origin_decode(v, (size_t)len, &info)) {
		ret = len < 0 ? -errno : -EINVAL;
		close(fd);
		return tplfs_areawalk_fail(w, ret, "its origin");
	}
	if (u->mnt_fd < 0)
		ret = copy_in(u, fd, sb, &info);
	else
		ret = copy_up(u, tplfs_areawalk_path(w));
	close(fd);
	if (ret < 0)
		return tplfs_areawalk_fail(w, ret, "copying its object in");
	if (!ret) {
		u->rep->copied++;
		u->rep->bytes += info.size;
	}
	return 0;
}

int tplfs_unlink_area(int fs_fd, int store_fd, int mnt_fd,
		      struct tplfs_unlink_report *rep, char *err,
		      size_t errlen)
{
	struct unlink u = { .store_fd = store_fd, .mnt_fd = mnt_fd, .rep = rep };

	memset(rep, 0, sizeof(*rep));
	return tplfs_areawalk(fs_fd, unlink_file, &u, err, errlen);
}
