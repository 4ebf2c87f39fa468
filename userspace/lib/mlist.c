// SPDX-License-Identifier: LGPL-2.1-or-later
/* A manifest in memory: see mlist.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "mlist.h"

int tplfs_mlist_load(struct tplfs_mlist *l, FILE *f, char *err, size_t errlen)
{
	struct tplfs_mreader *r;
	struct tplfs_mentry e;
	int ret;

	ret = tplfs_mreader_open(f, &r, err, errlen);
	if (ret)
		return ret;
	snprintf(l->id, sizeof(l->id), "%s", tplfs_mreader_template(r));
	if (tplfs_mreader_layer_of(r))
		snprintf(l->layer_of, sizeof(l->layer_of), "%s",
			 tplfs_mreader_layer_of(r));
	while ((ret = tplfs_mreader_next(r, &e, err, errlen)) == 1) {
		if (tplfs_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 1024) ||
		    tplfs_mentry_copy(&l->v[l->n], &e)) {
			ret = -ENOMEM;
			break;
		}
		l->n++;
	}
	/* the header's private paths and postinst packages, read with the
	 * first entry */
	if (!ret)
		ret = tplfs_mreader_copy_names(r, tplfs_mreader_nprivate,
					       tplfs_mreader_private,
					       &l->private, &l->nprivate);
	if (!ret)
		ret = tplfs_mreader_copy_names(r, tplfs_mreader_npostinst,
					       tplfs_mreader_postinst,
					       &l->postinst, &l->npostinst);
	tplfs_mreader_close(r);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (ret)
		tplfs_mlist_free(l);
	return ret;
}

void tplfs_mlist_free(struct tplfs_mlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		tplfs_mentry_free(&l->v[i]);
	for (size_t i = 0; i < l->nprivate; i++)
		free(l->private[i]);
	free(l->private);
	for (size_t i = 0; i < l->npostinst; i++)
		free(l->postinst[i]);
	free(l->postinst);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const struct tplfs_mentry *tplfs_mlist_find(const struct tplfs_mlist *l,
					    const char *path)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].path, path);

		if (!c)
			return &l->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct tplfs_mentry *tplfs_mlist_resolve(const struct tplfs_mlist *l,
					       const struct tplfs_mentry *e)
{
	const struct tplfs_mentry *first;

	if (e->type != 'h')
		return e;
	/* the reader checked that it names an earlier regular file */
	first = tplfs_mlist_find(l, e->target);
	return first ? first : e;
}

bool tplfs_mlist_is_private(const struct tplfs_mlist *l, const char *path)
{
	for (size_t i = 0; i < l->nprivate; i++)
		if (!strcmp(l->private[i], path))
			return true;
	return false;
}
