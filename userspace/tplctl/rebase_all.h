/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tplctl ct rebase --all, template publish --rebase: containers rebased
 * one after the other.
 */
#ifndef TPLCTL_REBASE_ALL_H
#define TPLCTL_REBASE_ALL_H

#include <stdbool.h>
#include <json-c/json.h>

/* main.c: a ct.list reply made whole (all its parts). 0 or -errno. */
int list_rest(int fd, json_object *reply, bool usage);

/*
 * Rebase every container whose template is @from with @args ("to",
 * "dry_run"; taken), one after the other on the connection @fd, telling
 * progress on stderr. Returns the exit status: 0, or 1 if any failed.
 */
int rebase_all(int fd, const char *from, json_object *args, bool json);

/* The ids of the containers made from @from (a new array), or NULL. */
json_object *containers_of(int fd, const char *from);

/*
 * Rebase the containers @ids with @args (not taken), one after the other,
 * telling each on stderr and printing each result unless @json; their
 * replies (a new array, filled only if @json), and in *@failed how many
 * failed.
 */
json_object *rebase_each(int fd, json_object *ids, json_object *args,
			 bool json, size_t *failed);

#endif /* TPLCTL_REBASE_ALL_H */
