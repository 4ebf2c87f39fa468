// SPDX-License-Identifier: LGPL-2.1-or-later
/* Small files replaced atomically and durably: see atomic.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int tplfs_write_atomic(int dirfd, const char *name, const void *buf,
		       size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1];
	int fd, ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (!ret && renameat(dirfd, tmp, dirfd, name) < 0)
		ret = -errno;
	if (ret) {
		unlinkat(dirfd, tmp, 0);
		return ret;
	}
	return fsync(dirfd) < 0 ? -errno : 0;
}

bool tplfs_is_atomic_leftover(const char *name)
{
	size_t len = strlen(name);

	return name[0] == '.' && len > 5 && !strcmp(name + len - 4, ".tmp");
}
