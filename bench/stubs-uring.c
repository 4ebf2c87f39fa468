// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Does io_uring make container creation faster? Creates N stubs in an
 * empty directory the way tplfs_populate() does (create, origin xattr,
 * owner, mode, times, close), either with plain system calls or with
 * io_uring where it has an operation: a linked OPENAT (direct descriptor)
 * -> FSETXATTR -> CLOSE chain per file, 64 files a submission, then the
 * three steps io_uring has no operation for (fchownat, fchmodat, utimensat)
 * as system calls by path. Prints the time per stub of each, and their
 * ratio. bench/README.md has the results and the decision.
 *
 *   stubs-uring DIR N
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64

static const char origin[48] = { 1, 1 };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "stubs-uring: %s: %s\n", what, strerror(err));
	exit(1);
}

static const struct timespec times[2] = { { 1600000000, 0 }, { 1600000000, 0 } };

static void plain(int dfd, int n)
{
	char name[32];

	for (int i = 0; i < n; i++) {
		int fd;

		snprintf(name, sizeof(name), "p%d", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die("openat", errno);
		if (fsetxattr(fd, "trusted.tplfs.origin", origin, sizeof(origin), 0) ||
		    fchown(fd, 1000, 1000) || fchmod(fd, 0644) ||
		    futimens(fd, times))
			die("metadata", errno);
		close(fd);
	}
}

static void uring(int dfd, int n)
{
	struct io_uring ring;
	char names[BATCH][32];
	int ret;

	ret = io_uring_queue_init(4 * BATCH, &ring, 0);
	if (ret)
		die("io_uring_queue_init", -ret);
	ret = io_uring_register_files_sparse(&ring, BATCH);
	if (ret)
		die("register_files_sparse", -ret);
	for (int base = 0; base < n; base += BATCH) {
		int m = n - base < BATCH ? n - base : BATCH;
		struct io_uring_cqe *cqe;

		for (int k = 0; k < m; k++) {
			struct io_uring_sqe *sqe;

			snprintf(names[k], sizeof(names[k]), "u%d", base + k);
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_openat_direct(sqe, dfd, names[k],
						    O_WRONLY | O_CREAT | O_EXCL, 0600,
						    (unsigned int)k);
			sqe->flags |= IOSQE_IO_LINK;
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_fsetxattr(sqe, k, "trusted.tplfs.origin",
						origin, 0, sizeof(origin));
			sqe->flags |= IOSQE_IO_LINK | IOSQE_FIXED_FILE;
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_close_direct(sqe, (unsigned int)k);
		}
		io_uring_submit_and_wait(&ring, (unsigned int)(3 * m));
		for (int k = 0; k < 3 * m; k++) {
			io_uring_wait_cqe(&ring, &cqe);
			if (cqe->res < 0)
				die("uring op", -cqe->res);
			io_uring_cqe_seen(&ring, cqe);
		}
		for (int k = 0; k < m; k++)
			if (fchownat(dfd, names[k], 1000, 1000, AT_SYMLINK_NOFOLLOW) ||
			    fchmodat(dfd, names[k], 0644, 0) ||
			    utimensat(dfd, names[k], times, AT_SYMLINK_NOFOLLOW))
				die("metadata", errno);
	}
	io_uring_queue_exit(&ring);
}

int main(int argc, char **argv)
{
	double tp, tu;
	int dfd, n;

	if (argc != 3) {
		fprintf(stderr, "usage: stubs-uring DIR N\n");
		return 2;
	}
	n = atoi(argv[2]);
	dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die(argv[1], errno);
	/* alternate, twice, so that neither gets a colder cache */
	tp = tu = 0;
	for (int round = 0; round < 2; round++) {
		char sub[32];
		double t0;
		int d;

		snprintf(sub, sizeof(sub), "p%d", round);
		mkdirat(dfd, sub, 0755);
		d = openat(dfd, sub, O_RDONLY | O_DIRECTORY);
		t0 = now();
		plain(d, n);
		tp += now() - t0;
		close(d);
		snprintf(sub, sizeof(sub), "u%d", round);
		mkdirat(dfd, sub, 0755);
		d = openat(dfd, sub, O_RDONLY | O_DIRECTORY);
		t0 = now();
		uring(d, n);
		tu += now() - t0;
		close(d);
	}
	printf("%d stubs x2: syscalls %.2f us/stub, io_uring %.2f us/stub, ratio %.2f\n",
	       n, tp / (2 * n) * 1e6, tu / (2 * n) * 1e6, tu / tp);
	return 0;
}
