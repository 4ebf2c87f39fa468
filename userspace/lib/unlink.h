/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unlink (issue 17, doc/rebase.md): every stub of a container's private
 * area becomes a private copy of its object, in its own inode (owner,
 * mode, times, xattrs, file capabilities and hard links stay), reflinked
 * where the filesystem can: a linked clone made a full one, whose files
 * no longer read from the store.
 */
#ifndef TPLFS_UNLINK_H
#define TPLFS_UNLINK_H

#include <stddef.h>
#include <stdint.h>

struct tplfs_unlink_report {
	uint64_t stubs;		/* stubs found */
	uint64_t copied;	/* made private copies */
	uint64_t bytes;		/* their bytes */
	uint64_t busy;		/* mounted: open for execution, left stubs */
};

/*
 * Unlink the private area open at @fs_fd, whose stubs name objects of the
 * store @store_fd. Not mounted (@mnt_fd < 0): each stub is copied in the
 * area the way the module's copy-up does it (file capabilities kept in
 * trusted.tplfs.caps meanwhile, the data synced, the origin removed
 * last: a crash leaves a stub or a private copy, never a mix). Mounted
 * (@mnt_fd the mount's root): each stub is opened read-write through the
 * mount, beneath it, which is the module's copy-up; one that cannot
 * be (ETXTBSY: a running program) is left and counted busy. Returns 0, or
 * a negative errno with the path and the reason in @err.
 */
int tplfs_unlink_area(int fs_fd, int store_fd, int mnt_fd,
		      struct tplfs_unlink_report *rep, char *err,
		      size_t errlen);

#endif /* TPLFS_UNLINK_H */
