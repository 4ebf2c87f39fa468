/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Application templates as layers (issue 19, doc/manifest.md version 2,
 * doc/apps.md): a layer is what a tree holds that its base version does
 * not (new and changed entries) and what it lacks (deletions). A
 * container's tree is its OS template with its layers applied in order,
 * computed from the sealed manifests whenever it is needed.
 */
#ifndef TPLFS_LAYER_H
#define TPLFS_LAYER_H

#include <stdbool.h>
#include <stdio.h>

#include "mlist.h"

/*
 * True if @a and @b describe the same file: type, metadata, content and
 * xattrs. A directory's mtime is not compared (its entries move it).
 */
bool tplfs_mentry_same(const struct tplfs_mentry *a,
		       const struct tplfs_mentry *b);

/*
 * True for what a package manager keeps about its runs (logs, caches,
 * backups of its databases, ldconfig's cache, apt's auto-installed
 * marks), which a layer leaves as its base has it (doc/apps.md).
 */
bool tplfs_layer_volatile(const char *path, char type);

/*
 * Write to @out the layer manifest @id (format version 2, layer-of
 * @base_id) of what @full changes from @base: every entry of @full that
 * @base lacks or holds otherwise, every hard link's first link with it,
 * and a deletion for each topmost path of @base that @full lacks; not
 * what tplfs_layer_volatile() names. @full's
 * always-private paths that @base does not have are the layer's;
 * @postinst (@npostinst packages, tplfs_layer_postinst) its postinst
 * header lines. 0, -ENODATA if @full equals @base (an empty layer), or a negative errno
 * with @err said.
 */
int tplfs_layer_diff(const struct tplfs_mlist *base, const char *base_id,
		     const struct tplfs_mlist *full, const char *id,
		     const char *const *postinst, size_t npostinst, FILE *out,
		     char *err, size_t errlen);

/*
 * @tree with @layer applied, into @out (empty on entry), named @id: an
 * entry of the layer replaces the tree's at its path (and, unless it is a
 * directory, everything beneath it); a deletion removes the path and all
 * beneath it. The result is checked as a manifest is read: a layer that
 * does not fit the tree (an entry whose directory is not there, a hard
 * link to a file that is gone) is refused, -EINVAL with @err naming the
 * path. @tree is normally the layer's base; on another tree (a stack) a
 * path the layer changes must be as the layer's base had it there (@base,
 * or NULL not to check; @merged, NULL-terminated paths whose layer entries
 * were merged with the tree's already, or NULL, are not checked): else
 * -EEXIST, @err naming it.
 */
int tplfs_layer_apply(struct tplfs_mlist *out, const struct tplfs_mlist *tree,
		      const struct tplfs_mlist *layer,
		      const struct tplfs_mlist *base, const char *const *merged,
		      const char *id, char *err, size_t errlen);

/*
 * The tree of template @os with the application templates @apps (@napps)
 * applied in order, from the sealed manifests of the store @store_fd,
 * into @out (empty on entry). An app is a layer of @os, or of another
 * version where it still applies (every path it changes is there as in
 * its own base: a rebase carried it). Where the tree's dpkg status (or
 * debconf's databases: dpkgstatus.h's stanza files) is not the layer's
 * base's (another app's packages are in it), the layer's is merged with
 * it by stanza, the merge put in the store and the path made
 * always-private. 0, -ENOENT (a version not sealed),
 * -EINVAL (@os is a layer, an app is not one, it does not apply, two
 * change one path) or another negative errno, with @err said.
 */
int tplfs_layer_tree(int store_fd, const char *os, const char (*apps)[256],
		     size_t napps, struct tplfs_mlist *out, char *err,
		     size_t errlen);

/*
 * The packages of layer @full over @base whose postinst a container runs
 * after ct app add of a template imported --run-postinst
 * (tplfs_postinst_order on the two trees' dpkg status and @full's
 * /var/lib/dpkg/info): malloc'd into *@names, *@n of them.
 */
int tplfs_layer_postinst(int store_fd, const struct tplfs_mlist *base,
			 const struct tplfs_mlist *full, char ***names,
			 size_t *n, char *err, size_t errlen);

/* The postinst packages of sealed template @id (none for a template that
 * is not a layer, or was imported without --run-postinst), malloc'd into
 * *@names (tplfs_postinst_free). 0, -ENOENT if it is not sealed, -errno. */
int tplfs_template_postinst(int store_fd, const char *id, char ***names,
			    size_t *n);

/* The version template @id is a layer of into @of ("" if it is not a
 * layer). 0, -ENOENT if it is not sealed, or -errno. */
int tplfs_template_layer_of(int store_fd, const char *id, char *of,
			    size_t size);

/* The highest sealed version (strverscmp) of app template @name that is a
 * layer of @of, as NAME@VERSION into @out; -ENOENT if there is none. */
int tplfs_layer_newest(int store_fd, const char *name, const char *of,
		       char *out, size_t size);

/* Write @l as a version 1 manifest named @id to @f. 0 or -errno. */
int tplfs_mlist_write(const struct tplfs_mlist *l, const char *id, FILE *f);

#endif /* TPLFS_LAYER_H */
