/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What json-c's strict mode lets through and a request must not have: a
 * string (or member name) with an escaped NUL, which json-c keeps but C
 * strings cut ("web1\u0000x" would name web1), and an object with a member
 * name twice, of which json-c silently keeps the last.
 */
#ifndef TPLFS_JSONSTRICT_H
#define TPLFS_JSONSTRICT_H

#include <stddef.h>
#include <json-c/json.h>

/*
 * Check the JSON text @buf (@len bytes, already parsed by json-c into
 * @root, so well-formed): NULL if it has neither, or the reason.
 */
const char *tplfs_json_strict_check(const char *buf, size_t len,
				    json_object *root);

#endif /* TPLFS_JSONSTRICT_H */
