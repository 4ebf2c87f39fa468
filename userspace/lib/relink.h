/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Relink (issue 17, doc/rebase.md): private files of a container whose
 * content equals an object of its templates become stubs of that object
 * again, keeping their inode (owner, mode, times, xattrs, hard links).
 * The usual cause: the container ran the same update the template got.
 * Only files whose size is an object's are hashed.
 */
#ifndef TPLFS_RELINK_H
#define TPLFS_RELINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/tplfs.h>

/* The objects a relink may point files at, by size and digest. */
struct tplfs_objset {
	struct tplfs_objref {
		uint64_t size;
		uint8_t digest[TPLFS_DIGEST_SIZE];
	} *v;
	size_t n, cap;
	char **private;		/* the always-private paths: never relinked */
	size_t nprivate, private_cap;
	bool sorted;
};

/*
 * Add every regular file and the always-private paths of the manifest
 * @f. Returns 0, or a negative errno with the reason in @err.
 */
int tplfs_objset_add_manifest(struct tplfs_objset *s, FILE *f, char *err,
			      size_t errlen);
/* Add one object. 0 or -ENOMEM. */
int tplfs_objset_add(struct tplfs_objset *s, uint64_t size,
		     const uint8_t digest[TPLFS_DIGEST_SIZE]);
/* Is it one of the set's? (Sorts the set the first time.) */
bool tplfs_objset_has(struct tplfs_objset *s, uint64_t size,
		      const uint8_t digest[TPLFS_DIGEST_SIZE]);
void tplfs_objset_free(struct tplfs_objset *s);

/*
 * How one file is made a stub: through the module while the container is
 * mounted (korigin.h: GET_ORIGIN before the file is hashed, SET_ORIGIN
 * after, which refuses a file that changed, is open or is written to), or
 * in the private area itself while it is not (the caller keeps it so).
 * @state reads, as GET_ORIGIN does, a stub's origin or what tells a
 * private file changed into @st; @swap makes it a stub of @origin if it
 * still is @st: 0, -ESTALE (it changed), -EBUSY or -ETXTBSY (open), or
 * another negative errno. @fd is the file, opened read-only in the private
 * area. A rebase uses the same two, for stubs too.
 */
struct tplfs_relink_ops {
	int (*state)(void *arg, int fd, struct tplfs_origin_state *st);
	int (*swap)(void *arg, int fd, const struct tplfs_origin_state *st,
		    const uint8_t origin[TPLFS_ORIGIN_SIZE]);
	void *arg;
};

/* The private area's own operations, for a container that is not mounted. */
extern const struct tplfs_relink_ops tplfs_relink_unmounted;

/* The module's, for container @ct (a static string the caller keeps). */
struct tplfs_relink_ops tplfs_relink_mounted(const char *ct);

struct tplfs_relink_report {
	uint64_t files;		/* private regular files seen */
	uint64_t hashed;	/* of those, hashed: an object has their size */
	uint64_t relinked;	/* made stubs (with dry_run: would be) */
	uint64_t bytes;		/* the data they no longer hold (st_blocks) */
	uint64_t changed;	/* equal when hashed, changed before the swap */
	uint64_t busy;		/* open, left as they are */
};

/*
 * Relink the private area open at @fs_fd against @objects: every private
 * regular file (not an always-private path, not on another filesystem)
 * whose size and digest are an object's, through @ops; with @dry_run
 * only counted. @file, if set, is called with each relinked path. Returns
 * 0 (files that changed or were busy are counted, not errors), or a
 * negative errno with the path and reason in @err. Iterative: any depth.
 * Sorts @objects the first time.
 */
int tplfs_relink(int fs_fd, struct tplfs_objset *objects,
		 const struct tplfs_relink_ops *ops, bool dry_run,
		 void (*file)(void *arg, const char *path), void *arg,
		 struct tplfs_relink_report *report, char *err, size_t errlen);

#endif /* TPLFS_RELINK_H */
