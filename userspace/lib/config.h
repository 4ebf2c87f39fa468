/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's tplfs settings: /etc/tplfs/tplfs.conf and the host layout. */
#ifndef TPLFS_CONFIG_H
#define TPLFS_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TPLFS_CONFIG_DEFAULT	"/etc/tplfs/tplfs.conf"
#define TPLFS_ROOT_DEFAULT	"/var/lib/tplfs"
#define TPLFS_STORE_DEFAULT	"/var/lib/tplfs/store"

/**
 * struct tplfs_config - settings of one host
 * @root:           host-local state: private/, root/, journal/
 * @store:          the template store (may be shared between hosts)
 * @socket:         the daemon's control socket
 * @read_gid:       members of this group may use the read-only verbs
 * @has_read_group: whether @read_gid is set
 * @max_clients:    connections of users other than root served at once
 * @max_clients_per_uid: of those, connections of one user
 * @idle_timeout:   seconds a connection may wait between requests
 */
struct tplfs_config {
	char root[PATH_MAX];
	char store[PATH_MAX];
	char socket[PATH_MAX];
	gid_t read_gid;
	bool has_read_group;
	unsigned int max_clients;
	unsigned int max_clients_per_uid;
	unsigned int idle_timeout;
	char verity[8];		/* the mounts' verity=: off, on, require */
};

/* Fill @cfg with the built-in defaults. */
void tplfs_config_defaults(struct tplfs_config *cfg);

/*
 * Read the configuration file @path over @cfg. A missing file is not an
 * error when @optional. Returns 0 or a negative errno, with a message that
 * names the file and line in @err.
 */
int tplfs_config_read(struct tplfs_config *cfg, const char *path,
		      bool optional, char *err, size_t errlen);

#endif /* TPLFS_CONFIG_H */
