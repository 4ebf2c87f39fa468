// SPDX-License-Identifier: LGPL-2.1-or-later
/* A list in a reply, bounded to fit in one message (replylist.h). */
#include "replylist.h"

#include <string.h>

#include "proto.h"

void reply_list_init(struct reply_list *l)
{
	*l = (struct reply_list){ .arr = json_object_new_array() };
}

bool reply_list_add(struct reply_list *l, json_object *o)
{
	size_t len;

	if (!o || !l->arr || l->left_out) {	/* a list is a prefix */
		json_object_put(o);
		l->left_out++;
		return false;
	}
	len = strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) + 1;
	if (l->used + len > REPLY_LIST_BUDGET) {
		json_object_put(o);
		l->left_out++;
		return false;
	}
	l->used += len;
	l->listed++;
	json_object_array_add(l->arr, o);
	return true;
}

void reply_list_put(const struct reply_list *l, json_object *r, const char *name,
		    const char *all_listed)
{
	json_object_object_add(r, name, l->arr ? json_object_get(l->arr) :
			       json_object_new_array());
	tplfs_json_bool(r, all_listed, !l->left_out);
}

void reply_list_free(struct reply_list *l)
{
	json_object_put(l->arr);
	l->arr = NULL;
}
