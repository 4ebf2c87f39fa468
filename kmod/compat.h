/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels tplfs targets (Debian's 6.1 and 6.12),
 * in one place. Each TPLFS_HAVE_* macro comes from a probe of the headers in
 * kmod/Kbuild, so the rest of the module reads as if written for one kernel.
 */
#ifndef _TPLFS_COMPAT_H
#define _TPLFS_COMPAT_H

#include <linux/fs.h>
#include <linux/xattr.h>

/*
 * 6.3 replaced the user namespace of a mount by struct mnt_idmap in every
 * inode operation and VFS helper. "struct tplfs_idmap" names whichever the
 * kernel has; TPLFS_NOP_IDMAP is its identity mapping.
 */
#ifdef TPLFS_HAVE_MNT_IDMAP
#define tplfs_idmap		mnt_idmap
#define TPLFS_NOP_IDMAP		(&nop_mnt_idmap)
#else
#define tplfs_idmap		user_namespace
#define TPLFS_NOP_IDMAP		(&init_user_ns)
#endif

/*
 * 6.7 started passing AT_GETATTR_NOSEC to ->getattr when the caller already
 * did the security check (vfs_getattr_nosec); vfs_getattr() then refuses the
 * flag, so a stacking filesystem must follow the caller's choice.
 */
static inline int tplfs_vfs_getattr(const struct path *path,
				    struct kstat *stat, u32 request_mask,
				    unsigned int flags)
{
#ifdef AT_GETATTR_NOSEC
	if (flags & AT_GETATTR_NOSEC)
		return vfs_getattr_nosec(path, stat, request_mask, flags);
#endif
	return vfs_getattr(path, stat, request_mask, flags);
}

#endif /* _TPLFS_COMPAT_H */
