// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The catalogue: every container in private/, what its ct.conf says and,
 * while it is not mounted, its quota.usage. It is read once at start
 * (after recovery) and then kept true by the daemon's own operations: a job
 * that changes a private area (ct.create, ct.destroy, ct.umount) reads the
 * container's entry again at its end, in the worker (catalog_probe), and
 * the loop takes the entry when the job finishes (catalog_take). Nothing
 * else writes private/ (doc/tplfsd.md), so ct.list and ct.status are
 * answered in the loop without touching the disk.
 *
 * ct.list is the concatenation of each entry's text, made once after any
 * change (view_gen): a reply costs a copy of its bytes, whatever the
 * number of containers. A listing longer than one message is cut between
 * entries and says where to go on (continue_after).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
	} else {
		tplfs_json_str(c, "error", e->error);
	}
	tplfs_json_str(c, "private", priv);
	tplfs_json_bool(c, "mounted", ct && ct->mounted);
	if (ct && ct->mounted)
		tplfs_json_str(c, "root", ct->target);
	return c;
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

#define LIST_HEAD	"{\"type\":\"reply\",\"ok\":true,\"result\":{\"containers\":["
/* "]" + ",\"continue_after\":\"" + an id + "\"}}" */
#define LIST_TAIL_MAX	(32 + TPLFS_CT_ID_MAX)

char *catalog_list_text(struct daemon *d, const char *after, size_t *lenp)
{
	size_t first = 0, end, len = strlen(LIST_HEAD);
	char *buf, *p;
	bool found;
	int n;

	catalog_texts(d);
	if (after) {
		first = catalog_index(d, after, &found);
		if (found)
			first++;
	}
	/* which entries fit in one message, and how long it is */
	for (end = first; end < d->ncat; end++) {
		size_t more = d->cat[end]->len + (end > first);

		if (!d->cat[end]->text)
			return NULL;
		if (end > first && len + more + LIST_TAIL_MAX > TPLFS_MSG_MAX)
			break;
		len += more;
	}
	buf = malloc(len + LIST_TAIL_MAX + 1);
	if (!buf)
		return NULL;
	p = buf;
	memcpy(p, LIST_HEAD, strlen(LIST_HEAD));
	p += strlen(LIST_HEAD);
	for (size_t i = first; i < end; i++) {
		if (i > first)
			*p++ = ',';
		memcpy(p, d->cat[i]->text, d->cat[i]->len);
		p += d->cat[i]->len;
	}
	if (end < d->ncat)
		n = sprintf(p, "],\"continue_after\":\"%s\"}}",
			    d->cat[end - 1]->id);
	else
		n = sprintf(p, "]}}");
	*lenp = len + (size_t)n;
	return buf;
}
