/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A list in a reply, bounded so that the reply still fits in one message
 * (TPLFS_MSG_MAX): entries are added while their JSON text fits in the
 * list's budget; those after are only counted. A path may be PATH_MAX
 * bytes, so a count alone cannot bound a list of paths.
 */
#ifndef TPLFSD_REPLYLIST_H
#define TPLFSD_REPLYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "proto.h"

/* What one list may take of a message: the rest is the reply's fields. */
#define REPLY_LIST_BUDGET	(TPLFS_MSG_MAX / 2)

struct reply_list {
	json_object *arr;	/* NULL if it could not be made */
	size_t used;
	uint64_t listed, left_out;
};

/* An empty list; arr is NULL if out of memory (adds then count only). */
void reply_list_init(struct reply_list *l);

/* Add @o (taken: freed if it does not fit). True if it was listed. */
bool reply_list_add(struct reply_list *l, json_object *o);

/* Put the list in @r as @name (a reference: @l keeps its own), and
 * @all_listed: whether it is whole. */
void reply_list_put(const struct reply_list *l, json_object *r, const char *name,
		    const char *all_listed);

void reply_list_free(struct reply_list *l);

#endif
