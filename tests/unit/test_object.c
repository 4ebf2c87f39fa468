// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of objects (userspace/lib/object.c): a staged object is not
 * in the store until it is committed, a second writer of the same content
 * finds it, and a file that changes between its hash and its copy is
 * refused (-ESTALE) rather than stored under a name its content does not
 * have; every object, temporary and stranger in objects/ is enumerated,
 * and gc removes what is not kept and every temporary, and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <cmocka.h>

#include "digest.h"
#include "object.h"
#include "store.h"

struct fixture {
	char dir[64];
	int dfd;	/* the test's directory; the store is dir/store */
	int store_fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/tplfs-object-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dfd >= 0);
	assert_int_equal(mkdirat(f->dfd, "store", 0755), 0);
	f->store_fd = openat(f->dfd, "store", O_RDONLY | O_DIRECTORY);
	assert_true(f->store_fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	close(f->store_fd);
	close(f->dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int source(struct fixture *f, const char *name, const char *text)
{
	int fd = openat(f->dfd, name, O_RDWR | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static bool in_store(struct fixture *f, const struct tplfs_origin_info *info)
{
	char path[TPLFS_OBJECT_PATH_SIZE];

	tplfs_object_path(info->digest, path);
	return faccessat(f->store_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void staged_then_committed(void **state)
{
	struct fixture *f = *state;
	struct tplfs_origin_info a, b;
	char tmp[TPLFS_OBJECT_TMP_SIZE], tmp2[TPLFS_OBJECT_TMP_SIZE];
	int fa = source(f, "a", "content\n"), fb = source(f, "b", "content\n");

	assert_int_equal(tplfs_object_stage(f->store_fd, fa, &a, tmp), 1);
	assert_false(in_store(f, &a));
	assert_int_equal(faccessat(f->store_fd, tmp, F_OK, 0), 0);
	/* a twin staged meanwhile: the first commit wins, the second is 0 */
	assert_int_equal(tplfs_object_stage(f->store_fd, fb, &b, tmp2), 1);
	assert_int_equal(tplfs_object_commit(f->store_fd, &a, tmp), 1);
	assert_true(in_store(f, &a));
	assert_int_equal(tplfs_object_commit(f->store_fd, &b, tmp2), 0);
	assert_int_equal(faccessat(f->store_fd, tmp2, F_OK, 0), -1);
	/* and once it is there, staging finds it */
	assert_int_equal(tplfs_object_stage(f->store_fd, fb, &b, tmp2), 0);
	assert_string_equal(tmp2, "");
	assert_int_equal(a.size, 8);
	close(fa);
	close(fb);
}

/* renameat2 fails as on NFS, which has no rename flags: EINVAL */
static int no_renameat2(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_renameat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -1;
	return 0;
}

/*
 * The same in a store where renameat2 fails as on NFS (issue 21): objects
 * are committed and adopted all the same, a second writer of the same
 * content still finds the first's. In a child, the filter its own.
 */
static void committed_without_renameat2(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct tplfs_origin_info a, b, c;
		char tmp[TPLFS_OBJECT_TMP_SIZE], tmp2[TPLFS_OBJECT_TMP_SIZE];
		int fa = source(f, "a", "nfs content\n");
		int fb = source(f, "b", "nfs content\n");
		int fc = source(f, "c", "adopted content\n");

		if (no_renameat2() ||
		    renameat2(f->dfd, "a", f->dfd, "x", RENAME_NOREPLACE) == 0 ||
		    errno != EINVAL)
			_exit(2);	/* the filter is not in force */
		if (tplfs_object_stage(f->store_fd, fa, &a, tmp) != 1 ||
		    tplfs_object_stage(f->store_fd, fb, &b, tmp2) != 1 ||
		    tplfs_object_commit(f->store_fd, &a, tmp) != 1 ||
		    tplfs_object_commit(f->store_fd, &b, tmp2) != 0 ||
		    !in_store(f, &a) || faccessat(f->store_fd, tmp, F_OK, 0) == 0 ||
		    faccessat(f->store_fd, tmp2, F_OK, 0) == 0)
			_exit(3);
		if (tplfs_object_adopt(f->store_fd, fc, f->dfd, "c", &c, tmp) != 1 ||
		    faccessat(f->dfd, "c", F_OK, 0) == 0 ||
		    tplfs_object_commit(f->store_fd, &c, tmp) != 1 ||
		    !in_store(f, &c))
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int victim = -1;

/* Another writer, between the hash and the copy. */
static void append_a_byte(int src_fd)
{
	(void)src_fd;
	assert_int_equal(write(victim, "!", 1), 1);
}

static void a_file_changed_between_hash_and_copy_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tplfs_origin_info info;
	char tmp[TPLFS_OBJECT_TMP_SIZE];
	int fd = source(f, "c", "before\n");

	victim = fd;
	tplfs_object_stage_hook = append_a_byte;
	assert_int_equal(tplfs_object_stage(f->store_fd, fd, &info, tmp), -ESTALE);
	tplfs_object_stage_hook = NULL;
	assert_string_equal(tmp, "");
	assert_false(in_store(f, &info));
	/* and tplfs_object_put, the one-call form, says the same */
	tplfs_object_stage_hook = append_a_byte;
	assert_int_equal(tplfs_object_put(f->store_fd, fd, &info), -ESTALE);
	tplfs_object_stage_hook = NULL;
	assert_false(in_store(f, &info));
	/* nothing left behind in the object's directory */
	{
		char path[TPLFS_OBJECT_PATH_SIZE], cmd[256];

		tplfs_object_path(info.digest, path);
		path[sizeof("objects/xx") - 1] = '\0';
		snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/store/%s' 2>/dev/null)\"",
			 f->dir, path);
		assert_int_equal(system(cmd), 0);
	}
	close(fd);
}

/* The store of @f with objects "one" and "two" put, "three" staged and
 * left, and two names no object has: objects/ab/NOTHEX and a dot file. */
static void a_store_of_every_kind(struct fixture *f,
				  struct tplfs_origin_info *one,
				  struct tplfs_origin_info *two,
				  struct tplfs_origin_info *three)
{
	char tmp[TPLFS_OBJECT_TMP_SIZE];
	int fd;

	fd = source(f, "one", "one\n");
	assert_int_equal(tplfs_object_put(f->store_fd, fd, one), 1);
	close(fd);
	fd = source(f, "two", "two\n");
	assert_int_equal(tplfs_object_put(f->store_fd, fd, two), 1);
	close(fd);
	fd = source(f, "three", "three\n");
	assert_int_equal(tplfs_object_stage(f->store_fd, fd, three, tmp), 1);
	close(fd);
	assert_true(mkdirat(f->store_fd, "objects/ab", 0755) == 0 ||
		    errno == EEXIST);	/* one's or two's directory, by chance */
	fd = openat(f->store_fd, "objects/ab/NOTHEX", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	fd = openat(f->store_fd, "objects/ab/.hidden", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
}

struct seen {
	unsigned int objects, temporaries, others, dirs;
	uint8_t digests[4][TPLFS_DIGEST_SIZE];
};

static int saw(void *arg, const struct tplfs_object_entry *e)
{
	struct seen *s = arg;

	assert_false(e->is_object && e->is_temporary);
	assert_true(e->name[0] != '.' || e->is_temporary);
	if (e->is_object) {
		assert_true(s->objects < 4);
		assert_int_equal(e->digest[0], e->dir);
		memcpy(s->digests[s->objects++], e->digest, TPLFS_DIGEST_SIZE);
	} else if (e->is_temporary) {
		s->temporaries++;
	} else {
		assert_string_equal(e->name, "NOTHEX");
		s->others++;
	}
	return 0;
}

static void dir_seen(void *arg, unsigned int dir)
{
	struct seen *s = arg;

	assert_int_equal(dir, s->dirs);	/* in order, each once */
	s->dirs++;
}

static bool among(const struct seen *s, const uint8_t *digest)
{
	for (unsigned int i = 0; i < s->objects; i++)
		if (!memcmp(s->digests[i], digest, TPLFS_DIGEST_SIZE))
			return true;
	return false;
}

static void every_object_is_enumerated(void **state)
{
	struct fixture *f = *state;
	struct tplfs_origin_info one, two, three;
	struct seen s = { 0 };

	a_store_of_every_kind(f, &one, &two, &three);
	assert_int_equal(tplfs_objects_each(f->store_fd, saw, dir_seen, &s), 0);
	assert_int_equal(s.objects, 2);
	assert_true(among(&s, one.digest) && among(&s, two.digest));
	assert_int_equal(s.temporaries, 1);
	assert_int_equal(s.others, 1);
	assert_int_equal(s.dirs, 256);
}

/* Every temporary of @f's store made @secs older. */
static void age_temporaries(struct fixture *f, int secs)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "find '%s/store/objects' -name '.tmp.*' -exec touch -d '-%d seconds' {} +",
		 f->dir, secs);
	assert_int_equal(system(cmd), 0);
}

static void gc_keeps_what_is_named_and_removes_the_rest(void **state)
{
	struct fixture *f = *state;
	struct tplfs_origin_info one, two, three;
	struct tplfs_gc gc = { .nkeep = 1 };
	struct seen s = { 0 };
	int fd;

	a_store_of_every_kind(f, &one, &two, &three);
	gc.keep = (const uint8_t (*)[TPLFS_DIGEST_SIZE])one.digest;
	/* a temporary within the grace is another writer's: left */
	gc.tmp_grace = 3600;
	assert_int_equal(tplfs_store_gc(f->store_fd, &gc), 0);
	assert_int_equal(gc.nremoved, 1);	/* two */
	assert_int_equal(gc.young, 1);
	assert_int_equal(tplfs_objects_each(f->store_fd, saw, NULL, &s), 0);
	assert_int_equal(s.temporaries, 1);
	/* older than the grace by the store's clock: a crash's, removed */
	age_temporaries(f, 7200);
	fd = source(f, "two", "two\n");
	assert_int_equal(tplfs_object_put(f->store_fd, fd, &two), 1);
	close(fd);
	memset(&s, 0, sizeof(s));
	/* a dry run counts and removes nothing */
	gc.dry_run = true;
	assert_int_equal(tplfs_store_gc(f->store_fd, &gc), 0);
	assert_int_equal(gc.nremoved, 2);	/* two, and three's temporary */
	assert_int_equal(gc.kept, 1);
	assert_true(gc.freed_bytes > 0);
	assert_true(in_store(f, &two));
	gc.dry_run = false;
	assert_int_equal(tplfs_store_gc(f->store_fd, &gc), 0);
	assert_int_equal(gc.nremoved, 2);
	assert_true(in_store(f, &one));
	assert_false(in_store(f, &two));
	assert_int_equal(tplfs_objects_each(f->store_fd, saw, NULL, &s), 0);
	assert_int_equal(s.objects, 1);
	assert_int_equal(s.temporaries, 0);
	assert_int_equal(s.others, 1);	/* not ours: left */
	assert_int_equal(faccessat(f->store_fd, "objects/ab/.hidden", F_OK, 0),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(committed_without_renameat2, setup,
						teardown),
		cmocka_unit_test_setup_teardown(staged_then_committed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_file_changed_between_hash_and_copy_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(every_object_is_enumerated,
						setup, teardown),
		cmocka_unit_test_setup_teardown(gc_keeps_what_is_named_and_removes_the_rest,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
