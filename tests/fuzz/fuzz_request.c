// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the daemon's request parser and argument getters
 * (userspace/lib/proto.c) on arbitrary bytes. Run by tests/fuzz/run for a
 * bounded time in make check, with AddressSanitizer and UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = { "id", "force", NULL };
	struct tplfs_request req;
	const char *why = NULL, *s;
	json_object *reply;
	size_t len;
	bool b;

	if (tplfs_request_parse((const char *)data, size, &req, &why)) {
		if (!why || !*why)
			__builtin_trap();	/* every refusal says why */
		return 0;
	}
	if (!req.verb || !req.args || !json_object_is_type(req.args,
							    json_type_object))
		__builtin_trap();
	tplfs_args_check(req.args, allowed, &why);
	tplfs_args_string(req.args, "id", &s);
	tplfs_args_bool(req.args, "force", &b);
	/* What the daemon does with a bad verb: echo it in an error. */
	reply = tplfs_reply_error(TPLFS_E_UNKNOWN_VERB, 0, "unknown verb \"%s\"",
				  req.verb);
	if (!tplfs_msg_text(reply, &len))
		__builtin_trap();
	json_object_put(reply);
	tplfs_request_free(&req);
	return 0;
}
