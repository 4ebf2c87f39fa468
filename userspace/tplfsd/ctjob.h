/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An operation on one container, run as a job (ctops.c has the common
 * part; ctrelink.c and others their own run functions).
 */
#ifndef TPLFSD_CTJOB_H
#define TPLFSD_CTJOB_H

#include <limits.h>

#include "ct.h"
#include "opjob.h"
#include "store.h"
#include "tplfsd.h"

struct ctjob {
	struct opjob op;
	struct ctstate *ct;
	char id[TPLFS_CT_ID_MAX + 1];
	struct tplfs_ct_paths paths;
	char target[PATH_MAX];	/* ct.umount: the mount point */
	bool force;
	struct tplfs_template_id tpl;	/* ct.create */
	char tpl_id[2 * TPLFS_TEMPLATE_PART_MAX + 2];	/* held, shared */
	struct ct_create_args create;	/* ct.create (its apps held) */
	bool maintain;	/* ct.create: the template's maintenance container */
	bool rescan;	/* ct.mount: the quota usage needs a rescan */
	/* exclusive operations: the container's catalogue entry after them */
	void (*run)(struct job *job);
	struct ctentry probe;
	bool probed;
	/* its uuid (a new one if it does not exist yet), and the app
	 * templates an operation will make it use (with tpl_id): their
	 * references are made before the operation runs */
	char uuid[TPLFS_CT_UUID_LEN + 1];
	const struct tplfs_ct_apps *hold_apps;
};

/*
 * A job of @size bytes (a struct that starts with struct ctjob) for an
 * operation on container @id, which it reserves (busy) when @exclusive;
 * replies and returns NULL if that cannot be. Its finish is ctjob_finish.
 */
struct ctjob *ctjob_new(struct req *rq, const char *id, size_t size,
			void (*run)(struct job *job), bool exclusive);
/* In the loop: release the container (and cj->tpl_id), rescan. */
void ctjob_finish(struct opjob *oj);
/* {ct, root}: the result most operations start from. */
json_object *ctjob_result(struct ctjob *cj);
/*
 * Container @id's catalogue entry, present and with a ct.conf that reads;
 * else NULL, replied (not found, or what is wrong with its ct.conf).
 */
const struct ctentry *ctjob_entry(struct req *rq, const char *id);
/* The container's ct.conf, or the job failed (not found, bad): -errno. */
int ctjob_read_conf(struct ctjob *cj, struct tplfs_ct_conf *conf);

/*
 * Write the container's journal record (ct-<id>): @rec (taken) with "op"
 * @op and "ct"; or the job failed. 0 or -errno.
 */
int ctjob_journal_begin(struct ctjob *cj, const char *op, json_object *rec);
/* Remove it (logged if that fails). */
void ctjob_journal_end(struct daemon *d, const char *id);

#endif /* TPLFSD_CTJOB_H */
