// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of the daemon's journal (userspace/lib/journal.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "journal.h"

struct seen {
	int n;
	char names[4][64];
	char ops[4][64];
	int unreadable;
};

static void collect(void *arg, const char *name, json_object *rec)
{
	struct seen *s = arg;
	json_object *op;

	strcpy(s->names[s->n], name);
	if (rec && json_object_object_get_ex(rec, "op", &op))
		strcpy(s->ops[s->n], json_object_get_string(op));
	else
		s->unreadable++;
	s->n++;
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/tplfs-journal-XXXXXX", path[64];
	int fd;

	assert_non_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/journal", tmpl);
	fd = tplfs_journal_open(path);
	assert_true(fd >= 0);
	*state = (void *)(intptr_t)fd;
	return 0;
}

static int teardown(void **state)
{
	close((int)(intptr_t)*state);
	return 0;
}

static void records_survive_and_are_removed(void **state)
{
	int fd = (int)(intptr_t)*state;
	json_object *rec = json_object_new_object();
	struct seen s = { 0 };

	json_object_object_add(rec, "op", json_object_new_string("ct.mount"));
	assert_int_equal(tplfs_journal_write(fd, "ct-web1", rec), 0);
	/* Rewriting replaces the record atomically. */
	json_object_object_add(rec, "op", json_object_new_string("ct.umount"));
	assert_int_equal(tplfs_journal_write(fd, "ct-web1", rec), 0);
	json_object_put(rec);
	assert_int_equal(tplfs_journal_each(fd, collect, &s), 1);
	assert_string_equal(s.names[0], "ct-web1");
	assert_string_equal(s.ops[0], "ct.umount");
	assert_int_equal(tplfs_journal_remove(fd, "ct-web1"), 0);
	assert_int_equal(tplfs_journal_remove(fd, "ct-web1"), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(tplfs_journal_each(fd, collect, &s), 0);
}

/* A crash mid-write leaves a temporary file: ignored and removed. */
static void leftovers_of_a_crash_are_cleaned(void **state)
{
	int fd = (int)(intptr_t)*state, t;
	struct seen s = { 0 };

	t = openat(fd, ".ct-x.json.tmp", O_WRONLY | O_CREAT, 0600);
	assert_true(t >= 0);
	assert_int_equal(write(t, "{\"op\":", 6), 6);
	close(t);
	t = openat(fd, "ct-y.json", O_WRONLY | O_CREAT, 0600);
	assert_true(t >= 0);
	assert_int_equal(write(t, "{garbage", 8), 8);
	close(t);
	assert_int_equal(tplfs_journal_each(fd, collect, &s), 1);
	assert_int_equal(s.unreadable, 1);
	assert_string_equal(s.names[0], "ct-y");
	assert_int_equal(faccessat(fd, ".ct-x.json.tmp", F_OK, 0), -1);
	assert_int_equal(tplfs_journal_remove(fd, "ct-y"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(records_survive_and_are_removed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(leftovers_of_a_crash_are_cleaned,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
