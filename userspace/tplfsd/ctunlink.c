// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ct.unlink: a linked clone becomes a full one (lib/unlink.c): every stub
 * a private copy of its object, reflinked where the filesystem can. Not
 * mounted, in the private area the way the module's copy-up does it;
 * mounted, by the module's copy-up itself (each stub opened read-write
 * through the mount), which leaves a running program's file a stub
 * (counted busy). Each file is its own commit, so no journal record: a
 * kill leaves files stubs or copies, and the next unlink carries on.
 * ct.conf says "clone = full" once no stub is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "ctjob.h"
#include "log.h"
#include "unlink.h"

static void unlink_run(struct job *job)
{
	struct ctjob *cj = (struct ctjob *)job;
	struct tplfs_unlink_report rep;
	struct tplfs_ct_conf conf;
	char err[PATH_MAX + 256];
	bool mounted = cj->ct && cj->ct->mounted;
	int fd, mnt = -1, ret;
	json_object *r;

	if (ctjob_read_conf(cj, &conf))
		return;
	fd = open(cj->paths.fs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, cj->paths.fs);
		return;
	}
	if (mounted) {
		mnt = open(cj->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mnt < 0) {
			opjob_failno(&cj->op, TPLFS_E_SYSTEM, errno, cj->target);
			close(fd);
			return;
		}
	}
	cj->op.what = "stubs made private copies";
	ret = tplfs_unlink_area(fd, cj->op.d->store_fd, mnt, &rep, err,
				sizeof(err));
	close(fd);
	if (mnt >= 0)
		close(mnt);
	/* not mounted: its recorded usage is measured again */
	if (!mounted && rep.copied)
		ctquota_created(cj->paths.private_dir, cj->paths.fs);
	if (ret) {
		opjob_fail(&cj->op, TPLFS_E_SYSTEM, -ret, "%s: %s", cj->id, err);
		return;
	}
	if (!rep.busy && !conf.full) {
		conf.full = true;
		ret = tplfs_ct_conf_save(cj->paths.private_dir, &conf);
		if (ret) {
			opjob_failno(&cj->op, TPLFS_E_SYSTEM, -ret, cj->paths.conf);
			return;
		}
	}
	log_info("ct %s: %llu stubs made private copies, %llu bytes (%llu busy)",
		 cj->id, (unsigned long long)rep.copied,
		 (unsigned long long)rep.bytes, (unsigned long long)rep.busy);
	r = ctjob_result(cj);
	tplfs_json_bool(r, "mounted", mounted);
	tplfs_json_u64(r, "stubs", rep.stubs);
	tplfs_json_u64(r, "copied", rep.copied);
	tplfs_json_u64(r, "bytes", rep.bytes);
	tplfs_json_u64(r, "busy", rep.busy);
	tplfs_json_str(r, "clone", rep.busy ? "linked" : "full");
	cj->op.result = r;
}

void ctunlink_serve(struct req *rq, const char *id)
{
	struct ctjob *cj;

	if (!ctjob_entry(rq, id))
		return;
	cj = ctjob_new(rq, id, sizeof(*cj), unlink_run, true);
	if (!cj)
		return;
	cj->op.what = "ct.unlink";
	opjob_submit(&cj->op);
}
