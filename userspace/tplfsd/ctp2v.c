// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ct.p2v.stage, ct.p2v.final, ct.p2v.abort: a physical server made a
 * container (doc/p2v.md). tplctl runs the transfers (rsync, with the
 * operator's own ssh); the daemon owns where they go and what the tree
 * becomes:
 * - stage: private/.<id>.p2v/ made or found (fs/ the tree, p2v.conf the
 *   source it was started from, p2v.lock which a transfer holds), the
 *   source checked against the one it was started with;
 * - final: under the lock, a tree with a host xattr refused, the server's
 *   usage measured (the default quota, with headroom), ct.conf and the
 *   quota usage written, then the rename that makes it container <id>.
 *   The rename is the commit: a kill before it leaves the staging area as
 *   it was, and the same command goes on. With a template the container
 *   is a full clone of it; the relink that makes stubs of what the server
 *   has in common with it is ct.relink, asked for next by tplctl.
 * - abort: the staging area removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctjob.h"
#include "log.h"
#include "p2vcheck.h"
#include "p2vreport.h"
#include "p2vstate.h"
#include "replylist.h"
#include "tree.h"
#include "usage_scan.h"

#define P2V_LOCK_FILE	"p2v.lock"

struct p2vjob {
	struct ctjob cj;
	struct tplfs_p2v_plan plan;	/* stage */
	struct tplfs_ct_limits limits;	/* final */
	bool bytes_given, inodes_given;
	char staging[PATH_MAX];		/* private/.<id>.p2v */
};

static void p2v_staging(struct p2vjob *pj)
{
	ctops_aside(pj->cj.op.d, pj->cj.id, "p2v", pj->staging,
		    sizeof(pj->staging));
}

/*
 * A container @id that a p2v of the same source made: its p2v.conf says
 * so. True: the result says it is finished.
 */
static bool finished_before(struct p2vjob *pj, const char *from)
{
	struct ctjob *cj = &pj->cj;
	struct tplfs_p2v_state st;
	char err[512];
	json_object *r;
	bool same;
	int fd;

	fd = open(cj->paths.private_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	same = !tplfs_p2v_state_read(fd, &st, err, sizeof(err)) &&
	       st.finished && (!from || !strcmp(st.plan.from, from));
	close(fd);
	if (!same) {
		if (!from || access(cj->paths.private_dir, F_OK))
			return false;
		tplfs_p2v_plan_free(&st.plan);
		opjob_fail(&cj->op, TPLFS_E_EXISTS, EEXIST,
			   "container %s exists and is not a p2v of %s", cj->id,
			   from);
		return true;
	}
	r = ctjob_result(cj);
	tplfs_json_bool(r, "finished", true);
	tplfs_json_str(r, "from", st.plan.from);
	tplfs_json_u64(r, "source_bytes", st.source_bytes);
	tplfs_json_u64(r, "source_inodes", st.source_inodes);
	cj->op.result = r;
	tplfs_p2v_plan_free(&st.plan);
	return true;
}

/* Open (making it) directory @path; -1 after the job failed. */
static int dir_open(struct ctjob *cj, const char *path, mode_t mode)
{
	int fd;

	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, path);
	return fd;
}

static void stage_run(struct job *job)
{
	struct p2vjob *pj = (struct p2vjob *)job;
	struct ctjob *cj = &pj->cj;
	struct tplfs_p2v_state st = { 0 }, old;
	char privdir[PATH_MAX], fs[PATH_MAX + 8], lock[PATH_MAX + 16];
	char err[512];
	int sfd = -1, fd = -1, ret;
	json_object *r;

	p2v_staging(pj);
	if (access(pj->staging, F_OK) && finished_before(pj, pj->plan.from))
		return;
	tplfs_path(privdir, sizeof(privdir), "%s/private", cj->op.d->cfg.root);
	fd = dir_open(cj, privdir, 0700);
	if (fd < 0)
		return;
	close(fd);
	sfd = dir_open(cj, pj->staging, 0700);
	if (sfd < 0)
		return;
	ret = tplfs_p2v_state_read(sfd, &old, err, sizeof(err));
	if (ret && ret != -ENOENT) {
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, -ret, "%s/%s", pj->staging,
			   err);
		goto out;
	}
	if (!ret) {
		bool same = !strcmp(old.plan.from, pj->plan.from);

		st.started = old.started;
		st.transfers = old.transfers;
		if (!same)
			opjob_fail(&cj->op, TPLFS_E_EXISTS, EEXIST,
				   "a p2v of %s from %s is staged; finish it, or drop it with ct p2v %s --abort to start over from %s",
				   cj->id, old.plan.from, cj->id, pj->plan.from);
		tplfs_p2v_plan_free(&old.plan);
		if (!same)
			goto out;
	} else {
		st.started = time(NULL);
	}
	snprintf(fs, sizeof(fs), "%s/fs", pj->staging);
	fd = dir_open(cj, fs, 0755);
	if (fd < 0)
		goto out;
	close(fd);
	snprintf(lock, sizeof(lock), "%s/%s", pj->staging, P2V_LOCK_FILE);
	fd = openat(sfd, P2V_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, lock);
		goto out;
	}
	close(fd);
	/* a new transfer: what the tree used is to be measured again */
	st.plan = pj->plan;
	st.transfers++;
	ret = tplfs_p2v_state_write(sfd, &st);
	if (ret) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, TPLFS_P2V_STATE_FILE);
		goto out;
	}
	r = ctjob_result(cj);
	tplfs_json_str(r, "from", pj->plan.from);
	tplfs_json_str(r, "staging", fs);
	tplfs_json_str(r, "lock", lock);
	tplfs_json_u64(r, "transfers", st.transfers);
	tplfs_json_bool(r, "finished", false);
	cj->op.result = r;
out:
	close(sfd);
}

/* At most this many host xattrs are named in the refusal. */
#define P2V_FORGED_NAMED	8

struct forged {
	char text[1024];
	size_t len;
	long n;
};

static void forged_one(void *arg, const char *path, const char *xattr)
{
	struct forged *f = arg;

	if (f->n++ < P2V_FORGED_NAMED && f->len < sizeof(f->text))
		f->len += snprintf(f->text + f->len, sizeof(f->text) - f->len,
				   "%s%s (%s)", f->n > 1 ? ", " : "", path,
				   xattr);
}

static void noted(void *arg, const char *text)
{
	json_object_array_add(arg, json_object_new_string(text));
}

/* Round @v up to a multiple of @unit. */
static uint64_t round_up(uint64_t v, uint64_t unit)
{
	return (v + unit - 1) / unit * unit;
}

/*
 * The limits: those given, else the server's usage with headroom (soft a
 * quarter above it, hard a half), so that it fits at once and can grow.
 */
static void final_limits(struct p2vjob *pj, const struct tplfs_usage *u)
{
	struct tplfs_ct_limits *l = &pj->limits;

	if (!pj->bytes_given) {
		l->bytes_soft = round_up(u->bytes + u->bytes / 4, 1 << 20);
		l->bytes_hard = round_up(u->bytes + u->bytes / 2, 1 << 20);
	}
	if (!pj->inodes_given) {
		l->inodes_soft = round_up(u->inodes + u->inodes / 4, 1000);
		l->inodes_hard = round_up(u->inodes + u->inodes / 2, 1000);
	}
}

/* Is the staging's lock free? Then it is held (@fd) until closed. */
static int lock_staging(struct ctjob *cj, int sfd)
{
	int fd = openat(sfd, P2V_LOCK_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, P2V_LOCK_FILE);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		opjob_fail(&cj->op, TPLFS_E_BUSY, errno,
			   "a transfer into the p2v of %s is under way", cj->id);
		close(fd);
		return -1;
	}
	return fd;
}

/* The template, if one is named, is there and sealed; or the job failed. */
static bool template_sealed(struct ctjob *cj)
{
	FILE *m;

	if (!cj->tpl_id[0])
		return true;
	m = tplfs_template_manifest_open(cj->op.d->store_fd, &cj->tpl);
	if (m) {
		fclose(m);
		return true;
	}
	opjob_fail(&cj->op, TPLFS_E_NOT_FOUND, ENOENT,
		   "no template %s (sealed)", cj->tpl_id);
	return false;
}

/* Refuse a tree with host xattrs; true if it failed. */
static bool refuse_forged(struct ctjob *cj, int fs_fd)
{
	struct forged f = { 0 };
	char err[PATH_MAX + 256];
	long n;

	n = tplfs_p2v_host_xattrs(fs_fd, forged_one, &f, err, sizeof(err));
	if (n < 0) {
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, (int)-n, "%s", err);
		return true;
	}
	if (!n)
		return false;
	opjob_fail(&cj->op, TPLFS_E_BAD_ARGS, EPERM,
		   "the p2v of %s carries %ld xattr%s that only the host may set: %s%s; it is not made a container (ct p2v %s --abort drops it)",
		   cj->id, n, n > 1 ? "s" : "", f.text,
		   n > P2V_FORGED_NAMED ? ", ..." : "", cj->id);
	return true;
}

/* ct.conf, the quota usage and p2v.conf of the staging, all on disk. */
static int final_write(struct p2vjob *pj, int sfd, struct tplfs_p2v_state *st,
		       const struct tplfs_usage *u)
{
	struct ctjob *cj = &pj->cj;
	struct tplfs_ct_conf conf = { .limits = pj->limits };
	char fs[PATH_MAX + 8];
	int ret;

	strcpy(conf.backend, "dir");
	strcpy(conf.uuid, cj->uuid);
	if (cj->tpl_id[0]) {
		snprintf(conf.template, sizeof(conf.template), "%s", cj->tpl_id);
		conf.full = true;	/* its own copies, until relinked */
	}
	ret = tplfs_ct_conf_write(sfd, &conf);
	if (ret) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, "ct.conf");
		return ret;
	}
	snprintf(fs, sizeof(fs), "%s/fs", pj->staging);
	ret = ctquota_created(pj->staging, fs);
	if (ret) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, "quota.usage");
		return ret;
	}
	st->source_bytes = u->bytes;
	st->source_inodes = u->inodes;
	st->finished = time(NULL);
	ret = tplfs_p2v_state_write(sfd, st);
	if (ret)
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, TPLFS_P2V_STATE_FILE);
	return ret;
}

static void final_run(struct job *job)
{
	struct p2vjob *pj = (struct p2vjob *)job;
	struct ctjob *cj = &pj->cj;
	char fs[PATH_MAX + 8], err[PATH_MAX + 256];
	struct tplfs_p2v_state st = { 0 };
	json_object *r, *notes;
	struct tplfs_usage u;
	int sfd, fs_fd = -1, lock = -1, ret;

	p2v_staging(pj);
	sfd = open(pj->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0) {
		if (errno == ENOENT && finished_before(pj, NULL))
			return;
		if (errno == ENOENT)
			opjob_fail(&cj->op, TPLFS_E_NOT_FOUND, ENOENT,
				   "no p2v of %s is staged (tplctl ct p2v %s --from ... first)",
				   cj->id, cj->id);
		else
			opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, pj->staging);
		return;
	}
	lock = lock_staging(cj, sfd);
	if (lock < 0 || !template_sealed(cj))
		goto out;
	ret = tplfs_p2v_state_read(sfd, &st, err, sizeof(err));
	if (ret) {
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, -ret, "%s/%s", pj->staging,
			   err);
		goto out;
	}
	snprintf(fs, sizeof(fs), "%s/fs", pj->staging);
	fs_fd = open(fs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fs_fd < 0) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, fs);
		goto out;
	}
	atomic_store(&cj->op.what, "checked for host xattrs");
	if (refuse_forged(cj, fs_fd))
		goto out;
	ret = tplfs_usage_scan(fs_fd, &u, err, sizeof(err));
	if (ret) {
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, -ret, "%s", err);
		goto out;
	}
	final_limits(pj, &u);
	notes = json_object_new_array();
	tplfs_p2v_report(fs_fd, st.plan.mounts, st.plan.nmounts, noted, notes);
	jobs_test_point("ct.p2v:final");
	if (final_write(pj, sfd, &st, &u)) {
		json_object_put(notes);
		goto out;
	}
	/* everything on disk before the rename makes it the container */
	if (syncfs(sfd) < 0 ||
	    renameat2(AT_FDCWD, pj->staging, AT_FDCWD, cj->paths.private_dir,
		      RENAME_NOREPLACE) < 0) {
		opjob_failno(&cj->op, errno == EEXIST ? TPLFS_E_EXISTS :
			     TPLFS_E_SYSTEM, errno, cj->paths.private_dir);
		json_object_put(notes);
		goto out;
	}
	fsync(sfd);
	unlinkat(sfd, P2V_LOCK_FILE, 0);
	r = ctjob_result(cj);
	tplfs_json_bool(r, "finished", true);
	tplfs_json_str(r, "from", st.plan.from);
	tplfs_json_str(r, "template", cj->tpl_id);
	tplfs_json_u64(r, "source_bytes", u.bytes);
	tplfs_json_u64(r, "source_inodes", u.inodes);
	json_object_object_add(r, "limits", catalog_limits_describe(&pj->limits));
	tplfs_json_bool(r, "limits_default", !pj->bytes_given || !pj->inodes_given);
	json_object_object_add(r, "notes", notes);
	cj->op.result = r;
	log_info("ct %s: made from a p2v of %s (%llu bytes, %llu inodes)",
		 cj->id, st.plan.from, (unsigned long long)u.bytes,
		 (unsigned long long)u.inodes);
out:
	tplfs_p2v_plan_free(&st.plan);
	if (fs_fd >= 0)
		close(fs_fd);
	if (lock >= 0)
		close(lock);
	close(sfd);
}

static void abort_run(struct job *job)
{
	struct p2vjob *pj = (struct p2vjob *)job;
	struct ctjob *cj = &pj->cj;
	int sfd, lock, ret;
	json_object *r;

	p2v_staging(pj);
	sfd = open(pj->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0) {
		opjob_fail(&cj->op, errno == ENOENT ? TPLFS_E_NOT_FOUND :
			   TPLFS_E_SYSTEM, errno, "no p2v of %s is staged: %s",
			   cj->id, strerror(errno));
		return;
	}
	lock = lock_staging(cj, sfd);
	close(sfd);
	if (lock < 0)
		return;
	ret = tplfs_tree_remove(pj->staging);
	close(lock);
	if (ret) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, pj->staging);
		return;
	}
	r = ctjob_result(cj);
	tplfs_json_bool(r, "aborted", true);
	cj->op.result = r;
}

static void p2v_finish(struct opjob *oj)
{
	tplfs_p2v_plan_free(&((struct p2vjob *)oj)->plan);
	ctjob_finish(oj);
}

static struct p2vjob *p2vjob_new(struct req *rq, const char *id,
				 void (*run)(struct job *job), const char *what)
{
	struct p2vjob *pj;

	pj = (struct p2vjob *)ctjob_new(rq, id, sizeof(*pj), run, true);
	if (pj) {
		pj->cj.op.what = what;
		pj->cj.op.finish = p2v_finish;
	}
	return pj;
}

void ctp2v_stage(struct req *rq, const char *id, const char *from,
		 const char *const *mounts, size_t nm,
		 const char *const *excludes, size_t nx)
{
	struct tplfs_p2v_plan plan;
	struct p2vjob *pj;
	char err[512];
	int ret;

	ret = tplfs_p2v_plan_init(&plan, from, mounts, nm, excludes, nx, err,
				  sizeof(err));
	if (ret) {
		req_reply(rq, tplfs_reply_error(ret == -ENOMEM ? TPLFS_E_SYSTEM :
			  TPLFS_E_BAD_ARGS, -ret, "%s", err));
		return;
	}
	pj = p2vjob_new(rq, id, stage_run, "ct.p2v.stage");
	if (!pj) {
		tplfs_p2v_plan_free(&plan);
		return;
	}
	pj->plan = plan;	/* its strings go with the job */
	opjob_submit(&pj->cj.op);
}

void ctp2v_final(struct req *rq, const char *id, const char *tpl)
{
	struct tplfs_ct_limits l = { .grace = TPLFS_GRACE_DEFAULT };
	struct tplfs_template_id t;
	bool bytes, inodes, grace;
	struct p2vjob *pj;
	char err[256];

	if (!ctquota_parse_args(rq, &l, &bytes, &inodes, &grace))
		return;
	if (tpl && tplfs_template_id_parse(tpl, &t, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL, "%s", err));
		return;
	}
	if (tpl && !tpl_acquire(tpl, false)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed", tpl));
		return;
	}
	pj = p2vjob_new(rq, id, final_run, "ct.p2v.final");
	if (!pj) {
		if (tpl)
			tpl_release(tpl, false);
		return;
	}
	if (tpl) {
		snprintf(pj->cj.tpl_id, sizeof(pj->cj.tpl_id), "%s", tpl);
		pj->cj.tpl = t;
	}
	pj->limits = l;
	pj->bytes_given = bytes;
	pj->inodes_given = inodes;
	opjob_submit(&pj->cj.op);
}

void ctp2v_abort(struct req *rq, const char *id)
{
	struct p2vjob *pj = p2vjob_new(rq, id, abort_run, "ct.p2v.abort");

	if (pj)
		opjob_submit(&pj->cj.op);
}
