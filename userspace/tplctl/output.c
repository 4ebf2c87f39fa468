// SPDX-License-Identifier: GPL-2.0-or-later
/* tplctl: the daemon's replies as people read them. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

static const char *human(uint64_t bytes, char *buf, size_t size);

void print_progress(json_object *p)
{
	fprintf(stderr, "%s:", str(p, "what"));
	if (u64(p, "total"))
		fprintf(stderr, " %" PRIu64 "/%" PRIu64, u64(p, "done"),
			u64(p, "total"));
	else if (u64(p, "done"))	/* a count with no total known */
		fprintf(stderr, " %" PRIu64, u64(p, "done"));
	if (u64(p, "bytes_total")) {
		char a[32], b[32];

		fprintf(stderr, " %s/%s",
			human(u64(p, "bytes_done"), a, sizeof(a)),
			human(u64(p, "bytes_total"), b, sizeof(b)));
	}
	fputc('\n', stderr);
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

/* A size for people: 1.5 MiB */
static const char *human(uint64_t bytes, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

/* "web1: done", "debian-12@1: written to FILE" */
void print_done(json_object *r)
{
	const char *what = *str(r, "ct") ? str(r, "ct") : str(r, "template");

	if (*str(r, "file"))
		printf("%s: written to %s\n", what, str(r, "file"));
	else
		printf("%s: done\n", what);
}

void print_ct_create(json_object *r)
{
	printf("%s: created from %s (%" PRIu64 " entries: %" PRIu64
	       " stubs, %" PRIu64 " private copies)\n", str(r, "ct"),
	       str(r, "template"), u64(r, "entries"), u64(r, "stubs"),
	       u64(r, "copies"));
}

void print_ct_list(json_object *r)
{
	json_object *cts = NULL;
	size_t n;

	json_object_object_get_ex(r, "containers", &cts);
	n = json_object_array_length(cts);
	printf("%-20s %-24s %s\n", "ID", "TEMPLATE", "MOUNTED ON");
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(cts, i);

		printf("%-20s %-24s %s\n", str(c, "id"), str(c, "template"),
		       boolean(c, "mounted") ? str(c, "root") : "-");
	}
}

void print_ct_status(json_object *r)
{
	char b[32];

	printf("container  %s\ntemplate   %s%s\nprivate    %s\n",
	       str(r, "id"), str(r, "template"),
	       boolean(r, "volatile") ? " (volatile)" : "", str(r, "private"));
	printf("mounted    %s\n", boolean(r, "mounted") ? str(r, "root") : "no");
	printf("disk       %s in %" PRIu64 " inodes (%s%s)\n",
	       human(u64(r, "disk_bytes"), b, sizeof(b)), u64(r, "inodes"),
	       !strcmp(str(r, "usage_from"), "kernel") ? "the quota's, in the kernel" :
	       !strcmp(str(r, "usage_from"), "checkpoint") ? "the quota's, as last saved" :
	       !strcmp(str(r, "usage_from"), "scan") ? "walked now" : "not known",
	       boolean(r, "usage_exact") ? "" : ", not exact");
}

void print_template_import(json_object *r)
{
	char a[32], b[32], c[32];

	printf("%s: %" PRIu64 " entries, %" PRIu64 " files, %s; %" PRIu64
	       " new objects, %s new in the store (%s on disk)\n",
	       str(r, "template"), u64(r, "entries"), u64(r, "files"),
	       human(u64(r, "bytes"), a, sizeof(a)), u64(r, "new_objects"),
	       human(u64(r, "new_bytes"), b, sizeof(b)),
	       human(u64(r, "stored_bytes"), c, sizeof(c)));
}

/* The strings of array @key of @r, on one line after @label. */
static void print_strings(json_object *r, const char *key, const char *label)
{
	json_object *a = NULL;
	size_t n;

	json_object_object_get_ex(r, key, &a);
	n = json_object_array_length(a);
	printf("%-11s", label);
	for (size_t i = 0; i < n; i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(a, i)));
	printf("%s\n", n ? "" : " -");
}

void print_template_show(json_object *r)
{
	char a[32], b[32];

	printf("template    %s\nfiles       %" PRIu64 " of %" PRIu64 " entries, %s\n"
	       "objects     %" PRIu64 ", %s\n",
	       str(r, "template"), u64(r, "files"), u64(r, "entries"),
	       human(u64(r, "bytes"), a, sizeof(a)), u64(r, "objects"),
	       human(u64(r, "object_bytes"), b, sizeof(b)));
	print_strings(r, "private", "private");
	print_strings(r, "containers", "containers");
}

void print_store_verify(json_object *r)
{
	json_object *found = NULL;
	char b[32];
	size_t n;

	printf("%" PRIu64 " templates, %" PRIu64 " objects (%s) verified: %" PRIu64
	       " problem(s)\n", u64(r, "templates"), u64(r, "objects"),
	       human(u64(r, "bytes"), b, sizeof(b)), u64(r, "problems"));
	json_object_object_get_ex(r, "found", &found);
	n = json_object_array_length(found);
	for (size_t i = 0; i < n; i++)
		printf("  %s\n", json_object_get_string(
		       json_object_array_get_idx(found, i)));
	if (u64(r, "problems") > n)
		printf("  ... and %" PRIu64 " more\n", u64(r, "problems") - n);
}

void print_template_list(json_object *r)
{
	json_object *ts = NULL;
	size_t n;
	char a[32], b[32];

	json_object_object_get_ex(r, "templates", &ts);
	n = json_object_array_length(ts);
	printf("%-24s %-9s %8s %10s %12s %s\n", "TEMPLATE", "STATE", "FILES",
	       "SIZE", "UNIQUE", "CONTAINERS");
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(ts, i), *c = NULL;

		json_object_object_get_ex(t, "containers", &c);
		printf("%-24s %-9s %8" PRIu64 " %10s %12s %zu\n",
		       str(t, "template"), str(t, "state"), u64(t, "files"),
		       human(u64(t, "bytes"), a, sizeof(a)),
		       human(u64(t, "unique_bytes"), b, sizeof(b)),
		       json_object_array_length(c));
	}
}

void print_store_gc(json_object *r)
{
	json_object *names = NULL, *dry = NULL;
	bool dry_run;
	char b[32];
	size_t n;

	json_object_object_get_ex(r, "dry_run", &dry);
	dry_run = json_object_get_boolean(dry);
	printf("store gc%s: %" PRIu64 " objects %s (%s), %" PRIu64 " kept\n",
	       dry_run ? " --dry-run" : "", u64(r, "removed"),
	       dry_run ? "would be removed" : "removed",
	       human(u64(r, "freed_bytes"), b, sizeof(b)), u64(r, "kept"));
	if (!dry_run)
		return;
	json_object_object_get_ex(r, "objects", &names);
	n = json_object_array_length(names);
	for (size_t i = 0; i < n; i++)
		printf("  %s\n", json_object_get_string(
		       json_object_array_get_idx(names, i)));
	if (n < u64(r, "removed"))
		printf("  ... and %" PRIu64 " more\n", u64(r, "removed") - n);
}

/* One line of ct quota: used, soft, hard, state (until when). */
static void print_limit(const char *name, json_object *o, bool bytes)
{
	char u[32], s[32], h[32], when[64] = "";
	const char *state = str(o, "state");
	time_t end = (time_t)u64(o, "grace_end");

	if (bytes) {
		human(u64(o, "used"), u, sizeof(u));
		human(u64(o, "soft"), s, sizeof(s));
		human(u64(o, "hard"), h, sizeof(h));
	} else {
		snprintf(u, sizeof(u), "%" PRIu64, u64(o, "used"));
		snprintf(s, sizeof(s), "%" PRIu64, u64(o, "soft"));
		snprintf(h, sizeof(h), "%" PRIu64, u64(o, "hard"));
	}
	if (!u64(o, "soft"))
		snprintf(s, sizeof(s), "-");
	if (!u64(o, "hard"))
		snprintf(h, sizeof(h), "-");
	if (end && !strcmp(state, "soft"))
		strftime(when, sizeof(when), " until %Y-%m-%d %H:%M:%S",
			 localtime(&end));
	printf("%-7s %12s %12s %12s  %s%s\n", name, u, s, h,
	       !strcmp(state, "soft") ? "soft limit exceeded" :
	       !strcmp(state, "hard") ? "hard limit reached" : state, when);
}

void print_ct_quota(json_object *r)
{
	json_object *b = NULL, *i = NULL;
	uint64_t g = u64(r, "grace");

	json_object_object_get_ex(r, "bytes", &b);
	json_object_object_get_ex(r, "inodes", &i);
	printf("%s: %s, usage %s%s, grace period %" PRIu64 "d%02" PRIu64
	       "h%02" PRIu64 "m%02" PRIu64 "s\n", str(r, "id"),
	       boolean(r, "mounted") ? "mounted" : "not mounted",
	       !strcmp(str(r, "usage_from"), "kernel") ? "live" :
	       !strcmp(str(r, "usage_from"), "checkpoint") ? "as last saved" :
	       "unknown", boolean(r, "exact") ? "" : " (being rescanned)",
	       g / 86400, g / 3600 % 24, g / 60 % 60, g % 60);
	printf("%-7s %12s %12s %12s  %s\n", "", "USED", "SOFT", "HARD", "STATE");
	print_limit("blocks", b, true);
	print_limit("inodes", i, false);
}
