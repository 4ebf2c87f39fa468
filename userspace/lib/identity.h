/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What must not be shared between containers of one template: its
 * machine identity (/etc/machine-id, /var/lib/dbus/machine-id) and its ssh
 * host keys (/etc/ssh/ssh_host_*_key). vzctl gives every container its
 * own; so does ct create, on the private area before it becomes the
 * container. The list is in doc/store.md.
 */
#ifndef TPLFS_IDENTITY_H
#define TPLFS_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

struct tplfs_identity {
	char machine_id[33];	/* the new one, "" if the template had none */
	char ssh_keys[64];	/* the key types made anew: "rsa ed25519" */
	char ssh_keys_gone[64];	/* the template's, removed and not made
				 * (no ssh-keygen, or it cannot: dsa) */
};

/*
 * Give the populated tree @root_fd (a private area being built) its own
 * identity: a new random machine-id where the template had one, new ssh
 * host keys (by the host's ssh-keygen, into a directory of our own, then
 * copied in) where it had keys. Paths are resolved beneath @root_fd
 * without following symlinks. @comment is the keys' comment. Returns 0 or
 * a negative errno, with the path and the reason in @err.
 */
int tplfs_identity_renew(int root_fd, const char *comment,
			 struct tplfs_identity *id, char *err, size_t errlen);

/*
 * Is @path (absolute, as in a manifest) one of the identity files above:
 * a machine-id, or an ssh host key (/etc/ssh/ssh_host_*_key, and .pub)?
 */
bool tplfs_identity_path(const char *path);

#endif /* TPLFS_IDENTITY_H */
