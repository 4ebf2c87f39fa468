// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * This daemon's references in the store (lib/storerefs.h, doc/store.md
 * "Shared stores"): one per template each of its containers uses, named
 * by the container's uuid. Made before an operation makes a container use
 * a template (refs_hold), made to match its ct.conf after every operation
 * on it (refs_sync, in the job's worker: only those missing are written,
 * so that an operation costs no write and sync of them), all renewed at
 * start and every REFS_RENEW_S, and this daemon's own that name no
 * container of it removed at start. template rm and store gc count every other daemon's
 * (refs_foreign); store.refs lists them all and prunes the stale.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opjob.h"
#include "storerefs.h"
#include "store.h"
#include "tplfsd.h"
#include "tree.h"

/* How often every reference of this daemon is renewed (its lease). */
#define REFS_RENEW_S	(6 * 3600)

void refs_init(struct daemon *d)
{
	char mid[64] = "unknown";
	FILE *f = fopen("/etc/machine-id", "re");

	if (f) {
		if (!fgets(mid, sizeof(mid), f))
			strcpy(mid, "unknown");
		mid[strcspn(mid, "\n")] = '\0';
		fclose(f);
	}
	if (gethostname(d->ref_host, sizeof(d->ref_host)) < 0)
		strcpy(d->ref_host, "unknown");
	snprintf(d->ref_daemon, sizeof(d->ref_daemon), "%s:%s", mid,
		 d->cfg.root);
}

/* Make (or with @renew, also renew) the reference of @uuid to @tpl. */
static int put(struct daemon *d, const char *tpl, const char *uuid,
	       const char *id, bool renew)
{
	struct tplfs_ref r = { 0 };
	int ret;

	if (!renew && tplfs_ref_exists(d->store_fd, tpl, uuid))
		return 0;

	snprintf(r.tpl, sizeof(r.tpl), "%s", tpl);
	snprintf(r.uuid, sizeof(r.uuid), "%s", uuid);
	snprintf(r.host, sizeof(r.host), "%s", d->ref_host);
	snprintf(r.daemon, sizeof(r.daemon), "%s", d->ref_daemon);
	snprintf(r.ct, sizeof(r.ct), "%s", id);
	ret = tplfs_ref_put(d->store_fd, &r);
	if (ret)
		log_err("ct %s: its reference to %s in the store: %s", id, tpl,
			strerror(-ret));
	return ret;
}

int refs_hold(struct daemon *d, const char *uuid, const char *id,
	      const char *tpl)
{
	return tpl && tpl[0] && uuid[0] ? put(d, tpl, uuid, id, false) : 0;
}

int refs_sync(struct daemon *d, const char *uuid, const char *id,
	      const struct tplfs_ct_conf *conf, bool renew)
{
	const char *keep[1 + TPLFS_CT_USES_MAX + TPLFS_CT_APPS_MAX];
	size_t n = 0;
	int ret = 0;

	if (!uuid[0])
		return 0;
	if (conf && conf->template[0])
		keep[n++] = conf->template;
	for (size_t i = 0; conf && i < conf->nuses; i++)
		keep[n++] = conf->uses[i];
	for (size_t i = 0; conf && i < conf->apps.n; i++)
		keep[n++] = conf->apps.v[i];
	for (size_t i = 0; i < n; i++) {
		int err = put(d, keep[i], uuid, id, renew);

		if (err && !ret)
			ret = err;
	}
	if (!ret)
		ret = tplfs_ref_drop_others(d->store_fd, uuid, keep, n);
	if (ret)
		log_err("ct %s: its references in the store: %s", id,
			strerror(-ret));
	return ret;
}

struct leftovers {
	struct daemon *d;
	unsigned int dropped;
};

static int drop_leftover(void *arg, const struct tplfs_ref *r)
{
	struct leftovers *l = arg;
	struct daemon *d = l->d;

	if (strcmp(r->daemon, d->ref_daemon))
		return 0;
	for (size_t i = 0; i < d->ncat; i++)
		if (d->cat[i]->conf_ok && !strcmp(d->cat[i]->conf.uuid, r->uuid))
			return 0;
	if (!tplfs_ref_drop(d->store_fd, r->tpl, r->uuid))
		l->dropped++;
	return 0;
}

void refs_start(struct daemon *d)
{
	struct leftovers l = { .d = d };

	for (size_t i = 0; i < d->ncat; i++) {
		struct ctentry *e = d->cat[i];

		if (!e->conf_ok)
			continue;
		if (!e->conf.uuid[0]) {
			char dir[PATH_MAX];

			/* made before references: its uuid now, kept in ct.conf */
			tplfs_path(dir, sizeof(dir), "%s/private/%s",
				   d->cfg.root, e->id);
			if (tplfs_ct_uuid_new(e->conf.uuid) ||
			    tplfs_ct_conf_save(dir, &e->conf)) {
				log_err("ct %s: no uuid could be given it", e->id);
				e->conf.uuid[0] = '\0';
				continue;
			}
		}
		refs_sync(d, e->conf.uuid, e->id, &e->conf, true);
	}
	tplfs_refs_each(d->store_fd, NULL, drop_leftover, &l);
	if (l.dropped)
		log_info("%u references of containers this daemon no longer has removed from the store",
			 l.dropped);
}

/* --- renewal ---------------------------------------------------------------- */

struct renewjob {
	struct job job;
	struct daemon *d;
	size_t n;
	struct renew_one {
		char id[TPLFS_CT_ID_MAX + 1];
		struct tplfs_ct_conf conf;
	} *v;
};

static void renew_run(struct job *job)
{
	struct renewjob *rj = (struct renewjob *)job;

	for (size_t i = 0; i < rj->n; i++)
		refs_sync(rj->d, rj->v[i].conf.uuid, rj->v[i].id,
			  &rj->v[i].conf, true);
}

static void renew_done(struct job *job)
{
	struct renewjob *rj = (struct renewjob *)job;

	free(rj->v);
	free(rj);
}

void refs_tick(struct daemon *d)
{
	static unsigned int ticks;
	struct renewjob *rj;

	if (++ticks < REFS_RENEW_S)
		return;
	ticks = 0;
	rj = calloc(1, sizeof(*rj));
	if (rj)
		rj->v = calloc(d->ncat ? d->ncat : 1, sizeof(*rj->v));
	if (!rj || !rj->v) {
		free(rj);
		log_err("renewing the references in the store: out of memory");
		return;
	}
	for (size_t i = 0; i < d->ncat; i++) {
		if (!d->cat[i]->conf_ok || !d->cat[i]->conf.uuid[0])
			continue;
		strcpy(rj->v[rj->n].id, d->cat[i]->id);
		rj->v[rj->n++].conf = d->cat[i]->conf;
	}
	rj->d = d;
	rj->job.run = renew_run;
	rj->job.done = renew_done;
	jobs_submit(d, &rj->job);
}

/* --- other daemons' ------------------------------------------------------------ */

struct foreign {
	struct daemon *d;
	void (*fn)(void *arg, const struct tplfs_ref *r);
	void *arg;
};

static int foreign_one(void *arg, const struct tplfs_ref *r)
{
	struct foreign *f = arg;

	if (strcmp(r->daemon, f->d->ref_daemon))
		f->fn(f->arg, r);
	return 0;
}

int refs_foreign(struct daemon *d, void (*fn)(void *arg,
					      const struct tplfs_ref *r),
		 void *arg)
{
	struct foreign f = { .d = d, .fn = fn, .arg = arg };

	return tplfs_refs_each(d->store_fd, NULL, foreign_one, &f);
}

/* --- store.refs ---------------------------------------------------------------- */

struct refsjob {
	struct opjob op;
	bool prune;
	int64_t now;
	json_object *list;
	uint64_t pruned;
};

static int list_one(void *arg, const struct tplfs_ref *r)
{
	struct refsjob *rj = arg;
	json_object *o = json_object_new_object();
	int64_t age = rj->now > r->renewed ? rj->now - r->renewed : 0;
	bool mine = !strcmp(r->daemon, rj->op.d->ref_daemon);
	bool stale = age > TPLFS_REF_STALE_S;

	if (rj->prune && stale && !mine &&
	    !tplfs_ref_drop(rj->op.d->store_fd, r->tpl, r->uuid)) {
		rj->pruned++;
		json_object_put(o);
		return 0;
	}
	tplfs_json_str(o, "template", r->tpl);
	tplfs_json_str(o, "ct", r->ct);
	tplfs_json_str(o, "uuid", r->uuid);
	tplfs_json_str(o, "host", r->host);
	tplfs_json_str(o, "daemon", r->daemon);
	json_object_object_add(o, "age_s", json_object_new_int64(age));
	tplfs_json_bool(o, "stale", stale);
	tplfs_json_bool(o, "mine", mine);
	json_object_array_add(rj->list, o);
	return 0;
}

static void refs_run(struct job *job)
{
	struct refsjob *rj = (struct refsjob *)job;
	int ret;

	ret = tplfs_store_clock(rj->op.d->store_fd, &rj->now);
	if (ret) {
		opjob_failno(&rj->op, TPLFS_E_SYSTEM, -ret, "the store's clock");
		return;
	}
	rj->list = json_object_new_array();
	ret = tplfs_refs_each(rj->op.d->store_fd, NULL, list_one, rj);
	if (ret) {
		json_object_put(rj->list);
		opjob_failno(&rj->op, TPLFS_E_SYSTEM, -ret, TPLFS_REFS_DIR);
		return;
	}
	rj->op.result = json_object_new_object();
	json_object_object_add(rj->op.result, "refs", rj->list);
	tplfs_json_u64(rj->op.result, "pruned", rj->pruned);
	tplfs_json_u64(rj->op.result, "stale_after_s", TPLFS_REF_STALE_S);
}

void refs_serve(struct req *rq, bool prune)
{
	struct refsjob *rj = opjob_new(rq, sizeof(*rj), refs_run, NULL);

	if (!rj)
		return;
	rj->prune = prune;
	rj->op.what = "store.refs";
	opjob_submit(&rj->op);
}
