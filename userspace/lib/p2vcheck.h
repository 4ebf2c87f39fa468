/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The last check of a p2v before its tree becomes a container: no entry
 * may carry an xattr the host uses for its own purposes (a forged stub
 * origin would make the module read any object of the store as that
 * file). rsync filters them out on receipt; this finds any that came in
 * another way.
 */
#ifndef TPLFS_P2VCHECK_H
#define TPLFS_P2VCHECK_H

#include <stddef.h>

/*
 * Walk the tree open at @fs_fd (every entry, symlinks and devices
 * included, never into another filesystem) and call @found(@arg, PATH,
 * XATTR) for each host xattr (tplfs_p2v_host_xattr). Returns how many it
 * found, or a negative errno with the path and the reason in @err.
 */
long tplfs_p2v_host_xattrs(int fs_fd,
			   void (*found)(void *arg, const char *path,
					 const char *xattr),
			   void *arg, char *err, size_t errlen);

#endif /* TPLFS_P2VCHECK_H */
