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
#include "p2vplan.h"
#include "replylist.h"
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
static const char *const gc_args[] = { "dry_run", NULL };
static const char *const refs_args[] = { "prune", NULL };
static const char *const list_args[] = { "after", "usage", NULL };
static const char *const status_args[] = { "id", "scan", NULL };
static const char *const create_args[] = { "id", "template", "volatile", "apps",
					    "quota", "inodes", "grace", "clone",
					    "userns", NULL };
static const char *const set_args[] = { "id", "volatile", "quota", "inodes",
					 "grace", NULL };
static const char *const quota_args[] = { "id", "quota", "inodes", "grace",
					   NULL };
static const char *const tpl_args[] = { "template", NULL };
static const char *const import_args[] = { "template", "from", "private",
					    "layer_of", "run_postinst", NULL };
static const char *const export_args[] = { "template", "file", NULL };
static const char *const p2v_stage_args[] = { "id", "from", "mounts",
	"excludes", NULL };
static const char *const p2v_final_args[] = { "id", "template", "quota",
	"inodes", "grace", NULL };
static const char *const relink_args[] = { "id", "against", "dry_run", NULL };
static const char *const rebase_args[] = { "id", "to", "dry_run", NULL };
static const char *const app_add_args[] = { "id", "app", "dry_run", "keep_mine",
					    NULL };
static const char *const app_rm_args[] = { "id", "app", "dry_run", NULL };
static const char *const publish_args[] = { "template", "from_ct", "layer_of",
					    "run_postinst", NULL };
static const char *const maintain_args[] = { "template", "ct", "abort", NULL };

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static json_object *status_entry(const struct ctstate *ct)
{
	json_object *c = json_object_new_object();

	tplfs_json_str(c, "id", ct->id);
	tplfs_json_bool(c, "mounted", ct->mounted);
	if (ct->mounted)
		tplfs_json_str(c, "root", ct->target);
	tplfs_json_bool(c, "busy", ct->busy);
	return c;
}

/*
 * The mounted and busy containers, busy ones first, as many as fit in a
 * reply list (hundreds of mounts overflowed the message and left
 * daemon.status unanswerable); the counts are always whole.
 */
static void status_containers(struct daemon *d, json_object *r)
{
	uint64_t mounted = 0, busy = 0;
	struct reply_list cts;

	reply_list_init(&cts);
	for (int pass = 0; pass < 2; pass++) {
		for (struct ctstate *ct = d->cts; ct; ct = ct->next) {
			if (ct->busy != (pass == 0))
				continue;
			mounted += ct->mounted;
			busy += ct->busy;
			reply_list_add(&cts, status_entry(ct));
		}
	}
	reply_list_put(&cts, r, "containers", "containers_all_listed");
	reply_list_free(&cts);
	tplfs_json_u64(r, "containers_mounted", mounted);
	tplfs_json_u64(r, "containers_busy", busy);
}

static void serve_daemon_status(struct req *rq)
{
	struct daemon *d = rq->d;
	json_object *r = json_object_new_object();
	json_object *k = json_object_new_object();

	tplfs_json_str(r, "version", TPLFS_VERSION);
	json_object_object_add(r, "pid", json_object_new_int(getpid()));
	json_object_object_add(r, "uptime_s",
			       json_object_new_double(seconds_since(&d->started)));
	tplfs_json_str(r, "root", d->cfg.root);
	tplfs_json_str(r, "store", d->cfg.store);
	tplfs_json_str(r, "socket", d->cfg.socket);
	tplfs_json_str(r, "capabilities", tplfs_caps_kept());
	json_object_object_add(r, "clients", json_object_new_int((int)d->nclients));
	tplfs_json_u64(r, "requests", d->requests);
	json_object_object_add(r, "jobs",
			       json_object_new_int((int)jobs_pending(d)));
	json_object_object_add(r, "recovered",
			       json_object_new_int((int)d->recovered));
	tplfs_json_bool(k, "available", kchan_available(d));
	tplfs_json_u64(k, "events", kchan_events(d));
	tplfs_json_u64(k, "next_seq", kchan_next_seq(d));
	json_object_object_add(r, "kernel", k);
	status_containers(d, r);
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
	tplfs_json_str(r, "id", id);
	tplfs_json_bool(r, "volatile", 
			       st->flags & TPLFS_STATS_VOLATILE);
	tplfs_json_u64(r, "lookups", st->lookups);
	tplfs_json_u64(r, "stub_opens", st->stub_opens);
	tplfs_json_u64(r, "copy_ups", st->copy_ups);
	tplfs_json_u64(r, "copy_up_bytes", st->copy_up_bytes);
	tplfs_json_u64(r, "copy_up_ns", st->copy_up_ns);
	tplfs_json_u64(r, "quota_denials", st->quota_denials);
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

/* A string argument that must be there; replies and returns NULL if not. */
static const char *need_string(struct req *rq, const char *name)
{
	const char *v;

	if (tplfs_args_string(rq->msg.args, name, &v)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "%s needs \"%s\", a string", rq->msg.verb, name));
		return NULL;
	}
	return v;
}

/* An optional string argument (NULL if absent); false and a reply if it
 * is not a string. */
static bool opt_string(struct req *rq, const char *name, const char **val)
{
	*val = NULL;
	if (tplfs_args_string(rq->msg.args, name, val) < 0) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"%s\" is a string", name));
		return false;
	}
	return true;
}

/* An optional boolean argument; false and a reply if it is not one. */
static bool opt_bool(struct req *rq, const char *name, bool *val)
{
	*val = false;
	if (tplfs_args_bool(rq->msg.args, name, val) < 0) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"%s\" is a boolean", name));
		return false;
	}
	return true;
}

/* "clone": "linked" (the default) or "full"; false after a reply. */
static bool clone_arg(struct req *rq, bool *full)
{
	json_object *v;
	const char *s;

	*full = false;
	if (!json_object_object_get_ex(rq->msg.args, "clone", &v))
		return true;
	s = json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
	if (strcmp(s, "linked") && strcmp(s, "full")) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"clone\" is \"linked\" or \"full\""));
		return false;
	}
	*full = !strcmp(s, "full");
	return true;
}

static void serve_ct_unlink(struct req *rq)
{
	const char *id;

	if (get_id(rq, &id))
		ctunlink_serve(rq, id);
}

/* "apps": application templates, NAME@VERSION, each name once, in the
 * order they are applied; false after a reply. */
static bool apps_arg(struct req *rq, struct tplfs_ct_apps *apps)
{
	json_object *arr;
	size_t n;

	apps->n = 0;
	if (!json_object_object_get_ex(rq->msg.args, "apps", &arr))
		return true;
	n = json_object_is_type(arr, json_type_array) ?
	    json_object_array_length(arr) : 0;
	if (!json_object_is_type(arr, json_type_array) || n > TPLFS_CT_APPS_MAX) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"apps\" is an array of at most %d NAME@VERSION",
			  TPLFS_CT_APPS_MAX));
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		const char *s = json_object_get_string(v);
		struct tplfs_template_id t;
		char err[256];

		if (!json_object_is_type(v, json_type_string) ||
		    tplfs_template_id_parse(s, &t, err, sizeof(err)) ||
		    tplfs_ct_apps_find(apps, t.name) >= 0) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
				  "apps: %s is not NAME@VERSION, or its name is there twice",
				  json_object_to_json_string(v)));
			return false;
		}
		snprintf(apps->v[apps->n++], sizeof(apps->v[0]), "%s", s);
	}
	return true;
}

/* "userns": "BASE:COUNT" (doc/userns.md); false after a reply. */
static bool userns_arg(struct req *rq, struct tplfs_idshift *s)
{
	const char *text = NULL;
	char err[256];

	s->base = s->count = 0;
	if (tplfs_args_string(rq->msg.args, "userns", &text) < 0) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"userns\" is a string BASE:COUNT"));
		return false;
	}
	if (text && tplfs_idshift_parse(text, s, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL, "%s",
						err));
		return false;
	}
	return true;
}

static void serve_ct_create(struct req *rq)
{
	struct ct_create_args a = { .limits.grace = TPLFS_GRACE_DEFAULT };
	const char *id, *tpl;
	bool b, i, g;

	if (get_id(rq, &id) && (tpl = need_string(rq, "template")) &&
	    opt_bool(rq, "volatile", &a.is_volatile) &&
	    clone_arg(rq, &a.full) && apps_arg(rq, &a.apps) &&
	    userns_arg(rq, &a.userns) &&
	    ctquota_parse_args(rq, &a.limits, &b, &i, &g))
		ctops_create(rq, id, tpl, &a);
}

static void serve_ct_relink(struct req *rq)
{
	json_object *against = NULL;
	const char *id;
	bool dry_run;

	if (json_object_object_get_ex(rq->msg.args, "against", &against) &&
	    !json_object_is_type(against, json_type_array)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"against\" is an array of NAME@VERSION"));
		return;
	}
	if (opt_bool(rq, "dry_run", &dry_run) && get_id(rq, &id))
		ctrelink_serve(rq, id, against, dry_run);
}

static void serve_store_refs(struct req *rq)
{
	bool prune;

	if (opt_bool(rq, "prune", &prune))
		refs_serve(rq, prune);
}

/* An array of strings @name of the request, or false (replied). */
static bool strings_arg(struct req *rq, const char *name,
			const char **v, size_t max, size_t *n)
{
	json_object *a;

	*n = 0;
	if (!json_object_object_get_ex(rq->msg.args, name, &a))
		return true;
	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > max) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"%s\" is an array of at most %zu strings", name, max));
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *s = json_object_array_get_idx(a, i);

		if (!json_object_is_type(s, json_type_string)) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
				  "\"%s\" is an array of strings", name));
			return false;
		}
		v[(*n)++] = json_object_get_string(s);
	}
	return true;
}

static void serve_ct_p2v_stage(struct req *rq)
{
	const char *mounts[TPLFS_P2V_MOUNTS_MAX];
	const char *excludes[TPLFS_P2V_EXCLUDES_MAX];
	const char *id, *from;
	size_t nm, nx;

	if (get_id(rq, &id) && (from = need_string(rq, "from")) &&
	    strings_arg(rq, "mounts", mounts, TPLFS_P2V_MOUNTS_MAX, &nm) &&
	    strings_arg(rq, "excludes", excludes, TPLFS_P2V_EXCLUDES_MAX, &nx))
		ctp2v_stage(rq, id, from, mounts, nm, excludes, nx);
}

static void serve_ct_p2v_final(struct req *rq)
{
	const char *id, *tpl = NULL;

	if (get_id(rq, &id) && opt_string(rq, "template", &tpl))
		ctp2v_final(rq, id, tpl);
}

static void serve_ct_p2v_abort(struct req *rq)
{
	const char *id;

	if (get_id(rq, &id))
		ctp2v_abort(rq, id);
}

static void serve_ct_rebase(struct req *rq)
{
	const char *id, *to;
	bool dry_run;

	if (opt_bool(rq, "dry_run", &dry_run) && get_id(rq, &id) &&
	    (to = need_string(rq, "to")))
		ctrebase_serve(rq, id, to, dry_run);
}

static void serve_ct_app_add(struct req *rq)
{
	const char *id, *app;
	bool dry_run, keep_mine;

	if (opt_bool(rq, "dry_run", &dry_run) &&
	    opt_bool(rq, "keep_mine", &keep_mine) && get_id(rq, &id) &&
	    (app = need_string(rq, "app")))
		ctapp_add(rq, id, app, dry_run, keep_mine);
}

static void serve_ct_app_rm(struct req *rq)
{
	const char *id, *app;
	bool dry_run;

	if (opt_bool(rq, "dry_run", &dry_run) && get_id(rq, &id) &&
	    (app = need_string(rq, "app")))
		ctapp_rm(rq, id, app, dry_run);
}

static void serve_ct_app_list(struct req *rq)
{
	const char *id;

	if (get_id(rq, &id))
		ctapp_list(rq, id);
}

static void serve_ct_destroy(struct req *rq)
{
	const char *id;
	bool force;

	if (opt_bool(rq, "force", &force) && get_id(rq, &id))
		ctops_destroy(rq, id, force);
}

static void serve_ct_list(struct req *rq)
{
	const char *after = NULL;
	bool usage;

	if (tplfs_args_string(rq->msg.args, "after", &after) < 0) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"after\" is a container id"));
		return;
	}
	if (opt_bool(rq, "usage", &usage))
		ctops_list(rq, after, usage);
}

static void serve_ct_status(struct req *rq)
{
	const char *id;
	bool scan;

	if (opt_bool(rq, "scan", &scan) && get_id(rq, &id))
		ctops_status(rq, id, scan);
}

static void serve_ct_quota(struct req *rq)
{
	const char *id;

	if (get_id(rq, &id))
		ctquota_serve(rq, id, false);
}

static void serve_ct_set(struct req *rq)
{
	const char *id;

	if (get_id(rq, &id))
		ctquota_serve(rq, id, true);
}

/* "run_postinst" (bool), only with "layer_of"; false after a reply. */
static bool postinst_arg(struct req *rq, const char *layer_of, bool *postinst)
{
	if (!opt_bool(rq, "run_postinst", postinst))
		return false;
	if (*postinst && !layer_of) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"run_postinst\" is for an application template (with \"layer_of\")"));
		return false;
	}
	return true;
}

static void serve_template_import(struct req *rq)
{
	const char *tpl, *from, *layer_of;
	json_object *private = NULL;
	bool postinst;

	if (json_object_object_get_ex(rq->msg.args, "private", &private) &&
	    !json_object_is_type(private, json_type_array)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"private\" is an array of paths"));
		return;
	}
	if ((tpl = need_string(rq, "template")) && (from = need_string(rq, "from")) &&
	    opt_string(rq, "layer_of", &layer_of) &&
	    postinst_arg(rq, layer_of, &postinst))
		tplops_import(rq, tpl, from, private, layer_of, postinst);
}

static void serve_template_publish(struct req *rq)
{
	const char *tpl, *ct, *layer_of;
	bool postinst;

	if ((tpl = need_string(rq, "template")) && (ct = need_string(rq, "from_ct")) &&
	    opt_string(rq, "layer_of", &layer_of) &&
	    postinst_arg(rq, layer_of, &postinst))
		tplops_publish(rq, tpl, ct, layer_of, postinst);
}

static void serve_template_maintain(struct req *rq)
{
	const char *tpl, *ct = NULL;
	json_object *v;
	bool abort;

	if (json_object_object_get_ex(rq->msg.args, "ct", &v)) {
		ct = json_object_is_type(v, json_type_string) ?
		     json_object_get_string(v) : NULL;
		if (!ct || !tplfs_ct_id_valid(ct)) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
				  "\"ct\" is a container id ([a-z0-9][a-z0-9_-]{0,62})"));
			return;
		}
	}
	if ((tpl = need_string(rq, "template")) && opt_bool(rq, "abort", &abort))
		maintain_serve(rq, tpl, ct, abort);
}

static void serve_template_export(struct req *rq)
{
	const char *tpl, *file;

	if ((tpl = need_string(rq, "template")) && (file = need_string(rq, "file")))
		tplops_export(rq, tpl, file);
}

static void serve_template_list(struct req *rq)
{
	tplops_list(rq);
}

static void serve_template_show(struct req *rq)
{
	const char *tpl = need_string(rq, "template");

	if (tpl)
		tplops_show(rq, tpl);
}

static void serve_store_verify(struct req *rq)
{
	tplops_verify(rq);
}

static void serve_template_rm(struct req *rq)
{
	const char *tpl = need_string(rq, "template");

	if (tpl)
		tplops_rm(rq, tpl);
}

static void serve_store_gc(struct req *rq)
{
	bool dry_run;

	if (opt_bool(rq, "dry_run", &dry_run))
		tplops_gc(rq, dry_run);
}

static const struct verb verbs[] = {
	{ "daemon.status", false, no_args, serve_daemon_status },
	{ "ct.stats", false, id_args, serve_ct_stats },
	{ "ct.list", false, list_args, serve_ct_list },
	{ "ct.status", false, status_args, serve_ct_status },
	{ "ct.create", true, create_args, serve_ct_create },
	{ "ct.mount", true, id_args, serve_ct_mount },
	{ "ct.umount", true, umount_args, serve_ct_umount },
	{ "ct.destroy", true, umount_args, serve_ct_destroy },
	{ "ct.quota", false, quota_args, serve_ct_quota },
	{ "ct.set", true, set_args, serve_ct_set },
	{ "ct.relink", true, relink_args, serve_ct_relink },
	{ "ct.rebase", true, rebase_args, serve_ct_rebase },
	{ "ct.app.add", true, app_add_args, serve_ct_app_add },
	{ "ct.app.rm", true, app_rm_args, serve_ct_app_rm },
	{ "ct.app.list", false, id_args, serve_ct_app_list },
	{ "ct.unlink", true, id_args, serve_ct_unlink },
	{ "ct.p2v.stage", true, p2v_stage_args, serve_ct_p2v_stage },
	{ "ct.p2v.final", true, p2v_final_args, serve_ct_p2v_final },
	{ "ct.p2v.abort", true, id_args, serve_ct_p2v_abort },
	{ "template.list", false, no_args, serve_template_list },
	{ "template.import", true, import_args, serve_template_import },
	{ "template.publish", true, publish_args, serve_template_publish },
	{ "template.maintain", true, maintain_args, serve_template_maintain },
	{ "template.export", true, export_args, serve_template_export },
	{ "template.show", false, tpl_args, serve_template_show },
	{ "template.rm", true, tpl_args, serve_template_rm },
	{ "store.gc", true, gc_args, serve_store_gc },
	{ "store.verify", true, no_args, serve_store_verify },
	{ "store.refs", true, refs_args, serve_store_refs },
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
