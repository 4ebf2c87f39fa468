// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The object digest: see digest.h. A file without holes is hashed by
 * libfsverity; a file with holes by merkle.c, which reads only the blocks
 * that hold data and adds runs of hole blocks without hashing them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libfsverity.h>

#include "digest.h"
#include "merkle.h"

#define BLOCK		TPLFS_MERKLE_BLOCK_SIZE
#define READ_SIZE	(64 * BLOCK)	/* what the sparse path reads at once */

/* Read @count bytes at @pos; a file that ends before is -EIO (it shrank). */
static int read_full(int fd, void *buf, size_t count, uint64_t pos)
{
	while (count > 0) {
		ssize_t n = pread(fd, buf, count, (off_t)pos);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf = (char *)buf + n;
		count -= (size_t)n;
		pos += (uint64_t)n;
	}
	return 0;
}

/*
 * libfsverity asks for one block at a time: read READ_SIZE at once (or
 * what is left of the file) and hand it out from there.
 */
struct digest_reader {
	int fd;
	uint64_t pos, size;	/* the next byte to read, and the file's */
	char *buf;
	size_t have, next;	/* bytes in buf, and the first not handed out */
};

static int digest_read(void *opaque, void *out, size_t count)
{
	struct digest_reader *r = opaque;

	while (count > 0) {
		size_t n;

		if (r->next == r->have) {
			uint64_t left = r->size - r->pos;
			size_t want = left < READ_SIZE ? (size_t)left : READ_SIZE;
			int err;

			if (!want)
				return -EIO;
			err = read_full(r->fd, r->buf, want, r->pos);
			if (err)
				return err;
			r->pos += want;
			r->have = want;
			r->next = 0;
		}
		n = r->have - r->next < count ? r->have - r->next : count;
		memcpy(out, r->buf + r->next, n);
		r->next += n;
		out = (char *)out + n;
		count -= n;
	}
	return 0;
}

/* The digest of all @size bytes, through libfsverity. */
static int digest_dense(int fd, uint64_t size,
			uint8_t digest[TPLFS_DIGEST_SIZE])
{
	struct libfsverity_merkle_tree_params params = {
		.version = 1,
		.hash_algorithm = FS_VERITY_HASH_ALG_SHA256,
		.block_size = BLOCK,
		.file_size = size,
	};
	struct digest_reader reader = { .fd = fd, .size = size };
	struct libfsverity_digest *d = NULL;
	int err;

	reader.buf = malloc(READ_SIZE);
	if (!reader.buf)
		return -ENOMEM;
	err = libfsverity_compute_digest(&reader, digest_read, &params, &d);
	free(reader.buf);
	if (err)
		return err;
	if (d->digest_size != TPLFS_DIGEST_SIZE) {
		free(d);
		return -EPROTO;
	}
	memcpy(digest, d->digest, TPLFS_DIGEST_SIZE);
	free(d);
	return 0;
}

/*
 * The next data region at or after @pos, [*@data, *@hole), cut at @size;
 * *@data is @size if only a hole is left. Without SEEK_DATA, all of it is
 * data.
 */
static int next_data(int fd, uint64_t pos, uint64_t size, uint64_t *data,
		     uint64_t *hole)
{
	off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;

	*data = *hole = size;
	if (d < 0) {
		if (errno == ENXIO)
			return 0;
		if (errno != EINVAL && errno != EOPNOTSUPP)
			return -errno;
		*data = pos;
		return 0;
	}
	if ((uint64_t)d >= size)
		return 0;	/* the file grew: past @size is not ours */
	h = lseek(fd, d, SEEK_HOLE);
	if (h < 0)
		return errno == ENXIO ? -EIO : -errno;
	*data = (uint64_t)d;
	/* At least the block at @d, so that we move on if it just changed. */
	if ((uint64_t)h < size)
		*hole = (uint64_t)h > *data ? (uint64_t)h : *data + 1;
	return 0;
}

/* Add [@start, @end) of the file, read: @start is a block boundary. */
static int add_data(struct tplfs_merkle *m, int fd, char *buf,
		    uint64_t start, uint64_t end)
{
	while (start < end) {
		uint64_t left = end - start;
		size_t len = left < READ_SIZE ? (size_t)left : READ_SIZE;
		int err = read_full(fd, buf, len, start);

		for (size_t i = 0; !err && i < len; i += BLOCK)
			err = tplfs_merkle_add(m, buf + i, len - i < BLOCK ?
					       len - i : BLOCK);
		if (err)
			return err;
		start += len;
	}
	return 0;
}

/*
 * The digest of all @size bytes, through merkle.c: a block that overlaps
 * data is read, one wholly inside a hole is known to be zeros.
 */
static int digest_sparse(int fd, uint64_t size,
			 uint8_t digest[TPLFS_DIGEST_SIZE])
{
	struct tplfs_merkle *m = tplfs_merkle_new(size);
	int err = m ? 0 : -errno;
	char *buf = m ? malloc(READ_SIZE) : NULL;
	uint64_t pos = 0, data, hole, start, end;
	struct stat st;

	if (m && !buf)
		err = -ENOMEM;
	if (err)
		goto out;
	while (!err && pos < size) {
		err = next_data(fd, pos, size, &data, &hole);
		if (err)
			break;
		/* @pos is a block boundary; so is @start, or it is @size. */
		start = data < size ? data - data % BLOCK : size;
		end = (hole + BLOCK - 1) / BLOCK * BLOCK;
		if (end > size)
			end = size;
		err = tplfs_merkle_add_zeros(m, (start - pos + BLOCK - 1) /
					     BLOCK);
		if (!err)
			err = add_data(m, fd, buf, start, end);
		pos = end;
	}
	if (!err)
		err = tplfs_merkle_finish(m, digest);
	/* A file that shrank where we did not read it. */
	if (!err && fstat(fd, &st) < 0)
		err = -errno;
	if (!err && (uint64_t)st.st_size < size)
		err = -EIO;
out:
	free(buf);
	tplfs_merkle_free(m);
	return err;
}

static int digest_fd(int fd, bool force_sparse, uint64_t *size,
		     uint8_t digest[TPLFS_DIGEST_SIZE])
{
	struct stat st;
	off_t cur, hole;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	/* as many blocks as bytes: no hole, no need to look for one */
	if (!force_sparse && (uint64_t)st.st_blocks * 512 >= (uint64_t)st.st_size) {
		err = digest_dense(fd, (uint64_t)st.st_size, digest);
	} else {
		cur = lseek(fd, 0, SEEK_CUR);
		hole = lseek(fd, 0, SEEK_HOLE);
		if (force_sparse || (hole >= 0 && hole < st.st_size))
			err = digest_sparse(fd, (uint64_t)st.st_size, digest);
		else
			err = digest_dense(fd, (uint64_t)st.st_size, digest);
		if (cur >= 0)
			lseek(fd, cur, SEEK_SET);	/* SEEK_DATA/HOLE moved it */
	}
	if (!err)
		*size = (uint64_t)st.st_size;
	return err;
}

int tplfs_digest_fd(int fd, uint64_t *size, uint8_t digest[TPLFS_DIGEST_SIZE])
{
	return digest_fd(fd, false, size, digest);
}

int tplfs_digest_fd_sparse(int fd, uint64_t *size,
			   uint8_t digest[TPLFS_DIGEST_SIZE])
{
	return digest_fd(fd, true, size, digest);
}

int tplfs_open_to_hash(int dirfd, const char *name)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int fd = openat(dirfd, name, flags | O_NOATIME);

	if (fd < 0 && errno == EPERM)	/* not its owner, no CAP_FOWNER */
		fd = openat(dirfd, name, flags);
	return fd < 0 ? -errno : fd;
}
