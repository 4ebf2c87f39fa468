// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The file system operations `make bench` times in its guest, one a run,
 * each as lean as the operation allows so that TCG's noise is the kernel's.
 * Each prints one JSON object on stdout, {"op":NAME,...}, with these
 * members (seconds: wall time, CLOCK_MONOTONIC, of the timed part only):
 *
 *   fsops walk ROOT                    lstat every entry below ROOT:
 *                                      seconds, count (entries, ROOT not
 *                                      counted), dirs, files, bytes (their
 *                                      sizes)
 *   fsops smallfiles ROOT [MAXSIZE]    open, read to the end, close every
 *                                      regular file of fewer than MAXSIZE
 *                                      (65536) bytes, in path order:
 *                                      seconds, count, bytes, per_op_us
 *   fsops seqread FILE [BLOCK]         read FILE in BLOCK (1 MiB) reads:
 *                                      seconds, bytes, MiB_s
 *   fsops randread FILE COUNT [SEED]   COUNT 4 KiB preads at 4 KiB-aligned
 *                                      offsets drawn by xorshift64* from
 *                                      SEED (1): seconds, count, bytes,
 *                                      per_op_us
 *   fsops exec ROOT PROG COUNT         COUNT times vfork, chroot ROOT, exec
 *                                      PROG (output to /dev/null), wait;
 *                                      any failure fails: seconds, count,
 *                                      per_op_ms
 *   fsops firstwrite FILE              open for writing, write the file's
 *                                      own first byte over it, close: the
 *                                      copy-up's latency: seconds, size
 *   fsops readtree ROOT [LIMIT]        smallfiles without a size bound,
 *                                      stopping at LIMIT bytes read
 *   fsops meminfo                      cached_kib, memfree_kib, shmem_kib
 *                                      from /proc/meminfo
 *
 * Walks do not follow symbolic links nor enter other mounts, and are not
 * timed where they only list the files to read. Errors go to stderr and
 * exit 1, usage errors exit 2.
 */
#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096
#define READ_BUF	(128 << 10)	/* as cat's */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The result: {"op":"walk","seconds":0.123456,...} */

static void out_begin(const char *op)
{
	printf("{\"op\":\"%s\"", op);
}

static void out_u64(const char *key, uint64_t val)
{
	printf(",\"%s\":%" PRIu64, key, val);
}

static void out_num(const char *key, double val)
{
	printf(",\"%s\":%.6f", key, val);
}

static void out_end(void)
{
	printf("}\n");
}

static void *alloc(size_t size)
{
	void *p = aligned_alloc(PAGE, (size + PAGE - 1) / PAGE * PAGE);

	if (!p)
		err(1, "%zu bytes", size);
	return p;
}

static int open_file(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		err(1, "%s", path);
	return fd;
}

/* Read @fd to its end, or @max bytes, in reads of @size: the bytes read. */
static uint64_t read_all(int fd, const char *path, char *buf, size_t size,
			 uint64_t max)
{
	uint64_t got = 0;

	while (got < max) {
		size_t want = max - got < size ? max - got : size;
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "%s", path);
		if (n == 0)
			break;
		got += (uint64_t)n;
	}
	return got;
}

/* Walks: every entry below a root, depth first, on the root's mount. */

struct walk {
	dev_t dev;		/* the root's file system: not left */
	char path[PATH_MAX];	/* of the entry being visited */
	size_t len;
	void (*visit)(struct walk *w, const struct stat *st);
	void *arg;		/* for visit */
	uint64_t entries, dirs, files, bytes;
};

static int open_dir(int dfd, const char *name, const char *path)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		err(1, "%s", path);
	return fd;
}

static void walk_dir(struct walk *w, int dfd)
{
	size_t len = w->len;
	struct dirent *de;
	DIR *d;

	d = fdopendir(dfd);
	if (!d)
		err(1, "%s", len ? w->path : "/");
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		size_t n = strlen(name);
		struct stat st;

		if (name[0] == '.' && (!name[1] ||
				       (name[1] == '.' && !name[2])))
			continue;
		if (len + 1 + n >= sizeof(w->path))
			errx(1, "%s/%s: path too long", w->path, name);
		w->path[len] = '/';
		memcpy(w->path + len + 1, name, n + 1);
		w->len = len + 1 + n;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW))
			err(1, "%s", w->path);
		w->entries++;
		if (S_ISREG(st.st_mode)) {
			w->files++;
			w->bytes += (uint64_t)st.st_size;
		}
		if (w->visit)
			w->visit(w, &st);
		if (S_ISDIR(st.st_mode)) {
			w->dirs++;
			if (st.st_dev == w->dev)
				walk_dir(w, open_dir(dirfd(d), name, w->path));
		}
		w->len = len;
		w->path[len] = '\0';
	}
	if (errno)
		err(1, "%s", len ? w->path : "/");
	closedir(d);
}

static void walk(struct walk *w, const char *root)
{
	int fd = open_dir(AT_FDCWD, root, root);
	struct stat st;
	size_t len = strlen(root);

	if (fstat(fd, &st))
		err(1, "%s", root);
	if (len >= sizeof(w->path))
		errx(1, "%s: path too long", root);
	while (len && root[len - 1] == '/')
		len--;		/* "/" is "", its entries "/name" */
	memcpy(w->path, root, len);
	w->path[len] = '\0';
	w->len = len;
	w->dev = st.st_dev;
	walk_dir(w, fd);
}

/* The regular files of a tree, sorted by path, to be read. */

struct file_list {
	char **paths;
	size_t n, cap;
	uint64_t max_size;	/* files of this size or more are left out */
};

static void collect_file(struct walk *w, const struct stat *st)
{
	struct file_list *l = w->arg;

	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size >= l->max_size)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->paths = realloc(l->paths, l->cap * sizeof(*l->paths));
		if (!l->paths)
			err(1, "%zu paths", l->cap);
	}
	l->paths[l->n] = strdup(w->path);
	if (!l->paths[l->n++])
		err(1, "%s", w->path);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(struct file_list *l, const char *root)
{
	struct walk w = { .visit = collect_file, .arg = l };

	walk(&w, root);
	qsort(l->paths, l->n, sizeof(*l->paths), by_path);
}

static void free_list(struct file_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
}

/*
 * Open, read to the end and close the listed files in order, until @limit
 * bytes are read, and print what it took.
 */
static void read_files(const char *op, struct file_list *l, uint64_t limit)
{
	char *buf = alloc(READ_BUF);
	uint64_t bytes = 0, count = 0;
	double t0 = now(), t;

	for (size_t i = 0; i < l->n && bytes < limit; i++) {
		int fd = open_file(l->paths[i], O_RDONLY);

		bytes += read_all(fd, l->paths[i], buf, READ_BUF, limit - bytes);
		close(fd);
		count++;
	}
	t = now() - t0;
	free(buf);
	out_begin(op);
	out_num("seconds", t);
	out_u64("count", count);
	out_u64("bytes", bytes);
	out_num("per_op_us", count ? t * 1e6 / (double)count : 0);
	out_end();
}

/* Arguments */

static uint64_t number(const char *s, const char *what, uint64_t min)
{
	char *end;
	uint64_t val;

	errno = 0;
	val = strtoull(s, &end, 10);
	if (errno || !isdigit((unsigned char)s[0]) || *end) {
		fprintf(stderr, "fsops: %s: not a whole number: %s\n", what, s);
		exit(2);
	}
	if (val < min) {
		fprintf(stderr, "fsops: %s: %s is less than %" PRIu64 "\n",
			what, s, min);
		exit(2);
	}
	return val;
}

static uint64_t number_or(int argc, char **argv, int i, const char *what,
			  uint64_t min, uint64_t dflt)
{
	return i < argc ? number(argv[i], what, min) : dflt;
}

/* The subcommands: argv[0] is the first argument after the name. */

static void cmd_walk(int argc, char **argv)
{
	struct walk w = { 0 };
	double t0 = now(), t;

	(void)argc;
	walk(&w, argv[0]);
	t = now() - t0;
	out_begin("walk");
	out_num("seconds", t);
	out_u64("count", w.entries);
	out_u64("dirs", w.dirs);
	out_u64("files", w.files);
	out_u64("bytes", w.bytes);
	out_end();
}

static void cmd_smallfiles(int argc, char **argv)
{
	struct file_list l = { 0 };
	uint64_t max = number_or(argc, argv, 1, "MAXSIZE", 0, 65536);

	l.max_size = max;
	collect(&l, argv[0]);
	read_files("smallfiles", &l, UINT64_MAX);
	free_list(&l);
}

static void cmd_readtree(int argc, char **argv)
{
	struct file_list l = { .max_size = UINT64_MAX };
	uint64_t limit = number_or(argc, argv, 1, "LIMIT_BYTES", 0,
				   UINT64_MAX);

	collect(&l, argv[0]);
	read_files("readtree", &l, limit);
	free_list(&l);
}

static void cmd_seqread(int argc, char **argv)
{
	size_t block = number_or(argc, argv, 1, "BLOCK", 1, 1 << 20);
	char *buf = alloc(block);
	double t0 = now(), t;
	uint64_t bytes;
	int fd;

	fd = open_file(argv[0], O_RDONLY);
	bytes = read_all(fd, argv[0], buf, block, UINT64_MAX);
	close(fd);
	t = now() - t0;
	free(buf);
	out_begin("seqread");
	out_num("seconds", t);
	out_u64("bytes", bytes);
	out_num("MiB_s", t > 0 ? (double)bytes / (1 << 20) / t : 0);
	out_end();
}

/* xorshift64*: the same offsets for the same seed, everywhere. */
static uint64_t next_random(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static void cmd_randread(int argc, char **argv)
{
	uint64_t count = number(argv[1], "COUNT", 1);
	uint64_t x = number_or(argc, argv, 2, "SEED", 0, 1);
	char *buf = alloc(PAGE);
	uint64_t pages;
	struct stat st;
	double t0, t;
	int fd;

	fd = open_file(argv[0], O_RDONLY);
	if (fstat(fd, &st))
		err(1, "%s", argv[0]);
	pages = (uint64_t)st.st_size / PAGE;
	if (!pages)
		errx(1, "%s: smaller than %d bytes", argv[0], PAGE);
	if (!x)
		x = 1;		/* xorshift stays at 0 */
	t0 = now();
	for (uint64_t i = 0; i < count; i++) {
		off_t off = (off_t)(next_random(&x) % pages * PAGE);

		if (pread(fd, buf, PAGE, off) != PAGE)
			err(1, "%s: pread at %jd", argv[0], (intmax_t)off);
	}
	t = now() - t0;
	close(fd);
	free(buf);
	out_begin("randread");
	out_num("seconds", t);
	out_u64("count", count);
	out_u64("bytes", count * PAGE);
	out_num("per_op_us", t * 1e6 / (double)count);
	out_end();
}

/*
 * What failed in a vfork()ed child before its exec: the child shares our
 * memory until it execs or exits.
 */
static const char *volatile child_step;
static volatile int child_errno;

static void child_fail(const char *step)
{
	child_errno = errno;
	child_step = step;
	_exit(127);
}

static void run_child(const char *root, char *const *args, int devnull)
{
	if (chroot(root))
		child_fail("chroot");
	if (chdir("/"))
		child_fail("chdir /");
	if (dup2(devnull, STDOUT_FILENO) < 0 ||
	    dup2(devnull, STDERR_FILENO) < 0)
		child_fail("dup2");
	execv(args[0], args);
	child_fail("execv");
}

static void cmd_exec(int argc, char **argv)
{
	const char *root = argv[0];
	char *const args[] = { argv[1], NULL };
	uint64_t count = number(argv[2], "COUNT", 1);
	int devnull = open_file("/dev/null", O_WRONLY);
	double t0 = now(), t;

	(void)argc;
	for (uint64_t i = 0; i < count; i++) {
		int status;
		pid_t pid;

		/* vfork: no page tables to copy; chroot stays the child's */
		pid = vfork();
		if (pid < 0)
			err(1, "vfork");
		if (pid == 0)
			run_child(root, args, devnull);
		if (waitpid(pid, &status, 0) < 0)
			err(1, "waitpid");
		if (child_step) {
			errno = child_errno;
			err(1, "%s in %s: %s", args[0], root, child_step);
		}
		if (WIFSIGNALED(status))
			errx(1, "%s in %s: run %" PRIu64 ": killed by signal %d",
			     args[0], root, i + 1, WTERMSIG(status));
		if (WEXITSTATUS(status))
			errx(1, "%s in %s: run %" PRIu64 ": exit status %d",
			     args[0], root, i + 1, WEXITSTATUS(status));
	}
	t = now() - t0;
	close(devnull);
	out_begin("exec");
	out_num("seconds", t);
	out_u64("count", count);
	out_num("per_op_ms", t * 1e3 / (double)count);
	out_end();
}

/*
 * The byte written is the file's own first one, read before the clock
 * starts, so the content stays the same (an empty file gains a '\n').
 */
static void cmd_firstwrite(int argc, char **argv)
{
	const char *path = argv[0];
	char c = '\n';
	struct stat st;
	double t0, t;
	int fd;

	(void)argc;
	fd = open_file(path, O_RDONLY);
	if (fstat(fd, &st) || pread(fd, &c, 1, 0) < 0)
		err(1, "%s", path);
	close(fd);
	t0 = now();
	fd = open_file(path, O_WRONLY);
	if (pwrite(fd, &c, 1, 0) != 1)
		err(1, "%s: pwrite", path);
	if (close(fd))
		err(1, "%s: close", path);
	t = now() - t0;
	out_begin("firstwrite");
	out_num("seconds", t);
	out_u64("size", (uint64_t)st.st_size);
	out_end();
}

static void cmd_meminfo(int argc, char **argv)
{
	static const char *const keys[] = { "Cached", "MemFree", "Shmem" };
	static const char *const fields[] = {
		"cached_kib", "memfree_kib", "shmem_kib"
	};
	uint64_t val[3] = { 0 };
	unsigned int found = 0;
	char line[256];
	FILE *f;

	(void)argc;
	(void)argv;
	f = fopen("/proc/meminfo", "re");
	if (!f)
		err(1, "/proc/meminfo");
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		for (int i = 0; i < 3; i++) {
			if (!strcmp(line, keys[i])) {
				val[i] = strtoull(colon + 1, NULL, 10);
				found |= 1U << i;
			}
		}
	}
	fclose(f);
	if (found != 7)
		errx(1, "/proc/meminfo: no Cached, MemFree or Shmem line");
	out_begin("meminfo");
	for (int i = 0; i < 3; i++)
		out_u64(fields[i], val[i]);
	out_end();
}

static const struct subcommand {
	const char *name;
	const char *args;
	int min_args, max_args;	/* after the name */
	void (*run)(int argc, char **argv);
} subcommands[] = {
	{ "walk", "ROOT", 1, 1, cmd_walk },
	{ "smallfiles", "ROOT [MAXSIZE=65536]", 1, 2, cmd_smallfiles },
	{ "seqread", "FILE [BLOCK=1048576]", 1, 2, cmd_seqread },
	{ "randread", "FILE COUNT [SEED=1]", 2, 3, cmd_randread },
	{ "exec", "ROOT PROG COUNT", 3, 3, cmd_exec },
	{ "firstwrite", "FILE", 1, 1, cmd_firstwrite },
	{ "readtree", "ROOT [LIMIT_BYTES]", 1, 2, cmd_readtree },
	{ "meminfo", "", 0, 0, cmd_meminfo },
};

#define NSUBCOMMANDS	(sizeof(subcommands) / sizeof(subcommands[0]))

static int usage(FILE *f, const struct subcommand *only)
{
	for (size_t i = 0; i < NSUBCOMMANDS; i++) {
		const struct subcommand *s = &subcommands[i];

		if (!only || only == s)
			fprintf(f, "%s fsops %s%s%s\n", i && !only ? "      " :
				"usage:", s->name, s->args[0] ? " " : "",
				s->args);
	}
	return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, NULL);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout, NULL);
	for (size_t i = 0; i < NSUBCOMMANDS; i++) {
		const struct subcommand *s = &subcommands[i];
		int n = argc - 2;

		if (strcmp(argv[1], s->name))
			continue;
		if (n < s->min_args || n > s->max_args)
			return usage(stderr, s);
		s->run(n, argv + 2);
		if (fflush(stdout) || ferror(stdout))
			err(1, "stdout");
		return 0;
	}
	fprintf(stderr, "fsops: %s: no such subcommand\n", argv[1]);
	return usage(stderr, NULL);
}
