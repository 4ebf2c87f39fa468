/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a server's configuration says that a container must not keep, told
 * to the operator after a p2v, never changed: /etc/fstab entries of
 * filesystems the container does not mount (the root, the joined mounts,
 * the filesystems not copied, swap), and network configuration that names
 * interfaces the container will not have (ifupdown, systemd-networkd,
 * netplan, udev's persistent names). The tree is read beneath its root,
 * symlinks not followed: it is the server's, so hostile.
 */
#ifndef TPLFS_P2VREPORT_H
#define TPLFS_P2VREPORT_H

#include <stddef.h>

/*
 * Read the tree open at @fs_fd; @mounts (@nmounts) are the server's paths
 * joined into it. Calls @note(@arg, TEXT) once a finding, in file order.
 * Returns the number of findings (files that cannot be read are findings
 * too).
 */
long tplfs_p2v_report(int fs_fd, char *const *mounts, size_t nmounts,
		      void (*note)(void *arg, const char *text), void *arg);

#endif /* TPLFS_P2VREPORT_H */
