/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers: ids, their places on the host, and ct.conf. */
#ifndef TPLFS_CT_H
#define TPLFS_CT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* [a-z0-9][a-z0-9_-]{0,62} */
#define TPLFS_CT_ID_MAX	63

bool tplfs_ct_id_valid(const char *id);

/**
 * struct tplfs_ct_conf - private/<ct>/ct.conf
 * @template:    NAME@VERSION it was created from ("" if none)
 * @backend:     "dir" (the only backend so far)
 * @is_volatile: mount with the volatile option (copy-ups not synced)
 */
struct tplfs_ct_conf {
	char template[256];
	char backend[16];
	bool is_volatile;
};

int tplfs_ct_conf_read(const char *path, struct tplfs_ct_conf *conf,
		       char *err, size_t errlen);
/* Write @conf as ct.conf in directory @dirfd, atomically. */
int tplfs_ct_conf_write(int dirfd, const struct tplfs_ct_conf *conf);

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
