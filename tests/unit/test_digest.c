// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the object digest (userspace/lib/digest.c, and merkle.c for
 * files with holes). The expected values were computed by `fsverity digest`
 * (Debian's fsverity package), an implementation independent of ours; the
 * sparse path is also checked against libfsverity_compute_digest() over the
 * same files, sparse ones made in /tmp with ftruncate and pwrite.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <libfsverity.h>

#include "digest.h"
#include "merkle.h"

/* A temporary file holding @len bytes of @c. */
static int temp_file(int c, size_t len)
{
	char name[] = "/tmp/tplfs-digest-XXXXXX";
	int fd = mkstemp(name);
	char *buf = malloc(len + 1);

	assert_true(fd >= 0);
	assert_non_null(buf);
	unlink(name);
	memset(buf, c, len);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	free(buf);
	return fd;
}

/* tplfs_digest_fd of @fd (closed here) is @hex and its size @len. */
static void expect_fd_digest(int fd, uint64_t len, const char *hex)
{
	uint8_t digest[TPLFS_DIGEST_SIZE];
	char got[TPLFS_DIGEST_HEX_SIZE + 1];
	uint64_t size = 12345;

	assert_int_equal(tplfs_digest_fd(fd, &size, digest), 0);
	close(fd);
	for (int i = 0; i < TPLFS_DIGEST_SIZE; i++)
		sprintf(got + 2 * i, "%02x", digest[i]);
	assert_string_equal(got, hex);
	assert_int_equal(size, len);
}

static void expect_digest(int c, size_t len, const char *hex)
{
	expect_fd_digest(temp_file(c, len), len, hex);
}

static void digest_of_an_empty_file(void **state)
{
	(void)state;
	expect_digest('x', 0, "3d248ca542a24fc62d1c43b916eae501"
			      "6878e2533c88238480b26128a1f1af95");
}

static void digest_of_one_block(void **state)
{
	(void)state;
	expect_digest('a', 4096, "a2a808ddaced77f0b6b3068f47b14b5a"
				 "1fb3fc43674993ab11b8e7e6f2d089e2");
}

static void digest_of_many_blocks_with_a_tail(void **state)
{
	(void)state;
	expect_digest('z', 100000, "10e3318cc91e095f7c66cba76cb19d46"
				   "891d4b4013ae6d5e87f514c26a4fe5f7");
}

static void digest_refuses_a_directory(void **state)
{
	uint8_t digest[TPLFS_DIGEST_SIZE];
	uint64_t size;
	int fd = open("/", 0);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(tplfs_digest_fd(fd, &size, digest), -EINVAL);
	close(fd);
}

#define KB	1024ULL
#define BLK	4096ULL
#define MIB	(1024 * KB)
#define GIB	(1024 * MIB)
/* A level-0 tree block covers 128 data blocks, a level-1 block 128 of those */
#define L0	(128 * BLK)
#define L1	(128 * L0)

struct extent {
	uint64_t off, len;
};

/* The byte at @off of every data extent: never 0, and not periodic in 4K. */
static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off % 251 + 1);
}

/*
 * A temporary file of @size bytes, a hole but for the @n extents of
 * pattern() (written in order; they may overlap or cross the end).
 */
static int sparse_file(uint64_t size, const struct extent *ext, size_t n)
{
	char name[] = "/tmp/tplfs-digest-XXXXXX";
	int fd = mkstemp(name);

	assert_true(fd >= 0);
	unlink(name);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t *buf = malloc(ext[i].len + 1);

		assert_non_null(buf);
		for (uint64_t j = 0; j < ext[i].len; j++)
			buf[j] = pattern(ext[i].off + j);
		assert_int_equal(pwrite(fd, buf, ext[i].len,
					(off_t)ext[i].off),
				 (ssize_t)ext[i].len);
		free(buf);
	}
	return fd;
}

struct ref_reader {
	int fd;
	off_t pos;
};

static int ref_read(void *opaque, void *buf, size_t count)
{
	struct ref_reader *r = opaque;
	ssize_t n = pread(r->fd, buf, count, r->pos);

	assert_int_equal(n, (ssize_t)count);
	r->pos += n;
	return 0;
}

/* The reference: libfsverity over the whole file, holes read as zeros. */
static void ref_digest(int fd, uint8_t digest[TPLFS_DIGEST_SIZE])
{
	struct libfsverity_merkle_tree_params params = {
		.version = 1,
		.hash_algorithm = FS_VERITY_HASH_ALG_SHA256,
		.block_size = 4096,
		.file_size = (uint64_t)lseek(fd, 0, SEEK_END),
	};
	struct ref_reader reader = { .fd = fd };
	struct libfsverity_digest *d = NULL;

	assert_int_equal(libfsverity_compute_digest(&reader, ref_read,
						    &params, &d), 0);
	assert_int_equal(d->digest_size, TPLFS_DIGEST_SIZE);
	memcpy(digest, d->digest, TPLFS_DIGEST_SIZE);
	free(d);
}

/*
 * The sparse path, forced, and tplfs_digest_fd (which picks the sparse path
 * when the file has a hole) both agree with libfsverity on this layout.
 */
static void expect_same(uint64_t size, const struct extent *ext, size_t n)
{
	uint8_t want[TPLFS_DIGEST_SIZE], got[TPLFS_DIGEST_SIZE];
	uint64_t got_size = 12345;
	int fd = sparse_file(size, ext, n);

	ref_digest(fd, want);
	assert_int_equal(tplfs_digest_fd_sparse(fd, &got_size, got), 0);
	assert_int_equal(got_size, size);
	if (memcmp(got, want, sizeof(want)) != 0)
		fail_msg("sparse path differs: size %llu, %zu extents",
			 (unsigned long long)size, n);
	got_size = 12345;
	memset(got, 0, sizeof(got));
	assert_int_equal(tplfs_digest_fd(fd, &got_size, got), 0);
	assert_int_equal(got_size, size);
	assert_memory_equal(got, want, sizeof(want));
	close(fd);
}

static void sparse_only_holes(void **state)
{
	static const uint64_t sizes[] = {
		0, 1, 4095, BLK, BLK + 1, 127 * BLK, L0 - 1, L0, L0 + 1,
		129 * L0 + 7, L1, L1 + BLK,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		expect_same(sizes[i], NULL, 0);
}

static void sparse_data_at_the_start_middle_end(void **state)
{
	const struct extent start[] = { { 0, 100 } };
	const struct extent start_block[] = { { 0, BLK } };
	const struct extent middle[] = { { 500 * BLK + 123, 9000 } };
	const struct extent end[] = { { 300 * BLK + 17 - 50, 50 } };
	const struct extent end_block[] = { { 299 * BLK, BLK } };
	const struct extent ends[] = { { 0, 10 }, { 2 * L0 - 10, 10 } };
	const struct extent second_block[] = { { BLK, BLK } };

	(void)state;
	expect_same(10 * BLK + 5, start, 1);
	expect_same(10 * BLK, start_block, 1);
	expect_same(1000 * BLK, middle, 1);
	expect_same(300 * BLK + 17, end, 1);
	expect_same(300 * BLK, end_block, 1);
	expect_same(2 * L0, ends, 2);
	/* A hole of one block, before or after the data */
	expect_same(2 * BLK, second_block, 1);
	expect_same(2 * BLK, start_block, 1);
}

static void sparse_unaligned_extents(void **state)
{
	const struct extent ext[] = {
		{ 1, 1 }, { BLK - 1, 2 }, { 3 * BLK + 100, 5000 },
		{ 20 * BLK + 4095, 1 }, { 21 * BLK, 1 },
		{ 40 * BLK + 7, 3 * BLK }, { L0 - 3, 6 },
	};

	(void)state;
	expect_same(L0 + 3 * BLK + 333, ext, sizeof(ext) / sizeof(ext[0]));
	expect_same(40 * BLK + 9, ext, 5);	/* last extent at the end */
}

/* Data around the boundaries of level-0 and level-1 tree blocks. */
static void sparse_data_past_level_boundaries(void **state)
{
	const struct extent ext[] = {
		{ L0 - 10, 20 }, { 5 * L0, BLK }, { L1 - 1, 2 },
		{ L1 + 127 * BLK, BLK + 1 }, { 2 * L1 + L0, 1000 },
		{ 2 * L1 + 129 * BLK + 7 - 100, 100 },
	};
	const struct extent last[] = { { L1 + L0 - 1, 1 } };
	const struct extent past_l1[] = { { L1 + 5, 1 } };

	(void)state;
	expect_same(2 * L1 + 129 * BLK + 7, ext, sizeof(ext) / sizeof(ext[0]));
	/* A trailing hole after data past a boundary */
	expect_same(L1 + 3 * L0 + 5, last, 1);
	/* Exactly L1 + 1 blocks: one more level for one more block */
	expect_same(L1 + BLK, past_l1, 1);
}

/* Data extents that hold zeros are hashed like any data. */
static void sparse_zeros_written_as_data(void **state)
{
	uint8_t want[TPLFS_DIGEST_SIZE], got[TPLFS_DIGEST_SIZE];
	const struct extent ext[] = { { 7 * BLK, 3 } };
	char *zeros = calloc(1, 3 * L0);
	uint64_t size;
	int fd = sparse_file(4 * L0 + 1, ext, 1);

	(void)state;
	assert_non_null(zeros);
	assert_int_equal(pwrite(fd, zeros, 3 * L0, (off_t)L0),
			 (ssize_t)(3 * L0));
	free(zeros);
	ref_digest(fd, want);
	assert_int_equal(tplfs_digest_fd_sparse(fd, &size, got), 0);
	assert_memory_equal(got, want, sizeof(want));
	close(fd);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64: the same layouts on every run and libc */
static uint64_t rng(uint64_t bound)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return bound ? rng_state % bound : 0;
}

static void sparse_random_layouts(void **state)
{
	(void)state;
	for (int i = 0; i < 60; i++) {
		struct extent ext[8];
		/* up to 3 level-0 blocks, or past the first level-1 block */
		uint64_t size = i % 10 == 9 ? L1 + rng(2 * L0) : rng(3 * L0);
		size_t n = (size_t)rng(9);

		for (size_t j = 0; j < n; j++) {
			ext[j].off = rng(size + 1);
			ext[j].len = rng(i % 3 ? 3 * BLK : 64);
			if (ext[j].off + ext[j].len > size)
				ext[j].len = size - ext[j].off;
		}
		expect_same(size, ext, n);
	}
}

/* The sparse path over files without holes, forced. */
static void sparse_path_over_dense_files(void **state)
{
	static const uint64_t sizes[] = {
		1, 4095, BLK, BLK + 1, L0 - 1, L0, L0 + 1, 3 * L0 + 17,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const struct extent all = { 0, sizes[i] };

		expect_same(sizes[i], &all, 1);
	}
}

/*
 * 16 GiB, all hole but for a few KB: the sparse path reads only those.
 * Expected: the layout made by sparse_file() (pattern(off) = off % 251 + 1)
 * written by a script to /tmp/sparse16g, then
 * `fsverity digest --hash-alg=sha256 --block-size=4096 /tmp/sparse16g`
 * (fsverity-utils 1.5, which took 39 s to read the holes).
 */
#define SPARSE_16G_DIGEST "96d9680c38f212b3587d34cab0d395e5" \
			  "4855f787ccda59abc4ef5764908099a9"

static void sparse_16_gib(void **state)
{
	const uint64_t size = 16 * GIB;
	const struct extent ext[] = {
		{ 0, 1000 }, { 5 * GIB + 123, 3000 }, { 8 * GIB - 2, 4 },
		{ size - 100, 100 },
	};

	(void)state;
	expect_fd_digest(sparse_file(size, ext, sizeof(ext) / sizeof(ext[0])),
			 size, SPARSE_16G_DIGEST);
}

/* The file offset, moved by SEEK_DATA and SEEK_HOLE, is put back. */
static void digest_keeps_the_file_offset(void **state)
{
	const struct extent ext[] = { { L0, 10 } };
	uint8_t digest[TPLFS_DIGEST_SIZE];
	uint64_t size;
	int fd = sparse_file(3 * L0, ext, 1);

	(void)state;
	assert_int_equal(lseek(fd, 77, SEEK_SET), 77);
	assert_int_equal(tplfs_digest_fd(fd, &size, digest), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 77);
	close(fd);
}

/* The builder refuses more or fewer blocks than the file has. */
static void merkle_counts_blocks(void **state)
{
	uint8_t block[BLK] = { 1 }, digest[TPLFS_DIGEST_SIZE];
	struct tplfs_merkle *m = tplfs_merkle_new(2 * BLK + 1);

	(void)state;
	assert_non_null(m);
	assert_int_equal(tplfs_merkle_add(m, block, 1), -EINVAL);
	assert_int_equal(tplfs_merkle_add(m, block, BLK), 0);
	assert_int_equal(tplfs_merkle_finish(m, digest), -EINVAL);
	assert_int_equal(tplfs_merkle_add_zeros(m, 2), 0);
	assert_int_equal(tplfs_merkle_add_zeros(m, 1), -EINVAL);
	assert_int_equal(tplfs_merkle_add(m, block, 1), -EINVAL);
	assert_int_equal(tplfs_merkle_finish(m, digest), 0);
	tplfs_merkle_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(digest_of_an_empty_file),
		cmocka_unit_test(digest_of_one_block),
		cmocka_unit_test(digest_of_many_blocks_with_a_tail),
		cmocka_unit_test(digest_refuses_a_directory),
		cmocka_unit_test(sparse_only_holes),
		cmocka_unit_test(sparse_data_at_the_start_middle_end),
		cmocka_unit_test(sparse_unaligned_extents),
		cmocka_unit_test(sparse_data_past_level_boundaries),
		cmocka_unit_test(sparse_zeros_written_as_data),
		cmocka_unit_test(sparse_random_layouts),
		cmocka_unit_test(sparse_path_over_dense_files),
		cmocka_unit_test(sparse_16_gib),
		cmocka_unit_test(digest_keeps_the_file_offset),
		cmocka_unit_test(merkle_counts_blocks),
	};

	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
