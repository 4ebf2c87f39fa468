/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tplfsd control protocol: JSON messages over a SOCK_SEQPACKET unix
 * socket, one message per packet. A client sends a request; the daemon
 * answers with zero or more progress messages and exactly one reply.
 * doc/protocol.md describes every verb and error.
 */
#ifndef TPLFS_PROTO_H
#define TPLFS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define TPLFS_SOCKET_DEFAULT	"/run/tplfs/tplfsd.sock"

/* The largest message either side sends or accepts, in bytes. */
#define TPLFS_MSG_MAX		65536

/* How deep a request's JSON may nest. */
#define TPLFS_MSG_DEPTH		8

/* Error codes of a failed reply ("error": {"code": ...}). */
enum tplfs_err {
	TPLFS_E_BAD_REQUEST,	/* not a valid request: malformed, oversized */
	TPLFS_E_UNKNOWN_VERB,	/* no such verb */
	TPLFS_E_BAD_ARGS,	/* a missing, unknown or invalid argument */
	TPLFS_E_DENIED,		/* the client may not do this */
	TPLFS_E_NOT_FOUND,	/* no such container, template, ... */
	TPLFS_E_EXISTS,		/* it already exists */
	TPLFS_E_BUSY,		/* in use, or another operation on it runs */
	TPLFS_E_UNAVAILABLE,	/* the kernel module is not loaded */
	TPLFS_E_STOPPING,	/* the daemon is stopping */
	TPLFS_E_SYSTEM,		/* a system call failed (errno in the reply) */
	TPLFS_E_MAINTENANCE,	/* the template is in maintenance */
	TPLFS_E_CONFLICT,	/* it would change what the container changed */
	TPLFS_E_COUNT
};

const char *tplfs_err_name(enum tplfs_err err);

/* A parsed request; @root owns @args. */
struct tplfs_request {
	const char *verb;	/* points into @root */
	json_object *args;	/* an object, possibly empty */
	json_object *root;
};

/*
 * Parse one request message of @len bytes. On success returns 0 and fills
 * @req (release with tplfs_request_free). On failure returns -1 and points
 * @why at a static description of what is wrong.
 */
int tplfs_request_parse(const char *buf, size_t len,
			struct tplfs_request *req, const char **why);
void tplfs_request_free(struct tplfs_request *req);

/* Build a request message (takes ownership of @args, which may be NULL). */
json_object *tplfs_request_new(const char *verb, json_object *args);

/* Build the messages the daemon sends. Each takes ownership of its json. */
json_object *tplfs_reply_ok(json_object *result);
json_object *tplfs_reply_error(enum tplfs_err err, int errnum,
			       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_object *tplfs_progress_new(const char *what, unsigned long long done,
				unsigned long long total);
/* Add "bytes_done" and "bytes_total" to a progress message, if @total. */
void tplfs_progress_bytes(json_object *msg, unsigned long long done,
			  unsigned long long total);

/* The wire form of @msg (owned by @msg), or NULL if over TPLFS_MSG_MAX. */
const char *tplfs_msg_text(json_object *msg, size_t *len);

/*
 * Arguments of a request. tplfs_args_check returns 0 if @args holds only
 * names in the NULL-terminated @allowed, else -1 with @why set. The getters
 * return 0 and the value, 1 if the argument is absent, -1 if its type is
 * wrong.
 */
int tplfs_args_check(json_object *args, const char *const *allowed,
		     const char **why);
int tplfs_args_string(json_object *args, const char *name, const char **val);
int tplfs_args_bool(json_object *args, const char *name, bool *val);

/* Add a member to a result object. */
void tplfs_json_str(json_object *o, const char *key, const char *val);
void tplfs_json_u64(json_object *o, const char *key, uint64_t val);
void tplfs_json_bool(json_object *o, const char *key, bool val);

#endif /* TPLFS_PROTO_H */
