// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The catalogue: every container in private/, what its ct.conf says and,
 * while it is not mounted, its quota.usage. It is read once at start
 * (after recovery) and then kept true by the daemon's own operations: a job
 * that changes a private area (ct.create, ct.destroy, ct.umount, ct.set,
 * ct.quota with a change) reads the container's entry again at its end, in
 * the worker (catalog_probe), and the loop takes the entry when the job
 * finishes (catalog_take). Nothing
 * else writes private/ (doc/tplfsd.md), so ct.list and ct.status are
 * answered in the loop without touching the disk.
 *
 * ct.list is the concatenation of each entry's text, made once after any
 * change (view_gen): a reply costs a copy of its bytes, whatever the
 * number of containers. A listing longer than one message is cut between
 * entries and says where to go on (continue_after). With each container's
 * usage, which the kernel has while it is mounted, the listing is made for
 * the request.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grow.h"
#include "kquota.h"
#include "log.h"
#include "tplfsd.h"
#include "tree.h"

int catalog_probe(const struct tplfs_config *cfg, const char *id,
		  struct ctentry *e)
{
	struct tplfs_ct_paths p = { .root = "" };
	char path[PATH_MAX + 32];
	struct stat st;

	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	if (tplfs_ct_paths(cfg, id, &p))
		return -ENAMETOOLONG;
	if (lstat(p.private_dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(e->error, sizeof(e->error), "%s: %s", p.private_dir,
			 strerror(errno));
		e->present = true;
		return 0;
	}
	e->present = true;
	if (tplfs_ct_conf_read(p.conf, &e->conf, e->error, sizeof(e->error)))
		return 0;
	e->conf_ok = true;
	snprintf(path, sizeof(path), "%s/%s", p.private_dir, TPLFS_CTUSAGE_FILE);
	e->usage_ok = tplfs_ct_usage_read(path, &e->usage, NULL, 0) == 0;
	return 0;
}

static size_t catalog_index(const struct daemon *d, const char *id,
			    bool *found)
{
	size_t lo = 0, hi = d->ncat;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(d->cat[mid]->id, id);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct ctentry *catalog_find(const struct daemon *d, const char *id)
{
	bool found;
	size_t i = catalog_index(d, id, &found);

	return found ? d->cat[i] : NULL;
}

static void entry_free(struct ctentry *e)
{
	free(e->text);
	free(e);
}

void catalog_take(struct daemon *d, const struct ctentry *e)
{
	bool found;
	size_t i = catalog_index(d, e->id, &found);
	struct ctentry *n;

	d->view_gen++;
	if (!e->present) {
		if (found) {
			entry_free(d->cat[i]);
			memmove(&d->cat[i], &d->cat[i + 1],
				(d->ncat - i - 1) * sizeof(*d->cat));
			d->ncat--;
		}
		return;
	}
	n = malloc(sizeof(*n));
	if (!n) {
		log_err("ct %s: out of memory for the catalogue", e->id);
		return;
	}
	*n = *e;
	n->text = NULL;
	if (found) {
		entry_free(d->cat[i]);
		d->cat[i] = n;
		return;
	}
	if (d->ncat == d->catcap) {
		size_t cap = d->catcap ? 2 * d->catcap : 64;
		struct ctentry **v = realloc(d->cat, cap * sizeof(*v));

		if (!v) {
			free(n);
			log_err("ct %s: out of memory for the catalogue", e->id);
			return;
		}
		d->cat = v;
		d->catcap = cap;
	}
	memmove(&d->cat[i + 1], &d->cat[i], (d->ncat - i) * sizeof(*d->cat));
	d->cat[i] = n;
	d->ncat++;
}

int catalog_load(struct daemon *d)
{
	char privdir[PATH_MAX];
	struct dirent *de;
	struct ctentry e;
	DIR *dir;

	tplfs_path(privdir, sizeof(privdir), "%s/private", d->cfg.root);
	dir = opendir(privdir);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (!tplfs_ct_id_valid(de->d_name))
			continue;	/* ., .., .<id>.create ... */
		if (!catalog_probe(&d->cfg, de->d_name, &e) && e.present)
			catalog_take(d, &e);
	}
	closedir(dir);
	return 0;
}

json_object *catalog_limits_describe(const struct tplfs_ct_limits *l)
{
	json_object *o = json_object_new_object();

	tplfs_json_u64(o, "bytes_soft", l->bytes_soft);
	tplfs_json_u64(o, "bytes_hard", l->bytes_hard);
	tplfs_json_u64(o, "inodes_soft", l->inodes_soft);
	tplfs_json_u64(o, "inodes_hard", l->inodes_hard);
	tplfs_json_u64(o, "grace", l->grace);
	return o;
}

void catalog_add_userns(json_object *o, const struct tplfs_idshift *s)
{
	char text[32];

	if (tplfs_idshift_none(s))
		return;
	tplfs_idshift_format(s, text, sizeof(text));
	tplfs_json_str(o, "userns", text);
}

json_object *catalog_describe(struct daemon *d, const struct ctentry *e)
{
	const struct ctstate *ct = ct_find(d, e->id);
	json_object *c = json_object_new_object();
	char priv[PATH_MAX];

	tplfs_path(priv, sizeof(priv), "%s/private/%s", d->cfg.root, e->id);
	tplfs_json_str(c, "id", e->id);
	if (e->conf_ok) {
		tplfs_json_str(c, "template", e->conf.template);
		tplfs_json_bool(c, "volatile", e->conf.is_volatile);
		tplfs_json_str(c, "clone", e->conf.full ? "full" : "linked");
		catalog_add_userns(c, &e->conf.userns);
		json_object_object_add(c, "limits",
				       catalog_limits_describe(&e->conf.limits));
	} else {
		tplfs_json_str(c, "error", e->error);
	}
	tplfs_json_str(c, "private", priv);
	tplfs_json_bool(c, "mounted", ct && ct->mounted);
	if (ct && ct->mounted)
		tplfs_json_str(c, "root", ct->target);
	return c;
}

void catalog_add_usage(struct daemon *d, json_object *r,
		       const struct ctentry *e)
{
	const struct ctstate *ct = ct_find(d, e->id);
	bool mounted = ct && ct->mounted;
	struct tplfs_quota q;
	const char *from = "none";
	uint64_t bytes = 0, inodes = 0;
	bool exact = false;

	if (mounted && tplfs_kquota_get(e->id, false, &q) == 0) {
		from = "kernel";
		bytes = q.res[TPLFS_QRES_BYTES].used;
		inodes = q.res[TPLFS_QRES_INODES].used;
		exact = q.flags & TPLFS_QUOTA_USAGE_KNOWN;
	} else if (!mounted && e->usage_ok) {
		from = "checkpoint";
		bytes = e->usage.bytes;
		inodes = e->usage.inodes;
		exact = e->usage.clean;
	}
	tplfs_json_u64(r, "disk_bytes", bytes);
	tplfs_json_u64(r, "inodes", inodes);
	tplfs_json_str(r, "usage_from", from);
	tplfs_json_bool(r, "usage_exact", exact);
}

/* Each entry's text, made again after a change. */
static void catalog_texts(struct daemon *d)
{
	if (d->texts_gen == d->view_gen)
		return;
	for (size_t i = 0; i < d->ncat; i++) {
		struct ctentry *e = d->cat[i];
		json_object *c = catalog_describe(d, e);
		const char *t;
		size_t len;

		free(e->text);
		e->text = NULL;
		t = tplfs_msg_text(c, &len);
		if (t && (e->text = malloc(len)))
			memcpy(e->text, t, len);
		e->len = e->text ? len : 0;
		json_object_put(c);
	}
	d->texts_gen = d->view_gen;
}

/*
 * Entry @e's member of a listing: its kept text or, with the usage (which
 * changes while it is mounted), one made now in @tmp (freed by the caller).
 */
static const char *entry_text(struct daemon *d, struct ctentry *e,
			      bool usage, json_object **tmp, size_t *len)
{
	if (!usage) {
		*len = e->len;
		return e->text;
	}
	*tmp = catalog_describe(d, e);
	catalog_add_usage(d, *tmp, e);
	return tplfs_msg_text(*tmp, len);
}

#define LIST_HEAD	"{\"type\":\"reply\",\"ok\":true,\"result\":{\"containers\":["
/* "]" + ",\"continue_after\":\"" + an id + "\"}}" */
#define LIST_TAIL_MAX	(32 + TPLFS_CT_ID_MAX)

/* Append @len bytes to @buf (of @cap); false when out of memory. */
static bool put(char **buf, size_t *used, size_t *cap, const char *s,
		size_t len)
{
	while (*used + len + 1 > *cap)
		if (tplfs_grow(buf, cap, *cap, 1, 4096))
			return false;
	memcpy(*buf + *used, s, len);
	*used += len;
	(*buf)[*used] = '\0';
	return true;
}

char *catalog_list_text(struct daemon *d, const char *after, bool usage,
			size_t *lenp)
{
	size_t first = 0, i, used = 0, cap = 0;
	char *buf = NULL, tail[LIST_TAIL_MAX + 1];
	bool found, ok;

	catalog_texts(d);
	if (after) {
		first = catalog_index(d, after, &found);
		if (found)
			first++;
	}
	ok = put(&buf, &used, &cap, LIST_HEAD, strlen(LIST_HEAD));
	/* the entries that fit in one message */
	for (i = first; ok && i < d->ncat; i++) {
		json_object *tmp = NULL;
		size_t len;
		const char *t = entry_text(d, d->cat[i], usage, &tmp, &len);

		ok = t != NULL;
		if (ok && i > first &&
		    used + 1 + len + LIST_TAIL_MAX > TPLFS_MSG_MAX) {
			json_object_put(tmp);
			break;
		}
		ok = ok && (i == first || put(&buf, &used, &cap, ",", 1)) &&
		     put(&buf, &used, &cap, t, len);
		json_object_put(tmp);
	}
	if (ok && i < d->ncat)
		snprintf(tail, sizeof(tail), "],\"continue_after\":\"%s\"}}",
			 d->cat[i - 1]->id);
	else
		snprintf(tail, sizeof(tail), "]}}");
	if (!ok || !put(&buf, &used, &cap, tail, strlen(tail))) {
		free(buf);
		return NULL;
	}
	*lenp = used;
	return buf;
}
