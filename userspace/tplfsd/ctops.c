// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Container operations that change the host: ct.mount and ct.umount, run as
 * jobs (mount(2) has no io_uring form) and journaled so that a daemon
 * killed in the middle finishes or rolls them back when it starts again.
 *
 * ct.mount   journal {op, ct, root_existed}; mkdir root/<ct>; mount;
 *            remove the record. Recovery: mounted -> finished; not
 *            mounted -> roll back (remove root/<ct> if the operation made
 *            it).
 * ct.umount  journal {op, ct, force}; umount; remove the record.
 *            Recovery: still mounted -> finish the umount.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/tplfs.h>

#include "journal.h"
#include "jobs.h"
#include "log.h"
#include "mountinfo.h"
#include "tplfsd.h"

struct ctjob {
	struct job job;
	struct req *rq;
	struct ctstate *ct;
	struct tplfs_ct_paths paths;
	char target[PATH_MAX];	/* ct.umount: the mount point */
	bool force;
	/* results, set by run() */
	enum tplfs_err err;
	int errnum;
	char msg[PATH_MAX + 512];
};

/* The operation failed: "@what: strerror(@errnum)". */
static void ctjob_fail(struct ctjob *cj, enum tplfs_err err, int errnum,
		       const char *what)
{
	cj->err = err;
	cj->errnum = errnum;
	snprintf(cj->msg, sizeof(cj->msg), "%s: %s", what, strerror(errnum));
}

static json_object *record(const char *op, const char *id)
{
	json_object *rec = json_object_new_object();

	json_object_object_add(rec, "op", json_object_new_string(op));
	json_object_object_add(rec, "ct", json_object_new_string(id));
	return rec;
}

static void journal_name(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "ct-%s", id);
}

static int do_mount(const struct daemon *d, const char *id,
		    const struct tplfs_ct_paths *p, bool is_volatile)
{
	char opts[3 * PATH_MAX];

	if ((size_t)snprintf(opts, sizeof(opts), "private=%s,store=%s,ct=%s%s",
			     p->fs, d->cfg.store, id,
			     is_volatile ? ",volatile" : "") >= sizeof(opts))
		return -ENAMETOOLONG;
	if (strpbrk(p->fs, ",") || strpbrk(d->cfg.store, ","))
		return -EINVAL;	/* mount options cannot carry a comma */
	return mount(TPLFS_FSTYPE, p->root, TPLFS_FSTYPE, 0, opts) < 0 ?
	       -errno : 0;
}

static void mount_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct daemon *d = cj->rq->d;
	struct tplfs_ct_paths *p = &cj->paths;
	char name[128], err[512], rootdir[PATH_MAX + 8];
	struct tplfs_ct_conf conf;
	json_object *rec;
	struct stat st;
	bool existed;
	int ret;

	ret = tplfs_ct_conf_read(p->conf, &conf, err, sizeof(err));
	if (ret == -ENOENT) {
		cj->err = TPLFS_E_NOT_FOUND;
		cj->errnum = ENOENT;
		snprintf(cj->msg, sizeof(cj->msg), "no container %s (no %s)",
			 cj->ct->id, p->conf);
		return;
	}
	if (ret) {
		cj->err = TPLFS_E_SYSTEM;
		cj->errnum = -ret;
		snprintf(cj->msg, sizeof(cj->msg), "%s", err);
		return;
	}
	if (stat(p->fs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ctjob_fail(cj, TPLFS_E_NOT_FOUND, errno ? errno : ENOTDIR,
			   p->fs);
		return;
	}
	existed = stat(p->root, &st) == 0;
	journal_name(name, sizeof(name), cj->ct->id);
	rec = record("ct.mount", cj->ct->id);
	json_object_object_add(rec, "root_existed",
			       json_object_new_boolean(existed));
	ret = tplfs_journal_write(d->journal_fd, name, rec);
	json_object_put(rec);
	if (ret) {
		ctjob_fail(cj, TPLFS_E_SYSTEM, -ret, "journal");
		return;
	}
	jobs_test_point("ct.mount:journaled");

	snprintf(rootdir, sizeof(rootdir), "%s/root", d->cfg.root);
	if ((mkdir(rootdir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(p->root, 0755) < 0 && errno != EEXIST)) {
		ctjob_fail(cj, TPLFS_E_SYSTEM, errno, p->root);
		goto out;
	}
	ret = do_mount(d, cj->ct->id, p, conf.is_volatile);
	if (ret) {
		ctjob_fail(cj, ret == -EBUSY ? TPLFS_E_BUSY : TPLFS_E_SYSTEM,
			   -ret, p->root);
		if (!existed)
			rmdir(p->root);
		goto out;
	}
	jobs_test_point("ct.mount:mounted");
out:
	ret = tplfs_journal_remove(d->journal_fd, name);
	if (ret)
		log_err("journal %s: %s", name, strerror(-ret));
}

static void umount_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct daemon *d = cj->rq->d;
	char name[128];
	json_object *rec;
	int ret;

	journal_name(name, sizeof(name), cj->ct->id);
	rec = record("ct.umount", cj->ct->id);
	json_object_object_add(rec, "force", json_object_new_boolean(cj->force));
	ret = tplfs_journal_write(d->journal_fd, name, rec);
	json_object_put(rec);
	if (ret) {
		ctjob_fail(cj, TPLFS_E_SYSTEM, -ret, "journal");
		return;
	}
	jobs_test_point("ct.umount:journaled");
	if (umount2(cj->target, cj->force ? MNT_DETACH : 0) < 0)
		ctjob_fail(cj, errno == EBUSY ? TPLFS_E_BUSY : TPLFS_E_SYSTEM,
			   errno, cj->target);
	ret = tplfs_journal_remove(d->journal_fd, name);
	if (ret)
		log_err("journal %s: %s", name, strerror(-ret));
}

static void ctjob_done(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct daemon *d = cj->rq->d;
	json_object *result;

	result = json_object_new_object();
	json_object_object_add(result, "ct", json_object_new_string(cj->ct->id));
	cj->ct->busy = false;
	ct_rescan(d);	/* forgets cj->ct if it is neither busy nor mounted */
	cj->ct = NULL;
	if (cj->msg[0]) {
		json_object_put(result);
		req_reply(cj->rq, tplfs_reply_error(cj->err, cj->errnum, "%s",
						    cj->msg));
	} else {
		json_object_object_add(result, "root",
				       json_object_new_string(cj->paths.root));
		req_reply(cj->rq, tplfs_reply_ok(result));
	}
	free(cj);
}

/* Reserve container @id for one operation; replies and returns NULL if not. */
static struct ctjob *ctjob_new(struct req *rq, const char *id)
{
	struct daemon *d = rq->d;
	struct ctjob *cj;
	struct ctstate *ct;

	if (!tplfs_ct_id_valid(id)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "\"%s\" is not a container id ([a-z0-9][a-z0-9_-]{0,62})",
			  id));
		return NULL;
	}
	ct = ct_get(d, id);
	cj = calloc(1, sizeof(*cj));
	if (!ct || !cj) {
		free(cj);
		req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, ENOMEM,
						"out of memory"));
		return NULL;
	}
	if (ct->busy) {
		free(cj);
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "another operation on %s is under way", id));
		return NULL;
	}
	if (tplfs_ct_paths(&d->cfg, id, &cj->paths)) {
		free(cj);
		ct_forget_if_idle(d, ct);
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, ENAMETOOLONG,
						"path too long"));
		return NULL;
	}
	ct->busy = true;
	cj->rq = rq;
	cj->ct = ct;
	cj->job.done = ctjob_done;
	return cj;
}

void ctops_mount(struct req *rq, const char *id)
{
	struct ctjob *cj = ctjob_new(rq, id);

	if (!cj)
		return;
	if (cj->ct->mounted) {
		cj->ct->busy = false;
		req_reply(rq, tplfs_reply_error(TPLFS_E_EXISTS, EEXIST,
			  "%s is already mounted on %s", id, cj->ct->target));
		free(cj);
		return;
	}
	cj->job.run = mount_run;
	jobs_submit(rq->d, &cj->job);
}

void ctops_umount(struct req *rq, const char *id, bool force)
{
	struct ctjob *cj = ctjob_new(rq, id);

	if (!cj)
		return;
	if (!cj->ct->mounted) {
		cj->ct->busy = false;
		ct_forget_if_idle(rq->d, cj->ct);
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "%s is not mounted", id));
		free(cj);
		return;
	}
	cj->force = force;
	strcpy(cj->target, cj->ct->target);
	cj->job.run = umount_run;
	jobs_submit(rq->d, &cj->job);
}

/* Recovery, at start, before any client is served. */
struct recovery {
	struct daemon *d;
	int failed;
};

static const char *rec_string(json_object *rec, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool rec_bool(json_object *rec, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(rec, key, &v) &&
	       json_object_get_boolean(v);
}

static int find_target(void *arg, const struct tplfs_mount *m)
{
	char **want = arg;

	if (strcmp(m->ct, want[0]))
		return 0;
	snprintf(want[1], PATH_MAX, "%s", m->target);
	return 1;
}

static bool mounted_at(const char *id, char *target)
{
	char *want[2] = { (char *)id, target };

	target[0] = '\0';
	tplfs_mounts_scan("/proc/self/mountinfo", find_target, want);
	return target[0] != '\0';
}

static void recover_one(void *arg, const char *name, json_object *rec)
{
	struct recovery *r = arg;
	struct daemon *d = r->d;
	const char *op = rec ? rec_string(rec, "op") : NULL;
	const char *id = rec ? rec_string(rec, "ct") : NULL;
	struct tplfs_ct_paths p = { .root = "" };
	char target[PATH_MAX];
	int ret;

	if (!op || !id || !tplfs_ct_id_valid(id) ||
	    tplfs_ct_paths(&d->cfg, id, &p)) {
		log_err("journal record %s is unreadable; left in place", name);
		r->failed++;
		return;
	}
	if (!strcmp(op, "ct.mount")) {
		if (mounted_at(id, target)) {
			log_info("recovery: ct.mount %s had mounted it on %s: finished",
				 id, target);
		} else {
			if (!rec_bool(rec, "root_existed"))
				rmdir(p.root);
			log_info("recovery: ct.mount %s had not mounted it: rolled back",
				 id);
		}
	} else if (!strcmp(op, "ct.umount")) {
		if (mounted_at(id, target)) {
			if (umount2(target, rec_bool(rec, "force") ?
				    MNT_DETACH : 0) < 0)
				log_err("recovery: ct.umount %s: %s: %s; left mounted",
					id, target, strerror(errno));
			else
				log_info("recovery: ct.umount %s: finished", id);
		} else {
			log_info("recovery: ct.umount %s had unmounted it: finished",
				 id);
		}
	} else {
		log_err("journal record %s: unknown operation %s; left in place",
			name, op);
		r->failed++;
		return;
	}
	ret = tplfs_journal_remove(d->journal_fd, name);
	if (ret) {
		log_err("journal %s: %s", name, strerror(-ret));
		r->failed++;
	}
	d->recovered++;
}

int ctops_recover(struct daemon *d)
{
	struct recovery r = { .d = d };
	int n = tplfs_journal_each(d->journal_fd, recover_one, &r);

	if (n < 0)
		return n;
	return r.failed ? -EIO : 0;
}
