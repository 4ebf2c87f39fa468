/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers: ids, their places on the host, and ct.conf. */
#ifndef TPLFS_CT_H
#define TPLFS_CT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "idshift.h"

/* [a-z0-9][a-z0-9_-]{0,62} */
#define TPLFS_CT_ID_MAX	63

bool tplfs_ct_id_valid(const char *id);

/* The grace period of a soft limit when none is given: ext4's and xfs's. */
#define TPLFS_GRACE_DEFAULT	(7 * 24 * 3600)

/**
 * struct tplfs_ct_limits - a container's quota limits (0: none)
 * @bytes_soft:  soft limit on allocated bytes
 * @bytes_hard:  hard limit on allocated bytes
 * @inodes_soft: soft limit on inodes
 * @inodes_hard: hard limit on inodes
 * @grace:       seconds usage may stay over a soft limit
 */
struct tplfs_ct_limits {
	uint64_t bytes_soft;
	uint64_t bytes_hard;
	uint64_t inodes_soft;
	uint64_t inodes_hard;
	uint64_t grace;
};

/**
 * struct tplfs_ct_conf - private/<ct>/ct.conf
 * @template:    NAME@VERSION it was created from ("" if none)
 * @backend:     "dir" (the only backend so far)
 * @full:        a full clone: private copies, no stubs (clone = full)
 * @is_volatile: mount with the volatile option (copy-ups not synced)
 * @limits:      quota (quota_bytes, quota_inodes, quota_grace)
 * @uses:        other templates whose objects its stubs may name (a relink
 *               against them), @nuses of them: in use as @template is
 * @apps:        its application templates (layers of @template), in the
 *               order they were added (apps = A@1 B@2): its tree is
 *               @template with them applied (doc/apps.md)
 * @userns:      its ids shifted for a user namespace (userns = BASE:COUNT,
 *               doc/userns.md); count 0: the host's own ids
 * @uuid:        32 hex digits, made with it and never changed: the
 *               host-neutral name of its references in the store (uuid =,
 *               doc/store.md); "" in a ct.conf written before them
 */
#define TPLFS_CT_USES_MAX	16
#define TPLFS_CT_UUID_LEN	32
#define TPLFS_CT_APPS_MAX	16
struct tplfs_ct_apps {
	char v[TPLFS_CT_APPS_MAX][256];
	size_t n;
};

struct tplfs_ct_conf {
	char template[256];
	char backend[16];
	bool full;
	bool is_volatile;
	struct tplfs_ct_limits limits;
	char uses[TPLFS_CT_USES_MAX][256];
	size_t nuses;
	struct tplfs_ct_apps apps;
	struct tplfs_idshift userns;
	char uuid[TPLFS_CT_UUID_LEN + 1];
};

/* A new container uuid into @out: 0, or -EIO. */
int tplfs_ct_uuid_new(char out[TPLFS_CT_UUID_LEN + 1]);
bool tplfs_ct_uuid_valid(const char *uuid);

/* The index of the app whose name (before '@') is @name in @apps, or -1. */
int tplfs_ct_apps_find(const struct tplfs_ct_apps *apps, const char *name);

/*
 * Add template @tpl to @conf's uses unless it is its template, one of its
 * apps, or there already: 1 if added, 0 if not needed, -ENOSPC when the list is full.
 */
int tplfs_ct_conf_use(struct tplfs_ct_conf *conf, const char *tpl);

int tplfs_ct_conf_read(const char *path, struct tplfs_ct_conf *conf,
		       char *err, size_t errlen);
/* Write @conf as ct.conf in directory @dirfd, atomically. */
int tplfs_ct_conf_write(int dirfd, const struct tplfs_ct_conf *conf);
/* The same in the directory @private_dir (private/<id>). */
int tplfs_ct_conf_save(const char *private_dir,
		       const struct tplfs_ct_conf *conf);

/* The places of container @id: private/<id>, its fs/, ct.conf, root/<id>. */
struct tplfs_ct_paths {
	char private_dir[PATH_MAX];
	char fs[PATH_MAX];
	char conf[PATH_MAX];
	char root[PATH_MAX];
};

/* Returns 0, or -ENAMETOOLONG. @id must be valid. */
int tplfs_ct_paths(const struct tplfs_config *cfg, const char *id,
		   struct tplfs_ct_paths *paths);

#endif /* TPLFS_CT_H */
