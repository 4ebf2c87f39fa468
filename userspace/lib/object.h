/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Objects in the store: content named by its digest, written once. */
#ifndef TPLFS_OBJECT_H
#define TPLFS_OBJECT_H

#include "origin.h"

/*
 * Put the content of the regular file open at @src_fd into the store whose
 * root directory is open at @store_fd, and fill @info with its origin.
 * Atomic and idempotent: the object is written to a temporary file, synced,
 * made 0444 and renamed into place; if the object already exists, nothing is
 * written. Two writers of the same content at once are safe. Returns 1 if
 * it wrote the object, 0 if the store had it, or a negative errno.
 */
int tplfs_object_put(int store_fd, int src_fd, struct tplfs_origin_info *info);

#endif /* TPLFS_OBJECT_H */
