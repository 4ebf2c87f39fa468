// SPDX-License-Identifier: LGPL-2.1-or-later
/* Small files replaced atomically and durably: see atomic.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/stat.h>
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

int tplfs_atomic_begin(struct tplfs_atomic *a, int dirfd, const char *name,
		       mode_t mode)
{
	uint64_t r;

	a->dirfd = dirfd;
	a->fd = -1;
	if (!*name || strchr(name, '/') ||
	    (size_t)snprintf(a->name, sizeof(a->name), "%s", name) >=
	    sizeof(a->name))
		return -EINVAL;
	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return -EIO;
		if ((size_t)snprintf(a->tmp, sizeof(a->tmp), ".%s.%016llx.tmp",
				     name, (unsigned long long)r) >=
		    sizeof(a->tmp))
			return -ENAMETOOLONG;
		a->fd = openat(dirfd, a->tmp, O_WRONLY | O_CREAT | O_EXCL |
			       O_NOFOLLOW | O_CLOEXEC, mode);
		if (a->fd >= 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

void tplfs_atomic_abort(struct tplfs_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	unlinkat(a->dirfd, a->tmp, 0);
}

int tplfs_atomic_commit(struct tplfs_atomic *a)
{
	struct stat ours, there;
	int ret = 0;

	if (fsync(a->fd) < 0 || fstat(a->fd, &ours) < 0 ||
	    renameat(a->dirfd, a->tmp, a->dirfd, a->name) < 0) {
		ret = -errno;
		tplfs_atomic_abort(a);
		return ret;
	}
	if (fsync(a->dirfd) < 0)
		ret = -errno;
	/* Ours, unless another writer renamed over it meanwhile. */
	else if (fstatat(a->dirfd, a->name, &there, AT_SYMLINK_NOFOLLOW) < 0)
		ret = -errno;
	else if (there.st_dev != ours.st_dev || there.st_ino != ours.st_ino)
		ret = -ESTALE;
	close(a->fd);
	a->fd = -1;
	return ret;
}

int tplfs_write_atomic(int dirfd, const char *name, const void *buf,
		       size_t len, mode_t mode)
{
	struct tplfs_atomic a;
	int ret = tplfs_atomic_begin(&a, dirfd, name, mode);

	if (ret)
		return ret;
	ret = write_all(a.fd, buf, len);
	if (ret) {
		tplfs_atomic_abort(&a);
		return ret;
	}
	return tplfs_atomic_commit(&a);
}

bool tplfs_is_atomic_leftover(const char *name)
{
	size_t len = strlen(name);

	return name[0] == '.' && len > 5 && !strcmp(name + len - 4, ".tmp");
}
