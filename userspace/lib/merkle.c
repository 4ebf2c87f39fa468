// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fs-verity file digest, built level by level: see merkle.h. As in
 * the kernel (Documentation/filesystems/fsverity.rst), level 0 of the
 * Merkle tree holds the hashes of the data blocks, each level above holds
 * the hashes of the blocks of the level below, the last block of every
 * level (and the data's last block) is zero-padded, and the digest is the
 * hash of a struct fsverity_descriptor holding the root hash.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fsverity.h>
#include <openssl/evp.h>

#include "merkle.h"

#define BLOCK		TPLFS_MERKLE_BLOCK_SIZE
#define LOG_BLOCK	12
#define HASH		32			/* SHA-256 */
#define PER_BLOCK	(BLOCK / HASH)		/* hashes in a tree block */
/* 2^64 bytes are 2^52 blocks, and each level divides by 2^7. */
#define MAX_LEVELS	8

_Static_assert(BLOCK == 1 << LOG_BLOCK, "LOG_BLOCK");
_Static_assert(HASH == TPLFS_DIGEST_SIZE, "digest size");
_Static_assert(sizeof(struct fsverity_descriptor) == 256, "descriptor");

struct tplfs_merkle {
	EVP_MD_CTX *ctx;
	uint64_t size;
	uint64_t blocks;	/* data blocks in the file */
	uint64_t added;		/* data blocks added so far */
	unsigned int levels;	/* tree levels; "level @levels" is the root */
	/* zero[l]: what an all-zero block of level l - 1 (or data) hashes to */
	uint8_t zero[MAX_LEVELS + 1][HASH];
	/* The pending block of each level; the root's is one hash long. */
	uint32_t filled[MAX_LEVELS + 1];
	uint8_t pending[MAX_LEVELS + 1][BLOCK];
};

static const uint8_t zeros[BLOCK];

/* SHA-256 of @len bytes of @data followed by @pad zero bytes. */
static int sha256(struct tplfs_merkle *m, const void *data, size_t len,
		  size_t pad, uint8_t out[HASH])
{
	unsigned int n = 0;

	if (EVP_DigestInit_ex(m->ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(m->ctx, data, len) != 1 ||
	    (pad && EVP_DigestUpdate(m->ctx, zeros, pad) != 1) ||
	    EVP_DigestFinal_ex(m->ctx, out, &n) != 1 || n != HASH)
		return -EIO;
	return 0;
}

/* Append @hash to level @l's pending block; the root holds one hash. */
static int append(struct tplfs_merkle *m, unsigned int l,
		  const uint8_t hash[HASH])
{
	if (m->filled[l] + HASH > (l < m->levels ? BLOCK : HASH))
		return -EINVAL;		/* more blocks than the file has */
	memcpy(m->pending[l] + m->filled[l], hash, HASH);
	m->filled[l] += HASH;
	return 0;
}

/* Append @hash to level @l, hashing each block that fills into the next. */
static int push(struct tplfs_merkle *m, unsigned int l,
		const uint8_t hash[HASH])
{
	uint8_t h[HASH];
	int err = append(m, l, hash);

	while (!err && l < m->levels && m->filled[l] == BLOCK) {
		err = sha256(m, m->pending[l], BLOCK, 0, h);
		m->filled[l++] = 0;
		if (!err)
			err = append(m, l, h);
	}
	return err;
}

/*
 * Append @n copies of zero[@l] to level @l: top up the pending block one
 * hash at a time; then, from an empty block, every PER_BLOCK copies make a
 * block that hashes to zero[@l + 1], so append @n / PER_BLOCK of those to
 * the next level, and leave the remainder pending (it comes after them).
 */
static int push_zeros(struct tplfs_merkle *m, unsigned int l, uint64_t n)
{
	while (n > 0) {
		uint32_t rest;

		while (n > 0 && (m->filled[l] != 0 || l == m->levels)) {
			int err = push(m, l, m->zero[l]);

			if (err)
				return err;
			n--;
		}
		if (n == 0)
			break;
		rest = (uint32_t)(n % PER_BLOCK);
		for (uint32_t i = 0; i < rest; i++)
			memcpy(m->pending[l] + i * HASH, m->zero[l], HASH);
		m->filled[l] = rest * HASH;
		n /= PER_BLOCK;
		l++;
	}
	return 0;
}

struct tplfs_merkle *tplfs_merkle_new(uint64_t size)
{
	struct tplfs_merkle *m = calloc(1, sizeof(*m));
	int err = 0;

	if (!m)
		return NULL;
	m->ctx = EVP_MD_CTX_new();
	if (!m->ctx) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	m->size = size;
	m->blocks = size / BLOCK + (size % BLOCK != 0);
	for (uint64_t b = m->blocks; b > 1; m->levels++)
		b = b / PER_BLOCK + (b % PER_BLOCK != 0);

	/* The pending blocks are all empty: use them as scratch. */
	err = sha256(m, zeros, BLOCK, 0, m->zero[0]);
	for (unsigned int l = 0; !err && l < m->levels; l++) {
		for (unsigned int i = 0; i < PER_BLOCK; i++)
			memcpy(m->pending[l] + i * HASH, m->zero[l], HASH);
		err = sha256(m, m->pending[l], BLOCK, 0, m->zero[l + 1]);
	}
	if (err) {
		tplfs_merkle_free(m);
		errno = -err;
		return NULL;
	}
	return m;
}

int tplfs_merkle_add(struct tplfs_merkle *m, const void *data, size_t len)
{
	uint64_t want;
	uint8_t h[HASH];
	int err;

	if (m->added >= m->blocks)
		return -EINVAL;
	want = m->added + 1 < m->blocks ? BLOCK :
	       m->size - (m->blocks - 1) * BLOCK;
	if (len != want)
		return -EINVAL;
	err = sha256(m, data, len, BLOCK - len, h);
	if (err)
		return err;
	m->added++;
	return push(m, 0, h);
}

int tplfs_merkle_add_zeros(struct tplfs_merkle *m, uint64_t count)
{
	if (count > m->blocks - m->added)
		return -EINVAL;
	m->added += count;
	return push_zeros(m, 0, count);
}

int tplfs_merkle_finish(struct tplfs_merkle *m,
			uint8_t digest[TPLFS_DIGEST_SIZE])
{
	struct fsverity_descriptor desc;
	uint8_t h[HASH];
	int err = 0;

	if (m->added != m->blocks)
		return -EINVAL;
	for (unsigned int l = 0; !err && l < m->levels; l++) {
		if (m->filled[l] == 0)
			continue;
		err = sha256(m, m->pending[l], m->filled[l],
			     BLOCK - m->filled[l], h);
		m->filled[l] = 0;
		if (!err)
			err = push(m, l + 1, h);
	}
	if (err)
		return err;
	/* The root hash of an empty file is all zeros. */
	if (m->blocks && m->filled[m->levels] != HASH)
		return -EINVAL;

	memset(&desc, 0, sizeof(desc));
	desc.version = 1;
	desc.hash_algorithm = FS_VERITY_HASH_ALG_SHA256;
	desc.log_blocksize = LOG_BLOCK;
	desc.data_size = htole64(m->size);
	if (m->blocks)
		memcpy(desc.root_hash, m->pending[m->levels], HASH);
	return sha256(m, &desc, sizeof(desc), 0, digest);
}

void tplfs_merkle_free(struct tplfs_merkle *m)
{
	if (!m)
		return;
	EVP_MD_CTX_free(m->ctx);
	free(m);
}
