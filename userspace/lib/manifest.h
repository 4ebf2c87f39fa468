/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The template manifest, format version 1 (doc/manifest.md): a sorted,
 * byte-exact text listing of a template tree. A writer and a streaming
 * reader; both refuse what the format does not allow.
 */
#ifndef TPLFS_MANIFEST_H
#define TPLFS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/tplfs.h>

#define TPLFS_MANIFEST_VERSION	1
/* a layer: entries over another version's, and deletions (type '-') */
#define TPLFS_MANIFEST_LAYER_VERSION	2

struct tplfs_xattr {
	char *name;
	uint8_t *value;
	size_t len;
};

/**
 * struct tplfs_mentry - one file of a template
 * @path:      absolute path in the tree (raw bytes, no NUL inside)
 * @type:      'd', 'f', 'l', 'c', 'b', 'p' or 'h'; in a layer also '-', a
 *             deletion (the path alone)
 * @mode:      permission, set-id and sticky bits (07777)
 * @uid, @gid: owner
 * @mtime_sec, @mtime_nsec: modification time
 * @size:      'f': bytes
 * @digest:    'f': the object's fs-verity digest
 * @target:    'l': the symlink's target; 'h': the path of the first link
 * @major, @minor: 'c', 'b': the device
 * @xattrs:    extended attributes, sorted by name (none for 'h')
 */
struct tplfs_mentry {
	char *path;
	char type;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint64_t size;
	uint8_t digest[TPLFS_DIGEST_SIZE];
	char *target;
	uint32_t major;
	uint32_t minor;
	struct tplfs_xattr *xattrs;
	size_t nxattrs;
};

struct tplfs_mwriter;
struct tplfs_mreader;

/*
 * Start writing a manifest for template @id ("name@version") to @f, with the
 * always-private paths @private (sorted, @nprivate of them). Returns 0 or a
 * negative errno.
 */
int tplfs_mwriter_open(FILE *f, const char *id, const char *const *private,
		       size_t nprivate, struct tplfs_mwriter **w);
/*
 * The same for a layer of version @layer_of (format version 2): entries
 * need not start at "/" nor have their parents, and an entry of type '-'
 * (its path alone) deletes that path and all beneath it.
 */
int tplfs_mwriter_open_layer(FILE *f, const char *id, const char *layer_of,
			     const char *const *private, size_t nprivate,
			     struct tplfs_mwriter **w);
/*
 * A layer's package whose maintainer scripts a container runs after
 * ct app add (doc/apps.md, "postinst"): "postinst PKG" in the header, in
 * the order given; before the first entry. -EINVAL if @w is not a layer's,
 * entries were added, or @pkg is not a package name (tplfs_manifest_pkg_valid).
 */
int tplfs_mwriter_postinst(struct tplfs_mwriter *w, const char *pkg);
/* A Debian package name, [a-z0-9][a-z0-9+.-]+, with an optional :ARCH. */
bool tplfs_manifest_pkg_valid(const char *pkg);
/* Add the next entry; -EINVAL if it is invalid or out of order. */
int tplfs_mwriter_add(struct tplfs_mwriter *w, const struct tplfs_mentry *e);
/* Write the end line and free @w (not @f). 0 or a negative errno. */
int tplfs_mwriter_close(struct tplfs_mwriter *w);

/*
 * Start reading the manifest in @f: reads and checks the header. On error
 * returns a negative errno with the line and the reason in @err.
 */
int tplfs_mreader_open(FILE *f, struct tplfs_mreader **r, char *err,
		       size_t errlen);
const char *tplfs_mreader_template(const struct tplfs_mreader *r);
/* The version a layer (format version 2) lies over; NULL for version 1. */
const char *tplfs_mreader_layer_of(const struct tplfs_mreader *r);
size_t tplfs_mreader_nprivate(const struct tplfs_mreader *r);
const char *tplfs_mreader_private(const struct tplfs_mreader *r, size_t i);
/* A layer's postinst packages, in order (read, as the private paths are,
 * with the first entry) */
size_t tplfs_mreader_npostinst(const struct tplfs_mreader *r);
const char *tplfs_mreader_postinst(const struct tplfs_mreader *r, size_t i);
/*
 * Copies of @r's header strings (@count and @get: the private paths or the
 * postinst packages) into a malloc'd *@v, *@n of them so far (on -ENOMEM
 * too: the caller frees what was copied). 0 or -ENOMEM.
 */
int tplfs_mreader_copy_names(const struct tplfs_mreader *r,
			     size_t (*count)(const struct tplfs_mreader *r),
			     const char *(*get)(const struct tplfs_mreader *r,
						size_t i),
			     char ***v, size_t *n);
/*
 * The next entry, valid until the next call: returns 1, 0 after the end
 * line (checked), or a negative errno with the line and reason in @err.
 */
int tplfs_mreader_next(struct tplfs_mreader *r, struct tplfs_mentry *e,
		       char *err, size_t errlen);
void tplfs_mreader_close(struct tplfs_mreader *r);

/*
 * A deep copy of @in (say a reader's entry, valid only until its next)
 * into @out, to be freed with tplfs_mentry_free. 0, or -ENOMEM with
 * @out holding nothing.
 */
int tplfs_mentry_copy(struct tplfs_mentry *out, const struct tplfs_mentry *in);
/* Free what @e holds (not @e), leaving it holding nothing. */
void tplfs_mentry_free(struct tplfs_mentry *e);

/* Escape the @len bytes of @in as the format does; malloc'd, NULL on ENOMEM. */
char *tplfs_manifest_escape(const void *in, size_t len);
/*
 * Unescape @in (NUL-terminated) into a malloc'd buffer of *@len bytes plus a
 * NUL; NULL if @in is not validly escaped (errno EINVAL) or on ENOMEM.
 */
char *tplfs_manifest_unescape(const char *in, size_t *len);

/* Is @path a valid manifest path (absolute, normal, no NUL)? */
bool tplfs_manifest_path_valid(const char *path);

#endif /* TPLFS_MANIFEST_H */
