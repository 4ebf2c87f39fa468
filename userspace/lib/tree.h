/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole trees: removing one, measuring one. Never crossing into mounts. */
#ifndef TPLFS_TREE_H
#define TPLFS_TREE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Remove the tree at @path (absent is fine). 0 or a negative errno. */
int tplfs_tree_remove(const char *path);

/*
 * How far a removal has got, for whoever watches it from another thread:
 * *@removed (if set) counts every entry unlinked (files, then each
 * directory once emptied, @path itself last); @dir_removed, if set, is
 * called in the removing thread after each directory below @path is gone.
 */
struct tplfs_remove_progress {
	_Atomic uint64_t *removed;
	void (*dir_removed)(void *arg);
	void *arg;
};

/* tplfs_tree_remove(), counting in @p (which may be NULL). */
int tplfs_tree_remove_counted(const char *path,
			      struct tplfs_remove_progress *p);

struct tplfs_tree_usage {
	uint64_t bytes;		/* allocated: st_blocks * 512 */
	uint64_t inodes;
};

/*
 * What the tree at @path uses on disk (hard links counted once), by nftw:
 * the reference bench/usage-scan measures tplfs_usage_scan against (the
 * daemon's figures all come from that one, usage_scan.h).
 */
int tplfs_tree_usage(const char *path, struct tplfs_tree_usage *u);

/*
 * Format a path into @buf of @size bytes: 0, or -ENAMETOOLONG (and an
 * empty @buf) if it does not fit.
 */
int tplfs_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* TPLFS_TREE_H */
