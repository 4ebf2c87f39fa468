/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The template store (DESIGN.md "Host layout"): objects/, templates/,
 * cache/, and tmp/ for imports under way. A template version lives in
 * templates/<name>/<version>/: its manifest (doc/manifest.md) and its state,
 * "importing" until sealed, then "sealed" for good.
 */
#ifndef TPLFS_STORE_H
#define TPLFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/tplfs.h>

#define TPLFS_TEMPLATE_PART_MAX	63

/* name: [a-z0-9][a-z0-9._-]{0,62}; version: [A-Za-z0-9][A-Za-z0-9._+-]{0,62} */
bool tplfs_template_name_valid(const char *name);
bool tplfs_template_version_valid(const char *version);

struct tplfs_template_id {
	char name[TPLFS_TEMPLATE_PART_MAX + 1];
	char version[TPLFS_TEMPLATE_PART_MAX + 1];
};

/* Parse "NAME@VERSION"; -EINVAL with the reason in @err if it is not one. */
int tplfs_template_id_parse(const char *id, struct tplfs_template_id *t,
			    char *err, size_t errlen);

/* Open the store at @path, making its directories if needed: an fd. */
int tplfs_store_open(const char *path);

enum tplfs_template_state {
	TPLFS_TEMPLATE_ABSENT,
	TPLFS_TEMPLATE_IMPORTING,
	TPLFS_TEMPLATE_SEALED,
};

enum tplfs_template_state tplfs_template_state(int store_fd,
					       const struct tplfs_template_id *t);

/*
 * Start a new version: its directory, in state "importing". -EEXIST if the
 * version exists in any state.
 */
int tplfs_template_begin(int store_fd, const struct tplfs_template_id *t);

/*
 * Where the manifest is written while importing (opened for writing, to be
 * passed to tplfs_template_seal).
 */
FILE *tplfs_template_manifest_create(int store_fd,
				     const struct tplfs_template_id *t);

/*
 * Seal: sync the manifest written to @manifest (and close it), rename it
 * into place, and record the state "sealed". 0 or a negative errno.
 */
int tplfs_template_seal(int store_fd, const struct tplfs_template_id *t,
			FILE *manifest);

/* The manifest of a sealed version, for reading; NULL with errno. */
FILE *tplfs_template_manifest_open(int store_fd,
				   const struct tplfs_template_id *t);

/* Remove a version (any state) and its name's directory if now empty. */
int tplfs_template_remove(int store_fd, const struct tplfs_template_id *t);

/*
 * The highest sealed version of template @name into @version (its size
 * TPLFS_TEMPLATE_PART_MAX + 1), by strverscmp(3): numbers within versions
 * compare as numbers (12.10 after 12.9). 0, or -ENOENT if it has none.
 */
int tplfs_template_latest(int store_fd, const char *name, char *version);

/* Call @fn for every version in the store (any state). */
int tplfs_templates_each(int store_fd,
			 int (*fn)(void *arg, const struct tplfs_template_id *t,
				   enum tplfs_template_state state),
			 void *arg);

/*
 * store gc: remove from objects/ every object not in @keep and every
 * temporary left by a write that did not finish; an entry named as no
 * object is (not ours) is left alone. The caller holds the store's gc lock
 * and has made @keep from every sealed manifest.
 */
/*
 * A temporary younger than this, by the store's own clock, may be another
 * writer's under way (another host's, on a shared store): gc leaves it.
 */
#define TPLFS_GC_TMP_GRACE	(24 * 3600)
/* The file whose mtime tells the store's time, in the store's top. */
#define TPLFS_GC_CLOCK_FILE	".gc.clock"

struct tplfs_gc {
	const uint8_t (*keep)[TPLFS_DIGEST_SIZE];	/* sorted (memcmp) */
	size_t nkeep;
	bool dry_run;		/* remove nothing, count what would go */
	/*
	 * Seconds a temporary is left for (0: none), measured on the clock of
	 * the store's filesystem (the NFS server's), not this host's: the
	 * mtime a file in the store gets now, against the temporary's mtime.
	 */
	uint64_t tmp_grace;
	/* each removed: the digest's hex, or objects/xx/NAME of a temporary */
	void (*removed)(void *arg, const char *what);
	void (*dir_done)(void *arg, unsigned int dir);	/* 0 to 255 */
	void *arg;
	/* the outcome */
	uint64_t nremoved;
	uint64_t freed_bytes;	/* their blocks */
	uint64_t kept;
	uint64_t young;		/* temporaries left: within the grace */
	int64_t clock;		/* (the store's time when gc began) */
};

/*
 * The store's filesystem's clock into *@now: the mtime a file there
 * (TPLFS_GC_CLOCK_FILE) gets now; on NFS the server sets it (a NULL
 * futimens is SET_TO_SERVER_TIME), so every host reads the same clock.
 * 0 or a negative errno.
 */
int tplfs_store_clock(int store_fd, int64_t *now);

/* 0, or a negative errno if objects/ could not be read (some may be gone). */
int tplfs_store_gc(int store_fd, struct tplfs_gc *gc);

#endif /* TPLFS_STORE_H */
