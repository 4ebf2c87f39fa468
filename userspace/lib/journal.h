/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's journal: one small JSON record per operation under way, in
 * <root>/journal/<name>.json. A record is written (temporary file, fsync,
 * rename, directory fsync) before the operation changes anything and after
 * each step that recovery must know about, and removed when the operation
 * is complete. After a crash or kill -9, the records left say what to
 * finish or roll back. doc/tplfsd.md lists the operations and their steps.
 */
#ifndef TPLFS_JOURNAL_H
#define TPLFS_JOURNAL_H

#include <json-c/json.h>

/* Open (creating it if needed) the journal directory; returns an fd. */
int tplfs_journal_open(const char *dir);

/* Write @rec as record @name, atomically and durably. 0 or -errno. */
int tplfs_journal_write(int dirfd, const char *name, json_object *rec);

/* Remove record @name durably. 0 or -errno (a missing record is 0). */
int tplfs_journal_remove(int dirfd, const char *name);

/*
 * Call @fn for every record, with its name (without ".json") and its
 * content (owned by the caller of @fn; NULL if unreadable). Leftover
 * temporary files are removed. Returns the number of records or -errno.
 */
int tplfs_journal_each(int dirfd,
		       void (*fn)(void *arg, const char *name, json_object *rec),
		       void *arg);

#endif /* TPLFS_JOURNAL_H */
