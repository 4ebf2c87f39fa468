// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The verbs tplfsd answers, who may use them, and the ones that are quick
 * enough to answer in the loop. doc/protocol.md documents each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "jobs.h"
#include "kchan.h"
#include "tplfsd.h"
#include "version.h"

struct verb {
	const char *name;
	bool writes;			/* root only */
	const char *const *args;	/* the arguments it accepts */
	void (*serve)(struct req *rq);
};

static const char *const no_args[] = { NULL };
static const char *const id_args[] = { "id", NULL };
static const char *const umount_args[] = { "id", "force", NULL };

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void serve_daemon_status(struct req *rq)
{
	struct daemon *d = rq->d;
	json_object *r = json_object_new_object();
	json_object *k = json_object_new_object();
	json_object *cts = json_object_new_array();

	json_object_object_add(r, "version", json_object_new_string(TPLFS_VERSION));
	json_object_object_add(r, "pid", json_object_new_int(getpid()));
	json_object_object_add(r, "uptime_s",
			       json_object_new_double(seconds_since(&d->started)));
	json_object_object_add(r, "root", json_object_new_string(d->cfg.root));
	json_object_object_add(r, "store", json_object_new_string(d->cfg.store));
	json_object_object_add(r, "socket", json_object_new_string(d->cfg.socket));
	json_object_object_add(r, "capabilities",
			       json_object_new_string(tplfs_caps_kept()));
	json_object_object_add(r, "clients", json_object_new_int((int)d->nclients));
	json_object_object_add(r, "requests",
			       json_object_new_uint64(d->requests));
	json_object_object_add(r, "jobs",
			       json_object_new_int((int)jobs_pending(d)));
	json_object_object_add(r, "recovered",
			       json_object_new_int((int)d->recovered));
	json_object_object_add(k, "available",
			       json_object_new_boolean(kchan_available(d)));
	json_object_object_add(k, "events",
			       json_object_new_uint64(kchan_events(d)));
	json_object_object_add(k, "next_seq",
			       json_object_new_uint64(kchan_next_seq(d)));
	json_object_object_add(r, "kernel", k);
	for (struct ctstate *ct = d->cts; ct; ct = ct->next) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "id", json_object_new_string(ct->id));
		json_object_object_add(c, "mounted",
				       json_object_new_boolean(ct->mounted));
		if (ct->mounted)
			json_object_object_add(c, "root",
					       json_object_new_string(ct->target));
		json_object_object_add(c, "busy",
				       json_object_new_boolean(ct->busy));
		json_object_array_add(cts, c);
	}
	json_object_object_add(r, "containers", cts);
	req_reply(rq, tplfs_reply_ok(r));
}

static bool get_id(struct req *rq, const char **id)
{
	if (tplfs_args_string(rq->msg.args, "id", id)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "%s needs \"id\", a container id string",
			  rq->msg.verb));
		return false;
	}
	if (!tplfs_ct_id_valid(*id)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"%s\" is not a container id ([a-z0-9][a-z0-9_-]{0,62})",
			  *id));
		return false;
	}
	return true;
}

static void add_u64(json_object *o, const char *key, __u64 v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void stats_done(void *arg, int err, const struct tplfs_mount_stats *st)
{
	struct req *rq = arg;
	const char *id = NULL;
	json_object *r;

	tplfs_args_string(rq->msg.args, "id", &id);
	if (err == -ENOENT) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "%s is not mounted", id));
		return;
	}
	if (err == -ENODEV) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_UNAVAILABLE, ENODEV,
			  "the tplfs module is not loaded (modprobe tplfs)"));
		return;
	}
	if (err) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, -err,
			  "GET_STATS %s: %s", id, strerror(-err)));
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "id", json_object_new_string(id));
	json_object_object_add(r, "volatile", json_object_new_boolean(
			       st->flags & TPLFS_STATS_VOLATILE));
	add_u64(r, "lookups", st->lookups);
	add_u64(r, "stub_opens", st->stub_opens);
	add_u64(r, "copy_ups", st->copy_ups);
	add_u64(r, "copy_up_bytes", st->copy_up_bytes);
	add_u64(r, "copy_up_ns", st->copy_up_ns);
	add_u64(r, "quota_denials", st->quota_denials);
	req_reply(rq, tplfs_reply_ok(r));
}

static void serve_ct_stats(struct req *rq)
{
	const char *id;

	if (get_id(rq, &id))
		kchan_get_stats(rq->d, id, stats_done, rq);
}

static void serve_ct_mount(struct req *rq)
{
	const char *id;

	if (get_id(rq, &id))
		ctops_mount(rq, id);
}

static void serve_ct_umount(struct req *rq)
{
	bool force = false;
	const char *id;

	if (tplfs_args_bool(rq->msg.args, "force", &force) < 0) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"force\" is a boolean"));
		return;
	}
	if (get_id(rq, &id))
		ctops_umount(rq, id, force);
}

static const struct verb verbs[] = {
	{ "daemon.status", false, no_args, serve_daemon_status },
	{ "ct.stats", false, id_args, serve_ct_stats },
	{ "ct.mount", true, id_args, serve_ct_mount },
	{ "ct.umount", true, umount_args, serve_ct_umount },
};

void verbs_dispatch(struct req *rq)
{
	const struct verb *v = NULL;
	const char *bad;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, rq->msg.verb))
			v = &verbs[i];
	if (!v) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_UNKNOWN_VERB, 0,
			  "unknown verb \"%s\"", rq->msg.verb));
		return;
	}
	if (v->writes && !rq->can_write) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_DENIED, EPERM,
			  "%s changes the host: root only", v->name));
		return;
	}
	if (tplfs_args_check(rq->msg.args, v->args, &bad)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "%s takes no argument \"%s\"", v->name, bad));
		return;
	}
	v->serve(rq);
}
