// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the daemon knows of containers: which are mounted (from
 * /proc/self/mountinfo, re-read at start and on every kernel mount or
 * umount event, so that containers that stayed mounted across a restart are
 * found again) and which have an operation under way.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mountinfo.h"
#include "tplfsd.h"

struct ctstate *ct_find(struct daemon *d, const char *id)
{
	for (struct ctstate *ct = d->cts; ct; ct = ct->next)
		if (!strcmp(ct->id, id))
			return ct;
	return NULL;
}

struct ctstate *ct_get(struct daemon *d, const char *id)
{
	struct ctstate *ct = ct_find(d, id);

	if (ct)
		return ct;
	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return NULL;
	strncpy(ct->id, id, sizeof(ct->id) - 1);
	ct->next = d->cts;
	d->cts = ct;
	return ct;
}

void ct_forget_if_idle(struct daemon *d, struct ctstate *ct)
{
	struct ctstate **pp;

	if (ct->busy || ct->mounted)
		return;
	for (pp = &d->cts; *pp; pp = &(*pp)->next) {
		if (*pp == ct) {
			*pp = ct->next;
			free(ct);
			return;
		}
	}
}

static int saw_mount(void *arg, const struct tplfs_mount *m)
{
	struct daemon *d = arg;
	struct ctstate *ct;

	if (!m->ct[0] || !tplfs_ct_id_valid(m->ct))
		return 0;
	ct = ct_get(d, m->ct);
	if (ct && !ct->mounted) {
		ct->mounted = true;
		strcpy(ct->target, m->target);
	}
	return 0;
}

int ct_rescan(struct daemon *d)
{
	struct ctstate *ct, *next;
	int n;

	d->view_gen++;	/* ct.list shows what is mounted */
	for (ct = d->cts; ct; ct = ct->next)
		ct->mounted = false;
	n = tplfs_mounts_scan("/proc/self/mountinfo", saw_mount, d);
	if (n < 0)
		log_err("/proc/self/mountinfo: %s", strerror(-n));
	for (ct = d->cts; ct; ct = next) {
		next = ct->next;
		ct_forget_if_idle(d, ct);
	}
	return n;
}
