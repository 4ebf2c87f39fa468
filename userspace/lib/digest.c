// SPDX-License-Identifier: LGPL-2.1-or-later
/* The object digest, computed with libfsverity: see digest.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libfsverity.h>

#include "digest.h"

struct digest_reader {
	int fd;
	off_t pos;
};

static int digest_read(void *opaque, void *buf, size_t count)
{
	struct digest_reader *r = opaque;

	while (count > 0) {
		ssize_t n = pread(r->fd, buf, count, r->pos);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;	/* the file shrank under us */
		buf = (char *)buf + n;
		count -= (size_t)n;
		r->pos += n;
	}
	return 0;
}

int tplfs_digest_fd(int fd, uint64_t *size, uint8_t digest[TPLFS_DIGEST_SIZE])
{
	struct libfsverity_merkle_tree_params params = {
		.version = 1,
		.hash_algorithm = FS_VERITY_HASH_ALG_SHA256,
		.block_size = 4096,
	};
	struct digest_reader reader = { .fd = fd };
	struct libfsverity_digest *d = NULL;
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	params.file_size = (uint64_t)st.st_size;
	err = libfsverity_compute_digest(&reader, digest_read, &params, &d);
	if (err)
		return err;
	if (d->digest_size != TPLFS_DIGEST_SIZE) {
		free(d);
		return -EPROTO;
	}
	memcpy(digest, d->digest, TPLFS_DIGEST_SIZE);
	*size = params.file_size;
	free(d);
	return 0;
}
