/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Template tarballs (libarchive): extracting one for import, and writing a
 * template version as a template cache, a .tar.zst that imports back to the
 * same manifest.
 */
#ifndef TPLFS_TARBALL_H
#define TPLFS_TARBALL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Extract the tarball @path (tar, any compression libarchive reads) into
 * the empty directory @dest, keeping modes, numeric owners, times, xattrs,
 * ACLs, links, devices and holes. Refuses, naming the entry, an absolute
 * path, a ".." component, a hard link to such a path, and writing through a
 * symlink. After each entry @progress (may be NULL) is told how many bytes
 * of the file @path were read, and its size. Returns 0 or a negative
 * errno, with the reason in @err.
 */
typedef void (*tplfs_tarball_progress_fn)(void *arg, uint64_t read,
					  uint64_t size);
int tplfs_tarball_extract(const char *path, const char *dest,
			  uint64_t *entries, tplfs_tarball_progress_fn progress,
			  void *arg, char *err, size_t errlen);

/*
 * Write the template whose manifest is open at @manifest, objects in the
 * store at @store_fd, as a pax tar compressed with zstd to @out_fd (a file
 * named @out in messages; not closed). Returns 0 or a negative errno, with
 * the reason in @err.
 */
int tplfs_tarball_export(int store_fd, FILE *manifest, int out_fd,
			 const char *out, uint64_t *entries, char *err,
			 size_t errlen);

#endif /* TPLFS_TARBALL_H */
