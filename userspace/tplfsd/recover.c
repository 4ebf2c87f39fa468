// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recovery, at start, before any client is served: each journal record
 * says which operation was under way; the table below says how each kind
 * is settled (finished or rolled back). doc/tplfsd.md has the argument
 * for each.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "mountinfo.h"
#include "tplfsd.h"
#include "tree.h"

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

/* Is @path one of this container's aside directories? (never trust a path
 * from disk to point elsewhere) */
static bool is_aside(const struct daemon *d, const char *id, const char *what,
		     const char *path)
{
	char want[PATH_MAX];

	ctops_aside(d, id, what, want, sizeof(want));
	return path && !strcmp(path, want);
}

/*
 * Each settles one record of its kind for container @id (paths @p).
 * Returns 0 when settled, 1 when it is to be tried again at the next
 * start (said why), -1 when the record makes no sense.
 */
static int ct_create(struct daemon *d, const char *id,
		     const struct tplfs_ct_paths *p, json_object *rec)
{
	const char *tmp = rec_string(rec, "tmp");

	if (!is_aside(d, id, "create", tmp))
		return -1;
	tplfs_tree_remove(tmp);
	log_info("recovery: ct.create %s: %s", id,
		 access(p->private_dir, F_OK) ? "rolled back" : "finished");
	return 0;
}

static int ct_mount(struct daemon *d, const char *id,
		    const struct tplfs_ct_paths *p, json_object *rec)
{
	char target[PATH_MAX];

	(void)d;
	if (mounted_at(id, target)) {
		log_info("recovery: ct.mount %s had mounted it on %s: finished",
			 id, target);
		return 0;
	}
	if (!rec_bool(rec, "root_existed"))
		rmdir(p->root);
	log_info("recovery: ct.mount %s had not mounted it: rolled back", id);
	return 0;
}

static int ct_umount(struct daemon *d, const char *id,
		     const struct tplfs_ct_paths *p, json_object *rec)
{
	char target[PATH_MAX];

	(void)d;
	(void)p;
	if (!mounted_at(id, target))
		log_info("recovery: ct.umount %s had unmounted it: finished",
			 id);
	else if (umount2(target, rec_bool(rec, "force") ? MNT_DETACH : 0))
		log_err("recovery: ct.umount %s: %s: %s; left mounted",
			id, target, strerror(errno));
	else
		log_info("recovery: ct.umount %s: finished", id);
	return 0;
}

static int ct_destroy(struct daemon *d, const char *id,
		      const struct tplfs_ct_paths *p, json_object *rec)
{
	const char *tmp = rec_string(rec, "trash");
	int ret;

	if (!is_aside(d, id, "destroy", tmp))
		return -1;
	if (access(tmp, F_OK) < 0) {
		log_info("recovery: ct.destroy %s: %s", id,
			 access(p->private_dir, F_OK) ? "finished" :
			 "had not begun: rolled back");
		return 0;
	}
	rmdir(p->root);
	ret = tplfs_tree_remove(tmp);
	if (ret) {
		log_err("recovery: ct.destroy %s: %s: %s; kept for the next start",
			id, tmp, strerror(-ret));
		return 1;
	}
	log_info("recovery: ct.destroy %s: finished", id);
	return 0;
}

/* A record's list of application templates (absent: none); -1 if bad. */
static int rec_apps(json_object *rec, const char *key,
		    struct tplfs_ct_apps *apps)
{
	json_object *arr;
	size_t n;

	memset(apps, 0, sizeof(*apps));
	if (!json_object_object_get_ex(rec, key, &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -1;
	n = json_object_array_length(arr);
	if (n > TPLFS_CT_APPS_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		struct tplfs_template_id t;
		char err[256];

		if (!json_object_is_type(v, json_type_string) ||
		    tplfs_template_id_parse(json_object_get_string(v), &t, err,
					    sizeof(err)))
			return -1;
		snprintf(apps->v[apps->n++], sizeof(apps->v[0]), "%s",
			 json_object_get_string(v));
	}
	return 0;
}

/* ct.rebase, ct.app.add and ct.app.rm: the run again, from the record. */
static int ct_rebase(struct daemon *d, const char *id,
		     const struct tplfs_ct_paths *p, json_object *rec)
{
	const char *from = rec_string(rec, "from"), *to = rec_string(rec, "to");
	const char *what = rec_string(rec, "what");
	struct tplfs_ct_apps from_apps, to_apps;
	char target[PATH_MAX], said[600];

	if (!from || !to || rec_apps(rec, "from_apps", &from_apps) ||
	    rec_apps(rec, "to_apps", &to_apps))
		return -1;
	if (!what) {
		snprintf(said, sizeof(said), "rebased from %s to %s", from, to);
		what = said;
	}
	return ctrebase_recover(d, id, p, from, to, &from_apps, &to_apps, what,
				mounted_at(id, target));
}

static const struct {
	const char *op;
	int (*settle)(struct daemon *d, const char *id,
		      const struct tplfs_ct_paths *p, json_object *rec);
} ct_kinds[] = {
	{ "ct.create", ct_create },
	{ "ct.mount", ct_mount },
	{ "ct.umount", ct_umount },
	{ "ct.destroy", ct_destroy },
	{ "ct.rebase", ct_rebase },
	{ "ct.app.add", ct_rebase },
	{ "ct.app.rm", ct_rebase },
};

static int settle(struct daemon *d, json_object *rec)
{
	const char *op = rec ? rec_string(rec, "op") : NULL;
	const char *id = rec ? rec_string(rec, "ct") : NULL;
	const char *tpl = rec ? rec_string(rec, "template") : NULL;
	struct tplfs_ct_paths p = { .root = "" };

	if (!op)
		return -1;
	if (tpl && !id)
		return tplops_recover(d, op, tpl, rec);
	if (!id || !tplfs_ct_id_valid(id) || tplfs_ct_paths(&d->cfg, id, &p))
		return -1;
	for (size_t i = 0; i < sizeof(ct_kinds) / sizeof(ct_kinds[0]); i++)
		if (!strcmp(op, ct_kinds[i].op))
			return ct_kinds[i].settle(d, id, &p, rec);
	return -1;
}

struct recovery {
	struct daemon *d;
	int failed;
};

static void recover_one(void *arg, const char *name, json_object *rec)
{
	struct recovery *r = arg;
	int ret = settle(r->d, rec);

	if (ret > 0)
		return;		/* not finished yet, said why: kept */
	if (ret) {
		log_err("journal record %s is unreadable or unknown; left in place",
			name);
		r->failed++;
		return;
	}
	ret = tplfs_journal_remove(r->d->journal_fd, name);
	if (ret) {
		log_err("journal %s: %s", name, strerror(-ret));
		r->failed++;
	}
	r->d->recovered++;
}

int daemon_recover(struct daemon *d)
{
	struct recovery r = { .d = d };
	int n = tplfs_journal_each(d->journal_fd, recover_one, &r);

	if (n < 0)
		return n;
	return r.failed ? -EIO : 0;
}
