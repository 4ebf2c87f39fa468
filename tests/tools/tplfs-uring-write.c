// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tplfs-uring-write PATH OFFSET TEXT: open PATH write-only and write TEXT at
 * OFFSET with one IORING_OP_WRITE, as a program on io_uring would. Prints
 * the bytes written; exit 1 with the error otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	char *end;
	long long off;
	int fd, ret;

	if (argc != 4) {
		fprintf(stderr, "usage: tplfs-uring-write PATH OFFSET TEXT\n");
		return 2;
	}
	off = strtoll(argv[2], &end, 10);
	if (*end || off < 0) {
		fprintf(stderr, "tplfs-uring-write: bad offset %s\n", argv[2]);
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret));
		return 1;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_write(sqe, fd, argv[3], strlen(argv[3]), (__u64)off);
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret < 0 || (ret = io_uring_wait_cqe(&ring, &cqe))) {
		fprintf(stderr, "io_uring: %s\n", strerror(-ret));
		return 1;
	}
	ret = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	close(fd);
	if (ret < 0) {
		fprintf(stderr, "write: %s\n", strerror(-ret));
		return 1;
	}
	printf("%d\n", ret);
	return 0;
}
