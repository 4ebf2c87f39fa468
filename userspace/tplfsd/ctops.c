// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Container operations, run as jobs and journaled (journal record
 * ct-<id>), so that a daemon killed in the middle finishes or rolls them
 * back when it starts again:
 *
 * ct.create  record {tmp}; populate private/.<id>.create from the manifest,
 *            ct.conf, syncfs; rename it to private/<id>; remove the record.
 *            Recovery: private/<id> there -> finished (tmp removed if left);
 *            else -> rolled back (tmp removed).
 * ct.mount   record {root_existed}; mkdir root/<ct>; mount; remove the
 *            record. Recovery: mounted -> finished; not mounted -> rolled
 *            back (root/<ct> removed if the operation made it).
 * ct.umount  record {force}; umount; remove the record. Recovery: still
 *            mounted -> the umount is done now.
 * ct.destroy record {trash}; rename private/<id> to private/.<id>.destroy;
 *            remove root/<id>; remove the trash; remove the record.
 *            Recovery: the rename happened -> finished; not -> rolled back.
 *            A trash that cannot be removed keeps the record: retried at
 *            the next start, and by a ct.create of the id, which is
 *            refused while it stays (its record would replace this one).
 *
 * The recoveries are in recover.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/tplfs.h>

#include "fsmount.h"
#include "identity.h"
#include "journal.h"
#include "kquota.h"
#include "log.h"
#include "opjob.h"
#include "layer.h"
#include "populate.h"
#include "store.h"
#include "tree.h"
#include "usage_scan.h"
#include "ctjob.h"


static void journal_name(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "ct-%s", id);
}

int ctjob_journal_begin(struct ctjob *cj, const char *op, json_object *rec)
{
	char name[128];
	int ret;

	journal_name(name, sizeof(name), cj->id);
	tplfs_json_str(rec, "op", op);
	tplfs_json_str(rec, "ct", cj->id);
	ret = tplfs_journal_write(cj->op.d->journal_fd, name, rec);
	json_object_put(rec);
	if (ret)
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, "journal");
	return ret;
}

void ctjob_journal_end(struct daemon *d, const char *id)
{
	char name[128];
	int ret;

	journal_name(name, sizeof(name), id);
	ret = tplfs_journal_remove(d->journal_fd, name);
	if (ret)
		log_err("journal %s: %s", name, strerror(-ret));
}

/* private/.<id>.<what>: where an operation builds or throws away. */
void ctops_aside(const struct daemon *d, const char *id, const char *what,
		 char *buf, size_t size)
{
	tplfs_path(buf, size, "%s/private/.%s.%s", d->cfg.root, id, what);
}

json_object *ctjob_result(struct ctjob *cj)
{
	json_object *r = json_object_new_object();

	tplfs_json_str(r, "ct", cj->id);
	tplfs_json_str(r, "root", cj->paths.root);
	return r;
}

/* --- ct.create -------------------------------------------------------------- */

/*
 * What a destroy of this id could not remove (its record kept for the next
 * start): removed now, before a new record of this id replaces that one,
 * or the operation is refused, naming it. True if refused.
 */
static bool destroy_left(struct ctjob *cj)
{
	char trash[PATH_MAX];
	int ret;

	ctops_aside(cj->op.d, cj->id, "destroy", trash, sizeof(trash));
	if (access(trash, F_OK) < 0)
		return false;
	ret = tplfs_tree_remove(trash);
	if (!ret)
		return false;
	opjob_fail(&cj->op, TPLFS_E_BUSY, -ret,
		   "%s: what the destroy of %s left cannot be removed yet: %s",
		   trash, cj->id, strerror(-ret));
	return true;
}

/*
 * The manifest a container is made from: its template's, or with app
 * templates its tree computed (layer.c), in memory (*@text, freed by the
 * caller). NULL after the job failed.
 */
static FILE *create_manifest(struct ctjob *cj, char **text)
{
	struct daemon *d = cj->op.d;
	struct tplfs_mlist tree = { 0 };
	char err[PATH_MAX + 256];
	size_t len = 0;
	FILE *m;
	int ret;

	if (!cj->create.apps.n) {
		m = tplfs_template_manifest_open(d->store_fd, &cj->tpl);
		if (!m)
			opjob_fail(&cj->op, TPLFS_E_NOT_FOUND, ENOENT,
				   "no template %s@%s (sealed)", cj->tpl.name,
				   cj->tpl.version);
		return m;
	}
	ret = tplfs_layer_tree(d->store_fd, cj->tpl_id, cj->create.apps.v, cj->create.apps.n,
			       &tree, err, sizeof(err));
	if (ret) {
		opjob_fail(&cj->op, ret == -ENOENT ? TPLFS_E_NOT_FOUND :
			   ret == -EINVAL ? TPLFS_E_BAD_ARGS : TPLFS_E_SYSTEM,
			   -ret, "%s", err);
		return NULL;
	}
	m = open_memstream(text, &len);
	ret = m ? tplfs_mlist_write(&tree, cj->tpl_id, m) : -ENOMEM;
	tplfs_mlist_free(&tree);
	if (m && fclose(m) && !ret)
		ret = -EIO;
	m = ret ? NULL : fmemopen(*text, len, "r");
	if (!m)
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, ret ? -ret : errno,
			     "the tree with its app templates");
	return m;
}

static void create_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct daemon *d = cj->op.d;
	struct tplfs_populate_stats ps;
	struct tplfs_identity ident;
	char comment[TPLFS_CT_ID_MAX + 8];
	struct tplfs_ct_conf conf = { .is_volatile = cj->create.is_volatile,
				      .limits = cj->create.limits,
				      .userns = cj->create.userns };
	char tmp[PATH_MAX], fs[PATH_MAX + 4], privdir[PATH_MAX], err[PATH_MAX];
	json_object *rec, *r;
	int fd = -1, pfd = -1, ret;
	char *text = NULL;
	FILE *m;

	tplfs_path(privdir, sizeof(privdir), "%s/private", d->cfg.root);
	if (mkdir(privdir, 0700) < 0 && errno != EEXIST) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, privdir);
		return;
	}
	if (!access(cj->paths.private_dir, F_OK)) {
		opjob_fail(&cj->op, TPLFS_E_EXISTS, EEXIST,
			   "container %s exists", cj->id);
		return;
	}
	if (destroy_left(cj))
		return;
	ctops_aside(d, cj->id, "p2v", tmp, sizeof(tmp));
	if (!access(tmp, F_OK)) {
		opjob_fail(&cj->op, TPLFS_E_EXISTS, EEXIST,
			   "a p2v of %s is staged (%s): finish it with ct p2v %s --final, or drop it with ct p2v %s --abort",
			   cj->id, tmp, cj->id, cj->id);
		return;
	}
	m = create_manifest(cj, &text);
	if (!m) {
		free(text);
		return;
	}
	/* maintenance: the record first, so that it is never taken twice */
	if (cj->maintain) {
		ret = maintain_begin(d, &cj->tpl, cj->id, true, err,
				     sizeof(err));
		if (ret) {
			opjob_fail(&cj->op, ret == -EEXIST ? TPLFS_E_MAINTENANCE :
				   TPLFS_E_SYSTEM, -ret, "%s", err);
			fclose(m);
			free(text);
			return;
		}
	}
	ctops_aside(d, cj->id, "create", tmp, sizeof(tmp));
	rec = json_object_new_object();
	tplfs_json_str(rec, "tmp", tmp);
	if (ctjob_journal_begin(cj, "ct.create", rec)) {
		fclose(m);
		free(text);
		return;
	}
	tplfs_tree_remove(tmp);	/* a leftover of a crash the journal lost */
	snprintf(fs, sizeof(fs), "%s/fs", tmp);
	if (mkdir(tmp, 0700) < 0 || mkdir(fs, 0755) < 0 ||
	    (fd = open(fs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, tmp);
		goto out;
	}
	atomic_store(&cj->op.what, "entries made");
	ret = (cj->create.full ? tplfs_populate_full : tplfs_populate)
		(d->store_fd, m, fd, &cj->create.userns, &ps, &cj->op.done,
		 err, sizeof(err));
	if (ret) {
		/* ERANGE: an id of the template outside the userns range */
		opjob_fail(&cj->op, ret == -ERANGE ? TPLFS_E_BAD_ARGS :
			   TPLFS_E_SYSTEM, -ret, "%s", err);
		goto out;
	}
	/* its own machine-id and ssh host keys, never the template's */
	snprintf(comment, sizeof(comment), "root@%s", cj->id);
	ret = tplfs_identity_renew(fd, comment, &ident, err, sizeof(err));
	if (ret) {
		/* ELOOP: the template's /etc/ssh is a symlink */
		opjob_fail(&cj->op, ret == -ELOOP ? TPLFS_E_BAD_ARGS :
			   TPLFS_E_SYSTEM, -ret, "%s", err);
		goto out;
	}
	if (ident.ssh_keys_gone[0])
		log_warn("ct %s: the template's ssh host keys (%s) removed, none made: no ssh-keygen on this host for them; run ssh-keygen -A in the container",
			 cj->id, ident.ssh_keys_gone);
	jobs_test_point("ct.create:populated");
	snprintf(conf.template, sizeof(conf.template), "%s@%s", cj->tpl.name,
		 cj->tpl.version);
	strcpy(conf.backend, "dir");
	conf.full = cj->create.full;
	conf.apps = cj->create.apps;
	strcpy(conf.uuid, cj->uuid);
	pfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || (ret = tplfs_ct_conf_write(pfd, &conf)) < 0) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, pfd < 0 ? errno : -ret,
			     "ct.conf");
		goto out;
	}
	/* Its first quota usage, so that its first mount needs no scan. */
	ret = ctquota_created(tmp, fs);
	if (ret) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, "quota.usage");
		goto out;
	}
	/* Everything on disk before the rename makes it the container. */
	if (syncfs(pfd) < 0 ||
	    renameat2(AT_FDCWD, tmp, AT_FDCWD, cj->paths.private_dir,
		      RENAME_NOREPLACE) < 0) {
		opjob_failno(&cj->op, errno == EEXIST ? TPLFS_E_EXISTS :
			     TPLFS_E_SYSTEM, errno, cj->paths.private_dir);
		goto out;
	}
	close(pfd);
	pfd = open(privdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0)
		fsync(pfd);
	r = ctjob_result(cj);
	tplfs_json_str(r, "template", conf.template);
	tplfs_json_u64(r, "entries", ps.entries);
	tplfs_json_u64(r, "stubs", ps.stubs);
	tplfs_json_u64(r, "copies", ps.copies);
	tplfs_json_str(r, "clone", cj->create.full ? "full" : "linked");
	{
		json_object *apps = json_object_new_array();

		for (size_t i = 0; i < cj->create.apps.n; i++)
			json_object_array_add(apps, json_object_new_string(cj->create.apps.v[i]));
		json_object_object_add(r, "apps", apps);
	}
	catalog_add_userns(r, &conf.userns);
	tplfs_json_str(r, "machine_id", ident.machine_id);
	tplfs_json_str(r, "ssh_host_keys", ident.ssh_keys);
	tplfs_json_str(r, "ssh_host_keys_removed", ident.ssh_keys_gone);
	if (cj->maintain)
		tplfs_json_bool(r, "made", true);
	cj->op.result = r;
out:
	if (opjob_failed(&cj->op))
		tplfs_tree_remove(tmp);
	if (opjob_failed(&cj->op) && cj->maintain)
		maintain_end(d, cj->tpl.name);
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	fclose(m);
	free(text);
	ctjob_journal_end(d, cj->id);
}

/* --- ct.mount, ct.umount --------------------------------------------------- */

static int do_mount(const struct daemon *d, const char *id,
		    const struct tplfs_ct_paths *p, bool is_volatile,
		    char *msg, size_t len)
{
	const struct tplfs_mount_opts o = {
		.private_dir = p->fs,
		.store = d->cfg.store,
		.ct = id,
		.is_volatile = is_volatile,
		.verity = strcmp(d->cfg.verity, "off") ? d->cfg.verity : NULL,
	};

	return tplfs_fsmount(&o, p->root, msg, len);
}

/* ct.conf of the container, or a failed @cj. */
int ctjob_read_conf(struct ctjob *cj, struct tplfs_ct_conf *conf)
{
	char err[512];
	int ret = tplfs_ct_conf_read(cj->paths.conf, conf, err, sizeof(err));

	if (ret == -ENOENT)
		opjob_fail(&cj->op, TPLFS_E_NOT_FOUND, ENOENT,
			   "no container %s (no %s)", cj->id, cj->paths.conf);
	else if (ret)
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, -ret, "%s", err);
	return ret;
}

static void mount_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct daemon *d = cj->op.d;
	struct tplfs_ct_paths *p = &cj->paths;
	char rootdir[PATH_MAX + 8];
	struct tplfs_ct_conf conf;
	char msg[1024];
	json_object *rec;
	struct stat st;
	bool existed;
	int ret;

	if (ctjob_read_conf(cj, &conf))
		return;
	if (stat(p->fs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		opjob_failno(&cj->op, TPLFS_E_NOT_FOUND, errno ? errno : ENOTDIR,
			     p->fs);
		return;
	}
	existed = stat(p->root, &st) == 0;
	rec = json_object_new_object();
	tplfs_json_bool(rec, "root_existed", existed);
	if (ctjob_journal_begin(cj, "ct.mount", rec))
		return;
	jobs_test_point("ct.mount:journaled");

	snprintf(rootdir, sizeof(rootdir), "%s/root", d->cfg.root);
	if ((mkdir(rootdir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(p->root, 0755) < 0 && errno != EEXIST)) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, p->root);
		goto out;
	}
	ret = do_mount(d, cj->id, p, conf.is_volatile, msg, sizeof(msg));
	if (ret) {
		opjob_fail(&cj->op, ret == -EBUSY ? TPLFS_E_BUSY :
			   TPLFS_E_SYSTEM, -ret, "mount on %s: %s", p->root, msg);
		if (!existed)
			rmdir(p->root);
		goto out;
	}
	cj->rescan = ctquota_mounted(cj->id, p, &conf.limits);
	cj->op.result = ctjob_result(cj);
	jobs_test_point("ct.mount:mounted");
out:
	ctjob_journal_end(d, cj->id);
}

static void umount_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	json_object *rec = json_object_new_object();
	int ret;

	tplfs_json_bool(rec, "force", cj->force);
	if (ctjob_journal_begin(cj, "ct.umount", rec))
		return;
	jobs_test_point("ct.umount:journaled");
	ret = ctquota_umount(cj->id, cj->paths.private_dir, cj->target,
			     cj->force);
	if (ret)
		opjob_failno(&cj->op, ret == -EBUSY ? TPLFS_E_BUSY :
			     TPLFS_E_SYSTEM, -ret, cj->target);
	else
		cj->op.result = ctjob_result(cj);
	ctjob_journal_end(cj->op.d, cj->id);
}

/* --- ct.destroy ------------------------------------------------------------- */

static void destroy_dir_removed(void *arg)
{
	(void)arg;
	jobs_test_point("ct.destroy:dir-removed");
}

static void destroy_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct tplfs_remove_progress rp = {
		.removed = &cj->op.done,
		.dir_removed = destroy_dir_removed,
	};
	struct daemon *d = cj->op.d;
	struct tplfs_ct_conf conf;
	char trash[PATH_MAX], err[256];
	json_object *rec;
	int ret;

	if (access(cj->paths.private_dir, F_OK) < 0) {
		opjob_fail(&cj->op, TPLFS_E_NOT_FOUND, ENOENT, "no container %s",
			   cj->id);
		return;
	}
	if (cj->target[0] && umount2(cj->target, MNT_DETACH) < 0) {
		opjob_failno(&cj->op, TPLFS_E_BUSY, errno, cj->target);
		return;
	}
	/* the template it was made from: its maintenance, if it was that */
	if (tplfs_ct_conf_read(cj->paths.conf, &conf, err, sizeof(err)))
		conf.template[0] = '\0';
	ctops_aside(d, cj->id, "destroy", trash, sizeof(trash));
	rec = json_object_new_object();
	tplfs_json_str(rec, "trash", trash);
	if (ctjob_journal_begin(cj, "ct.destroy", rec))
		return;
	tplfs_tree_remove(trash);
	/* The rename is the commit: from here on the container is gone. */
	if (rename(cj->paths.private_dir, trash) < 0) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, cj->paths.private_dir);
		goto out;
	}
	jobs_test_point("ct.destroy:renamed");
	maintain_forget(d, conf.template, cj->id);
	rmdir(cj->paths.root);
	cj->op.result = ctjob_result(cj);
	atomic_store(&cj->op.what, "entries removed");
	ret = tplfs_tree_remove_counted(trash, &rp);
	tplfs_json_u64(cj->op.result, "entries_removed",
		       atomic_load(&cj->op.done));
	if (ret) {
		/* Destroyed all the same: the record stays, and the next
		 * start removes the rest (recover_ct). */
		log_err("ct %s: destroyed, but %s: %s: kept to be removed at the next start",
			cj->id, trash, strerror(-ret));
		tplfs_json_str(cj->op.result, "left", trash);
		return;
	}
out:
	ctjob_journal_end(d, cj->id);
}

/* --- ct.list, ct.status --------------------------------------------------------- */

/*
 * ct.status --scan: the description the loop made from the catalogue (in
 * op.result), and the usage walked now, by the quota's walker, in a job.
 */
static void status_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	json_object *r = cj->op.result;
	char err[PATH_MAX + 256];
	struct tplfs_usage u;

	if (access(cj->paths.conf, F_OK) < 0) {
		opjob_fail(&cj->op, TPLFS_E_NOT_FOUND, ENOENT, "no container %s",
			   cj->id);
		return;
	}
	if (tplfs_usage_scan_path(cj->paths.fs, &u, err, sizeof(err)) == 0) {
		tplfs_json_u64(r, "disk_bytes", u.bytes);
		tplfs_json_u64(r, "inodes", u.inodes);
		tplfs_json_str(r, "usage_from", "scan");
		tplfs_json_bool(r, "usage_exact", true);
	} else {
		tplfs_json_str(r, "usage_error", err);
	}
}

/* --- entry points, in the loop ------------------------------------------------ */

/* Release the container; forget it if it is neither busy nor mounted. */
void ctjob_finish(struct opjob *oj)
{
	struct ctjob *cj = (struct ctjob *)oj;

	if (cj->ct)
		cj->ct->busy = false;
	if (cj->probed)
		catalog_take(oj->d, &cj->probe);
	if (cj->tpl_id[0])
		tpl_release(cj->tpl_id, false);
	for (size_t i = 0; i < cj->create.apps.n; i++)
		tpl_release(cj->create.apps.v[i], false);
	ct_rescan(oj->d);
	if (cj->rescan)
		ctquota_rescan(oj->d, cj->id);
}

/* An exclusive operation, then what it left of the container. */
static void ctjob_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct daemon *d = cj->op.d;
	int ret;

	/* what it will use is counted on every host before it does */
	ret = refs_hold(d, cj->uuid, cj->id, cj->tpl_id);
	for (size_t i = 0; !ret && cj->hold_apps && i < cj->hold_apps->n; i++)
		ret = refs_hold(d, cj->uuid, cj->id, cj->hold_apps->v[i]);
	if (ret) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret,
			     "its reference in the store");
		return;
	}
	cj->run(job);
	cj->probed = !catalog_probe(&d->cfg, cj->id, &cj->probe);
	/* and what it uses now, nothing more */
	if (cj->probed && cj->probe.present && cj->probe.conf_ok)
		refs_sync(d, cj->probe.conf.uuid, cj->id, &cj->probe.conf,
			  false);
	else if (cj->probed && !cj->probe.present)
		refs_sync(d, cj->uuid, cj->id, NULL, false);
}

void ctops_refuse_busy(struct req *rq, const char *id)
{
	req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
		  "another operation on %s is under way", id));
}

/*
 * A job for an operation on container @id, which it reserves (busy) when
 * @exclusive; replies and returns NULL if that cannot be.
 */
const struct ctentry *ctjob_entry(struct req *rq, const char *id)
{
	const struct ctentry *e = catalog_find(rq->d, id);

	if (!e || !e->present) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "no container %s", id));
		return NULL;
	}
	if (!e->conf_ok) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, EINVAL, "%s: %s",
			  id, e->error));
		return NULL;
	}
	return e;
}

struct ctjob *ctjob_new(struct req *rq, const char *id, size_t size,
			       void (*run)(struct job *job), bool exclusive)
{
	struct daemon *d = rq->d;
	struct ctstate *ct = ct_find(d, id);
	struct ctjob *cj;

	if (exclusive && ct && ct->busy) {
		ctops_refuse_busy(rq, id);
		return NULL;
	}
	cj = opjob_new(rq, size, exclusive ? ctjob_run : run, ctjob_finish);
	if (!cj)
		return NULL;
	cj->run = run;
	strcpy(cj->id, id);
	if (tplfs_ct_paths(&d->cfg, id, &cj->paths)) {
		free(cj);
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, ENAMETOOLONG,
						"path too long"));
		return NULL;
	}
	if (ct && ct->mounted)
		strcpy(cj->target, ct->target);
	{
		const struct ctentry *e = catalog_find(d, id);

		if (e && e->conf_ok && e->conf.uuid[0])
			strcpy(cj->uuid, e->conf.uuid);
		else if (!(e && e->present) && tplfs_ct_uuid_new(cj->uuid))
			cj->uuid[0] = '\0';
	}
	if (exclusive) {
		cj->ct = ct_get(d, id);
		if (!cj->ct) {
			free(cj);
			req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, ENOMEM,
							"out of memory"));
			return NULL;
		}
		cj->ct->busy = true;
	}
	return cj;
}

/* Release the first @n of @apps and @tpl (held by create()). */
static void create_release(const char *tpl, const struct tplfs_ct_apps *apps,
			   size_t n)
{
	tpl_release(tpl, false);
	for (size_t i = 0; i < n; i++)
		tpl_release(apps->v[i], false);
}

static void create(struct req *rq, const char *id, const char *tpl,
		   const struct ct_create_args *args, bool maintain)
{
	const struct tplfs_ct_apps *apps = &args->apps;
	struct tplfs_template_id t;
	struct ctjob *cj;
	char err[256];

	if (tplfs_template_id_parse(tpl, &t, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL, "%s", err));
		return;
	}
	if (!tpl_acquire(tpl, false)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed", tpl));
		return;
	}
	for (size_t i = 0; i < apps->n; i++)
		if (!tpl_acquire(apps->v[i], false)) {
			create_release(tpl, apps, i);
			req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
				  "template %s is being imported or removed",
				  apps->v[i]));
			return;
		}
	cj = ctjob_new(rq, id, sizeof(*cj), create_run, true);
	if (!cj) {
		create_release(tpl, apps, apps->n);
		return;
	}
	cj->create = *args;
	cj->hold_apps = &cj->create.apps;
	snprintf(cj->tpl_id, sizeof(cj->tpl_id), "%s", tpl);
	cj->tpl = t;
	cj->maintain = maintain;
	cj->op.what = "ct.create";
	opjob_submit(&cj->op);
}

void ctops_create(struct req *rq, const char *id, const char *tpl,
		  const struct ct_create_args *args)
{
	char latest[2 * TPLFS_TEMPLATE_PART_MAX + 2];

	/* a bare NAME: its highest version, unless it is in maintenance */
	if (!strchr(tpl, '@')) {
		if (!maintain_resolve(rq, tpl, latest, sizeof(latest)))
			return;
		tpl = latest;
	}
	create(rq, id, tpl, args, false);
}

void ctops_create_maintenance(struct req *rq, const char *id,
			      const struct tplfs_template_id *t)
{
	struct ct_create_args args = { .limits.grace = TPLFS_GRACE_DEFAULT };
	char tpl[2 * TPLFS_TEMPLATE_PART_MAX + 2];

	snprintf(tpl, sizeof(tpl), "%s@%s", t->name, t->version);
	create(rq, id, tpl, &args, true);
}

void ctops_mount(struct req *rq, const char *id)
{
	struct ctstate *ct = ct_find(rq->d, id);
	struct ctjob *cj;

	if (ct && ct->mounted && !ct->busy) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_EXISTS, EEXIST,
			  "%s is already mounted on %s", id, ct->target));
		return;
	}
	cj = ctjob_new(rq, id, sizeof(*cj), mount_run, true);
	if (!cj)
		return;
	cj->op.job.quick = true;
	opjob_submit(&cj->op);
}

void ctops_umount(struct req *rq, const char *id, bool force)
{
	struct ctstate *ct = ct_find(rq->d, id);
	struct ctjob *cj;

	if ((!ct || !ct->mounted) && !(ct && ct->busy)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "%s is not mounted", id));
		return;
	}
	cj = ctjob_new(rq, id, sizeof(*cj), umount_run, true);
	if (!cj)
		return;
	cj->force = force;
	cj->op.job.quick = true;
	opjob_submit(&cj->op);
}

void ctops_destroy(struct req *rq, const char *id, bool force)
{
	struct ctstate *ct = ct_find(rq->d, id);
	struct ctjob *cj;

	if (ct && ct->mounted && !force && !ct->busy) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "%s is mounted on %s: unmount it first, or --force",
			  id, ct->target));
		return;
	}
	cj = ctjob_new(rq, id, sizeof(*cj), destroy_run, true);
	if (cj)
		opjob_submit(&cj->op);
}

void ctops_list(struct req *rq, const char *after, bool usage)
{
	struct daemon *d = rq->d;
	/* the first page without usage, which most ask for, is kept */
	bool keep = !after && !usage;
	size_t len;
	char *text;

	if (keep && d->ct_list && d->ct_list_gen == d->view_gen) {
		req_reply_text(rq, d->ct_list, d->ct_list_len);
		return;
	}
	text = catalog_list_text(d, after, usage, &len);
	if (!text) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, ENOMEM,
						"out of memory"));
		return;
	}
	req_reply_text(rq, text, len);
	if (!keep) {
		free(text);
		return;
	}
	free(d->ct_list);
	d->ct_list = text;
	d->ct_list_len = len;
	d->ct_list_gen = d->view_gen;
}

void ctops_status(struct req *rq, const char *id, bool scan)
{
	const struct ctentry *e = catalog_find(rq->d, id);
	struct ctjob *cj;

	if (!e) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "no container %s", id));
		return;
	}
	if (!scan) {
		json_object *r = catalog_describe(rq->d, e);

		catalog_add_usage(rq->d, r, e);
		req_reply(rq, tplfs_reply_ok(r));
		return;
	}
	cj = ctjob_new(rq, id, sizeof(*cj), status_run, false);
	if (!cj)
		return;
	cj->op.result = catalog_describe(rq->d, e);
	cj->op.job.quick = true;
	opjob_submit(&cj->op);
}
