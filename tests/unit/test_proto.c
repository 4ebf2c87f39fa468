// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of the daemon protocol's messages (userspace/lib/proto.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

static int parse(const char *text, struct tplfs_request *req,
		 const char **why)
{
	return tplfs_request_parse(text, strlen(text), req, why);
}

static void a_request_with_args_parses(void **state)
{
	struct tplfs_request req;
	const char *why = NULL, *id = NULL;

	(void)state;
	assert_int_equal(parse("{\"verb\":\"ct.stats\",\"args\":{\"id\":\"web1\"}}\n",
			       &req, &why), 0);
	assert_string_equal(req.verb, "ct.stats");
	assert_int_equal(tplfs_args_string(req.args, "id", &id), 0);
	assert_string_equal(id, "web1");
	tplfs_request_free(&req);
}

static void args_default_to_an_empty_object(void **state)
{
	struct tplfs_request req;
	const char *why = NULL, *id;

	(void)state;
	assert_int_equal(parse("{\"verb\":\"daemon.status\"}", &req, &why), 0);
	assert_non_null(req.args);
	assert_int_equal(tplfs_args_string(req.args, "id", &id), 1);
	tplfs_request_free(&req);
	assert_int_equal(parse("{\"verb\":\"ct.p2v.stage\"}", &req, &why), 0);
	assert_string_equal(req.verb, "ct.p2v.stage");
	tplfs_request_free(&req);
}

/* Every malformed message is refused with a reason, never accepted. */
static void malformed_requests_are_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"verb\":\"ct.stats\"",		/* truncated */
		"[\"ct.stats\"]",
		"\"ct.stats\"",
		"{}",
		"{\"verb\":1}",
		"{\"verb\":\"\"}",
		"{\"verb\":\"CT.STATS\"}",
		"{\"verb\":\".x\"}",
		"{\"verb\":\"x.\"}",
		"{\"verb\":\"2v\"}",			/* a digit first */
		"{\"verb\":\"ct.2v\"}",
		"{\"verb\":\"a\",\"args\":[]}",
		"{\"verb\":\"a\",\"args\":\"x\"}",
		"{\"verb\":\"a\",\"extra\":1}",
		"{\"verb\":\"a\"} {\"verb\":\"b\"}",	/* two messages */
		"{\"verb\":\"a\"}x",
		"{'verb':'a'}",				/* not strict JSON */
		"{\"verb\":\"a\",\"args\":{\"id\":\"\xff\xfe\"}}", /* bad UTF-8 */
		"{\"verb\":\"a\",\"args\":{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}}",
	};
	struct tplfs_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		if (parse(bad[i], &req, &why) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(why);
		assert_null(req.root);
	}
}

static void nul_bytes_and_oversize_are_refused(void **state)
{
	const char msg[] = "{\"verb\":\"a\"}\0";
	struct tplfs_request req;
	const char *why = NULL;
	char *big;

	(void)state;
	assert_int_equal(tplfs_request_parse(msg, sizeof(msg) - 1, &req, &why),
			 -1);
	assert_string_equal(why, "message contains a NUL byte");
	big = malloc(TPLFS_MSG_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', TPLFS_MSG_MAX + 1);
	memcpy(big, "{\"verb\":\"a\"}", 12);
	assert_int_equal(tplfs_request_parse(big, TPLFS_MSG_MAX + 1, &req,
					     &why), -1);
	assert_string_equal(why, "message too large");
	/* Exactly the maximum is fine. */
	assert_int_equal(tplfs_request_parse(big, TPLFS_MSG_MAX, &req, &why),
			 0);
	tplfs_request_free(&req);
	free(big);
}

/* What json-c's strict mode accepts and a request must not have. */
static void escaped_nuls_and_duplicate_names_are_refused(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "{\"verb\":\"ct.destroy\",\"args\":{\"id\":\"web1\\u0000x\"}}",
		  "a string holds \\u0000 (a NUL)" },
		{ "{\"verb\":\"a\",\"args\":{\"i\\u0000d\":1}}",
		  "a string holds \\u0000 (a NUL)" },
		{ "{\"verb\":\"a\",\"verb\":\"b\"}",
		  "an object names a member twice" },
		{ "{\"verb\":\"a\",\"args\":{\"id\":\"x\",\"id\":\"y\"}}",
		  "an object names a member twice" },
		/* the same name, spelt two ways */
		{ "{\"verb\":\"a\",\"args\":{\"id\":1,\"\\u0069d\":2}}",
		  "an object names a member twice" },
		/* deep in an array, after objects without */
		{ "{\"verb\":\"a\",\"args\":{\"l\":[{\"a\":1},{\"b\":{}},"
		  "{\"c\":1,\"c\":2}]}}", "an object names a member twice" },
		/* json-c's strict mode takes a single-quoted name there */
		{ "{\"verb\":\"a\",\"args\":{'x':1}}", "malformed JSON" },
		/* a duplicate whose first value held an object */
		{ "{\"verb\":\"a\",\"args\":{\"x\":{\"a\":1},\"x\":{\"b\":2}}}",
		  "an object names a member twice" },
	};
	static const char *const good[] = {
		/* an escaped backslash before "u0000" is text, not a NUL */
		"{\"verb\":\"a\",\"args\":{\"id\":\"\\\\u0000\"}}",
		/* the same names in different objects, and colons in text */
		"{\"verb\":\"a\",\"args\":{\"a\":{\"a\":\"x:y\"},\"l\":[{\"a\":1},"
		"{\"a\":2}],\"k:\":{}}}",
		"{\"verb\":\"a\",\"args\":{\"s\":\"\\\"{:}\\\"\"}}",
	};
	struct tplfs_request req;
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (parse(bad[i].text, &req, &why) == 0)
			fail_msg("accepted: %s", bad[i].text);
		assert_string_equal(why, bad[i].why);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = NULL;
		if (parse(good[i], &req, &why))
			fail_msg("refused: %s: %s", good[i], why);
		tplfs_request_free(&req);
	}
}

static void args_are_checked_by_name_and_type(void **state)
{
	static const char *const allowed[] = { "id", "force", NULL };
	struct tplfs_request req;
	const char *why = NULL, *s;
	bool b;

	(void)state;
	assert_int_equal(parse("{\"verb\":\"a\",\"args\":{\"id\":3,\"force\":\"yes\",\"x\":1}}",
			       &req, &why), 0);
	assert_int_equal(tplfs_args_check(req.args, allowed, &why), -1);
	assert_string_equal(why, "x");
	assert_int_equal(tplfs_args_string(req.args, "id", &s), -1);
	assert_int_equal(tplfs_args_bool(req.args, "force", &b), -1);
	tplfs_request_free(&req);
}

static void error_replies_carry_code_errno_and_message(void **state)
{
	json_object *r = tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
					   "%s is not mounted", "web1");
	const char *text;
	size_t len;

	(void)state;
	text = tplfs_msg_text(r, &len);
	assert_string_equal(text,
		"{\"type\":\"reply\",\"ok\":false,\"error\":{\"code\":\"not_found\","
		"\"errno\":2,\"message\":\"web1 is not mounted\"}}");
	assert_int_equal(len, strlen(text));
	json_object_put(r);
	assert_string_equal(tplfs_err_name(TPLFS_E_COUNT), "unknown");
}

/* A message naming a file whose name is not UTF-8 is still valid JSON. */
static void error_messages_are_valid_utf8(void **state)
{
	json_object *r = tplfs_reply_error(TPLFS_E_SYSTEM, 0, "%s",
					   "caf\xc3\xa9 \xff\xfe/x\xc3");
	json_object *e, *m;
	size_t len;

	(void)state;
	assert_non_null(tplfs_msg_text(r, &len));
	json_object_object_get_ex(r, "error", &e);
	json_object_object_get_ex(e, "message", &m);
	assert_string_equal(json_object_get_string(m),
			    "caf\xc3\xa9 \\xFF\\xFE/x\\xC3");
	json_object_put(r);
}

static void oversized_replies_are_not_sent(void **state)
{
	char *big = malloc(TPLFS_MSG_MAX);
	json_object *r;
	size_t len;

	(void)state;
	memset(big, 'a', TPLFS_MSG_MAX - 1);
	big[TPLFS_MSG_MAX - 1] = '\0';
	r = tplfs_reply_ok(json_object_new_string(big));
	assert_null(tplfs_msg_text(r, &len));
	json_object_put(r);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_request_with_args_parses),
		cmocka_unit_test(args_default_to_an_empty_object),
		cmocka_unit_test(malformed_requests_are_refused),
		cmocka_unit_test(escaped_nuls_and_duplicate_names_are_refused),
		cmocka_unit_test(nul_bytes_and_oversize_are_refused),
		cmocka_unit_test(args_are_checked_by_name_and_type),
		cmocka_unit_test(error_replies_carry_code_errno_and_message),
		cmocka_unit_test(error_messages_are_valid_utf8),
		cmocka_unit_test(oversized_replies_are_not_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
