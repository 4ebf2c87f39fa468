// SPDX-License-Identifier: LGPL-2.1-or-later
/* The tplfsd control protocol: see proto.h and doc/protocol.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonstrict.h"
#include "proto.h"

static const char *const err_names[TPLFS_E_COUNT] = {
	[TPLFS_E_BAD_REQUEST]	= "bad_request",
	[TPLFS_E_UNKNOWN_VERB]	= "unknown_verb",
	[TPLFS_E_BAD_ARGS]	= "bad_args",
	[TPLFS_E_DENIED]	= "denied",
	[TPLFS_E_NOT_FOUND]	= "not_found",
	[TPLFS_E_EXISTS]	= "exists",
	[TPLFS_E_BUSY]		= "busy",
	[TPLFS_E_UNAVAILABLE]	= "unavailable",
	[TPLFS_E_STOPPING]	= "stopping",
	[TPLFS_E_SYSTEM]	= "system",
	[TPLFS_E_MAINTENANCE]	= "maintenance",
	[TPLFS_E_CONFLICT]	= "conflict",
};

const char *tplfs_err_name(enum tplfs_err err)
{
	if ((unsigned int)err >= TPLFS_E_COUNT)
		return "unknown";
	return err_names[err];
}

/* A verb is lower-case words joined by dots: "ct.stats". */
static bool verb_valid(const char *verb, size_t len)
{
	if (len == 0 || len > 32 || verb[0] == '.' || verb[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = verb[i];

		/* a digit inside a word: ct.p2v.stage */
		if (!((c >= 'a' && c <= 'z') || c == '.' || c == '_' ||
		      (c >= '0' && c <= '9' && i && verb[i - 1] != '.')))
			return false;
	}
	return true;
}

int tplfs_request_parse(const char *buf, size_t len,
			struct tplfs_request *req, const char **why)
{
	struct json_tokener *tok;
	json_object *root, *verb, *args;
	enum json_tokener_error jerr;

	memset(req, 0, sizeof(*req));
	if (len == 0) {
		*why = "empty message";
		return -1;
	}
	if (len > TPLFS_MSG_MAX) {
		*why = "message too large";
		return -1;
	}
	if (memchr(buf, '\0', len)) {
		*why = "message contains a NUL byte";
		return -1;
	}
	tok = json_tokener_new_ex(TPLFS_MSG_DEPTH);
	if (!tok) {
		*why = "out of memory";
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!root || jerr != json_tokener_success) {
		*why = jerr == json_tokener_continue ? "truncated JSON" :
		       jerr == json_tokener_error_depth ? "JSON nested too deep" :
		       "malformed JSON";
		goto fail;
	}
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
		if (!strchr(" \t\r\n", buf[i])) {
			*why = "trailing bytes after the JSON message";
			goto fail;
		}
	}
	json_tokener_free(tok);
	tok = NULL;
	*why = tplfs_json_strict_check(buf, len, root);
	if (*why)
		goto fail;
	if (!json_object_is_type(root, json_type_object)) {
		*why = "a request is a JSON object";
		goto fail;
	}
	json_object_object_foreach(root, key, val) {
		(void)val;
		if (strcmp(key, "verb") && strcmp(key, "args")) {
			*why = "unknown member in request (allowed: verb, args)";
			goto fail;
		}
	}
	if (!json_object_object_get_ex(root, "verb", &verb) ||
	    !json_object_is_type(verb, json_type_string)) {
		*why = "request has no \"verb\" string";
		goto fail;
	}
	if (!verb_valid(json_object_get_string(verb),
			(size_t)json_object_get_string_len(verb))) {
		*why = "\"verb\" is not a verb";
		goto fail;
	}
	if (json_object_object_get_ex(root, "args", &args)) {
		if (!json_object_is_type(args, json_type_object)) {
			*why = "\"args\" is not an object";
			goto fail;
		}
	} else {
		args = json_object_new_object();
		if (!args) {
			*why = "out of memory";
			goto fail;
		}
		json_object_object_add(root, "args", args);
	}
	req->root = root;
	req->verb = json_object_get_string(verb);
	req->args = args;
	return 0;
fail:
	if (tok)
		json_tokener_free(tok);
	json_object_put(root);
	return -1;
}

void tplfs_request_free(struct tplfs_request *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

json_object *tplfs_request_new(const char *verb, json_object *args)
{
	json_object *msg = json_object_new_object();

	json_object_object_add(msg, "verb", json_object_new_string(verb));
	json_object_object_add(msg, "args", args ? args :
			       json_object_new_object());
	return msg;
}

json_object *tplfs_reply_ok(json_object *result)
{
	json_object *msg = json_object_new_object();

	json_object_object_add(msg, "type", json_object_new_string("reply"));
	json_object_object_add(msg, "ok", json_object_new_boolean(1));
	json_object_object_add(msg, "result", result ? result :
			       json_object_new_object());
	return msg;
}

/* The length of the valid UTF-8 sequence at @s (of @n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 :
		     (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;

	if (!len || len > n || (len == 2 && s[0] < 0xc2) ||
	    (len == 4 && s[0] > 0xf4))
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * @text as valid UTF-8, as JSON needs: a byte that is not part of a valid
 * sequence (a file name can hold any) is written \xHH.
 */
static void to_utf8(const char *text, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), o = 0;

	while (*s && o + 5 < size) {
		size_t len = utf8_seq(s, n);

		if (len) {
			memcpy(out + o, s, len);
			o += len;
		} else {
			o += (size_t)snprintf(out + o, size - o, "\\x%02X", *s);
			len = 1;
		}
		s += len;
		n -= len;
	}
	out[o] = '\0';
}

json_object *tplfs_reply_error(enum tplfs_err err, int errnum,
			       const char *fmt, ...)
{
	json_object *msg = json_object_new_object();
	json_object *e = json_object_new_object();
	/* room for two paths and the reason: a message is never cut */
	char text[2 * 4096 + 1024], clean[4 * sizeof(text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	to_utf8(text, clean, sizeof(clean));
	json_object_object_add(e, "code",
			       json_object_new_string(tplfs_err_name(err)));
	if (errnum)
		json_object_object_add(e, "errno",
				       json_object_new_int(errnum));
	json_object_object_add(e, "message", json_object_new_string(clean));
	json_object_object_add(msg, "type", json_object_new_string("reply"));
	json_object_object_add(msg, "ok", json_object_new_boolean(0));
	json_object_object_add(msg, "error", e);
	return msg;
}

json_object *tplfs_progress_new(const char *what, unsigned long long done,
				unsigned long long total)
{
	json_object *msg = json_object_new_object();

	json_object_object_add(msg, "type", json_object_new_string("progress"));
	json_object_object_add(msg, "what", json_object_new_string(what));
	json_object_object_add(msg, "done", json_object_new_uint64(done));
	json_object_object_add(msg, "total", json_object_new_uint64(total));
	return msg;
}

void tplfs_progress_bytes(json_object *msg, unsigned long long done,
			  unsigned long long total)
{
	if (!total)
		return;
	json_object_object_add(msg, "bytes_done", json_object_new_uint64(done));
	json_object_object_add(msg, "bytes_total",
			       json_object_new_uint64(total));
}

const char *tplfs_msg_text(json_object *msg, size_t *len)
{
	const char *text = json_object_to_json_string_length(msg,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE, len);

	if (!text || *len > TPLFS_MSG_MAX)
		return NULL;
	return text;
}

int tplfs_args_check(json_object *args, const char *const *allowed,
		     const char **why)
{
	json_object_object_foreach(args, key, val) {
		const char *const *a;

		(void)val;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (!*a) {
			*why = key;
			return -1;
		}
	}
	return 0;
}

int tplfs_args_string(json_object *args, const char *name, const char **val)
{
	json_object *v;

	if (!json_object_object_get_ex(args, name, &v))
		return 1;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*val = json_object_get_string(v);
	return 0;
}

int tplfs_args_bool(json_object *args, const char *name, bool *val)
{
	json_object *v;

	if (!json_object_object_get_ex(args, name, &v))
		return 1;
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*val = json_object_get_boolean(v);
	return 0;
}

void tplfs_json_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

void tplfs_json_u64(json_object *o, const char *key, uint64_t val)
{
	json_object_object_add(o, key, json_object_new_uint64(val));
}

void tplfs_json_bool(json_object *o, const char *key, bool val)
{
	json_object_object_add(o, key, json_object_new_boolean(val));
}
