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
 *
 * ct.app.add and ct.app.rm (ctapp.c) are the same run between two trees
 * of one template with other application templates applied: the record
 * has their apps too, and the commit writes them (doc/apps.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "layer.h"
#include "postinst.h"
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
	/* their application templates (never NULL): the trees are from
	 * and to with these applied */
	const struct tplfs_ct_apps *from_apps, *to_apps;
	const char *what;		/* "rebased from A to B", ... */
	/* the two trees if the caller loaded them (the job, once for its
	 * checks and its run); NULL: rebase_apply loads them */
	const struct tplfs_mlist *base, *theirs;
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
	struct tplfs_idshift userns;	/* its ids shifted (doc/userns.md) */
	bool conf_read;			/* full and userns read */
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
	if (!rr->paused && !rr->dry_run && !strcmp(it->outcome, "updated")) {
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

/* What the run needs of the container's ct.conf: rr->full, rr->userns.
 * 0 or -errno with rr->err said. */
static int read_conf(struct rebase_run *rr)
{
	struct tplfs_ct_conf conf;
	char err[256];
	int ret;

	if (rr->conf_read)
		return 0;
	ret = tplfs_ct_conf_read(rr->p->conf, &conf, err, sizeof(err));
	if (ret) {
		snprintf(rr->err, sizeof(rr->err), "%s: %s", rr->p->conf, err);
		return ret;
	}
	rr->full = conf.full;
	rr->userns = conf.userns;
	rr->conf_read = true;
	return 0;
}

/*
 * The tree of template @os with @apps applied in order (layer.c), its ids
 * shifted as the container's are (doc/userns.md): what its private area
 * holds and is given is compared and written in the container's ids.
 */
static int load_tree(struct rebase_run *rr, const char *os,
		     const struct tplfs_ct_apps *apps, struct tplfs_mlist *out)
{
	int ret = read_conf(rr);

	if (!ret)
		ret = tplfs_layer_tree(rr->d->store_fd, os, apps->v, apps->n,
				       out, rr->err, sizeof(rr->err));
	if (!ret)
		ret = tplfs_idshift_mlist(&rr->userns, out, rr->err,
					  sizeof(rr->err));
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

static bool apps_have(const struct tplfs_ct_apps *apps, const char *tpl)
{
	for (size_t i = 0; i < apps->n; i++)
		if (!strcmp(apps->v[i], tpl))
			return true;
	return false;
}

/* The commit: ct.conf names "to" as its template, and to's apps. */
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
	conf.apps = *rr->to_apps;
	/* a stub a running program kept makes it a linked clone */
	conf.full = rr->full && !rr->unl.busy;
	for (size_t i = 0; i < conf.nuses; i++) {
		const char *u = conf.uses[i];
		bool in_to = !strcmp(u, rr->to) || apps_have(rr->to_apps, u);
		bool in_from = !strcmp(u, rr->from) || apps_have(rr->from_apps, u);

		if (!in_to && (rr->rep.old_stubs || !in_from))
			memmove(conf.uses[n++], u, sizeof(conf.uses[0]));
	}
	conf.nuses = n;
	/* stubs kept of the old tree's objects: it stays in use */
	for (size_t i = 0; rr->rep.old_stubs && i <= rr->from_apps->n; i++)
		if (tplfs_ct_conf_use(&conf, i ? rr->from_apps->v[i - 1] :
				      rr->from) < 0) {
			snprintf(rr->err, sizeof(rr->err),
				 "ct.conf names %d templates already",
				 TPLFS_CT_USES_MAX);
			return -ENOSPC;
		}
	ret = tplfs_ct_conf_save(rr->p->private_dir, &conf);
	if (ret)
		snprintf(rr->err, sizeof(rr->err), "%s: %s", rr->p->conf,
			 strerror(-ret));
	return ret;
}

/* "N updated, N created, ... N busy": the report's head and the log's */
static void counts_text(const struct tplfs_rebase_report *rep, char *buf,
			size_t len)
{
	snprintf(buf, len,
		 "%llu updated, %llu created, %llu removed, %llu kept, %llu conflicts, %llu merged, %llu busy",
		 (unsigned long long)rep->updated,
		 (unsigned long long)rep->created,
		 (unsigned long long)rep->removed,
		 (unsigned long long)rep->kept,
		 (unsigned long long)rep->conflicts,
		 (unsigned long long)rep->merged,
		 (unsigned long long)rep->busy);
}

static int write_report(struct rebase_run *rr)
{
	char head[1024], counts[256];
	int fd, ret, n;

	counts_text(&rr->rep, counts, sizeof(counts));
	n = snprintf(head, sizeof(head), "# ct %s %s: %s\n", rr->id, rr->what,
		     counts);
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

/* Apply (or, dry, decide) the rebase of @rr and commit it. 0 or -errno
 * with rr->err said. */
static int rebase_apply(struct rebase_run *rr)
{
	struct tplfs_mlist base = { 0 }, theirs = { 0 };
	struct tplfs_relink_ops ops;
	struct tplfs_rebase_args a = {
		.item = on_item, .progress = on_progress, .arg = rr,
		.dry_run = rr->dry_run, .store_fd = rr->d->store_fd,
		.base = rr->base ? rr->base : &base,
		.theirs = rr->theirs ? rr->theirs : &theirs,
		.fs_fd = -1, .stage_fd = -1,
	};
	int ret;

	reply_list_init(&rr->listed);
	rr->report = open_memstream(&rr->report_text, &rr->report_len);
	if (!rr->listed.arr || !rr->report) {
		snprintf(rr->err, sizeof(rr->err), "out of memory");
		return -ENOMEM;
	}
	ret = read_conf(rr);
	if (!ret && !rr->base)
		ret = load_tree(rr, rr->from, rr->from_apps, &base);
	if (!ret && !rr->theirs)
		ret = load_tree(rr, rr->to, rr->to_apps, &theirs);
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
	struct ctrebase_spec spec;	/* its strings point into the job */
	bool rescan;	/* mounted and changed: its quota usage measured again */
	char verb[16];
	char app[256];			/* held, if set */
	char from[sizeof(((struct tplfs_ct_conf *)0)->template)];	/* held */
	struct tplfs_ct_apps from_apps, to_apps;
	char what[1024];
};

static bool apps_equal(const struct tplfs_ct_apps *a,
		       const struct tplfs_ct_apps *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

static json_object *apps_json(const struct tplfs_ct_apps *apps)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < apps->n; i++)
		json_object_array_add(arr, json_object_new_string(apps->v[i]));
	return arr;
}

/* to and its apps in ct.conf's uses before any stub names their objects. */
static int record_use(struct ctjob *cj, struct tplfs_ct_conf *conf,
		      const char *to, const struct tplfs_ct_apps *to_apps)
{
	int added = 0, ret = 0;

	for (size_t i = 0; ret >= 0 && i <= to_apps->n; i++) {
		ret = tplfs_ct_conf_use(conf, i ? to_apps->v[i - 1] : to);
		added += ret > 0;
	}
	if (ret < 0) {
		opjob_fail(&cj->op, TPLFS_E_BAD_ARGS, ENOSPC,
			   "%s: ct.conf names %d templates already", cj->id,
			   TPLFS_CT_USES_MAX);
		return ret;
	}
	if (!added)
		return 0;
	ret = tplfs_ct_conf_save(cj->paths.private_dir, conf);
	if (ret)
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, cj->paths.conf);
	return ret;
}

static json_object *result_of(struct ctjob *cj, const struct rebase_run *rr,
			      const struct rebasejob *rj)
{
	json_object *r = ctjob_result(cj);

	tplfs_json_str(r, "from", rr->from);
	tplfs_json_str(r, "to", rr->to);
	if (rj->app[0]) {
		tplfs_json_str(r, "app", rj->app);
		json_object_object_add(r, "apps", apps_json(rr->dry_run ?
				       rr->from_apps : rr->to_apps));
	}
	if (!strcmp(rj->verb, "ct.app.add")) {
		/* what the client runs in the container after it (doc/apps.md) */
		char **names;
		size_t n;

		if (!tplfs_template_postinst(cj->op.d->store_fd, rj->app,
					     &names, &n)) {
			json_object_object_add(r, "postinst",
					       tplops_names_json(names, n));
			tplfs_postinst_free(names, n);
		}
	}
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

/*
 * ct.app.add without keep_mine: a dry run first, and the paths both the
 * container and the application template change refuse it, named, with
 * nothing touched. True if it failed the job.
 */
static bool refuse_conflicts(struct rebasejob *rj, const struct rebase_run *rr0)
{
	struct ctjob *cj = &rj->cj;
	struct rebase_run rr = *rr0;
	char names[1024] = "";
	size_t used = 0, n;
	json_object *items;

	rr.dry_run = true;
	rr.done = NULL;
	memset(&rr.rep, 0, sizeof(rr.rep));
	rr.report = NULL;
	rr.report_text = NULL;
	rr.report_len = 0;
	if (rebase_apply(&rr)) {
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, EIO, "%s: %s", cj->id, rr.err);
		rebase_run_free(&rr);
		return true;
	}
	if (!rr.rep.conflicts) {
		rebase_run_free(&rr);
		return false;
	}
	items = rr.listed.arr;
	n = json_object_array_length(items);
	for (size_t i = 0; i < n && used < sizeof(names) - 1; i++) {
		json_object *it = json_object_array_get_idx(items, i), *v;

		if (!json_object_object_get_ex(it, "outcome", &v) ||
		    strcmp(json_object_get_string(v), "conflict") ||
		    !json_object_object_get_ex(it, "path", &v))
			continue;
		used += (size_t)snprintf(names + used, sizeof(names) - used,
					 "%s%s", used ? ", " : "",
					 json_object_get_string(v));
	}
	if (used >= sizeof(names) - 1)
		strcpy(names + sizeof(names) - 5, "...");
	opjob_fail(&cj->op, TPLFS_E_CONFLICT, EEXIST,
		   "%s: %s changes %llu path(s) the container changed: %s; nothing done (--keep-mine keeps the container's)",
		   cj->id, rj->app, (unsigned long long)rr.rep.conflicts, names);
	rebase_run_free(&rr);
	return true;
}

/*
 * Both trees can be made from the store (the apps apply): checked before
 * the journal has the record, which recovery would retry for ever. False
 * after the job failed.
 */
static bool trees_load(struct rebasejob *rj, struct rebase_run *rr,
		       struct tplfs_mlist *base, struct tplfs_mlist *theirs)
{
	int ret = load_tree(rr, rr->from, rr->from_apps, base);

	if (!ret)
		ret = load_tree(rr, rr->to, rr->to_apps, theirs);
	if (ret) {
		/* ERANGE: an owner outside the container's userns range */
		enum tplfs_err code = ret == -EINVAL || ret == -ERANGE ?
				      TPLFS_E_BAD_ARGS :
				      ret == -ENOENT ? TPLFS_E_NOT_FOUND :
				      TPLFS_E_SYSTEM;

		if (rr->to_apps->n && !strcmp(rj->verb, "ct.rebase"))
			opjob_fail(&rj->cj.op, code, -ret,
				   "%s: its application templates do not apply to %s (%s): import a version of each as a layer of %s (template import NAME@VERSION --layer-of %s)",
				   rj->cj.id, rr->to, rr->err, rr->to, rr->to);
		else
			opjob_fail(&rj->cj.op, code, -ret, "%s: %s", rj->cj.id,
				   rr->err);
		return false;
	}
	rr->base = base;
	rr->theirs = theirs;
	return true;
}

/* The job's run once both trees are loaded (rr->base, rr->theirs). */
static void rebase_job_loaded(struct rebasejob *rj, struct rebase_run *rr,
			      struct tplfs_ct_conf *conf)
{
	struct ctjob *cj = &rj->cj;
	char counts[256];

	if (!rj->spec.dry_run && !strcmp(rj->verb, "ct.app.add") &&
	    !rj->spec.keep_mine && refuse_conflicts(rj, rr))
		return;
	if (!rj->spec.dry_run) {
		json_object *rec;

		if (record_use(cj, conf, rr->to, rr->to_apps))
			return;
		rec = json_object_new_object();
		tplfs_json_str(rec, "from", rr->from);
		tplfs_json_str(rec, "to", rr->to);
		json_object_object_add(rec, "from_apps", apps_json(rr->from_apps));
		json_object_object_add(rec, "to_apps", apps_json(rr->to_apps));
		tplfs_json_str(rec, "what", rr->what);
		if (ctjob_journal_begin(cj, rj->verb, rec))
			return;
		jobs_test_point("ct.rebase:journaled");
	}
	if (rebase_apply(rr)) {
		/* the record stays: the next start finishes it */
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, EIO, "%s: %s", cj->id, rr->err);
		rebase_run_free(rr);
		return;
	}
	if (!rj->spec.dry_run) {
		ctjob_journal_end(cj->op.d, cj->id);
		if (!rr->mounted)
			ctquota_created(cj->paths.private_dir, cj->paths.fs);
		/* the module did not see the inodes made and removed */
		rj->rescan = rr->mounted;
	}
	counts_text(&rr->rep, counts, sizeof(counts));
	log_info("ct %s: %s%s: %s", cj->id, rj->spec.dry_run ? "dry run: " : "",
		 rr->what, counts);
	cj->op.result = result_of(cj, rr, rj);
	rebase_run_free(rr);
}

static void rebase_job_run(struct job *job)
{
	struct rebasejob *rj = (struct rebasejob *)job;
	struct ctjob *cj = &rj->cj;
	struct rebase_run rr = {
		.d = cj->op.d, .id = cj->id, .p = &cj->paths, .from = rj->from,
		.to = cj->tpl_id, .from_apps = &rj->from_apps,
		.to_apps = &rj->to_apps, .what = rj->what,
		.mounted = cj->ct && cj->ct->mounted,
		.dry_run = rj->spec.dry_run, .done = &cj->op.done,
	};
	struct tplfs_mlist base = { 0 }, theirs = { 0 };
	struct tplfs_ct_conf conf;

	if (ctjob_read_conf(cj, &conf))
		return;
	if (strcmp(conf.template, rj->from) || !apps_equal(&conf.apps, &rj->from_apps)) {
		opjob_fail(&cj->op, TPLFS_E_BUSY, EAGAIN,
			   "%s: its template changed meanwhile (now %s)", cj->id,
			   conf.template);
		return;
	}
	if (!strcmp(rr.from, rr.to) && apps_equal(rr.from_apps, rr.to_apps)) {
		/* there already: nothing to do */
		reply_list_init(&rr.listed);
		cj->op.result = result_of(cj, &rr, rj);
		rebase_run_free(&rr);
		return;
	}
	cj->op.what = rj->spec.dry_run ? "paths decided" : "paths rebased";
	if (trees_load(rj, &rr, &base, &theirs))
		rebase_job_loaded(rj, &rr, &conf);
	tplfs_mlist_free(&base);
	tplfs_mlist_free(&theirs);
}

static void rebase_job_finish(struct opjob *oj)
{
	struct rebasejob *rj = (struct rebasejob *)oj;
	struct daemon *d = oj->d;
	char id[TPLFS_CT_ID_MAX + 1];
	bool rescan = rj->rescan;

	snprintf(id, sizeof(id), "%s", rj->cj.id);
	tpl_release(rj->from, false);
	if (rj->app[0])
		tpl_release(rj->app, false);
	ctjob_finish(oj);
	if (rescan)
		ctquota_rescan(d, id);
}

void ctrebase_submit(struct req *rq, const char *id,
		     const struct ctrebase_spec *spec)
{
	const struct ctentry *e = ctjob_entry(rq, id);
	struct tplfs_template_id t;
	struct rebasejob *rj;
	char err[256];

	if (!e)
		return;
	if (tplfs_template_id_parse(spec->to, &t, err, sizeof(err))) {
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
			  "no template %s (sealed)", spec->to));
		return;
	}
	if (!tpl_acquire(e->conf.template, false)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed",
			  e->conf.template));
		return;
	}
	if (!tpl_acquire(spec->to, false)) {
		tpl_release(e->conf.template, false);
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed", spec->to));
		return;
	}
	if (spec->app && !tpl_acquire(spec->app, false)) {
		tpl_release(e->conf.template, false);
		tpl_release(spec->to, false);
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed", spec->app));
		return;
	}
	rj = (struct rebasejob *)ctjob_new(rq, id, sizeof(*rj), rebase_job_run, true);
	if (!rj) {
		tpl_release(e->conf.template, false);
		tpl_release(spec->to, false);
		if (spec->app)
			tpl_release(spec->app, false);
		return;
	}
	rj->cj.op.finish = rebase_job_finish;
	rj->spec = *spec;
	snprintf(rj->verb, sizeof(rj->verb), "%s", spec->verb);
	snprintf(rj->app, sizeof(rj->app), "%s", spec->app ? spec->app : "");
	snprintf(rj->from, sizeof(rj->from), "%s", e->conf.template);
	rj->from_apps = e->conf.apps;
	rj->to_apps = *spec->to_apps;
	rj->cj.hold_apps = &rj->to_apps;
	snprintf(rj->cj.tpl_id, sizeof(rj->cj.tpl_id), "%s", spec->to);
	if (!spec->app)
		snprintf(rj->what, sizeof(rj->what), "rebased from %s to %s",
			 rj->from, spec->to);
	else
		snprintf(rj->what, sizeof(rj->what), "app %s %s", rj->app,
			 !strcmp(spec->verb, "ct.app.rm") ? "removed" : "added");
	rj->cj.op.what = rj->verb;
	opjob_submit(&rj->cj.op);
}

/*
 * The apps of a container rebased to @to: for each, the highest version
 * of its name that is a layer of @to, else the same one (it may still
 * apply: the run checks before it changes anything).
 */
static void carry_apps(struct daemon *d, const struct tplfs_ct_apps *from,
		       const char *to, struct tplfs_ct_apps *out)
{
	*out = *from;
	for (size_t i = 0; i < from->n; i++) {
		char name[256];

		snprintf(name, sizeof(name), "%s", from->v[i]);
		*strchr(name, '@') = '\0';
		tplfs_layer_newest(d->store_fd, name, to, out->v[i],
				   sizeof(out->v[i]));
	}
}

void ctrebase_serve(struct req *rq, const char *id, const char *to, bool dry_run)
{
	const struct ctentry *e = ctjob_entry(rq, id);
	struct ctrebase_spec spec = {
		.verb = "ct.rebase", .to = to, .dry_run = dry_run,
	};
	struct tplfs_ct_apps apps;

	if (!e)
		return;
	carry_apps(rq->d, &e->conf.apps, to, &apps);
	spec.to_apps = &apps;
	ctrebase_submit(rq, id, &spec);
}

/* --- recovery ------------------------------------------------------------------ */

int ctrebase_recover(struct daemon *d, const char *id,
		     const struct tplfs_ct_paths *p, const char *from,
		     const char *to, const struct tplfs_ct_apps *from_apps,
		     const struct tplfs_ct_apps *to_apps, const char *what,
		     bool mounted)
{
	struct rebase_run rr = {
		.d = d, .id = id, .p = p, .from = from, .to = to,
		.from_apps = from_apps, .to_apps = to_apps, .what = what,
		.mounted = mounted,
	};
	struct tplfs_ct_conf conf;
	char err[512];
	int ret;

	if (tplfs_ct_conf_read(p->conf, &conf, err, sizeof(err))) {
		log_err("recovery: %s %s: %s: %s; kept for the next start",
			what, id, p->conf, err);
		return 1;
	}
	if (!strcmp(conf.template, to) && apps_equal(&conf.apps, to_apps)) {
		log_info("recovery: ct %s %s: finished", id, what);
		return 0;
	}
	if (strcmp(conf.template, from) || !apps_equal(&conf.apps, from_apps))
		return -1;
	ret = rebase_apply(&rr);
	rebase_run_free(&rr);
	if (ret) {
		log_err("recovery: ct %s %s: %s; kept for the next start",
			id, what, rr.err);
		return 1;
	}
	if (!mounted)
		ctquota_created(p->private_dir, p->fs);
	log_info("recovery: ct %s %s: finished (%llu updated, %llu conflicts)",
		 id, what, (unsigned long long)rr.rep.updated,
		 (unsigned long long)rr.rep.conflicts);
	return 0;
}
