// SPDX-License-Identifier: GPL-2.0-or-later
/* tplctl: the daemon's replies as people read them. */
#include <inttypes.h>
#include <stdio.h>

#include "output.h"

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v);
}

static uint64_t u64(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_uint64(v);
}

static int boolean(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	       json_object_get_boolean(v);
}

void print_error(json_object *reply)
{
	json_object *e = NULL;

	json_object_object_get_ex(reply, "error", &e);
	fprintf(stderr, "tplctl: %s (%s)\n", str(e, "message"), str(e, "code"));
}

void print_progress(json_object *p)
{
	fprintf(stderr, "%s: %" PRIu64 "/%" PRIu64 "\n", str(p, "what"),
		u64(p, "done"), u64(p, "total"));
}

void print_daemon_status(json_object *r)
{
	json_object *k = NULL, *cts = NULL, *v;
	size_t n, mounted = 0;

	json_object_object_get_ex(r, "kernel", &k);
	json_object_object_get_ex(r, "containers", &cts);
	json_object_object_get_ex(r, "uptime_s", &v);
	printf("tplfsd %s, pid %s, up %.0f s\n", str(r, "version"),
	       str(r, "pid"), json_object_get_double(v));
	printf("root     %s\nstore    %s\nsocket   %s\n", str(r, "root"),
	       str(r, "store"), str(r, "socket"));
	if (boolean(k, "available"))
		printf("kernel   /dev/tplfs open, %" PRIu64 " event(s)\n",
		       u64(k, "events"));
	else
		printf("kernel   /dev/tplfs not available (is the tplfs module loaded?)\n");
	printf("clients  %s, %" PRIu64 " request(s) answered, %s job(s) under way\n",
	       str(r, "clients"), u64(r, "requests"), str(r, "jobs"));
	n = json_object_array_length(cts);
	for (size_t i = 0; i < n; i++)
		mounted += (size_t)boolean(json_object_array_get_idx(cts, i),
					   "mounted");
	printf("mounted  %zu container(s)\n", mounted);
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(cts, i);

		printf("  %-20s %s%s\n", str(c, "id"),
		       boolean(c, "mounted") ? str(c, "root") : "-",
		       boolean(c, "busy") ? " (busy)" : "");
	}
}

void print_ct_stats(json_object *r)
{
	printf("container      %s%s\n", str(r, "id"),
	       boolean(r, "volatile") ? " (volatile)" : "");
	printf("lookups        %" PRIu64 "\n", u64(r, "lookups"));
	printf("stub opens     %" PRIu64 "\n", u64(r, "stub_opens"));
	printf("copy-ups       %" PRIu64 " (%" PRIu64 " bytes, %.3f ms)\n",
	       u64(r, "copy_ups"), u64(r, "copy_up_bytes"),
	       (double)u64(r, "copy_up_ns") / 1e6);
	printf("quota denials  %" PRIu64 "\n", u64(r, "quota_denials"));
}

void print_ct_done(json_object *r)
{
	printf("%s: %s\n", str(r, "ct"), str(r, "root"));
}
