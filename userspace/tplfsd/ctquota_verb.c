// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ct.quota: show a container's quota and change its limits; ct.set: change
 * a container's settings (its limits, volatile). New settings go to ct.conf
 * and, for the limits of a mounted container, to the kernel at once;
 * volatile is a mount option, taken at the next mount. A change holds the
 * container as its other operations do (busy) and renews its catalogue
 * entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctusage.h"
#include "kquota.h"
#include "opjob.h"
#include "units.h"

struct qverb {
	struct opjob op;
	char id[TPLFS_CT_ID_MAX + 1];
	struct tplfs_ct_paths paths;
	struct tplfs_ct_limits set;	/* the new limits, where asked */
	bool set_bytes, set_inodes, set_grace;
	bool set_volatile, is_volatile;
	bool rescanning;		/* a rescan is due or running */
	bool is_set;			/* ct.set: reply with the container */
	struct ctstate *ct;		/* held (busy) while changing it */
	struct ctentry probe;		/* its entry after the change */
	bool probed;
};

/* ok, soft (within grace), grace expired, or hard. */
static const char *limit_state(uint64_t used, uint64_t soft, uint64_t hard,
			       int64_t grace_end)
{
	if (hard && used >= hard)
		return "hard";
	if (soft && used > soft)
		return grace_end && time(NULL) >= grace_end ?
		       "grace expired" : "soft";
	return "ok";
}

static json_object *describe(uint64_t used, uint64_t soft, uint64_t hard,
			     int64_t grace_end)
{
	json_object *o = json_object_new_object();

	tplfs_json_u64(o, "used", used);
	tplfs_json_u64(o, "soft", soft);
	tplfs_json_u64(o, "hard", hard);
	json_object_object_add(o, "grace_end", json_object_new_int64(grace_end));
	tplfs_json_str(o, "state", limit_state(used, soft, hard, grace_end));
	return o;
}

/* ct.conf with the new limits; 0 or a failed job. */
static int update_conf(struct qverb *qv, struct tplfs_ct_conf *conf)
{
	struct tplfs_ct_limits *l = &conf->limits;
	int ret;

	if (qv->set_bytes) {
		l->bytes_soft = qv->set.bytes_soft;
		l->bytes_hard = qv->set.bytes_hard;
	}
	if (qv->set_inodes) {
		l->inodes_soft = qv->set.inodes_soft;
		l->inodes_hard = qv->set.inodes_hard;
	}
	if (qv->set_grace)
		l->grace = qv->set.grace;
	if (qv->set_volatile)
		conf->is_volatile = qv->is_volatile;
	ret = tplfs_ct_conf_save(qv->paths.private_dir, conf);
	if (ret)
		opjob_failno(&qv->op, TPLFS_E_SYSTEM, -ret, qv->paths.conf);
	return ret;
}

static void qverb_run(struct job *job)
{
	struct qverb *qv = (struct qverb *)job;
	const struct tplfs_ct_limits *l;
	struct tplfs_ct_conf conf;
	struct tplfs_ct_usage u = { 0 };
	struct tplfs_quota q = { 0 }, set = { .size = sizeof(set) };
	bool changes = qv->ct != NULL;
	char err[PATH_MAX + 128];
	const char *source = "kernel";
	bool exact, mounted;
	json_object *r;
	int ret;

	ctquota_lock(qv->id);
	ret = tplfs_ct_conf_read(qv->paths.conf, &conf, err, sizeof(err));
	if (ret) {
		ctquota_unlock(qv->id);
		opjob_fail(&qv->op, ret == -ENOENT ? TPLFS_E_NOT_FOUND :
			   TPLFS_E_SYSTEM, -ret, "%s", ret == -ENOENT ?
			   "no such container" : err);
		return;
	}
	l = &conf.limits;
	if (changes && update_conf(qv, &conf)) {
		ctquota_unlock(qv->id);
		return;
	}
	ctquota_kernel_limits(&set, l);
	/* A mounted container gets its limits at once. */
	ret = changes ? tplfs_kquota_set(qv->id, &set, TPLFS_QSET_LIMITS) : 0;
	ctquota_unlock(qv->id);
	if (changes)
		qv->probed = !catalog_probe(&qv->op.d->cfg, qv->id, &qv->probe);
	if (ret && ret != -ENOENT) {
		opjob_fail(&qv->op, TPLFS_E_SYSTEM, -ret,
			   "SET_QUOTA %s: %s (ct.conf has the new limits)",
			   qv->id, strerror(-ret));
		return;
	}
	if (qv->is_set)
		return;		/* the loop describes it (qverb_finish) */
	mounted = tplfs_kquota_get(qv->id, false, &q) == 0;
	exact = mounted && !qv->rescanning &&
		(q.flags & TPLFS_QUOTA_USAGE_KNOWN);
	if (mounted) {
		u.bytes = q.res[TPLFS_QRES_BYTES].used;
		u.inodes = q.res[TPLFS_QRES_INODES].used;
		u.bytes_grace_end = q.res[TPLFS_QRES_BYTES].grace_end;
		u.inodes_grace_end = q.res[TPLFS_QRES_INODES].grace_end;
	} else {
		char path[PATH_MAX + 32];

		snprintf(path, sizeof(path), "%s/%s", qv->paths.private_dir,
			 TPLFS_CTUSAGE_FILE);
		ret = tplfs_ct_usage_read(path, &u, err, sizeof(err));
		source = ret ? "none" : "checkpoint";
		exact = !ret && u.clean;
	}

	r = json_object_new_object();
	tplfs_json_str(r, "id", qv->id);
	tplfs_json_bool(r, "mounted", mounted);
	tplfs_json_str(r, "usage_from", source);
	tplfs_json_bool(r, "exact", exact);
	tplfs_json_u64(r, "grace", l->grace);
	json_object_object_add(r, "bytes", describe(u.bytes, l->bytes_soft,
		l->bytes_hard, u.bytes_grace_end));
	json_object_object_add(r, "inodes", describe(u.inodes, l->inodes_soft,
		l->inodes_hard, u.inodes_grace_end));
	qv->op.result = r;
}

/* In the loop: release the container, take its entry; ct.set's reply. */
static void qverb_finish(struct opjob *oj)
{
	struct qverb *qv = (struct qverb *)oj;
	const struct ctentry *e;
	json_object *changed;
	bool mounted;

	if (qv->ct) {
		mounted = qv->ct->mounted;
		qv->ct->busy = false;
		ct_forget_if_idle(oj->d, qv->ct);
	} else {
		mounted = false;
	}
	if (qv->probed)
		catalog_take(oj->d, &qv->probe);
	if (!qv->is_set || opjob_failed(oj))
		return;
	e = catalog_find(oj->d, qv->id);
	if (!e) {
		opjob_fail(oj, TPLFS_E_NOT_FOUND, ENOENT, "no container %s",
			   qv->id);
		return;
	}
	oj->result = catalog_describe(oj->d, e);
	changed = json_object_new_array();
	if (qv->set_volatile)
		json_object_array_add(changed, json_object_new_string("volatile"));
	if (qv->set_bytes)
		json_object_array_add(changed, json_object_new_string("quota"));
	if (qv->set_inodes)
		json_object_array_add(changed, json_object_new_string("inodes"));
	if (qv->set_grace)
		json_object_array_add(changed, json_object_new_string("grace"));
	json_object_object_add(oj->result, "changed", changed);
	/* a mount option: the mounted container keeps the old one till then */
	tplfs_json_bool(oj->result, "at_next_mount",
			qv->set_volatile && mounted);
}

/* An optional SOFT[:HARD] argument; false after replying if it is bad. */
static bool limits_arg(struct req *rq, const char *name, bool *given,
		       uint64_t *soft, uint64_t *hard)
{
	const char *v;

	*given = false;
	if (!json_object_object_get_ex(rq->msg.args, name, NULL))
		return true;
	if (tplfs_args_string(rq->msg.args, name, &v) ||
	    tplfs_parse_limits(v, soft, hard)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"%s\" is SOFT[:HARD] with SOFT <= HARD, sizes with K, M, G or T (10G, 1G:2G); 0 for none",
			  name));
		return false;
	}
	*given = true;
	return true;
}

bool ctquota_parse_args(struct req *rq, struct tplfs_ct_limits *l,
			bool *bytes, bool *inodes, bool *grace)
{
	const char *v;

	if (!limits_arg(rq, "quota", bytes, &l->bytes_soft, &l->bytes_hard) ||
	    !limits_arg(rq, "inodes", inodes, &l->inodes_soft,
			&l->inodes_hard))
		return false;
	*grace = false;
	if (!json_object_object_get_ex(rq->msg.args, "grace", NULL))
		return true;
	if (tplfs_args_string(rq->msg.args, "grace", &v) ||
	    tplfs_parse_duration(v, &l->grace)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"grace\" is a duration: 7d, 1h30m, 90s"));
		return false;
	}
	*grace = true;
	return true;
}

void ctquota_serve(struct req *rq, const char *id, bool is_set)
{
	struct ctstate *ct = ct_find(rq->d, id);
	struct tplfs_ct_limits set = { 0 };
	struct tplfs_ct_paths paths = { .root = "" };
	bool b, i, g, v = false, is_volatile = false;
	struct qverb *qv;

	if (!ctquota_parse_args(rq, &set, &b, &i, &g))
		return;
	if (is_set) {
		v = json_object_object_get_ex(rq->msg.args, "volatile", NULL);
		if (v && tplfs_args_bool(rq->msg.args, "volatile",
					 &is_volatile) < 0) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS,
				  EINVAL, "\"volatile\" is a boolean"));
			return;
		}
		if (!(b || i || g || v)) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS,
				  EINVAL, "nothing to set: give volatile, quota, inodes or grace"));
			return;
		}
	}
	if (tplfs_ct_paths(&rq->d->cfg, id, &paths)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, ENAMETOOLONG,
						"path too long"));
		return;
	}
	if ((b || i || g) && !rq->can_write) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_DENIED, EPERM,
			  "changing a quota is for root only"));
		return;
	}
	if ((b || i || g || v) && ct && ct->busy) {
		ctops_refuse_busy(rq, id);
		return;
	}
	qv = opjob_new(rq, sizeof(*qv), qverb_run, qverb_finish);
	if (!qv)
		return;
	snprintf(qv->id, sizeof(qv->id), "%s", id);
	qv->paths = paths;
	qv->set = set;
	qv->set_bytes = b;
	qv->set_inodes = i;
	qv->set_grace = g;
	qv->set_volatile = v;
	qv->is_volatile = is_volatile;
	qv->is_set = is_set;
	qv->rescanning = ct && ct->rescan != RESCAN_NONE;
	if (b || i || g || v) {
		qv->ct = ct_get(rq->d, id);
		if (!qv->ct) {
			free(qv);
			req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, ENOMEM,
							"out of memory"));
			return;
		}
		qv->ct->busy = true;
	}
	qv->op.job.quick = true;
	opjob_submit(&qv->op);
}
