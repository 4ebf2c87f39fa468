/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tplctl ct p2v: a physical server into a container (doc/p2v.md). */
#ifndef TPLCTL_P2V_H
#define TPLCTL_P2V_H

#include <stdbool.h>
#include <stddef.h>

#include "p2vplan.h"

struct p2v_opts {
	const char *socket;
	const char *from;	/* [USER@]HOST:/PATH or DIR */
	const char *template;	/* NAME@VERSION to relink against */
	const char *quota, *inodes, *grace;	/* as for ct create */
	const char *mounts[TPLFS_P2V_MOUNTS_MAX];
	size_t nmounts;
	const char *excludes[TPLFS_P2V_EXCLUDES_MAX];
	size_t nexcludes;
	bool final;		/* a last transfer, then the container */
	bool abort;		/* drop what is staged */
	bool json, progress;
};

/*
 * tplctl ct p2v ID: stage, transfer every filesystem, and with --final
 * make the container (and relink it with --template). 0, 1 after saying
 * what failed, 2 for a usage error.
 */
int p2v_run(const struct p2v_opts *o, const char *id);

#endif /* TPLCTL_P2V_H */
