// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ct.rebase: a container moves from the template version it was made from
 * to another, keeping what it changed (lib/rebase.c, doc/rebase.md).
 * Mounted, through the module's SET_ORIGIN (open files keep what they
 * had); not mounted, in the private area, the container held meanwhile.
 *
 * Journaled (record ct-<id>): "to" is added to ct.conf's uses before any
 * stub names its objects; the record {from, to} is written; the paths are
 * applied, each a step a second run takes as done; the report is written
 * (private/<id>/rebase.report); ct.conf's template becomes "to" (the
 * commit); the record goes. Recovery at the next start runs the rebase
 * again from the record: a kill -9 anywhere is finished by it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "ctjob.h"
#include "log.h"
#include "manifest.h"
#include "rebase.h"
#include "replylist.h"
#include "tree.h"
#include "unlink.h"

#define REBASE_REPORT	"rebase.report"
#define REBASE_STAGE	"rebase.stage"

/* One rebase of one container, from the job or from recovery. */
struct rebase_run {
	struct daemon *d;
	const char *id;
	const struct tplfs_ct_paths *p;
	const char *from, *to;
	bool mounted, dry_run;
	_Atomic uint64_t *done;		/* progress, or NULL */
	struct tplfs_rebase_report rep;
	FILE *report;			/* every item, a line each */
	char *report_text;
	size_t report_len;
	struct reply_list listed;	/* the first items that are not plain
					 * (the report file has them all) */
	bool paused;
	bool full;			/* a full clone: its stubs copied after */
	struct tplfs_unlink_report unl;
	char err[PATH_MAX + 512];
};

static void on_item(void *arg, const struct tplfs_rebase_item *it)
{
	struct rebase_run *rr = arg;
	/* a path may hold any byte but NUL: escaped as in a manifest */
	char *path = tplfs_manifest_escape(it->path, strlen(it->path));

	fprintf(rr->report, "%s %s: %s\n", it->outcome, path ? path : "?",
		it->why);
	if (!rr->paused && !strcmp(it->outcome, "updated")) {
		rr->paused = true;
		jobs_test_point("ct.rebase:updated-one");
	}
	if (path && strcmp(it->outcome, "updated") &&
	    strcmp(it->outcome, "created") && strcmp(it->outcome, "removed")) {
		json_object *o = json_object_new_object();

		tplfs_json_str(o, "path", path);
		tplfs_json_str(o, "outcome", it->outcome);
		tplfs_json_str(o, "why", it->why);
		reply_list_add(&rr->listed, o);
	}
	free(path);
}

static void on_progress(void *arg)
{
	struct rebase_run *rr = arg;

	if (rr->done)
		atomic_fetch_add(rr->done, 1);
}

static int load(struct rebase_run *rr, const char *tpl, struct tplfs_mlist *l)
{
	struct tplfs_template_id t;
	char err[512];
	FILE *m;
	int ret;

	ret = tplfs_template_id_parse(tpl, &t, err, sizeof(err));
	if (ret) {
		snprintf(rr->err, sizeof(rr->err), "%s", err);
		return ret;
	}
	m = tplfs_template_manifest_open(rr->d->store_fd, &t);
	if (!m) {
		snprintf(rr->err, sizeof(rr->err), "no template %s (sealed)", tpl);
		return -ENOENT;
	}
	ret = tplfs_mlist_load(l, m, err, sizeof(err));
	fclose(m);
	if (ret)
		snprintf(rr->err, sizeof(rr->err), "%s: %s", tpl, err);
	return ret;
}

/* An empty stage directory beside fs/ (on its filesystem): its fd. */
static int stage_open(struct rebase_run *rr)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = tplfs_path(path, sizeof(path), "%s/%s", rr->p->private_dir,
			 REBASE_STAGE);
	if (ret) {
		snprintf(rr->err, sizeof(rr->err), "the stage: %s", strerror(-ret));
		return ret;
	}
	ret = tplfs_tree_remove(path);
	if ((ret && ret != -ENOENT) || mkdir(path, 0700) < 0) {
		ret = ret && ret != -ENOENT ? ret : -errno;
		snprintf(rr->err, sizeof(rr->err), "%s: %s", path, strerror(-ret));
		return ret;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		snprintf(rr->err, sizeof(rr->err), "%s: %s", path, strerror(errno));
	return fd < 0 ? -errno : fd;
}

static void stage_remove(struct rebase_run *rr)
{
	char path[PATH_MAX];

	if (!tplfs_path(path, sizeof(path), "%s/%s", rr->p->private_dir,
			REBASE_STAGE))
		tplfs_tree_remove(path);
}

/* The commit: ct.conf names "to" as its template. */
static int commit(struct rebase_run *rr)
{
	struct tplfs_ct_conf conf;
	char err[256];
	size_t n = 0;
	int ret;

	ret = tplfs_ct_conf_read(rr->p->conf, &conf, err, sizeof(err));
	if (ret) {
		snprintf(rr->err, sizeof(rr->err), "%s: %s", rr->p->conf, err);
		return ret;
	}
	snprintf(conf.template, sizeof(conf.template), "%s", rr->to);
	/* a stub a running program kept makes it a linked clone */
	conf.full = rr->full && !rr->unl.busy;
	for (size_t i = 0; i < conf.nuses; i++)
		if (strcmp(conf.uses[i], rr->to) &&
		    (rr->rep.old_stubs || strcmp(conf.uses[i], rr->from)))
			memmove(conf.uses[n++], conf.uses[i], sizeof(conf.uses[0]));
	conf.nuses = n;
	/* stubs kept of the old version's objects: it stays in use */
	if (rr->rep.old_stubs && tplfs_ct_conf_use(&conf, rr->from) < 0) {
		snprintf(rr->err, sizeof(rr->err), "ct.conf names %d templates already",
			 TPLFS_CT_USES_MAX);
		return -ENOSPC;
	}
	ret = tplfs_ct_conf_save(rr->p->private_dir, &conf);
	if (ret)
		snprintf(rr->err, sizeof(rr->err), "%s: %s", rr->p->conf,
			 strerror(-ret));
	return ret;
}

static int write_report(struct rebase_run *rr)
{
	char head[1024];
	int fd, ret, n;

	n = snprintf(head, sizeof(head),
		     "# ct %s rebased from %s to %s: %llu updated, %llu created, %llu removed, %llu kept, %llu conflicts, %llu merged, %llu busy\n",
		     rr->id, rr->from, rr->to,
		     (unsigned long long)rr->rep.updated,
		     (unsigned long long)rr->rep.created,
		     (unsigned long long)rr->rep.removed,
		     (unsigned long long)rr->rep.kept,
		     (unsigned long long)rr->rep.conflicts,
		     (unsigned long long)rr->rep.merged,
		     (unsigned long long)rr->rep.busy);
	fd = open(rr->p->private_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	{
		size_t len = (size_t)n + rr->report_len;
		char *all = malloc(len + 1);

		if (!all) {
			close(fd);
			return -ENOMEM;
		}
		memcpy(all, head, (size_t)n);
		memcpy(all + n, rr->report_text, rr->report_len);
		ret = tplfs_write_atomic(fd, REBASE_REPORT, all, len, 0644);
		free(all);
	}
	close(fd);
	if (ret)
		snprintf(rr->err, sizeof(rr->err), "%s/%s: %s", rr->p->private_dir,
			 REBASE_REPORT, strerror(-ret));
	return ret;
}

/*
 * A full clone: the stubs the rebase made (of theirs) become private
 * copies before the commit, so that a rebase finished by recovery does
 * it too. Mounted, through the mount (the module's copy-up).
 */
static int unlink_stubs(struct rebase_run *rr, int fs_fd)
{
	int mnt = -1, ret;

	if (rr->mounted) {
		mnt = open(rr->p->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mnt < 0) {
			ret = -errno;
			snprintf(rr->err, sizeof(rr->err), "%s: %s", rr->p->root,
				 strerror(errno));
			return ret;
		}
	}
	ret = tplfs_unlink_area(fs_fd, rr->d->store_fd, mnt, &rr->unl,
				rr->err, sizeof(rr->err));
	if (mnt >= 0)
		close(mnt);
	return ret;
}

/* Is the container of @rr a full clone? 0 or -errno with rr->err said. */
static int read_full(struct rebase_run *rr)
{
	struct tplfs_ct_conf conf;
	char err[256];
	int ret = tplfs_ct_conf_read(rr->p->conf, &conf, err, sizeof(err));

	if (ret)
		snprintf(rr->err, sizeof(rr->err), "%s: %s", rr->p->conf, err);
	rr->full = conf.full;
	return ret;
}

/* Apply (or, dry, decide) the rebase of @rr and commit it. 0 or -errno
 * with rr->err said. */
static int rebase_apply(struct rebase_run *rr)
{
	struct tplfs_mlist base = { 0 }, theirs = { 0 };
	struct tplfs_relink_ops ops;
	struct tplfs_rebase_args a = {
		.item = on_item, .progress = on_progress, .arg = rr,
		.dry_run = rr->dry_run, .store_fd = rr->d->store_fd,
		.base = &base, .theirs = &theirs, .fs_fd = -1, .stage_fd = -1,
	};
	int ret;

	reply_list_init(&rr->listed);
	rr->report = open_memstream(&rr->report_text, &rr->report_len);
	if (!rr->listed.arr || !rr->report) {
		snprintf(rr->err, sizeof(rr->err), "out of memory");
		return -ENOMEM;
	}
	ret = read_full(rr);
	if (!ret)
		ret = load(rr, rr->from, &base);
	if (!ret)
		ret = load(rr, rr->to, &theirs);
	if (ret)
		goto out;
	a.fs_fd = open(rr->p->fs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (a.fs_fd < 0) {
		ret = -errno;
		snprintf(rr->err, sizeof(rr->err), "%s: %s", rr->p->fs, strerror(errno));
		goto out;
	}
	a.stage_fd = rr->dry_run ? -1 : stage_open(rr);
	if (!rr->dry_run && a.stage_fd < 0) {
		ret = a.stage_fd;
		goto out;
	}
	ops = rr->mounted ? tplfs_relink_mounted(rr->id) : tplfs_relink_unmounted;
	a.ops = &ops;
	ret = tplfs_rebase(&a, &rr->rep, rr->err, sizeof(rr->err));
	fflush(rr->report);
	if (ret || rr->dry_run)
		goto out;
	ret = rr->full ? unlink_stubs(rr, a.fs_fd) : 0;
	if (!ret)
		ret = write_report(rr);
	if (ret)
		goto out;
	jobs_test_point("ct.rebase:applied");
	ret = commit(rr);
out:
	if (a.stage_fd >= 0) {
		close(a.stage_fd);
		stage_remove(rr);
	}
	if (a.fs_fd >= 0)
		close(a.fs_fd);
	tplfs_mlist_free(&base);
	tplfs_mlist_free(&theirs);
	return ret;
}

static void rebase_run_free(struct rebase_run *rr)
{
	if (rr->report)
		fclose(rr->report);
	free(rr->report_text);
	reply_list_free(&rr->listed);
}

/* --- the job ------------------------------------------------------------------ */

struct rebasejob {
	struct ctjob cj;
	bool dry_run;
	bool rescan;	/* mounted and changed: its quota usage measured again */
	char from[sizeof(((struct tplfs_ct_conf *)0)->template)];	/* held */
};

/* "to" in ct.conf's uses before any stub names its objects. */
static int record_use(struct ctjob *cj, struct tplfs_ct_conf *conf,
		      const char *to)
{
	int ret = tplfs_ct_conf_use(conf, to);

	if (ret < 0) {
		opjob_fail(&cj->op, TPLFS_E_BAD_ARGS, ENOSPC,
			   "%s: ct.conf names %d templates already", cj->id,
			   TPLFS_CT_USES_MAX);
		return ret;
	}
	if (!ret)
		return 0;
	ret = tplfs_ct_conf_save(cj->paths.private_dir, conf);
	if (ret)
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, cj->paths.conf);
	return ret;
}

static json_object *result_of(struct ctjob *cj, const struct rebase_run *rr)
{
	json_object *r = ctjob_result(cj);

	tplfs_json_str(r, "from", rr->from);
	tplfs_json_str(r, "to", rr->to);
	tplfs_json_bool(r, "dry_run", rr->dry_run);
	tplfs_json_bool(r, "mounted", rr->mounted);
	tplfs_json_u64(r, "paths", rr->rep.paths);
	tplfs_json_u64(r, "updated", rr->rep.updated);
	tplfs_json_u64(r, "created", rr->rep.created);
	tplfs_json_u64(r, "removed", rr->rep.removed);
	tplfs_json_u64(r, "kept", rr->rep.kept);
	tplfs_json_u64(r, "conflicts", rr->rep.conflicts);
	tplfs_json_u64(r, "merged", rr->rep.merged);
	tplfs_json_u64(r, "busy", rr->rep.busy);
	if (rr->full && !rr->dry_run) {
		/* a full clone: what it holds now is copied in */
		tplfs_json_u64(r, "copied", rr->unl.copied);
		tplfs_json_u64(r, "copy_busy", rr->unl.busy);
	}
	tplfs_json_str(r, "clone", rr->full && !rr->unl.busy ? "full" : "linked");
	if (!rr->dry_run) {
		char path[PATH_MAX];

		if (!tplfs_path(path, sizeof(path), "%s/%s", rr->p->private_dir,
				REBASE_REPORT))
			tplfs_json_str(r, "report", path);
	}
	reply_list_put(&rr->listed, r, "items", "items_all_listed");
	return r;
}

static void rebase_job_run(struct job *job)
{
	struct rebasejob *rj = (struct rebasejob *)job;
	struct ctjob *cj = &rj->cj;
	struct rebase_run rr = {
		.d = cj->op.d, .id = cj->id, .p = &cj->paths, .from = rj->from,
		.to = cj->tpl_id, .mounted = cj->ct && cj->ct->mounted,
		.dry_run = rj->dry_run, .done = &cj->op.done,
	};
	struct tplfs_ct_conf conf;

	if (ctjob_read_conf(cj, &conf))
		return;
	if (strcmp(conf.template, rj->from)) {
		opjob_fail(&cj->op, TPLFS_E_BUSY, EAGAIN,
			   "%s: its template changed meanwhile (now %s)", cj->id,
			   conf.template);
		return;
	}
	if (!strcmp(rr.from, rr.to)) {	/* there already: nothing to do */
		reply_list_init(&rr.listed);
		cj->op.result = result_of(cj, &rr);
		rebase_run_free(&rr);
		return;
	}
	cj->op.what = rj->dry_run ? "paths decided" : "paths rebased";
	if (!rj->dry_run) {
		json_object *rec;

		if (record_use(cj, &conf, rr.to))
			return;
		rec = json_object_new_object();
		tplfs_json_str(rec, "from", rr.from);
		tplfs_json_str(rec, "to", rr.to);
		if (ctjob_journal_begin(cj, "ct.rebase", rec))
			return;
		jobs_test_point("ct.rebase:journaled");
	}
	if (rebase_apply(&rr)) {
		/* the record stays: the next start finishes it */
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, EIO, "%s: %s", cj->id, rr.err);
		rebase_run_free(&rr);
		return;
	}
	if (!rj->dry_run) {
		ctjob_journal_end(cj->op.d, cj->id);
		if (!rr.mounted)
			ctquota_created(cj->paths.private_dir, cj->paths.fs);
		/* the module did not see the inodes made and removed */
		rj->rescan = rr.mounted;
	}
	log_info("ct %s: %srebased from %s to %s: %llu updated, %llu created, %llu removed, %llu kept, %llu conflicts, %llu merged, %llu busy",
		 cj->id, rj->dry_run ? "dry run: " : "", rr.from, rr.to,
		 (unsigned long long)rr.rep.updated,
		 (unsigned long long)rr.rep.created,
		 (unsigned long long)rr.rep.removed,
		 (unsigned long long)rr.rep.kept,
		 (unsigned long long)rr.rep.conflicts,
		 (unsigned long long)rr.rep.merged,
		 (unsigned long long)rr.rep.busy);
	cj->op.result = result_of(cj, &rr);
	rebase_run_free(&rr);
}

static void rebase_job_finish(struct opjob *oj)
{
	struct rebasejob *rj = (struct rebasejob *)oj;
	struct daemon *d = oj->d;
	char id[TPLFS_CT_ID_MAX + 1];
	bool rescan = rj->rescan;

	snprintf(id, sizeof(id), "%s", rj->cj.id);
	tpl_release(rj->from, false);
	ctjob_finish(oj);
	if (rescan)
		ctquota_rescan(d, id);
}

void ctrebase_serve(struct req *rq, const char *id, const char *to, bool dry_run)
{
	const struct ctentry *e = ctjob_entry(rq, id);
	struct tplfs_template_id t;
	struct rebasejob *rj;
	char err[256];

	if (!e)
		return;
	if (tplfs_template_id_parse(to, &t, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL, "%s", err));
		return;
	}
	if (!e->conf.template[0]) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "%s has no template to rebase from", id));
		return;
	}
	if (tplfs_template_state(rq->d->store_fd, &t) != TPLFS_TEMPLATE_SEALED) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "no template %s (sealed)", to));
		return;
	}
	if (!tpl_acquire(e->conf.template, false)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed",
			  e->conf.template));
		return;
	}
	if (!tpl_acquire(to, false)) {
		tpl_release(e->conf.template, false);
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed", to));
		return;
	}
	rj = (struct rebasejob *)ctjob_new(rq, id, sizeof(*rj), rebase_job_run, true);
	if (!rj) {
		tpl_release(e->conf.template, false);
		tpl_release(to, false);
		return;
	}
	rj->cj.op.finish = rebase_job_finish;
	rj->dry_run = dry_run;
	snprintf(rj->from, sizeof(rj->from), "%s", e->conf.template);
	snprintf(rj->cj.tpl_id, sizeof(rj->cj.tpl_id), "%s", to);
	rj->cj.op.what = "ct.rebase";
	opjob_submit(&rj->cj.op);
}

/* --- recovery ------------------------------------------------------------------ */

int ctrebase_recover(struct daemon *d, const char *id,
		     const struct tplfs_ct_paths *p, const char *from,
		     const char *to, bool mounted)
{
	struct rebase_run rr = {
		.d = d, .id = id, .p = p, .from = from, .to = to,
		.mounted = mounted,
	};
	struct tplfs_ct_conf conf;
	char err[512];
	int ret;

	if (tplfs_ct_conf_read(p->conf, &conf, err, sizeof(err))) {
		log_err("recovery: ct.rebase %s: %s: %s; kept for the next start",
			id, p->conf, err);
		return 1;
	}
	if (!strcmp(conf.template, to)) {
		log_info("recovery: ct.rebase %s to %s: finished", id, to);
		return 0;
	}
	if (strcmp(conf.template, from))
		return -1;
	ret = rebase_apply(&rr);
	rebase_run_free(&rr);
	if (ret) {
		log_err("recovery: ct.rebase %s: %s; kept for the next start",
			id, rr.err);
		return 1;
	}
	if (!mounted)
		ctquota_created(p->private_dir, p->fs);
	log_info("recovery: ct.rebase %s from %s to %s: finished (%llu updated, %llu conflicts)",
		 id, from, to, (unsigned long long)rr.rep.updated,
		 (unsigned long long)rr.rep.conflicts);
	return 0;
}
