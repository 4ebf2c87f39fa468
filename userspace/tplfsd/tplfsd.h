/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tplfsd: the state the parts of the daemon share. Each part lives in a
 * file of its own (server.c: the control socket, kchan.c: /dev/tplfs,
 * jobs.c: blocking work, verbs*.c: what requests do, ctops.c: container
 * operations and their recovery) and meets the others at the event loop.
 */
#ifndef TPLFSD_H
#define TPLFSD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <json-c/json.h>

#include "config.h"
#include "ct.h"
#include "ctusage.h"
#include "loop.h"
#include "proto.h"
#include "store.h"

struct client;
struct kchan;
struct jobs;

/* Where the rescan of a mounted container's quota usage is. */
enum ct_rescan {
	RESCAN_NONE,		/* usage is exact */
	RESCAN_RUNNING,
	RESCAN_PENDING,		/* to run (again) at the next checkpoint */
};

/* A container the daemon knows to be mounted, or busy with an operation. */
struct ctstate {
	char id[TPLFS_CT_ID_MAX + 1];
	char target[PATH_MAX];	/* mount point, if mounted */
	bool mounted;
	bool busy;		/* an operation on it is under way */
	enum ct_rescan rescan;
	struct ctstate *next;
};

/*
 * A container in private/, as the catalogue knows it (catalog.c): what
 * its ct.conf says, and its quota.usage as last written.
 */
struct ctentry {
	char id[TPLFS_CT_ID_MAX + 1];
	bool present;		/* private/<id> is there */
	bool conf_ok;		/* else @error says why */
	struct tplfs_ct_conf conf;
	char error[PATH_MAX + 256];
	bool usage_ok;
	struct tplfs_ct_usage usage;
	char *text;		/* its member of ct.list, at texts_gen */
	size_t len;
};

struct daemon {
	struct tplfs_config cfg;
	struct loop loop;
	struct kchan *kchan;
	struct jobs *jobs;
	int journal_fd;
	int store_fd;
	int listen_fd;
	bool stopping;
	struct timespec started;

	struct client *clients;
	unsigned int nclients;
	unsigned long long requests;	/* answered since start */

	struct ctstate *cts;
	struct ctentry **cat;		/* the catalogue, sorted by id */
	size_t ncat, catcap;
	uint64_t view_gen;		/* changes of ct.list's view */
	uint64_t texts_gen;		/* of the entries' texts */
	uint64_t store_gen;		/* changes of the store's templates */
	char *ct_list;			/* ct.list's first page, kept */
	size_t ct_list_len;
	uint64_t ct_list_gen;		/* the view_gen it was made at */
	char *tpl_list;			/* template.list's reply, kept */
	size_t tpl_list_len;
	uint64_t tpl_list_store_gen, tpl_list_view_gen;
	unsigned int recovered;		/* journal records handled at start */

	const char *config_path;	/* the file read at start and on SIGHUP */
	bool config_optional;		/* the default file, which may be missing */
	struct tplfs_config file_cfg;	/* what it said, before the options */
	char ref_host[256];		/* its references' host and daemon */
	char ref_daemon[PATH_MAX + 64];	/* (machine-id:root), refs.c */
};

/* A request being served; answer it exactly once with req_reply(). */
struct req {
	struct daemon *d;
	struct client *client;	/* NULL once the client has gone */
	struct tplfs_request msg;
	bool can_write;
};

/* server.c */
int server_listen(struct daemon *d, int activated_fd);
void server_start(struct daemon *d);
void server_stop(struct daemon *d);
/* Once a second (the tick): accept after EMFILE, idle connections. */
void server_tick(struct daemon *d);
bool server_idle(struct daemon *d);
/* The settings changed (SIGHUP): the socket's group and mode, and who reads. */
void server_reconfigure(struct daemon *d);
void req_reply(struct req *rq, json_object *reply);
/* Reply with @text, a whole reply message of @len bytes, already made. */
void req_reply_text(struct req *rq, const char *text, size_t len);
void req_progress(struct req *rq, json_object *progress);

/* main.c */
/* Lock @path for the life of the process: an fd, or -1 (logged). */
int daemon_lock_file(const char *path);

/* settings.c */
/* Raise RLIMIT_NOFILE to what @cfg's max_clients needs, or say why not. */
void daemon_raise_nofile(const struct tplfs_config *cfg);
/* SIGHUP: read the file again and take what may change while running. */
void daemon_reload(struct daemon *d);

/* verbs.c */
void verbs_dispatch(struct req *rq);

/* ctstate.c */
struct ctstate *ct_find(struct daemon *d, const char *id);
struct ctstate *ct_get(struct daemon *d, const char *id);
void ct_forget_if_idle(struct daemon *d, struct ctstate *ct);
int ct_rescan(struct daemon *d);

/* catalog.c */
/* Read container @id's entry (in a worker); e->present says if it is. */
int catalog_probe(const struct tplfs_config *cfg, const char *id,
		  struct ctentry *e);
/* In the loop: take @e (a copy) for its container, or drop the container. */
void catalog_take(struct daemon *d, const struct ctentry *e);
int catalog_load(struct daemon *d);
const struct ctentry *catalog_find(const struct daemon *d, const char *id);
/* ct.list's (and ct.status's) description of @e. */
json_object *catalog_describe(struct daemon *d, const struct ctentry *e);
/* What the quota counts: the kernel's figures while it is mounted, else
 * the quota.usage the last umount (or the creation) wrote. */
/* A container's limits as the replies give them (bytes_soft ... grace). */
json_object *catalog_limits_describe(const struct tplfs_ct_limits *l);
/* "userns": "BASE:COUNT" in @o, if @s shifts */
void catalog_add_userns(json_object *o, const struct tplfs_idshift *s);
void catalog_add_usage(struct daemon *d, json_object *r,
		       const struct ctentry *e);
/* The whole reply to ct.list (after @after, if not NULL; each container's
 * usage too if @usage), malloc'd. */
char *catalog_list_text(struct daemon *d, const char *after, bool usage,
			size_t *len);

/* ctops.c */
/**
 * struct ct_create_args - what ct.create makes, besides its id and template
 * @is_volatile: mounted with the volatile option
 * @full:        a full clone (copies, no stubs)
 * @limits:      its quota
 * @apps:        application templates to create it with (doc/apps.md)
 * @userns:      its ids shifted for a user namespace (doc/userns.md)
 */
struct ct_create_args {
	bool is_volatile;
	bool full;
	struct tplfs_ct_limits limits;
	struct tplfs_ct_apps apps;
	struct tplfs_idshift userns;
};
void ctops_create(struct req *rq, const char *id, const char *tpl,
		  const struct ct_create_args *args);
/* ct.create of template.maintain: the record of @t's name written first. */
void ctops_create_maintenance(struct req *rq, const char *id,
			      const struct tplfs_template_id *t);
void ctops_mount(struct req *rq, const char *id);
void ctops_umount(struct req *rq, const char *id, bool force);
void ctops_destroy(struct req *rq, const char *id, bool force);
void ctops_list(struct req *rq, const char *after, bool usage);
/* Answer that another operation on @id holds it (EBUSY). */
void ctops_refuse_busy(struct req *rq, const char *id);
void ctops_status(struct req *rq, const char *id, bool scan);
/* ctrebase.c: ct.rebase, and its recovery (recover.c's convention) */
void ctrebase_serve(struct req *rq, const char *id, const char *to, bool dry_run);
/* A move of a container's tree: to template @to with @to_apps applied. */
struct ctrebase_spec {
	const char *verb;	/* "ct.rebase", "ct.app.add", "ct.app.rm" */
	const char *to;
	const struct tplfs_ct_apps *to_apps;
	const char *app;	/* ct.app.*: the one added or removed */
	bool dry_run;
	bool keep_mine;		/* ct.app.add: else conflicts refuse it */
};
void ctrebase_submit(struct req *rq, const char *id,
		     const struct ctrebase_spec *spec);

/* ctapp.c: ct.app.add, ct.app.rm, ct.app.list (doc/apps.md) */
void ctapp_add(struct req *rq, const char *id, const char *app, bool dry_run,
	       bool keep_mine);
void ctapp_rm(struct req *rq, const char *id, const char *name, bool dry_run);
void ctapp_list(struct req *rq, const char *id);

/* ctunlink.c */
/* ct.unlink: a linked clone made a full one (its stubs private copies). */
void ctunlink_serve(struct req *rq, const char *id);
int ctrebase_recover(struct daemon *d, const char *id,
		     const struct tplfs_ct_paths *p, const char *from,
		     const char *to, const struct tplfs_ct_apps *from_apps,
		     const struct tplfs_ct_apps *to_apps, const char *what,
		     bool mounted);

/* refs.c: this daemon's references in the store (doc/store.md) */
struct tplfs_ref;
void refs_init(struct daemon *d);
/* After catalog_load: uuids given, references made, leftovers removed. */
void refs_start(struct daemon *d);
void refs_tick(struct daemon *d);
/* Before container @id (@uuid) uses @tpl: its reference. 0 or -errno. */
int refs_hold(struct daemon *d, const char *uuid, const char *id,
	      const char *tpl);
/*
 * Its references made to match @conf (NULL: none left): those missing
 * written, or with @renew all of them (their leases). 0 or -errno.
 */
int refs_sync(struct daemon *d, const char *uuid, const char *id,
	      const struct tplfs_ct_conf *conf, bool renew);
/* @fn for every reference another daemon keeps. 0 or -errno. */
int refs_foreign(struct daemon *d, void (*fn)(void *arg,
					      const struct tplfs_ref *r),
		 void *arg);
void refs_serve(struct req *rq, bool prune);

/* ctp2v.c: ct.p2v.stage, ct.p2v.final, ct.p2v.abort (doc/p2v.md) */
/* The checked strings of its "mounts" and "excludes" with it. */
void ctp2v_stage(struct req *rq, const char *id, const char *from,
		 const char *const *mounts, size_t nm,
		 const char *const *excludes, size_t nx);
void ctp2v_final(struct req *rq, const char *id, const char *tpl);
void ctp2v_abort(struct req *rq, const char *id);

/* ctrelink.c: ct.relink */
void ctrelink_serve(struct req *rq, const char *id, json_object *against,
		    bool dry_run);
/* private/.<id>.<what>: where an operation builds (create) or throws away
 * (destroy). */
void ctops_aside(const struct daemon *d, const char *id, const char *what,
		 char *buf, size_t size);

/* recover.c: settle what the journal says was under way (at start). */
int daemon_recover(struct daemon *d);

/* ctquota.c: quota usage across mounts (doc/quota.md) */
struct tplfs_event;
struct tplfs_quota;
/* Serialise changes to container @id's ct.conf limits and quota.usage. */
void ctquota_lock(const char *id);
void ctquota_unlock(const char *id);
/* The kernel's form of ct.conf's limits (SET_QUOTA, TPLFS_QSET_LIMITS). */
void ctquota_kernel_limits(struct tplfs_quota *q,
			   const struct tplfs_ct_limits *l);
/* After a create: quota.usage of the new private area (worker). */
int ctquota_created(const char *private_dir, const char *fs);
/* After a mount: the kernel gets limits and usage; true: rescan (worker). */
bool ctquota_mounted(const char *id, const struct tplfs_ct_paths *p,
		     const struct tplfs_ct_limits *limits);
/* umount2() between reading the usage and writing it clean (worker). */
int ctquota_umount(const char *id, const char *private_dir,
		   const char *target, bool force);
/* In the loop: */
void ctquota_rescan(struct daemon *d, const char *id);
void ctquota_checkpoint(struct daemon *d, const char *id);
void ctquota_tick(struct daemon *d);
void ctquota_event(struct daemon *d, const char *id,
		   const struct tplfs_event *ev);

/* ctquota_verb.c */
/* The "quota", "inodes", "grace" arguments; false after a reply if bad. */
bool ctquota_parse_args(struct req *rq, struct tplfs_ct_limits *l,
			bool *bytes, bool *inodes, bool *grace);
/* ct.quota, or (@is_set) ct.set, of container @id. */
void ctquota_serve(struct req *rq, const char *id, bool is_set);

/* maintain.c */
/*
 * ct.create from a bare template name @name: its highest sealed version
 * into @tpl; false after a reply if there is none, or if @name is in
 * maintenance.
 */
bool maintain_resolve(struct req *rq, const char *name, char *tpl,
		      size_t size);
/* Begin @t's maintenance with container @id: 0 or -errno, @err says. */
int maintain_begin(struct daemon *d, const struct tplfs_template_id *t,
		   const char *id, bool made, char *err, size_t errlen);
/* End maintenance of template name @name (logged if it cannot be). */
void maintain_end(struct daemon *d, const char *name);
/* Container @id, made from @tpl, is destroyed: if it was the maintenance
 * container of @tpl's name, the maintenance ends. */
void maintain_forget(struct daemon *d, const char *tpl, const char *id);
/* {template, ct, made, since} if version @tpl is in maintenance, or NULL. */
json_object *maintain_describe(struct daemon *d, const char *tpl);
/* template.maintain: begin (@ct_id: NULL for NAME-maint), or @abort. */
void maintain_serve(struct req *rq, const char *tpl, const char *ct_id,
		    bool abort);

/* tplops.c */
/* @private: a JSON array of always-private paths, or NULL (the defaults) */
/* A new version from a container's private area, its stubs unread. */
/* @layer_of: an application template of that version (doc/apps.md), or
 * NULL; @postinst: it names its packages' postinst for containers to run */
void tplops_publish(struct req *rq, const char *tpl, const char *ct_id,
		    const char *layer_of, bool postinst);
void tplops_import(struct req *rq, const char *tpl, const char *from,
		   json_object *private, const char *layer_of, bool postinst);
void tplops_export(struct req *rq, const char *tpl, const char *file);
/* A JSON array of the strings @names */
json_object *tplops_names_json(char *const *names, size_t n);
void tplops_list(struct req *rq);
void tplops_show(struct req *rq, const char *tpl);
void tplops_verify(struct req *rq);
void tplops_rm(struct req *rq, const char *tpl);
void tplops_gc(struct req *rq, bool dry_run);
/* Hold template @id (exclusively, or shared); false if it cannot be. */
bool tpl_acquire(const char *id, bool exclusive);
void tpl_release(const char *id, bool exclusive);
/* 0 if the journal record (@op on template @tpl) was settled */
int tplops_recover(struct daemon *d, const char *op, const char *tpl,
		   json_object *rec);

#endif /* TPLFSD_H */
