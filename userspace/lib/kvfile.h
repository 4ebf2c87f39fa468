/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "key = value" files: /etc/tplfs/tplfs.conf and private/<ct>/ct.conf.
 * One setting a line; blank lines and lines starting with '#' are ignored;
 * spaces around the key and the value are dropped.
 */
#ifndef TPLFS_KVFILE_H
#define TPLFS_KVFILE_H

#include <stddef.h>

/*
 * Called for each setting. Returns 0, or -1 after writing why the value is
 * refused into @err.
 */
typedef int (*tplfs_kv_fn)(void *arg, const char *key, const char *value,
			   char *err, size_t errlen);

/*
 * Read @path and call @fn for every setting. Returns 0, -ENOENT if the file
 * does not exist, or another negative errno with a message naming the file
 * and line in @err.
 */
int tplfs_kv_read(const char *path, tplfs_kv_fn fn, void *arg,
		  char *err, size_t errlen);

#endif /* TPLFS_KVFILE_H */
