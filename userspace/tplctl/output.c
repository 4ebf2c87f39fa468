// SPDX-License-Identifier: GPL-2.0-or-later
/* tplctl: the daemon's replies as people read them. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output.h"

const char *reply_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v);
}

uint64_t reply_u64(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_uint64(v);
}

bool reply_bool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	       json_object_get_boolean(v);
}

void print_error(json_object *reply)
{
	json_object *e = NULL;

	json_object_object_get_ex(reply, "error", &e);
	fprintf(stderr, "tplctl: %s (%s)\n", reply_str(e, "message"), reply_str(e, "code"));
}

void print_progress(json_object *p)
{
	fprintf(stderr, "%s:", reply_str(p, "what"));
	if (reply_u64(p, "total"))
		fprintf(stderr, " %" PRIu64 "/%" PRIu64, reply_u64(p, "done"),
			reply_u64(p, "total"));
	else if (reply_u64(p, "done"))	/* a count with no total known */
		fprintf(stderr, " %" PRIu64, reply_u64(p, "done"));
	if (reply_u64(p, "bytes_total")) {
		char a[32], b[32];

		fprintf(stderr, " %s/%s",
			human_size(reply_u64(p, "bytes_done"), a, sizeof(a)),
			human_size(reply_u64(p, "bytes_total"), b, sizeof(b)));
	}
	fputc('\n', stderr);
}

void print_daemon_status(json_object *r)
{
	json_object *k = NULL, *cts = NULL, *v;
	size_t n;

	json_object_object_get_ex(r, "kernel", &k);
	json_object_object_get_ex(r, "containers", &cts);
	json_object_object_get_ex(r, "uptime_s", &v);
	printf("tplfsd %s, pid %s, up %.0f s\n", reply_str(r, "version"),
	       reply_str(r, "pid"), json_object_get_double(v));
	printf("root     %s\nstore    %s\nsocket   %s\n", reply_str(r, "root"),
	       reply_str(r, "store"), reply_str(r, "socket"));
	if (reply_bool(k, "available"))
		printf("kernel   /dev/tplfs open, %" PRIu64 " event(s)\n",
		       reply_u64(k, "events"));
	else
		printf("kernel   /dev/tplfs not available (is the tplfs module loaded?)\n");
	printf("clients  %s, %" PRIu64 " request(s) answered, %s job(s) under way\n",
	       reply_str(r, "clients"), reply_u64(r, "requests"), reply_str(r, "jobs"));
	n = json_object_array_length(cts);
	printf("mounted  %" PRIu64 " container(s), %" PRIu64 " busy\n",
	       reply_u64(r, "containers_mounted"), reply_u64(r, "containers_busy"));
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(cts, i);

		printf("  %-20s %s%s\n", reply_str(c, "id"),
		       reply_bool(c, "mounted") ? reply_str(c, "root") : "-",
		       reply_bool(c, "busy") ? " (busy)" : "");
	}
	if (!reply_bool(r, "containers_all_listed"))
		printf("  (%zu listed: tplctl ct list has them all)\n", n);
}

void print_ct_stats(json_object *r)
{
	printf("container      %s%s\n", reply_str(r, "id"),
	       reply_bool(r, "volatile") ? " (volatile)" : "");
	printf("lookups        %" PRIu64 "\n", reply_u64(r, "lookups"));
	printf("stub opens     %" PRIu64 "\n", reply_u64(r, "stub_opens"));
	printf("copy-ups       %" PRIu64 " (%" PRIu64 " bytes, %.3f ms)\n",
	       reply_u64(r, "copy_ups"), reply_u64(r, "copy_up_bytes"),
	       (double)reply_u64(r, "copy_up_ns") / 1e6);
	printf("quota denials  %" PRIu64 "\n", reply_u64(r, "quota_denials"));
}

void print_ct_done(json_object *r)
{
	printf("%s: %s\n", reply_str(r, "ct"), reply_str(r, "root"));
}

/* A size for people: 1.5 MiB */
const char *human_size(uint64_t bytes, char *buf, size_t size)
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
	const char *what = *reply_str(r, "ct") ? reply_str(r, "ct") : reply_str(r, "template");

	if (*reply_str(r, "file"))
		printf("%s: written to %s\n", what, reply_str(r, "file"));
	else
		printf("%s: done\n", what);
}

void print_ct_create(json_object *r)
{
	json_object *apps = NULL;
	size_t n;

	json_object_object_get_ex(r, "apps", &apps);
	n = apps ? json_object_array_length(apps) : 0;
	printf("%s: created from %s", reply_str(r, "ct"), reply_str(r, "template"));
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : " with ", json_object_get_string(
		       json_object_array_get_idx(apps, i)));
	printf(", a %s clone (%" PRIu64 " entries: %" PRIu64
	       " stubs, %" PRIu64 " private copies)",
	       reply_str(r, "clone"), reply_u64(r, "entries"),
	       reply_u64(r, "stubs"), reply_u64(r, "copies"));
	if (*reply_str(r, "userns"))
		printf(", its ids shifted for user namespace %s", reply_str(r, "userns"));
	printf("\n");
}

void print_ct_unlink(json_object *r)
{
	char b[32];

	printf("%s: %" PRIu64 " of %" PRIu64 " stubs made private copies (%s)%s; a %s clone\n",
	       reply_str(r, "ct"), reply_u64(r, "copied"), reply_u64(r, "stubs"),
	       human_size(reply_u64(r, "bytes"), b, sizeof(b)),
	       reply_u64(r, "busy") ? "; the files of running programs left: run it again once they stop" : "",
	       reply_str(r, "clone"));
}

/* ct list's columns: -o FIELDS picks them, in its order. */
enum ct_field {
	F_ID, F_TEMPLATE, F_VOLATILE, F_ROOT, F_DISK, F_INODES, F_QUOTA,
	F_IQUOTA, F_GRACE, F_FROM, F_NR
};

struct ct_field_desc {
	const char *name, *head;
	int width;	/* but the last column's, which is unpadded */
	bool usage;	/* needs the usage (ct.list "usage") */
};

static const struct ct_field_desc ct_fields[F_NR] = {
	[F_ID]		= { "id", "ID", 20, false },
	[F_TEMPLATE]	= { "template", "TEMPLATE", 24, false },
	[F_VOLATILE]	= { "volatile", "VOLATILE", 8, false },
	[F_ROOT]	= { "root", "MOUNTED ON", 30, false },
	[F_DISK]	= { "disk", "DISK", 10, true },
	[F_INODES]	= { "inodes", "INODES", 9, true },
	[F_QUOTA]	= { "quota", "QUOTA", 21, false },
	[F_IQUOTA]	= { "iquota", "IQUOTA", 15, false },
	[F_GRACE]	= { "grace", "GRACE", 8, false },
	[F_FROM]	= { "from", "USAGE FROM", 12, true },
};

static enum ct_field columns[F_NR] = { F_ID, F_TEMPLATE, F_ROOT };
static size_t ncolumns = 3;

int ct_list_columns(const char *fields, bool *usage)
{
	char buf[256], *save = NULL, *f;

	*usage = false;
	if (strlen(fields) >= sizeof(buf))
		return -1;
	strcpy(buf, fields);
	ncolumns = 0;
	for (f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < F_NR && strcmp(ct_fields[i].name, f); i++)
			;
		if (i == F_NR || ncolumns == F_NR) {
			fprintf(stderr, "tplctl: -o %s: %s; the fields are", fields,
				i == F_NR ? "an unknown field" : "too many");
			for (i = 0; i < F_NR; i++)
				fprintf(stderr, "%s%s", i ? "," : " ",
					ct_fields[i].name);
			fputc('\n', stderr);
			return -1;
		}
		columns[ncolumns++] = i;
		*usage |= ct_fields[i].usage;
	}
	if (!ncolumns) {
		fprintf(stderr, "tplctl: -o: no field given\n");
		return -1;
	}
	return 0;
}

/* A size in a table's cell: 68K, 1.5G, 2G (no space, powers of 1024). */
static const char *cell_size(uint64_t bytes, char *buf, size_t size)
{
	static const char unit[] = "BKMGTPE";
	uint64_t whole = bytes, rest = 0;
	int u = 0;

	while (whole >= 1024 && u < 6) {
		rest = whole % 1024;
		whole /= 1024;
		u++;
	}
	if (u && whole < 10 && rest)
		snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%c", whole,
			 rest * 10 / 1024, unit[u]);
	else
		snprintf(buf, size, "%" PRIu64 "%c", whole, unit[u]);
	return buf;
}

static const char *count(uint64_t n, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64, n);
	return buf;
}

/* SOFT:HARD, "-" for no limit; sizes for bytes, counts for inodes. */
static const char *limits(json_object *l, const char *what, bool bytes,
			  char *buf, size_t size)
{
	char k[32], a[32], b[32];
	uint64_t soft, hard;

	snprintf(k, sizeof(k), "%s_soft", what);
	soft = reply_u64(l, k);
	snprintf(k, sizeof(k), "%s_hard", what);
	hard = reply_u64(l, k);
	if (!soft && !hard)
		return "-";
	snprintf(buf, size, "%s:%s",
		 soft ? bytes ? cell_size(soft, a, sizeof(a)) : count(soft, a, sizeof(a)) : "-",
		 hard ? bytes ? cell_size(hard, b, sizeof(b)) : count(hard, b, sizeof(b)) : "-");
	return buf;
}

static const char *ct_field_text(json_object *c, enum ct_field f, char *buf,
				 size_t size)
{
	json_object *l = NULL;
	uint64_t g;

	json_object_object_get_ex(c, "limits", &l);
	switch (f) {
	case F_ID:
		return reply_str(c, "id");
	case F_TEMPLATE:
		return *reply_str(c, "error") ? "(ct.conf unreadable)" : reply_str(c, "template");
	case F_VOLATILE:
		return reply_bool(c, "volatile") ? "yes" : "no";
	case F_ROOT:
		return reply_bool(c, "mounted") ? reply_str(c, "root") : "-";
	case F_DISK:
		return cell_size(reply_u64(c, "disk_bytes"), buf, size);
	case F_INODES:
		return count(reply_u64(c, "inodes"), buf, size);
	case F_QUOTA:
		return l ? limits(l, "bytes", true, buf, size) : "";
	case F_IQUOTA:
		return l ? limits(l, "inodes", false, buf, size) : "";
	case F_GRACE:
		if (!l)
			return "";
		g = reply_u64(l, "grace");
		if (g % 86400 == 0)
			snprintf(buf, size, "%" PRIu64 "d", g / 86400);
		else if (g % 3600 == 0)
			snprintf(buf, size, "%" PRIu64 "h", g / 3600);
		else
			snprintf(buf, size, "%" PRIu64 "s", g);
		return buf;
	case F_FROM:
		snprintf(buf, size, "%s%s", reply_str(c, "usage_from"),
			 reply_bool(c, "usage_exact") ? "" : "*");
		return buf;
	case F_NR:
		break;
	}
	return "";
}

static void ct_list_row(json_object *c)
{
	for (size_t i = 0; i < ncolumns; i++) {
		const struct ct_field_desc *f = &ct_fields[columns[i]];
		char buf[64];
		const char *t = c ? ct_field_text(c, columns[i], buf, sizeof(buf))
				  : f->head;

		if (i + 1 == ncolumns)
			printf("%s\n", t);
		else
			printf("%-*s ", f->width, t);
	}
}

void print_ct_list(json_object *r)
{
	json_object *cts = NULL;
	size_t n;

	json_object_object_get_ex(r, "containers", &cts);
	n = json_object_array_length(cts);
	ct_list_row(NULL);
	for (size_t i = 0; i < n; i++)
		ct_list_row(json_object_array_get_idx(cts, i));
}

/* "web1: volatile, quota set (volatile at its next mount)" */
void print_ct_set(json_object *r)
{
	json_object *ch = NULL;
	size_t n;

	json_object_object_get_ex(r, "changed", &ch);
	n = json_object_array_length(ch);
	printf("%s:", reply_str(r, "id"));
	for (size_t i = 0; i < n; i++)
		printf("%s %s", i ? "," : "",
		       json_object_get_string(json_object_array_get_idx(ch, i)));
	printf(" set%s\n", reply_bool(r, "at_next_mount") ?
	       " (volatile at its next mount)" : "");
}

void print_ct_status(json_object *r)
{
	char b[32];

	printf("container  %s\ntemplate   %s%s\nclone      %s\nprivate    %s\n",
	       reply_str(r, "id"), reply_str(r, "template"),
	       reply_bool(r, "volatile") ? " (volatile)" : "", reply_str(r, "clone"),
	       reply_str(r, "private"));
	if (*reply_str(r, "userns"))
		printf("userns     %s (ids shifted: doc/userns.md)\n", reply_str(r, "userns"));
	printf("mounted    %s\n", reply_bool(r, "mounted") ? reply_str(r, "root") : "no");
	printf("disk       %s in %" PRIu64 " inodes (%s%s)\n",
	       human_size(reply_u64(r, "disk_bytes"), b, sizeof(b)), reply_u64(r, "inodes"),
	       !strcmp(reply_str(r, "usage_from"), "kernel") ? "the quota's, in the kernel" :
	       !strcmp(reply_str(r, "usage_from"), "checkpoint") ? "the quota's, as last saved" :
	       !strcmp(reply_str(r, "usage_from"), "scan") ? "walked now" : "not known",
	       reply_bool(r, "usage_exact") ? "" : ", not exact");
}

void print_template_import(json_object *r)
{
	char a[32], b[32], c[32];

	printf("%s: %" PRIu64 " entries, %" PRIu64 " files, %s; %" PRIu64
	       " new objects, %s new in the store (%s on disk)\n",
	       reply_str(r, "template"), reply_u64(r, "entries"), reply_u64(r, "files"),
	       human_size(reply_u64(r, "bytes"), a, sizeof(a)), reply_u64(r, "new_objects"),
	       human_size(reply_u64(r, "new_bytes"), b, sizeof(b)),
	       human_size(reply_u64(r, "stored_bytes"), c, sizeof(c)));
}

void print_template_publish(json_object *r)
{
	json_object *v;

	print_template_import(r);
	printf("made from %s by container %s%s\n", reply_str(r, "from"),
	       reply_str(r, "from_ct"),
	       json_object_object_get_ex(r, "maintenance_ended", &v) &&
	       json_object_get_boolean(v) ? "; its maintenance ended" : "");
}

void print_template_maintain(json_object *r)
{
	json_object *v;
	bool made = json_object_object_get_ex(r, "made", &v) &&
		    json_object_get_boolean(v);

	if (json_object_object_get_ex(r, "aborted", &v)) {
		printf("%s: maintenance left; container %s kept (tplctl ct destroy %s removes it)\n",
		       reply_str(r, "template"), reply_str(r, "ct"), reply_str(r, "ct"));
		return;
	}
	printf("%s: in maintenance, container %s (%s)\n"
	       "update it (tplctl ct mount %s), unmount it, then: tplctl template publish NAME@NEWVERSION --from-ct %s\n",
	       reply_str(r, "template"), reply_str(r, "ct"), made ? "made" : "existing",
	       reply_str(r, "ct"), reply_str(r, "ct"));
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
	json_object *m;
	char a[32], b[32];

	printf("template    %s\nfiles       %" PRIu64 " of %" PRIu64 " entries, %s\n"
	       "objects     %" PRIu64 ", %s\n",
	       reply_str(r, "template"), reply_u64(r, "files"), reply_u64(r, "entries"),
	       human_size(reply_u64(r, "bytes"), a, sizeof(a)), reply_u64(r, "objects"),
	       human_size(reply_u64(r, "object_bytes"), b, sizeof(b)));
	if (reply_str(r, "layer_of")[0])
		printf("layer of    %s (an application template)\n",
		       reply_str(r, "layer_of"));
	print_strings(r, "private", "private");
	print_strings(r, "containers", "containers");
	if (json_object_object_get_ex(r, "maintenance", &m) && m)
		printf("maintenance container %s\n", reply_str(m, "ct"));
}

void print_store_verify(json_object *r)
{
	json_object *found = NULL;
	char b[32];
	size_t n;

	printf("%" PRIu64 " templates, %" PRIu64 " objects (%s) verified: %" PRIu64
	       " problem(s)\n", reply_u64(r, "templates"), reply_u64(r, "objects"),
	       human_size(reply_u64(r, "bytes"), b, sizeof(b)), reply_u64(r, "problems"));
	json_object_object_get_ex(r, "found", &found);
	n = json_object_array_length(found);
	for (size_t i = 0; i < n; i++)
		printf("  %s\n", json_object_get_string(
		       json_object_array_get_idx(found, i)));
	if (reply_u64(r, "problems") > n)
		printf("  ... and %" PRIu64 " more\n", reply_u64(r, "problems") - n);
}

void print_template_list(json_object *r)
{
	json_object *ts = NULL;
	size_t n;
	char a[32], b[32];

	json_object_object_get_ex(r, "templates", &ts);
	n = json_object_array_length(ts);
	printf("%-24s %-9s %8s %10s %12s %10s %s\n", "TEMPLATE", "STATE", "FILES",
	       "SIZE", "UNIQUE", "CONTAINERS", "LAYER-OF");
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(ts, i), *c = NULL;

		json_object_object_get_ex(t, "containers", &c);
		printf("%-24s %-9s %8" PRIu64 " %10s %12s %10zu %s\n",
		       reply_str(t, "template"), reply_str(t, "state"), reply_u64(t, "files"),
		       human_size(reply_u64(t, "bytes"), a, sizeof(a)),
		       human_size(reply_u64(t, "unique_bytes"), b, sizeof(b)),
		       json_object_array_length(c),
		       reply_str(t, "layer_of")[0] ? reply_str(t, "layer_of") : "-");
	}
}

/* The strings of @list, one a line, and how many of @total it left out. */
static void print_listed(json_object *list, uint64_t total)
{
	size_t n = json_object_array_length(list);

	for (size_t i = 0; i < n; i++)
		printf("  %s\n", json_object_get_string(
		       json_object_array_get_idx(list, i)));
	if (n < total)
		printf("  ... and %" PRIu64 " more\n", total - n);
}

void print_store_gc(json_object *r)
{
	json_object *names = NULL;
	bool dry_run = reply_bool(r, "dry_run");
	char b[32];

	printf("store gc%s: %" PRIu64 " objects %s (%s), %" PRIu64 " kept\n",
	       dry_run ? " --dry-run" : "", reply_u64(r, "removed"),
	       dry_run ? "would be removed" : "removed",
	       human_size(reply_u64(r, "freed_bytes"), b, sizeof(b)), reply_u64(r, "kept"));
	if (!dry_run)
		return;
	json_object_object_get_ex(r, "objects", &names);
	print_listed(names, reply_u64(r, "removed"));
}

void print_ct_relink(json_object *r)
{
	json_object *paths = NULL;
	bool dry_run = reply_bool(r, "dry_run");
	char b[32];

	json_object_object_get_ex(r, "paths", &paths);
	print_listed(paths, reply_u64(r, "relinked"));
	printf("%s: %" PRIu64 " files %s, %s %s (%" PRIu64 " hashed of %" PRIu64
	       "; %" PRIu64 " changed meanwhile, %" PRIu64 " open: left)\n",
	       reply_str(r, "ct"), reply_u64(r, "relinked"),
	       dry_run ? "would be relinked" : "relinked",
	       human_size(reply_u64(r, "bytes"), b, sizeof(b)),
	       dry_run ? "would be freed" : "freed", reply_u64(r, "hashed"),
	       reply_u64(r, "files"), reply_u64(r, "changed"), reply_u64(r, "busy"));
}

/* One line of ct quota: used, soft, hard, state (until when). */
static void print_limit(const char *name, json_object *o, bool bytes)
{
	char u[32], s[32], h[32], when[64] = "";
	const char *state = reply_str(o, "state");
	time_t end = (time_t)reply_u64(o, "grace_end");

	if (bytes) {
		human_size(reply_u64(o, "used"), u, sizeof(u));
		human_size(reply_u64(o, "soft"), s, sizeof(s));
		human_size(reply_u64(o, "hard"), h, sizeof(h));
	} else {
		snprintf(u, sizeof(u), "%" PRIu64, reply_u64(o, "used"));
		snprintf(s, sizeof(s), "%" PRIu64, reply_u64(o, "soft"));
		snprintf(h, sizeof(h), "%" PRIu64, reply_u64(o, "hard"));
	}
	if (!reply_u64(o, "soft"))
		snprintf(s, sizeof(s), "-");
	if (!reply_u64(o, "hard"))
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
	uint64_t g = reply_u64(r, "grace");

	json_object_object_get_ex(r, "bytes", &b);
	json_object_object_get_ex(r, "inodes", &i);
	printf("%s: %s, usage %s%s, grace period %" PRIu64 "d%02" PRIu64
	       "h%02" PRIu64 "m%02" PRIu64 "s\n", reply_str(r, "id"),
	       reply_bool(r, "mounted") ? "mounted" : "not mounted",
	       !strcmp(reply_str(r, "usage_from"), "kernel") ? "live" :
	       !strcmp(reply_str(r, "usage_from"), "checkpoint") ? "as last saved" :
	       "unknown", reply_bool(r, "exact") ? "" : " (being rescanned)",
	       g / 86400, g / 3600 % 24, g / 60 % 60, g % 60);
	printf("%-7s %12s %12s %12s  %s\n", "", "USED", "SOFT", "HARD", "STATE");
	print_limit("blocks", b, true);
	print_limit("inodes", i, false);
}

void print_ct_rebase(json_object *r)
{
	json_object *items = NULL;
	bool dry_run = reply_bool(r, "dry_run");
	bool app = reply_str(r, "app")[0];

	json_object_object_get_ex(r, "items", &items);
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		json_object *it = json_object_array_get_idx(items, i);

		printf("%-8s %s: %s\n", reply_str(it, "outcome"), reply_str(it, "path"),
		       reply_str(it, "why"));
	}
	if (!reply_bool(r, "items_all_listed") && reply_str(r, "report")[0])
		printf("...      (the rest are in the report)\n");
	if (app)
		printf("%s: %s %s: ", reply_str(r, "ct"), dry_run ? "would change for" :
		       "changed for", reply_str(r, "app"));
	else
		printf("%s: %s %s to %s: ", reply_str(r, "ct"),
		       dry_run ? "would be rebased from" : "rebased from",
		       reply_str(r, "from"), reply_str(r, "to"));
	printf("%" PRIu64 " updated, %" PRIu64 " created, %"
	       PRIu64 " removed, %" PRIu64 " kept, %" PRIu64 " conflicts, %"
	       PRIu64 " merged, %" PRIu64 " busy%s%s\n",
	       reply_u64(r, "updated"),
	       reply_u64(r, "created"), reply_u64(r, "removed"), reply_u64(r, "kept"),
	       reply_u64(r, "conflicts"), reply_u64(r, "merged"), reply_u64(r, "busy"),
	       reply_str(r, "report")[0] ? "; report: " : "", reply_str(r, "report"));
}

void print_ct_app_list(json_object *r)
{
	json_object *apps = NULL;

	json_object_object_get_ex(r, "apps", &apps);
	printf("%s: %s\n", reply_str(r, "ct"), reply_str(r, "template"));
	for (size_t i = 0; apps && i < json_object_array_length(apps); i++)
		printf("  %s\n", json_object_get_string(
		       json_object_array_get_idx(apps, i)));
}

void print_store_refs(json_object *r)
{
	json_object *refs = NULL;
	size_t n;

	json_object_object_get_ex(r, "refs", &refs);
	n = refs ? json_object_array_length(refs) : 0;
	printf("%-32s %-20s %-24s %10s %s\n", "TEMPLATE", "CONTAINER", "HOST",
	       "AGE", "STATE");
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(refs, i);

		printf("%-32s %-20s %-24s %9" PRIu64 "s %s\n",
		       reply_str(o, "template"), reply_str(o, "ct"),
		       reply_str(o, "host"), reply_u64(o, "age_s"),
		       reply_bool(o, "mine") ? "this daemon's" :
		       reply_bool(o, "stale") ? "stale" : "renewed");
	}
	printf("%zu references; %" PRIu64 " stale ones pruned\n", n,
	       reply_u64(r, "pruned"));
}
