/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tplctl: the daemon's replies as people read them. */
#ifndef TPLCTL_OUTPUT_H
#define TPLCTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* A member of a reply's result: a string ("" if absent), a boolean
 * (false if absent). */
const char *reply_str(json_object *o, const char *key);
bool reply_bool(json_object *o, const char *key);
/* A number of a reply (0 if absent). */
uint64_t reply_u64(json_object *o, const char *key);
/* @bytes as people read them ("1.5 GiB") in @buf. */
const char *human_size(uint64_t bytes, char *buf, size_t size);

void print_error(json_object *reply);
void print_progress(json_object *progress);
void print_daemon_status(json_object *result);
void print_ct_stats(json_object *result);
void print_ct_done(json_object *result);
void print_done(json_object *result);
void print_ct_create(json_object *result);
void print_ct_unlink(json_object *result);
void print_ct_list(json_object *result);
/* ct list's columns from -o FIELDS (comma-separated); @usage: a column
 * needs the containers' usage. -1 after a message if FIELDS is bad. */
int ct_list_columns(const char *fields, bool *usage);
void print_ct_status(json_object *result);
void print_ct_quota(json_object *result);
void print_ct_set(json_object *result);
void print_template_import(json_object *result);
void print_template_list(json_object *result);
void print_template_show(json_object *result);
void print_template_publish(json_object *result);
void print_template_maintain(json_object *result);
void print_store_verify(json_object *result);
void print_store_gc(json_object *result);
void print_store_refs(json_object *result);
void print_ct_relink(json_object *result);
void print_ct_rebase(json_object *result);
/* ct app list: the template, then its application templates in order */
void print_ct_app_list(json_object *result);

#endif /* TPLCTL_OUTPUT_H */
