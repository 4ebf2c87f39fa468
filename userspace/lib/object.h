/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Objects in the store: content named by its digest, written once. */
#ifndef TPLFS_OBJECT_H
#define TPLFS_OBJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "origin.h"

/*
 * Put the content of the regular file open at @src_fd into the store whose
 * root directory is open at @store_fd, and fill @info with its origin.
 * Atomic and idempotent: the object is written to a temporary file, synced,
 * made 0444, given fs-verity where the store's filesystem has it (with the
 * digest's parameters, so that its measurement is its name) and renamed
 * into place; if the object already exists, nothing is
 * written. Two writers of the same content at once are safe. Returns 1 if
 * it wrote the object, 0 if the store had it, or a negative errno.
 */
int tplfs_object_put(int store_fd, int src_fd, struct tplfs_origin_info *info);

/*
 * Put @len bytes at @data into the store as tplfs_object_put does (from
 * a memfd): for content made rather than imported (dpkg's status merged
 * by package, layer.c). 1, 0 or a negative errno, as tplfs_object_put.
 */
int tplfs_object_put_data(int store_fd, const void *data, size_t len,
			  struct tplfs_origin_info *info);

/* The @len bytes of the file open at @fd from its start, malloc'd into
 * *@out; -EFBIG over @max, -EIO if it is shorter. */
int tplfs_fd_read_all(int fd, uint64_t len, uint64_t max, char **out);

/* The object of @digest (@size bytes, at most @max) read into *@out. */
int tplfs_object_read(int store_fd, const uint8_t *digest, uint64_t size,
		      uint64_t max, char **out);

/*
 * Copy the object @info names out of the store into @out_fd (an empty
 * file, written from offset 0): its @info->size bytes, holes kept holes.
 * For always-private files, which each container holds its own copy of.
 * 0 or a negative errno (-ENOENT without the object).
 */
int tplfs_object_copy_out(int store_fd, const struct tplfs_origin_info *info,
			  int out_fd);

/*
 * The two halves of a put, for many objects with a few syncs (an import):
 * tplfs_object_stage hashes @src_fd, and if the store lacks its object
 * copies it to a temporary name in the object's directory (@tmp, relative
 * to @store_fd), not synced, and returns 1; 0 if the store has it (@tmp
 * ""); -ESTALE if the file changed while it was hashed or copied (its
 * size, mtime or ctime moved), or another negative errno. Once the caller
 * has synced the store (syncfs), tplfs_object_commit renames @tmp into
 * place: 1, or 0 if another writer was first (@tmp removed), or a
 * negative errno. Nothing names a temporary; store gc removes leftovers.
 */
#define TPLFS_OBJECT_TMP_SIZE	(TPLFS_OBJECT_PATH_SIZE + 32)
int tplfs_object_stage(int store_fd, int src_fd, struct tplfs_origin_info *info,
		       char tmp[TPLFS_OBJECT_TMP_SIZE]);
int tplfs_object_commit(int store_fd, const struct tplfs_origin_info *info,
			const char *tmp);

/*
 * tplfs_object_stage for a file that is the caller's to give: its own
 * extraction of a tarball, on the store's filesystem, that nothing else
 * can write, open at @src_fd and named @name in the directory @dir_fd.
 * Hashed, then moved to the temporary name instead of copied and made the
 * store's owner's, 0444 and without xattrs (its other hard links, if any,
 * see that too). -EXDEV if it is on another filesystem: stage it
 * instead; -ESTALE if @name was not @src_fd's file.
 */
int tplfs_object_adopt(int store_fd, int src_fd, int dir_fd, const char *name,
		       struct tplfs_origin_info *info,
		       char tmp[TPLFS_OBJECT_TMP_SIZE]);

/* What a temporary's name starts with, in the object's directory. */
#define TPLFS_OBJECT_TMP_PREFIX	".tmp."

/* An entry of objects/xx/ as tplfs_objects_each() finds it. */
struct tplfs_object_entry {
	int dir_fd;		/* objects/xx, open */
	unsigned int dir;	/* xx: 0 to 255 */
	const char *name;	/* its name in objects/xx */
	bool is_temporary;	/* a write that did not finish (.tmp.*) */
	bool is_object;		/* named as an object is; else not ours */
	uint8_t digest[TPLFS_DIGEST_SIZE];	/* its name's, if is_object */
};

/*
 * Call @fn for every entry of objects/00 to objects/ff in the store at
 * @store_fd but "." and ".." and other names that start with a dot and are
 * not temporaries; @dir_done (may be NULL) after each of the 256
 * directories, there or not. Stops at the first non-zero return of @fn
 * and returns it; else 0, or a negative errno if a directory that is
 * there cannot be read.
 */
int tplfs_objects_each(int store_fd,
		       int (*fn)(void *arg, const struct tplfs_object_entry *e),
		       void (*dir_done)(void *arg, unsigned int dir),
		       void *arg);

/* Tests only: called by tplfs_object_stage between the hash and the copy. */
extern void (*tplfs_object_stage_hook)(int src_fd);

#endif /* TPLFS_OBJECT_H */
