/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a file of a mounted container stands for, read and changed under
 * it: GET_ORIGIN and SET_ORIGIN on /dev/tplfs (doc/control-device.md),
 * synchronous commands on the process's one client (devcmd.h). The file is
 * named by a descriptor of it in the container's private area (an O_PATH
 * one is enough), opened beneath that area by the caller.
 */
#ifndef TPLFS_KORIGIN_H
#define TPLFS_KORIGIN_H

#include <linux/tplfs.h>

/*
 * GET_ORIGIN: whether the file @fd of container @ct's mount is a stub (and
 * its origin) or a private file (and what tells it changed). Returns 0,
 * -ENOENT when @ct is not mounted, -EXDEV for a file outside its private
 * area, or another negative errno.
 */
int tplfs_korigin_get(const char *ct, int fd, struct tplfs_origin_state *st);

/*
 * SET_ORIGIN: the file becomes a stub of @origin if it is still as
 * @expect says (a GET_ORIGIN's answer). Returns 0; -ESTALE when it is not,
 * -ETXTBSY or -EBUSY while it is open (for writing; a private file at
 * all), -ENOENT without the object, or another negative errno.
 */
int tplfs_korigin_set(const char *ct, int fd,
		      const struct tplfs_origin_state *expect,
		      const uint8_t origin[TPLFS_ORIGIN_SIZE]);

#endif /* TPLFS_KORIGIN_H */
