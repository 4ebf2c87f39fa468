// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ct.app.add, ct.app.rm and ct.app.list: application templates (layers of
 * a container's template, doc/apps.md) added to and removed from a
 * container, mounted or not. Each is a move of the container's tree, run
 * and journaled as a rebase is (ctrebase.c): from its template with its
 * apps to the same template with one app more or one fewer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctjob.h"
#include "layer.h"
#include "store.h"

/* The version @app (NAME@VERSION) is a layer of, into @of; else a reply
 * and false. */
static bool layer_of(struct req *rq, const char *app, char *of, size_t size)
{
	struct tplfs_template_id t;
	char err[512];
	int ret;

	if (tplfs_template_id_parse(app, &t, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL, "%s", err));
		return false;
	}
	ret = tplfs_template_layer_of(rq->d->store_fd, app, of, size);
	if (ret) {
		req_reply(rq, ret == -ENOENT ?
			  tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
					    "no template %s (sealed)", app) :
			  tplfs_reply_error(TPLFS_E_SYSTEM, -ret,
					    "the manifest of %s: %s", app,
					    strerror(-ret)));
		return false;
	}
	if (!of[0]) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "%s is not an application template (it has no layer-of)",
			  app));
		return false;
	}
	return true;
}

void ctapp_add(struct req *rq, const char *id, const char *app, bool dry_run,
	       bool keep_mine)
{
	const struct ctentry *e = ctjob_entry(rq, id);
	struct ctrebase_spec spec = {
		.verb = "ct.app.add", .app = app, .dry_run = dry_run,
		.keep_mine = keep_mine,
	};
	struct tplfs_ct_apps apps;
	struct tplfs_template_id t;
	char of[256], err[256];
	int have;

	if (!e || !layer_of(rq, app, of, sizeof(of)))
		return;
	if (strcmp(of, e->conf.template)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "%s is an application template of %s; %s is of %s",
			  app, of, id, e->conf.template));
		return;
	}
	tplfs_template_id_parse(app, &t, err, sizeof(err));
	have = tplfs_ct_apps_find(&e->conf.apps, t.name);
	if (have >= 0) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_EXISTS, EEXIST,
			  "%s has %s already (ct app rm %s %s first)", id,
			  e->conf.apps.v[have], id, t.name));
		return;
	}
	if (e->conf.apps.n == TPLFS_CT_APPS_MAX) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, ENOSPC,
			  "%s has %d application templates already", id,
			  TPLFS_CT_APPS_MAX));
		return;
	}
	apps = e->conf.apps;
	snprintf(apps.v[apps.n++], sizeof(apps.v[0]), "%s", app);
	spec.to = e->conf.template;
	spec.to_apps = &apps;
	ctrebase_submit(rq, id, &spec);
}

void ctapp_rm(struct req *rq, const char *id, const char *name, bool dry_run)
{
	const struct ctentry *e = ctjob_entry(rq, id);
	struct ctrebase_spec spec = {
		.verb = "ct.app.rm", .dry_run = dry_run,
	};
	struct tplfs_ct_apps apps = { .n = 0 };
	char bare[256];
	int i;

	if (!e)
		return;
	/* NAME, or NAME@VERSION as ct app list shows it */
	snprintf(bare, sizeof(bare), "%s", name);
	if (strchr(bare, '@'))
		*strchr(bare, '@') = '\0';
	i = tplfs_ct_apps_find(&e->conf.apps, bare);
	if (i < 0 || (strchr(name, '@') && strcmp(e->conf.apps.v[i], name))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "%s has no application template %s", id, name));
		return;
	}
	for (size_t k = 0; k < e->conf.apps.n; k++)
		if (k != (size_t)i)
			memcpy(apps.v[apps.n++], e->conf.apps.v[k], sizeof(apps.v[0]));
	spec.app = e->conf.apps.v[i];
	spec.to = e->conf.template;
	spec.to_apps = &apps;
	ctrebase_submit(rq, id, &spec);
}

void ctapp_list(struct req *rq, const char *id)
{
	const struct ctentry *e = ctjob_entry(rq, id);
	json_object *r, *arr;

	if (!e)
		return;
	r = json_object_new_object();
	tplfs_json_str(r, "ct", id);
	tplfs_json_str(r, "template", e->conf.template);
	arr = json_object_new_array();
	for (size_t i = 0; i < e->conf.apps.n; i++)
		json_object_array_add(arr, json_object_new_string(e->conf.apps.v[i]));
	json_object_object_add(r, "apps", arr);
	req_reply(rq, tplfs_reply_ok(r));
}
