// SPDX-License-Identifier: LGPL-2.1-or-later
/* Application templates as layers: see layer.h and doc/apps.md. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "dpkgstatus.h"
#include "layer.h"
#include "object.h"
#include "postinst.h"
#include "store.h"

static bool xattrs_same(const struct tplfs_mentry *a,
			const struct tplfs_mentry *b)
{
	if (a->nxattrs != b->nxattrs)
		return false;
	for (size_t i = 0; i < a->nxattrs; i++)
		if (strcmp(a->xattrs[i].name, b->xattrs[i].name) ||
		    a->xattrs[i].len != b->xattrs[i].len ||
		    memcmp(a->xattrs[i].value, b->xattrs[i].value,
			   a->xattrs[i].len))
			return false;
	return true;
}

bool tplfs_mentry_same(const struct tplfs_mentry *a,
		       const struct tplfs_mentry *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == 'h' || a->type == 'l')
		if (strcmp(a->target, b->target))
			return false;
	if (a->type == 'h' || a->type == '-')
		return true;
	if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid)
		return false;
	if (a->type != 'd' && (a->mtime_sec != b->mtime_sec ||
			       a->mtime_nsec != b->mtime_nsec))
		return false;
	if (a->type == 'f' && (a->size != b->size ||
			       memcmp(a->digest, b->digest, sizeof(a->digest))))
		return false;
	if ((a->type == 'c' || a->type == 'b') &&
	    (a->major != b->major || a->minor != b->minor))
		return false;
	return xattrs_same(a, b);
}

/*
 * Is a proper ancestor of @path a path for which @stop says true? The
 * ancestors are tried from the nearest up; "/" is never one.
 */
static bool ancestor_is(const char *path,
			bool (*stop)(const void *arg, const char *anc),
			const void *arg)
{
	char *p = strdup(path), *slash;
	bool found = false;

	if (!p)
		return true;	/* the caller treats true as "leave it" */
	while (!found && (slash = strrchr(p, '/')) && slash != p) {
		*slash = '\0';
		found = stop(arg, p);
	}
	free(p);
	return found;
}

/* --- diff --------------------------------------------------------------------- */

/*
 * What a package manager keeps about its own runs rather than what the
 * packages are: its logs, caches and backups. Two app templates installed
 * apart both change them, which would keep them from stacking, and none
 * of it is the software; a layer leaves them as its base has them.
 */
static const char *const volatile_trees[] = {
	"/etc/ld.so.cache",		/* ldconfig's: the libraries are found
					 * in the default directories without */
	"/var/cache/apt",
	"/var/cache/ldconfig",
	"/var/lib/apt/extended_states",	/* apt's auto-installed marks */
	"/var/lib/apt/lists",
};

bool tplfs_layer_volatile(const char *path, char type)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(volatile_trees) / sizeof(volatile_trees[0]); i++) {
		size_t len = strlen(volatile_trees[i]);

		if (!strncmp(path, volatile_trees[i], len) &&
		    (path[len] == '\0' || path[len] == '/'))
			return true;
	}
	/* logs, not the directories packages make for theirs */
	if (!strncmp(path, "/var/log/", 9) && type != 'd')
		return true;
	/* dpkg's and debconf's backups of their databases */
	return (!strncmp(path, "/var/lib/dpkg/", 14) ||
		!strncmp(path, "/var/cache/debconf/", 19)) &&
	       n > 4 && !strcmp(path + n - 4, "-old");
}

/* An ancestor @anc that the full tree does not hold as a directory: the
 * deletion of (or the entry at) @anc covers what is beneath it. */
static bool not_a_dir_in(const void *arg, const char *anc)
{
	const struct tplfs_mentry *e = tplfs_mlist_find(arg, anc);

	return !e || e->type != 'd';
}

static int layer_private(const struct tplfs_mlist *base,
			 const struct tplfs_mlist *full, const char ***out,
			 size_t *n)
{
	*n = 0;
	*out = calloc(full->nprivate ? full->nprivate : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < full->nprivate; i++)
		if (!tplfs_mlist_is_private(base, full->private[i]))
			(*out)[(*n)++] = full->private[i];
	return 0;
}

int tplfs_layer_diff(const struct tplfs_mlist *base, const char *base_id,
		     const struct tplfs_mlist *full, const char *id,
		     const char *const *postinst, size_t npostinst, FILE *out,
		     char *err, size_t errlen)
{
	struct tplfs_mentry del = { .type = '-' };
	struct tplfs_mwriter *w = NULL;
	const char **priv = NULL;
	size_t i = 0, j = 0, npriv, emitted = 0;
	bool *take = calloc(full->n ? full->n : 1, sizeof(*take));
	int ret;

	ret = take ? layer_private(base, full, &priv, &npriv) : -ENOMEM;
	if (ret)
		goto out;
	for (size_t k = 0; k < full->n; k++) {
		const struct tplfs_mentry *be = tplfs_mlist_find(base, full->v[k].path);

		take[k] = (!be || !tplfs_mentry_same(be, &full->v[k])) &&
			  !tplfs_layer_volatile(full->v[k].path, full->v[k].type);
	}
	/* a hard link in the layer names a first link in the layer */
	for (size_t k = 0; k < full->n; k++)
		if (take[k] && full->v[k].type == 'h') {
			const struct tplfs_mentry *first =
				tplfs_mlist_find(full, full->v[k].target);

			if (first)
				take[first - full->v] = true;
		}
	ret = tplfs_mwriter_open_layer(out, id, base_id, priv, npriv, &w);
	for (size_t k = 0; !ret && k < npostinst; k++)
		ret = tplfs_mwriter_postinst(w, postinst[k]);
	if (ret) {
		snprintf(err, errlen, "layer %s of %s: %s", id, base_id,
			 strerror(-ret));
		goto out;
	}
	while (!ret && (i < base->n || j < full->n)) {
		int c = i == base->n ? 1 : j == full->n ? -1 :
			strcmp(base->v[i].path, full->v[j].path);

		if (c < 0) {
			/* gone: said once, at its topmost path */
			del.path = base->v[i].path;
			if (!ancestor_is(del.path, not_a_dir_in, full) &&
			    !tplfs_layer_volatile(del.path, base->v[i].type)) {
				ret = tplfs_mwriter_add(w, &del);
				emitted++;
			}
			i++;
			continue;
		}
		if (take[j]) {
			ret = tplfs_mwriter_add(w, &full->v[j]);
			emitted++;
		}
		i += c == 0;
		j++;
	}
	if (ret)
		snprintf(err, errlen, "layer %s: writing %s: %s", id,
			 i < base->n ? base->v[i].path : "the end", strerror(-ret));
	else if (!emitted) {
		snprintf(err, errlen, "the tree is %s's: an empty layer", base_id);
		ret = -ENODATA;
	}
out:
	if (w) {
		int cret = tplfs_mwriter_close(w);

		if (!ret && cret) {
			ret = cret;
			snprintf(err, errlen, "layer %s: %s", id, strerror(-cret));
		}
	}
	free(priv);
	free(take);
	return ret;
}

/* --- apply -------------------------------------------------------------------- */

/* Sorted paths whose subtrees the layer replaces or deletes. */
struct cutset {
	const char **v;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_cut(const void *arg, const char *anc)
{
	const struct cutset *cut = arg;

	return cut->n && bsearch(&anc, cut->v, cut->n, sizeof(*cut->v), cmp_str);
}

/* The tree's always-private paths and the layer's, sorted, once each. */
static int union_private(const struct tplfs_mlist *a, const struct tplfs_mlist *b,
			 const char ***out, size_t *n)
{
	*n = 0;
	*out = calloc(a->nprivate + b->nprivate + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < a->nprivate; i++)
		(*out)[(*n)++] = a->private[i];
	for (size_t i = 0; i < b->nprivate; i++)
		if (!tplfs_mlist_is_private(a, b->private[i]))
			(*out)[(*n)++] = b->private[i];
	qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

/* The same file but perhaps for its mtime. */
static bool same_but_mtime(const struct tplfs_mentry *a,
			   const struct tplfs_mentry *b)
{
	struct tplfs_mentry t = *a;

	t.mtime_sec = b->mtime_sec;
	t.mtime_nsec = b->mtime_nsec;
	return tplfs_mentry_same(&t, b);
}

/*
 * Stacked on a tree that is not its base, a layer may only change what
 * the tree holds as the base does: else two layers change one path.
 */
static int check_stacked(const struct tplfs_mlist *tree,
			 const struct tplfs_mlist *base, const char *path,
			 const struct tplfs_mentry *le, const char *layer_id,
			 char *err, size_t errlen)
{
	const struct tplfs_mentry *te = tplfs_mlist_find(tree, path);
	const struct tplfs_mentry *be = tplfs_mlist_find(base, path);

	if ((!te && !be) || (te && be && tplfs_mentry_same(te, be)))
		return 0;
	/* the same change twice (a library two apps both install; dpkg's
	 * files about it were written at two times) */
	if (le && (le->type == '-' ? !te : te && same_but_mtime(te, le)))
		return 0;
	snprintf(err, errlen,
		 "%s: changed beneath %s already (by another application template, or by the version it is applied to)",
		 path, layer_id);
	return -EEXIST;
}

/* The path of line @lineno of manifest @text (for an error), or "?". */
static void path_of_line(const char *text, size_t len, unsigned long lineno,
			 char *out, size_t size)
{
	const char *p = text, *end = text + len, *sp;
	char *raw;
	size_t n;

	for (unsigned long l = 1; l < lineno && p < end; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		p = p ? p + 1 : end;
	}
	sp = p < end ? memchr(p, ' ', (size_t)(end - p)) : NULL;
	raw = sp ? strndup(p, (size_t)(sp - p)) : NULL;
	if (raw) {
		char *path = tplfs_manifest_unescape(raw, &n);

		snprintf(out, size, "%s", path ? path : raw);
		free(path);
		free(raw);
		return;
	}
	snprintf(out, size, "?");
}

/* Is @path in the NULL-terminated list @list (NULL: empty)? */
static bool listed(const char *const *list, const char *path)
{
	for (; list && *list; list++)
		if (!strcmp(*list, path))
			return true;
	return false;
}

int tplfs_layer_apply(struct tplfs_mlist *out, const struct tplfs_mlist *tree,
		      const struct tplfs_mlist *layer,
		      const struct tplfs_mlist *base, const char *const *merged,
		      const char *id, char *err, size_t errlen)
{
	const char *layer_id = layer->id;
	struct tplfs_mwriter *w = NULL;
	struct cutset cut = { 0 };
	const char **priv = NULL;
	char *text = NULL;
	size_t len = 0, npriv, i = 0, j = 0;
	FILE *f = NULL;
	int ret;

	if (!layer->layer_of[0]) {
		snprintf(err, errlen, "%s is not an application template", id);
		return -EINVAL;
	}
	for (size_t k = 0; k < layer->n; k++) {
		const struct tplfs_mentry *e = &layer->v[k];

		if (e->type != 'd' &&
		    tplfs_grow(&cut.v, &cut.cap, cut.n, sizeof(*cut.v), 64)) {
			ret = -ENOMEM;
			goto out;
		}
		if (e->type != 'd')
			cut.v[cut.n++] = e->path;
		ret = base && !listed(merged, e->path) ?
		      check_stacked(tree, base, e->path, e, layer_id, err,
				    errlen) : 0;
		if (ret)
			goto out;
	}
	ret = union_private(tree, layer, &priv, &npriv);
	f = ret ? NULL : open_memstream(&text, &len);
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	ret = tplfs_mwriter_open(f, id, priv, npriv, &w);
	while (!ret && (i < tree->n || j < layer->n)) {
		int c = i == tree->n ? 1 : j == layer->n ? -1 :
			strcmp(tree->v[i].path, layer->v[j].path);

		if (c < 0) {
			const struct tplfs_mentry *e = &tree->v[i++];

			if (!ancestor_is(e->path, in_cut, &cut))
				ret = tplfs_mwriter_add(w, e);
			else if (base)
				ret = check_stacked(tree, base, e->path, NULL,
						    layer_id, err, errlen);
			continue;
		}
		if (layer->v[j].type != '-')
			ret = tplfs_mwriter_add(w, &layer->v[j]);
		i += c == 0;
		j++;
	}
	if (ret == -EINVAL)	/* the writer's: out of order cannot be */
		snprintf(err, errlen, "%s: an entry the manifest format refuses", id);
	if (w) {
		int cret = tplfs_mwriter_close(w);

		ret = ret ? ret : cret;
	}
	if (fclose(f) && !ret)
		ret = -EIO;
	f = NULL;
	if (ret)
		goto out;
	f = fmemopen(text, len, "r");
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	ret = tplfs_mlist_load(out, f, err, errlen);
	if (ret == -EINVAL) {
		char path[PATH_MAX], why[512];
		unsigned long lineno = 0;

		sscanf(err, "manifest line %lu", &lineno);
		path_of_line(text, len, lineno, path, sizeof(path));
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s does not fit its tree at %s (%s)",
			 layer_id, path, why);
	}
out:
	if (f)
		fclose(f);
	free(text);
	free(priv);
	free(cut.v);
	return ret;
}

/* --- a container's tree ------------------------------------------------------- */

static int load_sealed(int store_fd, const char *id, struct tplfs_mlist *l,
		       char *err, size_t errlen)
{
	struct tplfs_template_id t;
	char why[512];
	FILE *m;
	int ret;

	ret = tplfs_template_id_parse(id, &t, err, errlen);
	if (ret)
		return ret;
	m = tplfs_template_state(store_fd, &t) == TPLFS_TEMPLATE_SEALED ?
	    tplfs_template_manifest_open(store_fd, &t) : NULL;
	if (!m) {
		snprintf(err, errlen, "no template %s (sealed)", id);
		return -ENOENT;
	}
	ret = tplfs_mlist_load(l, m, why, sizeof(why));
	fclose(m);
	if (ret)
		snprintf(err, errlen, "%s: %s", id, why);
	return ret == -EINVAL ? -EIO : ret;	/* the store's, not the caller's */
}

#define STANZA_FILE_MAX	(256u << 20)

/*
 * A layer stacked on a tree whose stanza file @sf (dpkg's status,
 * debconf's databases) is not its base's (another app's packages are in
 * it): the layer's entry becomes the merge by stanza of the three (the
 * tree's, its base's, its own), put in the store as an object. No sealed
 * manifest names that object, so the caller makes the path always-private
 * in the tree: each container holds its own copy, which store gc cannot
 * take. 1 if merged, 0 if there was nothing to merge, -EEXIST if a stanza
 * changed in both, or -errno.
 */
static int merge_stanza_file(int store_fd, const struct tplfs_mlist *tree,
			     const struct tplfs_mlist *lbase,
			     struct tplfs_mlist *layer,
			     const struct tplfs_stanza_file *sf, char *err,
			     size_t errlen)
{
	const struct tplfs_mentry *te = tplfs_mlist_find(tree, sf->path);
	const struct tplfs_mentry *be = tplfs_mlist_find(lbase, sf->path);
	struct tplfs_mentry *le =
		(struct tplfs_mentry *)tplfs_mlist_find(layer, sf->path);
	char *b = NULL, *t = NULL, *l = NULL, *out = NULL;
	struct tplfs_origin_info info = { .size = 0 };
	size_t outlen;
	int ret;

	if (!te || !be || !le || te->type != 'f' || be->type != 'f' ||
	    le->type != 'f' || tplfs_mentry_same(te, be))
		return 0;
	ret = tplfs_object_read(store_fd, be->digest, be->size, STANZA_FILE_MAX, &b);
	if (!ret)
		ret = tplfs_object_read(store_fd, te->digest, te->size,
					STANZA_FILE_MAX, &t);
	if (!ret)
		ret = tplfs_object_read(store_fd, le->digest, le->size,
					STANZA_FILE_MAX, &l);
	if (!ret) {
		char why[300];

		ret = tplfs_stanza_merge(sf, b, be->size, t, te->size, l,
					 le->size, &out, &outlen, why,
					 sizeof(why));
		if (ret == -EAGAIN || ret == -EINVAL) {
			snprintf(err, errlen,
				 "%s: %s and the tree beneath it both change it: %s",
				 sf->path, layer->id, why);
			ret = -EEXIST;
		}
	} else {
		snprintf(err, errlen, "%s: the objects to merge: %s",
			 sf->path, strerror(-ret));
	}
	if (!ret) {
		ret = tplfs_object_put_data(store_fd, out, outlen, &info);
		if (ret < 0)
			snprintf(err, errlen, "%s: storing the merge: %s",
				 sf->path, strerror(-ret));
	}
	free(b);
	free(t);
	free(l);
	free(out);
	if (ret < 0)
		return ret;
	le->size = info.size;
	memcpy(le->digest, info.digest, sizeof(le->digest));
	return 1;
}

/* Make @path one of @l's always-private paths (sorted). */
static int add_private(struct tplfs_mlist *l, const char *path)
{
	char **v;
	size_t i = 0;

	if (tplfs_mlist_is_private(l, path))
		return 0;
	v = realloc(l->private, (l->nprivate + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->private = v;
	while (i < l->nprivate && strcmp(v[i], path) < 0)
		i++;
	memmove(v + i + 1, v + i, (l->nprivate - i) * sizeof(*v));
	v[i] = strdup(path);
	if (!v[i]) {
		memmove(v + i, v + i + 1, (l->nprivate - i) * sizeof(*v));
		return -ENOMEM;
	}
	l->nprivate++;
	return 0;
}

int tplfs_layer_tree(int store_fd, const char *os, const char (*apps)[256],
		     size_t napps, struct tplfs_mlist *out, char *err,
		     size_t errlen)
{
	struct tplfs_mlist base = { 0 }, other = { 0 };
	const struct tplfs_stanza_file *sf;
	size_t nsf = tplfs_stanza_files(&sf);
	int ret = load_sealed(store_fd, os, &base, err, errlen);

	if (!ret && base.layer_of[0]) {
		snprintf(err, errlen,
			 "%s is an application template, not a container's template",
			 os);
		ret = -EINVAL;
	}
	if (ret || !napps) {
		*out = base;
		return ret;
	}
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; !ret && i < napps; i++) {
		struct tplfs_mlist layer = { 0 }, next = { 0 };
		const struct tplfs_mlist *lbase = &base;
		const char *merged[8];
		size_t nmerged;

		ret = load_sealed(store_fd, apps[i], &layer, err, errlen);
		if (!ret && !layer.layer_of[0]) {
			snprintf(err, errlen, "%s is not an application template",
				 apps[i]);
			ret = -EINVAL;
		}
		/* a layer of another version (carried by a rebase): it
		 * applies where that version and this tree agree */
		if (!ret && strcmp(layer.layer_of, os)) {
			if (strcmp(other.id, layer.layer_of)) {
				tplfs_mlist_free(&other);
				ret = load_sealed(store_fd, layer.layer_of, &other,
						  err, errlen);
			}
			lbase = &other;
		}
		nmerged = 0;
		for (size_t k = 0; !ret && (i || lbase != &base) && k < nsf; k++) {
			ret = merge_stanza_file(store_fd, i ? out : &base, lbase,
						&layer, &sf[k], err, errlen);
			if (ret > 0)
				merged[nmerged++] = sf[k].path;
			ret = ret > 0 ? 0 : ret;
		}
		merged[nmerged] = NULL;
		if (!ret)
			ret = tplfs_layer_apply(&next, i ? out : &base, &layer,
						i || lbase != &base ? lbase : NULL,
						merged, os, err, errlen);
		for (size_t k = 0; !ret && k < nmerged; k++)
			ret = add_private(&next, merged[k]);
		tplfs_mlist_free(&layer);
		tplfs_mlist_free(out);
		*out = next;
	}
	tplfs_mlist_free(&base);
	tplfs_mlist_free(&other);
	if (ret)
		tplfs_mlist_free(out);
	return ret == -EEXIST ? -EINVAL : ret;
}

/*
 * A reader of sealed template @id's manifest, and its file: 0, -EINVAL
 * (not NAME@VERSION), -ENOENT (not sealed), -EIO (a store's manifest that
 * does not read) or -errno.
 */
static int sealed_reader(int store_fd, const char *id, FILE **m,
			 struct tplfs_mreader **r)
{
	struct tplfs_template_id t;
	char err[256];
	int ret;

	if (tplfs_template_id_parse(id, &t, err, sizeof(err)))
		return -EINVAL;
	*m = tplfs_template_state(store_fd, &t) == TPLFS_TEMPLATE_SEALED ?
	     tplfs_template_manifest_open(store_fd, &t) : NULL;
	if (!*m)
		return -ENOENT;
	ret = tplfs_mreader_open(*m, r, err, sizeof(err));
	if (ret)
		fclose(*m);
	return ret == -EINVAL ? -EIO : ret;
}

int tplfs_template_layer_of(int store_fd, const char *id, char *of,
			    size_t size)
{
	struct tplfs_mreader *r;
	FILE *m;
	int ret;

	of[0] = '\0';
	ret = sealed_reader(store_fd, id, &m, &r);
	if (ret)
		return ret;
	snprintf(of, size, "%s", tplfs_mreader_layer_of(r) ?
		 tplfs_mreader_layer_of(r) : "");
	tplfs_mreader_close(r);
	fclose(m);
	return 0;
}

int tplfs_template_postinst(int store_fd, const char *id, char ***names,
			    size_t *n)
{
	struct tplfs_mentry e;
	struct tplfs_mreader *r;
	char err[256];
	FILE *m;
	int ret;

	*names = NULL;
	*n = 0;
	ret = sealed_reader(store_fd, id, &m, &r);
	if (ret)
		return ret;
	/* the header's lines are read with the first entry */
	ret = tplfs_mreader_next(r, &e, err, sizeof(err));
	if (ret > 0)
		ret = 0;
	if (!ret)
		ret = tplfs_mreader_copy_names(r, tplfs_mreader_npostinst,
					       tplfs_mreader_postinst, names, n);
	tplfs_mreader_close(r);
	fclose(m);
	if (ret) {
		tplfs_postinst_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return ret == -EINVAL ? -EIO : ret;
}

/* The bytes of regular file @path of @l (a hard link followed), or
 * an empty string if it has none; malloc'd. */
static int tree_file(int store_fd, const struct tplfs_mlist *l,
		     const char *path, char **out, size_t *len)
{
	const struct tplfs_mentry *e = tplfs_mlist_find(l, path);
	int ret;

	*len = 0;
	if (e)
		e = tplfs_mlist_resolve(l, e);
	if (!e || e->type != 'f') {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	ret = tplfs_object_read(store_fd, e->digest, e->size, 64 << 20, out);
	if (!ret)
		*len = e->size;
	return ret;
}

static bool tree_has_postinst(void *arg, const char *name)
{
	const struct tplfs_mlist *l = arg;
	char path[PATH_MAX];
	const struct tplfs_mentry *e;

	snprintf(path, sizeof(path), "/var/lib/dpkg/info/%s.postinst", name);
	e = tplfs_mlist_find(l, path);
	if (e)
		e = tplfs_mlist_resolve(l, e);
	return e && e->type == 'f';
}

int tplfs_layer_postinst(int store_fd, const struct tplfs_mlist *base,
			 const struct tplfs_mlist *full, char ***names,
			 size_t *n, char *err, size_t errlen)
{
	static const char status[] = "/var/lib/dpkg/status";
	char *b = NULL, *f = NULL;
	size_t blen, flen;
	int ret;

	*names = NULL;
	*n = 0;
	ret = tree_file(store_fd, base, status, &b, &blen);
	if (!ret)
		ret = tree_file(store_fd, full, status, &f, &flen);
	if (ret)
		snprintf(err, errlen, "%s: %s", status, strerror(-ret));
	else
		ret = tplfs_postinst_order(b, blen, f, flen, tree_has_postinst,
					   (void *)full, names, n, err, errlen);
	free(b);
	free(f);
	return ret;
}

struct newest_layer {
	int store_fd;
	const char *name, *of;
	char best[256];
};

static int newer_layer(void *arg, const struct tplfs_template_id *t,
		       enum tplfs_template_state state)
{
	struct newest_layer *n = arg;
	char id[256], of[256];

	if (state != TPLFS_TEMPLATE_SEALED || strcmp(t->name, n->name))
		return 0;
	snprintf(id, sizeof(id), "%s@%s", t->name, t->version);
	if (tplfs_template_layer_of(n->store_fd, id, of, sizeof(of)) ||
	    strcmp(of, n->of))
		return 0;
	if (!n->best[0] ||
	    strverscmp(t->version, strchr(n->best, '@') + 1) > 0)
		snprintf(n->best, sizeof(n->best), "%s", id);
	return 0;
}

int tplfs_layer_newest(int store_fd, const char *name, const char *of,
		       char *out, size_t size)
{
	struct newest_layer n = { .store_fd = store_fd, .name = name, .of = of };
	int ret = tplfs_templates_each(store_fd, newer_layer, &n);

	if (ret)
		return ret;
	if (!n.best[0])
		return -ENOENT;
	snprintf(out, size, "%s", n.best);
	return 0;
}

int tplfs_mlist_write(const struct tplfs_mlist *l, const char *id, FILE *f)
{
	struct tplfs_mwriter *w;
	int ret;

	ret = tplfs_mwriter_open(f, id, (const char *const *)l->private,
				 l->nprivate, &w);
	for (size_t i = 0; !ret && i < l->n; i++)
		ret = tplfs_mwriter_add(w, &l->v[i]);
	if (!ret)
		return tplfs_mwriter_close(w);
	if (w)
		tplfs_mwriter_close(w);
	return ret;
}
