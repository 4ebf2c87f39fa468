// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tplfs-fsx: one seeded sequence of random operations applied to two trees
 * that start equal (a tplfs mount whose files are stubs, and a plain copy).
 * Every operation must give the same outcome (a value or an errno) on both,
 * every read the same data. The first difference stops the run with the
 * seed, the operation number and the operation. Whole-tree comparison is
 * left to the caller (tests/vm/tools/fsx.py --compare).
 *
 *   tplfs-fsx SEED OPS A B
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAMES	4096
#define MAX_IO		(64 << 10)

static uint64_t rng_state;
static const char *roots[2];
static char *files[MAX_NAMES], *dirs[MAX_NAMES], *links[MAX_NAMES];
static int nfiles, ndirs, nlinks;
static unsigned long seq, opno;
static char desc[PATH_MAX * 2 + 64];
static unsigned char wbuf[MAX_IO], rbuf[MAX_IO];

static uint64_t rnd(void)	/* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned long below(unsigned long n)
{
	return n ? rnd() % n : 0;
}

static void add(char **list, int *n, const char *name)
{
	if (*n < MAX_NAMES)
		list[(*n)++] = strdup(name);
}

static void del(char **list, int *n, const char *name)
{
	for (int i = 0; i < *n; i++) {
		if (!strcmp(list[i], name)) {
			free(list[i]);
			list[i] = list[--*n];
			return;
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static size_t root_len;

static int scan_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	const char *rel = path + root_len;

	(void)st;
	(void)ftw;
	if (*rel == '/')
		rel++;
	if (type == FTW_D)
		add(dirs, &ndirs, rel);
	else if (type == FTW_SL || type == FTW_SLN)
		add(links, &nlinks, rel);
	else if (type == FTW_F)
		add(files, &nfiles, rel);
	return 0;
}

/* Rebuild the name lists from tree A (sorted: the same on every run). */
static void rescan(void)
{
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	for (int i = 0; i < ndirs; i++)
		free(dirs[i]);
	for (int i = 0; i < nlinks; i++)
		free(links[i]);
	nfiles = ndirs = nlinks = 0;
	root_len = strlen(roots[0]);
	nftw(roots[0], scan_one, 16, FTW_PHYS);
	qsort(files, nfiles, sizeof(char *), cmp_str);
	qsort(dirs, ndirs, sizeof(char *), cmp_str);
	qsort(links, nlinks, sizeof(char *), cmp_str);
}

static void path(char *out, int root, const char *rel)
{
	snprintf(out, PATH_MAX, "%s/%s", roots[root], rel);
}

static void new_name(char *out)
{
	const char *d = dirs[below(ndirs)];

	snprintf(out, PATH_MAX, "%s%sn%lu", d, *d ? "/" : "", ++seq);
}

/* an outcome: >= 0 a value, < 0 -errno */
#define RET(x)	((x) < 0 ? -(int64_t)errno : (int64_t)(x))

struct op {
	const char *a, *b;	/* relative names */
	uint64_t off, len, arg;
	int kind;
};

enum { READ, WRITE, APPEND, TRUNCATE, MMAPW, RENAME, LINK, UNLINK, CHMOD,
       CHOWN, CREATE, MKDIR, RMDIR, SYMLINK, READLINK, STAT, RENAMEDIR,
       NKINDS };
static const char *kind_names[] = {
	"read", "write", "append", "truncate", "mmapwrite", "rename", "link",
	"unlink", "chmod", "chown", "create", "mkdir", "rmdir", "symlink",
	"readlink", "stat", "renamedir",
};
static const int weights[NKINDS] = {
	20, 14, 4, 6, 2, 5, 3, 3, 4, 2, 4, 1, 1, 1, 1, 6, 1,
};

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static int64_t apply(int root, const struct op *op)
{
	char pa[PATH_MAX], pb[PATH_MAX], target[PATH_MAX];
	struct stat st;
	int64_t ret;
	ssize_t n;
	int fd;

	if (op->a)
		path(pa, root, op->a);
	if (op->b)
		path(pb, root, op->b);
	switch (op->kind) {
	case READ:
		fd = open(pa, O_RDONLY);
		if (fd < 0)
			return RET(fd);
		n = pread(fd, rbuf, op->len, op->off);
		ret = n < 0 ? RET(n) : (int64_t)(fnv(rbuf, n) >> 1);
		close(fd);
		return ret;
	case WRITE:
	case APPEND:
		fd = open(pa, O_WRONLY | (op->kind == APPEND ? O_APPEND : 0));
		if (fd < 0)
			return RET(fd);
		n = op->kind == APPEND ? write(fd, wbuf, op->len) :
			pwrite(fd, wbuf, op->len, op->off);
		ret = RET(n);
		close(fd);
		return ret;
	case TRUNCATE:
		return RET(truncate(pa, op->len));
	case MMAPW: {
		unsigned char *m;
		uint64_t off;

		fd = open(pa, O_RDWR);
		if (fd < 0)
			return RET(fd);
		if (fstat(fd, &st) < 0 || st.st_size == 0) {
			close(fd);
			return 0;
		}
		m = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		if (m == MAP_FAILED) {
			ret = RET(-1);
			close(fd);
			return ret;
		}
		off = op->off % st.st_size;
		n = op->len < st.st_size - off ? op->len : st.st_size - off;
		memcpy(m + off, wbuf, n);
		msync(m, st.st_size, MS_SYNC);
		munmap(m, st.st_size);
		close(fd);
		return n;
	}
	case RENAME:
	case RENAMEDIR:
		return RET(rename(pa, pb));
	case LINK:
		return RET(link(pa, pb));
	case UNLINK:
		return RET(unlink(pa));
	case CHMOD:
		return RET(chmod(pa, op->arg));
	case CHOWN:
		return RET(chown(pa, op->arg >> 16, op->arg & 0xffff));
	case CREATE:
		fd = open(pa, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return RET(fd);
		ret = RET(write(fd, wbuf, op->len));
		close(fd);
		return ret;
	case MKDIR:
		return RET(mkdir(pa, 0755));
	case RMDIR:
		return RET(rmdir(pa));
	case SYMLINK:
		return RET(symlink(op->b, pa));
	case READLINK:
		n = readlink(pa, target, sizeof(target));
		return n < 0 ? RET(n) : (int64_t)(fnv((void *)target, n) >> 1);
	case STAT:
		if (lstat(pa, &st) < 0)
			return RET(-1);
		return (int64_t)((st.st_mode * 31 + st.st_size) * 31 +
				 st.st_uid * 7 + st.st_gid * 3 + st.st_nlink) &
		       INT64_MAX;
	}
	return 0;
}

static int pick_kind(void)
{
	int total = 0, r;

	for (int i = 0; i < NKINDS; i++)
		total += weights[i];
	r = below(total);
	for (int i = 0; i < NKINDS; i++) {
		if (r < weights[i])
			return i;
		r -= weights[i];
	}
	return READ;
}

static int one_op(void)
{
	char name[PATH_MAX];
	struct op op = { .kind = pick_kind() };
	const char *f = nfiles ? files[below(nfiles)] : NULL;
	int64_t ra, rb;

	if (!f && op.kind != MKDIR && op.kind != RMDIR && op.kind != SYMLINK &&
	    op.kind != RENAMEDIR && op.kind != READLINK)
		op.kind = CREATE;
	op.a = f;
	op.off = below(300000);
	op.len = 1 + below(op.kind == READ ? MAX_IO : 20000);
	switch (op.kind) {
	case TRUNCATE:
		op.len = below(400000);
		break;
	case RENAME:
		if (below(10) < 7) {
			new_name(name);
			op.b = name;
		} else {
			op.b = files[below(nfiles)];
		}
		break;
	case RENAMEDIR:
		op.a = dirs[below(ndirs)];
		if (!*op.a)
			return 0;
		new_name(name);
		op.b = name;
		break;
	case LINK:
		new_name(name);
		op.b = name;
		break;
	case CHMOD:
		op.arg = below(01000) | 0600;
		break;
	case CHOWN: {
		static const unsigned int ids[] = { 0, 1000, 1001 };

		op.arg = ids[below(3)] << 16 | ids[below(3)];
		break;
	}
	case CREATE:
	case MKDIR:
		new_name(name);
		op.a = name;
		op.len = below(30000);
		break;
	case RMDIR:
		op.a = dirs[below(ndirs)];
		if (!*op.a)
			return 0;
		break;
	case SYMLINK:
		new_name(name);
		op.a = name;
		op.b = f ? f : "nowhere";
		break;
	case READLINK:
		if (!nlinks)
			return 0;
		op.a = links[below(nlinks)];
		break;
	}
	for (uint64_t i = 0; i < op.len && i < MAX_IO; i += 8) {
		uint64_t v = rnd();

		memcpy(wbuf + i, &v, i + 8 <= MAX_IO ? 8 : MAX_IO - i);
	}
	snprintf(desc, sizeof(desc), "%s %s%s%s off=%" PRIu64 " len=%" PRIu64
		 " arg=%" PRIo64, kind_names[op.kind], op.a ? op.a : "",
		 op.b ? " " : "", op.b ? op.b : "", op.off, op.len, op.arg);

	ra = apply(0, &op);
	rb = apply(1, &op);
	if (ra != rb) {
		printf("tplfs-fsx: op %lu: %s: tplfs %" PRId64 ", plain %" PRId64
		       " (negative: -errno)\n", opno, desc, ra, rb);
		return -1;
	}
	if (ra < 0)
		return 0;
	switch (op.kind) {
	case RENAME:
	case RENAMEDIR:
	case RMDIR:
		rescan();
		break;
	case LINK:
		add(files, &nfiles, op.b);
		break;
	case UNLINK:
		del(files, &nfiles, op.a);
		break;
	case CREATE:
		add(files, &nfiles, op.a);
		break;
	case MKDIR:
		add(dirs, &ndirs, op.a);
		break;
	case SYMLINK:
		add(links, &nlinks, op.a);
		break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long seed, ops;

	if (argc != 5) {
		fprintf(stderr, "usage: tplfs-fsx SEED OPS A B\n");
		return 2;
	}
	seed = strtoul(argv[1], NULL, 0);
	ops = strtoul(argv[2], NULL, 0);
	roots[0] = argv[3];
	roots[1] = argv[4];
	rng_state = seed;
	rescan();
	for (opno = 1; opno <= ops; opno++) {
		if (one_op()) {
			printf("tplfs-fsx: FAIL seed=%lu\n", seed);
			return 1;
		}
	}
	printf("tplfs-fsx: seed=%lu, %lu operations, %d files, %d dirs: "
	       "every outcome equal\n", seed, ops, nfiles, ndirs);
	return 0;
}
