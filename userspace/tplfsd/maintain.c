// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Maintenance mode (doc/rebase.md): template.maintain gives a template
 * name a maintenance container, made from one of its versions (ct.create
 * with the record written first) or an existing container of that
 * version; while the record is there, ct.create from the bare name is
 * refused ("maintenance"); template.publish from that container ends it,
 * and so does template.maintain with "abort" (the container is kept).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctjob.h"
#include "log.h"
#include "maintenance.h"
#include "tplfsd.h"

/* The maintenance container's id when none is given: NAME-maint. */
static void default_id(char *id, size_t size, const char *name)
{
	static const char suffix[] = "-maint";
	size_t room = TPLFS_CT_ID_MAX - (sizeof(suffix) - 1), i;

	for (i = 0; i < room && i + 1 < size && name[i]; i++)
		id[i] = name[i] == '.' ? '-' : name[i];
	snprintf(id + i, size - i, "%s", suffix);
}

static json_object *record_result(const struct tplfs_maintenance *m)
{
	json_object *r = json_object_new_object();

	tplfs_json_str(r, "template", m->template);
	tplfs_json_str(r, "ct", m->ct);
	tplfs_json_bool(r, "made", m->made);
	tplfs_json_u64(r, "since", (uint64_t)m->since);
	return r;
}

/* Read NAME's record; false after a reply if it cannot be told. */
static bool read_record(struct req *rq, const char *name,
			struct tplfs_maintenance *m, bool *in)
{
	char err[PATH_MAX + 64];
	int ret = tplfs_maintenance_read(rq->d->cfg.root, name, m, err,
					 sizeof(err));

	*in = !ret;
	if (!ret || ret == -ENOENT)
		return true;
	req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, -ret,
		  "the maintenance record of %s: %s", name,
		  err[0] ? err : strerror(-ret)));
	return false;
}

bool maintain_resolve(struct req *rq, const char *name, char *tpl,
		      size_t size)
{
	char version[TPLFS_TEMPLATE_PART_MAX + 1];
	struct tplfs_maintenance m;
	bool in;
	int ret;

	if (!tplfs_template_name_valid(name)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"%s\" is neither NAME@VERSION nor a template name",
			  name));
		return false;
	}
	if (!read_record(rq, name, &m, &in))
		return false;
	if (in) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_MAINTENANCE, EBUSY,
			  "template %s is in maintenance (container %s, from %s): name a version, NAME@VERSION",
			  name, m.ct, m.template));
		return false;
	}
	ret = tplfs_template_latest(rq->d->store_fd, name, version);
	if (ret) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, -ret,
			  "no sealed version of template %s", name));
		return false;
	}
	snprintf(tpl, size, "%s@%s", name, version);
	return true;
}

int maintain_begin(struct daemon *d, const struct tplfs_template_id *t,
		   const char *id, bool made, char *err, size_t errlen)
{
	struct tplfs_maintenance m = { .made = made, .since = time(NULL) };
	char rerr[PATH_MAX + 64];
	int ret;

	snprintf(m.template, sizeof(m.template), "%s@%s", t->name, t->version);
	snprintf(m.ct, sizeof(m.ct), "%s", id);
	ret = tplfs_maintenance_begin(d->cfg.root, t->name, &m);
	if (ret == -EEXIST &&
	    !tplfs_maintenance_read(d->cfg.root, t->name, &m, rerr, sizeof(rerr)))
		snprintf(err, errlen,
			 "template %s is in maintenance already (container %s, from %s)",
			 t->name, m.ct, m.template);
	else if (ret)
		snprintf(err, errlen, "the maintenance record of %s: %s",
			 t->name, strerror(-ret));
	return ret;
}

void maintain_end(struct daemon *d, const char *name)
{
	int ret = tplfs_maintenance_end(d->cfg.root, name);

	if (ret)
		log_warn("template %s: its maintenance record stays: %s", name,
			 strerror(-ret));
}

void maintain_forget(struct daemon *d, const char *tpl, const char *id)
{
	struct tplfs_template_id t;
	struct tplfs_maintenance m;
	char err[PATH_MAX + 64];

	if (tplfs_template_id_parse(tpl, &t, err, sizeof(err)) ||
	    tplfs_maintenance_read(d->cfg.root, t.name, &m, err, sizeof(err)) ||
	    strcmp(m.ct, id))
		return;
	maintain_end(d, t.name);
	log_info("template %s: its maintenance container %s destroyed: maintenance ended",
		 t.name, id);
}

json_object *maintain_describe(struct daemon *d, const char *tpl)
{
	struct tplfs_template_id t;
	struct tplfs_maintenance m;
	char err[PATH_MAX + 64];

	if (tplfs_template_id_parse(tpl, &t, err, sizeof(err)) ||
	    tplfs_maintenance_read(d->cfg.root, t.name, &m, err, sizeof(err)) ||
	    strcmp(m.template, tpl))
		return NULL;
	return record_result(&m);
}

/* An existing container of the version: only the record to write. */
static void existing_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct tplfs_ct_conf conf;
	char tpl[256], err[PATH_MAX + 128];
	int ret;

	if (ctjob_read_conf(cj, &conf))
		return;
	snprintf(tpl, sizeof(tpl), "%s@%s", cj->tpl.name, cj->tpl.version);
	if (strcmp(conf.template, tpl)) {
		opjob_fail(&cj->op, TPLFS_E_BAD_ARGS, EINVAL,
			   "container %s was made from %s, not %s", cj->id,
			   conf.template[0] ? conf.template : "no template",
			   tpl);
		return;
	}
	ret = maintain_begin(cj->op.d, &cj->tpl, cj->id, false, err,
			     sizeof(err));
	if (ret) {
		opjob_fail(&cj->op, ret == -EEXIST ? TPLFS_E_MAINTENANCE :
			   TPLFS_E_SYSTEM, -ret, "%s", err);
		return;
	}
	cj->op.result = ctjob_result(cj);
	tplfs_json_str(cj->op.result, "template", tpl);
	tplfs_json_bool(cj->op.result, "made", false);
}

static void abort_maintenance(struct req *rq, const char *tpl)
{
	const char *at = strchr(tpl, '@');
	char name[TPLFS_TEMPLATE_PART_MAX + 1];
	struct tplfs_maintenance m;
	json_object *r;
	bool in;

	snprintf(name, sizeof(name), "%.*s",
		 at ? (int)(at - tpl) : (int)strlen(tpl), tpl);
	if (!tplfs_template_name_valid(name)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"%s\" is not a template name", name));
		return;
	}
	if (!read_record(rq, name, &m, &in))
		return;
	if (!in || (at && strcmp(m.template, tpl))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "template %s is not in maintenance", tpl));
		return;
	}
	maintain_end(rq->d, name);
	r = record_result(&m);
	tplfs_json_bool(r, "aborted", true);
	req_reply(rq, tplfs_reply_ok(r));
}

void maintain_serve(struct req *rq, const char *tpl, const char *ct_id,
		    bool abort)
{
	char id[TPLFS_CT_ID_MAX + 1], err[256];
	const struct ctentry *e;
	struct tplfs_template_id t;
	struct tplfs_maintenance m;
	struct ctjob *cj;
	bool in;

	if (abort) {
		if (ct_id) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
				  "abort takes no container"));
			return;
		}
		abort_maintenance(rq, tpl);
		return;
	}
	if (tplfs_template_id_parse(tpl, &t, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL, "%s", err));
		return;
	}
	if (tplfs_template_state(rq->d->store_fd, &t) != TPLFS_TEMPLATE_SEALED) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "no template %s (sealed)", tpl));
		return;
	}
	if (!read_record(rq, t.name, &m, &in))
		return;
	if (in) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_MAINTENANCE, EBUSY,
			  "template %s is in maintenance already (container %s, from %s)",
			  t.name, m.ct, m.template));
		return;
	}
	if (ct_id) {
		snprintf(id, sizeof(id), "%s", ct_id);
	} else {
		default_id(id, sizeof(id), t.name);
	}
	e = catalog_find(rq->d, id);
	if (!e || !e->present) {
		ctops_create_maintenance(rq, id, &t);
		return;
	}
	cj = ctjob_new(rq, id, sizeof(*cj), existing_run, true);
	if (!cj)
		return;
	cj->tpl = t;
	cj->op.what = "template.maintain";
	opjob_submit(&cj->op);
}
