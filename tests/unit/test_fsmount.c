// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the fs_context log reader (userspace/lib/fsmount.c). A
 * SOCK_SEQPACKET pair stands in for the fsopen fd: like it, each read()
 * returns one message. Mounting itself is proven in the VM (daemon.sh).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fsmount.h"

/* A reader end holding @n messages, the writer closed. */
static int log_of(const char *const *lines, size_t n)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(write(sv[1], lines[i], strlen(lines[i])),
				 (ssize_t)strlen(lines[i]));
	close(sv[1]);
	return sv[0];
}

static void errors_and_warnings_joined(void **state)
{
	static const char *const lines[] = {
		"i tplfs: informational\n",
		"e tplfs: ct=web1: already mounted\n",
		"w tplfs: a warning\n",
		"x not a message\n",
	};
	char msg[128] = "untouched";
	int fd = log_of(lines, 4);

	(void)state;
	assert_int_equal(tplfs_fc_log_read(fd, msg, sizeof(msg)), 2);
	assert_string_equal(msg,
			    "tplfs: ct=web1: already mounted; tplfs: a warning");
	close(fd);
}

static void nothing_logged_leaves_the_message(void **state)
{
	static const char *const lines[] = { "i tplfs: only this\n" };
	char msg[32] = "untouched";
	int fd = log_of(lines, 1);

	(void)state;
	assert_int_equal(tplfs_fc_log_read(fd, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "untouched");
	close(fd);
}

static void a_long_log_is_cut_and_terminated(void **state)
{
	static const char *const lines[] = {
		"e 0123456789\n", "e abcdefghij\n", "e ABCDEFGHIJ\n",
	};
	char msg[16];
	int fd = log_of(lines, 3);

	(void)state;
	memset(msg, 'Z', sizeof(msg));
	assert_int_equal(tplfs_fc_log_read(fd, msg, sizeof(msg)), 3);
	assert_string_equal(msg, "0123456789; abc");
	close(fd);
}

static void drained_without_a_buffer(void **state)
{
	static const char *const lines[] = { "e one\n", "w two\n" };
	int fd = log_of(lines, 2);
	char c;

	(void)state;
	assert_int_equal(tplfs_fc_log_read(fd, NULL, 0), 2);
	assert_int_equal(read(fd, &c, 1), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors_and_warnings_joined),
		cmocka_unit_test(nothing_logged_leaves_the_message),
		cmocka_unit_test(a_long_log_is_cut_and_terminated),
		cmocka_unit_test(drained_without_a_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
