// SPDX-License-Identifier: GPL-2.0-or-later
/* tplctl ct rebase --all: see rebase_all.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "output.h"
#include "rebase_all.h"

static const char *field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	       json_object_get_string(v) : "";
}

json_object *rebase_each(int fd, json_object *ids, json_object *args,
			 bool json, size_t *failed)
{
	size_t n = json_object_array_length(ids);
	json_object *replies = json_object_new_array();

	*failed = 0;
	for (size_t i = 0; i < n; i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
		json_object *a = NULL, *reply, *ok, *res;
		int ret;

		json_object_deep_copy(args, &a, NULL);
		json_object_object_add(a, "id", json_object_new_string(id));
		fprintf(stderr, "tplctl: [%zu/%zu] ct rebase %s\n", i + 1, n, id);
		ret = tplfs_client_call(fd, "ct.rebase", a, NULL, NULL, &reply);
		if (ret) {
			fprintf(stderr, "tplctl: ct.rebase %s: %s\n", id,
				strerror(-ret));
			*failed += n - i;	/* the connection is gone */
			break;
		}
		json_object_object_get_ex(reply, "ok", &ok);
		if (!json_object_get_boolean(ok))
			(*failed)++;
		if (json)
			json_object_array_add(replies, json_object_get(reply));
		else if (json_object_get_boolean(ok) &&
			 json_object_object_get_ex(reply, "result", &res))
			print_ct_rebase(res);
		else
			print_error(reply);
		json_object_put(reply);
	}
	return replies;
}

json_object *containers_of(int fd, const char *from)
{
	json_object *reply, *res, *all, *ids;
	int ret;

	ret = tplfs_client_call(fd, "ct.list", json_object_new_object(), NULL,
				NULL, &reply);
	if (!ret)
		ret = list_rest(fd, reply, false);
	if (ret) {
		fprintf(stderr, "tplctl: ct.list: %s\n", strerror(-ret));
		return NULL;
	}
	if (!json_object_object_get_ex(reply, "result", &res) ||
	    !json_object_object_get_ex(res, "containers", &all)) {
		print_error(reply);
		json_object_put(reply);
		return NULL;
	}
	ids = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *c = json_object_array_get_idx(all, i);

		if (!strcmp(field(c, "template"), from))
			json_object_array_add(ids,
				json_object_new_string(field(c, "id")));
	}
	json_object_put(reply);
	return ids;
}

int rebase_all(int fd, const char *from, json_object *args, bool json)
{
	json_object *ids = containers_of(fd, from), *replies;
	size_t n, failed;

	if (!ids) {
		json_object_put(args);
		return 1;
	}
	n = json_object_array_length(ids);
	replies = rebase_each(fd, ids, args, json, &failed);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(replies,
		       JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		printf("%zu containers of %s: %zu rebased, %zu failed\n", n, from,
		       n - failed, failed);
	json_object_put(replies);
	json_object_put(ids);
	json_object_put(args);
	return failed ? 1 : 0;
}
