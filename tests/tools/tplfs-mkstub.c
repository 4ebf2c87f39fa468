// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tplfs-mkstub: make stubs by hand, for tests (before the template tooling).
 *
 *   tplfs-mkstub STORE SRC STUB   put SRC's content into STORE as an object
 *                                 and create STUB: an empty file with SRC's
 *                                 mode, owner and times, and the origin xattr
 *   tplfs-mkstub STORE -          the same for each "SRC<TAB>STUB" line of
 *                                 standard input
 *   tplfs-mkstub --origin STORE SRC
 *                                 put the object; print the origin xattr as
 *                                 0x-prefixed hex (for setfattr -v) and the
 *                                 object's path in the store
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "object.h"

static int make_stub(int store_fd, const char *src, const char *stub)
{
	uint8_t value[TPLFS_ORIGIN_SIZE];
	struct tplfs_origin_info info;
	struct timespec times[2];
	struct stat st;
	int in, out, err = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		fprintf(stderr, "tplfs-mkstub: %s: %s\n", src, strerror(errno));
		return -1;
	}
	err = tplfs_object_put(store_fd, in, &info);
	close(in);
	if (err < 0) {
		fprintf(stderr, "tplfs-mkstub: %s: cannot store: %s\n", src,
			strerror(-err));
		return -1;
	}
	err = 0;	/* 1: the object was new */
	tplfs_origin_encode(&info, value);

	out = open(stub, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		fprintf(stderr, "tplfs-mkstub: %s: %s\n", stub, strerror(errno));
		return -1;
	}
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	if (fsetxattr(out, TPLFS_ORIGIN_XATTR, value, sizeof(value), 0) < 0 ||
	    fchown(out, st.st_uid, st.st_gid) < 0 ||
	    fchmod(out, st.st_mode & 07777) < 0 ||
	    futimens(out, times) < 0) {
		fprintf(stderr, "tplfs-mkstub: %s: %s\n", stub, strerror(errno));
		err = -1;
	}
	close(out);
	return err;
}

static int batch(int store_fd)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int failed = 0;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		char *tab = strchr(line, '\t');
		if (!tab) {
			fprintf(stderr, "tplfs-mkstub: no tab in '%s'\n", line);
			failed = 1;
			continue;
		}
		*tab = '\0';
		if (make_stub(store_fd, line, tab + 1))
			failed = 1;
	}
	free(line);
	return failed;
}

static int print_origin(int store_fd, const char *src)
{
	uint8_t value[TPLFS_ORIGIN_SIZE];
	char path[TPLFS_OBJECT_PATH_SIZE];
	struct tplfs_origin_info info;
	int in, err;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		fprintf(stderr, "tplfs-mkstub: %s: %s\n", src, strerror(errno));
		return 1;
	}
	err = tplfs_object_put(store_fd, in, &info);
	close(in);
	if (err < 0) {
		fprintf(stderr, "tplfs-mkstub: %s: %s\n", src, strerror(-err));
		return 1;
	}
	tplfs_origin_encode(&info, value);
	tplfs_object_path(info.digest, path);
	printf("0x");
	for (size_t i = 0; i < sizeof(value); i++)
		printf("%02x", value[i]);
	printf("\n%s\n", path);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: tplfs-mkstub STORE SRC STUB\n"
		"       tplfs-mkstub STORE -   (SRC<TAB>STUB lines on stdin)\n"
		"       tplfs-mkstub --origin STORE SRC\n");
	return 2;
}

int main(int argc, char **argv)
{
	int origin = argc > 1 && !strcmp(argv[1], "--origin");
	const char *store;
	int store_fd, ret;

	if (origin ? argc != 4 : (argc != 3 && argc != 4))
		return usage();
	store = argv[origin ? 2 : 1];
	store_fd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (store_fd < 0) {
		fprintf(stderr, "tplfs-mkstub: %s: %s\n", store, strerror(errno));
		return 1;
	}
	if (origin)
		ret = print_origin(store_fd, argv[3]);
	else if (argc == 3 && !strcmp(argv[2], "-"))
		ret = batch(store_fd);
	else if (argc == 4)
		ret = make_stub(store_fd, argv[2], argv[3]) ? 1 : 0;
	else
		ret = usage();
	close(store_fd);
	return ret;
}
