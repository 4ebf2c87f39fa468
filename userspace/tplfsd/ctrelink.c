// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ct.relink: a container's private files whose content equals an object
 * of its template (or of the templates named with "against") become stubs
 * again (lib/relink.c). Mounted, through the module's SET_ORIGIN, which
 * refuses a file that is open, written to or changed since it was hashed;
 * not mounted, in the private area itself, the container held against a
 * mount meanwhile. Each file is one commit (the origin is set before the
 * data goes), so the operation needs no journal record: a daemon killed
 * in the middle leaves every file either as it was or a stub, and the next
 * relink carries on. Templates relinked against are added to ct.conf's
 * "uses" before any file names their objects, so that template rm and
 * store gc count them as used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctjob.h"
#include "log.h"
#include "manifest.h"
#include "relink.h"
#include "replylist.h"

/* The paths a reply lists at the most (the counts are always whole). */

struct relinkjob {
	struct ctjob cj;
	bool dry_run;
	size_t ntpl;		/* [0] the container's own, then "against" */
	char tpl[1 + TPLFS_CT_USES_MAX][2 * TPLFS_TEMPLATE_PART_MAX + 2];
	struct reply_list paths;	/* the first relinked */
};

static void relinked(void *arg, const char *path)
{
	struct relinkjob *rj = arg;

	atomic_fetch_add(&rj->cj.op.done, 1);
	/* escaped as in a manifest: a name need not be UTF-8, JSON must */
	if (!rj->paths.left_out) {
		char *esc = tplfs_manifest_escape(path, strlen(path));

		reply_list_add(&rj->paths, esc ? json_object_new_string(esc) : NULL);
		free(esc);
	}
}

/* The objects of every template of @rj, or the job failed. */
static int load_objects(struct relinkjob *rj, struct tplfs_objset *set)
{
	struct ctjob *cj = &rj->cj;
	char err[512];

	for (size_t i = 0; i < rj->ntpl; i++) {
		struct tplfs_template_id t;
		FILE *m;
		int ret;

		if (tplfs_template_id_parse(rj->tpl[i], &t, err, sizeof(err))) {
			opjob_fail(&cj->op, TPLFS_E_BAD_ARGS, EINVAL, "%s", err);
			return -EINVAL;
		}
		m = tplfs_template_manifest_open(cj->op.d->store_fd, &t);
		if (!m) {
			opjob_fail(&cj->op, TPLFS_E_NOT_FOUND, ENOENT,
				   "no template %s (sealed)", rj->tpl[i]);
			return -ENOENT;
		}
		ret = tplfs_objset_add_manifest(set, m, err, sizeof(err));
		fclose(m);
		if (ret) {
			opjob_fail(&cj->op, TPLFS_E_SYSTEM, -ret, "%s: %s",
				   rj->tpl[i], err);
			return ret;
		}
	}
	return 0;
}

/* Record the templates relinked against in ct.conf, before any stub names them. */
static int record_uses(struct relinkjob *rj, struct tplfs_ct_conf *conf)
{
	struct ctjob *cj = &rj->cj;
	bool changed = false;
	int ret;

	for (size_t i = 1; i < rj->ntpl; i++) {
		ret = tplfs_ct_conf_use(conf, rj->tpl[i]);
		if (ret < 0) {
			opjob_fail(&cj->op, TPLFS_E_BAD_ARGS, ENOSPC,
				   "%s: ct.conf names %d templates already",
				   cj->id, TPLFS_CT_USES_MAX);
			return ret;
		}
		changed |= ret;
	}
	if (!changed)
		return 0;
	ret = tplfs_ct_conf_save(cj->paths.private_dir, conf);
	if (ret)
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, cj->paths.conf);
	return ret;
}

/* ct.conf's clone = full, or linked; or the job failed. */
static int set_full(struct ctjob *cj, struct tplfs_ct_conf *conf, bool full)
{
	int ret;

	conf->full = full;
	ret = tplfs_ct_conf_save(cj->paths.private_dir, conf);
	if (ret)
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, cj->paths.conf);
	return ret;
}

static void relink_run(struct job *job)
{
	struct relinkjob *rj = (struct relinkjob *)job;
	struct ctjob *cj = &rj->cj;
	struct tplfs_relink_report rep;
	struct tplfs_relink_ops ops;
	struct tplfs_objset set = { 0 };
	struct tplfs_ct_conf conf;
	char err[PATH_MAX + 256];
	bool mounted = cj->ct && cj->ct->mounted, was_full;
	json_object *r;
	int fd, ret;

	if (ctjob_read_conf(cj, &conf))
		goto out;
	/* every host counts the templates relinked against before a stub names them */
	for (size_t i = 1; !rj->dry_run && i < rj->ntpl; i++) {
		ret = refs_hold(cj->op.d, cj->uuid, cj->id, rj->tpl[i]);
		if (ret) {
			opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret,
				     "its reference in the store");
			goto out;
		}
	}
	if (load_objects(rj, &set))
		goto out;
	if (!rj->dry_run && record_uses(rj, &conf))
		goto out;
	/* a full clone's relinked files are stubs: linked until none is */
	was_full = conf.full;
	if (!rj->dry_run && was_full && set_full(cj, &conf, false))
		goto out;
	fd = open(cj->paths.fs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, cj->paths.fs);
		goto out;
	}
	ops = mounted ? tplfs_relink_mounted(cj->id) : tplfs_relink_unmounted;
	cj->op.what = rj->dry_run ? "files that would be relinked" :
				    "files relinked";
	ret = tplfs_relink(fd, &set, &ops, rj->dry_run, relinked, rj, &rep,
			   err, sizeof(err));
	close(fd);
	if (ret) {
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, -ret, "%s: %s", cj->id, err);
		goto out;
	}
	if (!rj->dry_run && was_full && !rep.relinked &&
	    set_full(cj, &conf, true))
		goto out;
	/* not mounted: its recorded usage is measured again */
	if (!mounted && !rj->dry_run && rep.relinked)
		ctquota_created(cj->paths.private_dir, cj->paths.fs);
	log_info("ct %s: %s%llu files relinked, %llu bytes (%llu hashed, %llu changed, %llu busy)",
		 cj->id, rj->dry_run ? "dry run: " : "",
		 (unsigned long long)rep.relinked, (unsigned long long)rep.bytes,
		 (unsigned long long)rep.hashed, (unsigned long long)rep.changed,
		 (unsigned long long)rep.busy);
	r = ctjob_result(cj);
	tplfs_json_bool(r, "dry_run", rj->dry_run);
	tplfs_json_bool(r, "mounted", mounted);
	tplfs_json_u64(r, "files", rep.files);
	tplfs_json_u64(r, "hashed", rep.hashed);
	tplfs_json_u64(r, "relinked", rep.relinked);
	tplfs_json_u64(r, "bytes", rep.bytes);
	tplfs_json_u64(r, "changed", rep.changed);
	tplfs_json_u64(r, "busy", rep.busy);
	tplfs_json_str(r, "clone", conf.full ? "full" : "linked");
	reply_list_put(&rj->paths, r, "paths", "paths_all_listed");
	cj->op.result = r;
out:
	tplfs_objset_free(&set);
}

/* In the loop: the templates back, then the container. */
static void relink_finish(struct opjob *oj)
{
	struct relinkjob *rj = (struct relinkjob *)oj;

	for (size_t i = 0; i < rj->ntpl; i++)
		tpl_release(rj->tpl[i], false);
	reply_list_free(&rj->paths);
	ctjob_finish(oj);
}

/* The templates of a relink, gathered and held before its job exists. */
struct tplset {
	size_t n;
	char id[1 + TPLFS_CT_USES_MAX][2 * TPLFS_TEMPLATE_PART_MAX + 2];
};

static void tplset_release(struct tplset *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		tpl_release(ts->id[i], false);
	ts->n = 0;
}

/* Add and hold @tpl unless there; false (replied) if it cannot be. */
static bool tplset_add(struct req *rq, struct tplset *ts, const char *tpl)
{
	struct tplfs_template_id t;
	char err[256];

	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->id[i], tpl))
			return true;
	if (tplfs_template_id_parse(tpl, &t, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL, "%s", err));
		return false;
	}
	if (ts->n == sizeof(ts->id) / sizeof(ts->id[0])) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, E2BIG,
			  "at most %d templates to relink against",
			  TPLFS_CT_USES_MAX));
		return false;
	}
	if (!tpl_acquire(tpl, false)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed", tpl));
		return false;
	}
	snprintf(ts->id[ts->n++], sizeof(ts->id[0]), "%s", tpl);
	return true;
}

/* The container's template and @against, held; false (replied) if not. */
static bool gather(struct req *rq, const struct ctentry *e,
		   json_object *against, struct tplset *ts)
{
	size_t n = against ? json_object_array_length(against) : 0;

	if (e->conf.template[0] && !tplset_add(rq, ts, e->conf.template))
		return false;
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(against, i);

		if (!json_object_is_type(t, json_type_string)) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
				  "\"against\" is an array of NAME@VERSION"));
			goto fail;
		}
		if (!tplset_add(rq, ts, json_object_get_string(t)))
			goto fail;
	}
	if (ts->n)
		return true;
	req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
		  "%s has no template: name one with \"against\"", e->id));
fail:
	tplset_release(ts);
	return false;
}

void ctrelink_serve(struct req *rq, const char *id, json_object *against,
		    bool dry_run)
{
	const struct ctentry *e = ctjob_entry(rq, id);
	struct tplset ts = { 0 };
	struct relinkjob *rj;

	if (!e)
		return;
	if (!gather(rq, e, against, &ts))
		return;
	rj = (struct relinkjob *)ctjob_new(rq, id, sizeof(*rj), relink_run, true);
	if (!rj) {
		tplset_release(&ts);
		return;
	}
	rj->cj.op.finish = relink_finish;
	rj->dry_run = dry_run;
	reply_list_init(&rj->paths);
	rj->ntpl = ts.n;
	memcpy(rj->tpl, ts.id, sizeof(ts.id));
	rj->cj.op.what = "ct.relink";
	opjob_submit(&rj->cj.op);
}
