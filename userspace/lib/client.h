/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client side of the tplfsd protocol (proto.h). */
#ifndef TPLFS_CLIENT_H
#define TPLFS_CLIENT_H

#include <stddef.h>
#include <json-c/json.h>

/*
 * Connect to the daemon's socket @path. Returns the fd, or a negative errno
 * (-ENOENT, -ECONNREFUSED: no daemon) with a message in @err.
 */
int tplfs_client_connect(const char *path, char *err, size_t errlen);

/* Called for each progress message of a request. */
typedef void (*tplfs_progress_fn)(void *arg, json_object *progress);

/*
 * Send a request (@verb, @args; @args is consumed and may be NULL) on @fd and
 * wait for its reply, passing progress messages to @progress (may be NULL).
 * On success returns 0 and the reply message in @reply (release with
 * json_object_put); its "ok" member says whether the request succeeded.
 * Returns a negative errno when the exchange itself fails.
 */
int tplfs_client_call(int fd, const char *verb, json_object *args,
		      tplfs_progress_fn progress, void *arg,
		      json_object **reply);

#endif /* TPLFS_CLIENT_H */
