/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tplctl ct rebase --all: every container of one template version. */
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

#endif /* TPLCTL_REBASE_ALL_H */
