/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tplfs: template-backed container filesystem, the interface between the
 * kernel module and userspace (tplfsd, tplctl, tests).
 *
 * See doc/stub-format.md for the on-disk stub and its rules.
 */
#ifndef _UAPI_LINUX_TPLFS_H
#define _UAPI_LINUX_TPLFS_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* The filesystem type name and statfs magic ("TPLF"). */
#define TPLFS_FSTYPE		"tplfs"
#define TPLFS_SUPER_MAGIC	0x54504c46

/*
 * The stub: a zero-length regular file in a private area carrying this
 * xattr. The object it stands for is <store>/objects/<hex[0..1]>/<hex[2..63]>
 * where hex is the lower-case hex form of @digest.
 */
#define TPLFS_XATTR_PREFIX	"trusted.tplfs."
#define TPLFS_ORIGIN_XATTR	TPLFS_XATTR_PREFIX "origin"

#define TPLFS_ORIGIN_VERSION	1

/* fs-verity digest, SHA-256, 4096-byte blocks, no salt */
#define TPLFS_ALGO_FSVERITY_SHA256	1

#define TPLFS_DIGEST_SIZE	32
#define TPLFS_DIGEST_HEX_SIZE	(2 * TPLFS_DIGEST_SIZE)

/* No flag is defined yet; a stub carrying an unknown flag is malformed. */
#define TPLFS_ORIGIN_FLAGS_KNOWN	0

/**
 * struct tplfs_origin - value of the trusted.tplfs.origin xattr (48 bytes)
 * @version:  TPLFS_ORIGIN_VERSION
 * @algo:     TPLFS_ALGO_FSVERITY_SHA256
 * @flags:    none defined, must be 0
 * @reserved: must be 0
 * @size:     size of the object in bytes, so that stat never opens it
 * @digest:   fs-verity digest of the object
 */
struct tplfs_origin {
	__u8	version;
	__u8	algo;
	__le16	flags;
	__le32	reserved;
	__le64	size;
	__u8	digest[TPLFS_DIGEST_SIZE];
};

#define TPLFS_ORIGIN_SIZE	48

/*
 * /dev/tplfs: the control device. Commands are io_uring passthrough commands
 * (IORING_OP_URING_CMD): sqe->cmd_op is one of TPLFS_CMD_*, the payload is
 * the struct named in the command number, placed in the SQE's command area
 * (sqe->cmd). Commands larger than 16 bytes need a ring set up with
 * IORING_SETUP_SQE128 (80 bytes of payload) and are refused with -EINVAL on
 * other rings. Reserved fields must be 0. See doc/control-device.md.
 */
#define TPLFS_DEV_NAME		"tplfs"

/* A container id and its NUL: [a-z0-9][a-z0-9_-]{0,62} */
#define TPLFS_CT_NAME_SIZE	64

/**
 * struct tplfs_cmd_stats - GET_STATS payload (80 bytes: SQE128)
 * @ct:    the mount's container id (ct=), NUL-terminated
 * @addr:  user address of a struct tplfs_mount_stats
 * @len:   its size; the kernel fills at most this many bytes
 * @flags: must be 0
 *
 * Completes with the number of bytes written, -ENOENT when no tplfs is
 * mounted with that ct=.
 */
struct tplfs_cmd_stats {
	char	ct[TPLFS_CT_NAME_SIZE];
	__u64	addr;
	__u32	len;
	__u32	flags;
};

/* tplfs_mount_stats.flags */
#define TPLFS_STATS_VOLATILE	(1U << 0)	/* mounted with volatile */

/**
 * struct tplfs_mount_stats - the counters of one mount
 * @size:          bytes the kernel filled (newer kernels may fill more)
 * @flags:         TPLFS_STATS_*
 * @lookups:       names looked up in the private area
 * @stub_opens:    stubs opened, each opening its object
 * @copy_ups:      stubs turned into private files
 * @copy_up_bytes: bytes copied (or reflinked) by them
 * @copy_up_ns:    time spent in them
 * @quota_denials: allocations refused with EDQUOT
 */
struct tplfs_mount_stats {
	__u32	size;
	__u32	flags;
	__u64	lookups;
	__u64	stub_opens;
	__u64	copy_ups;
	__u64	copy_up_bytes;
	__u64	copy_up_ns;
	__u64	quota_denials;
};

/* The longest a WAIT_EVENT waits; 0 in timeout_ms means this. */
#define TPLFS_WAIT_MAX_MS	60000

/**
 * struct tplfs_cmd_wait - WAIT_EVENT payload (32 bytes: SQE128)
 * @seq:        the first event wanted (events are numbered from 1; 0 is
 *              refused)
 * @addr:       user address of an array of struct tplfs_event
 * @count:      its length, at least 1
 * @timeout_ms: complete with 0 events after this long (at most, and 0
 *              meaning, TPLFS_WAIT_MAX_MS)
 * @reserved:   must be 0
 *
 * Completes at once if event @seq or later is retained, else when one
 * arrives, with the number of events written. When @seq is older than the
 * oldest event kept, the first event written is TPLFS_EV_LOST (the next
 * event wanted is then its seq + arg[0]). The events are written when the
 * command completes: @addr must stay valid until then. Completes
 * with 0 on timeout and -ECANCELED when aborted or when the ring or its task
 * goes away (doc/control-device.md says how soon on each kernel).
 */
struct tplfs_cmd_wait {
	__u64	seq;
	__u64	addr;
	__u32	count;
	__u32	timeout_ms;
	__u64	reserved;
};

/* tplfs_event.type */
enum tplfs_event_type {
	TPLFS_EV_LOST	= 1,	/* arg[0] events from @seq on were dropped */
	TPLFS_EV_MOUNT	= 2,	/* ct was mounted */
	TPLFS_EV_UMOUNT	= 3,	/* ct was unmounted */
	TPLFS_EV_QUOTA_SOFT	= 4,	/* usage went over a soft limit */
	TPLFS_EV_QUOTA_HARD	= 5,	/* an allocation was refused */
	TPLFS_EV_QUOTA_UNDER	= 6,	/* usage went back under soft */
	TPLFS_EV_QUOTA_CHECKPOINT = 7,	/* usage moved: persist it */
};

/*
 * MOUNT and UMOUNT: arg[0] is the mount's device number, as stat's st_dev.
 * QUOTA_SOFT: arg[0] is the resource (TPLFS_QRES_*), arg[1] when its grace
 * period ends (CLOCK_REALTIME seconds). QUOTA_HARD and QUOTA_UNDER: arg[0]
 * the resource, arg[1] its usage. QUOTA_CHECKPOINT: arg[0] bytes used,
 * arg[1] inodes used.
 */

/**
 * struct tplfs_event - one event (104 bytes)
 * @seq:     its number; the next event has @seq + 1
 * @time_ns: when it happened, CLOCK_REALTIME
 * @type:    enum tplfs_event_type
 * @flags:   0
 * @arg:     type-specific values
 * @ct:      the container it concerns, NUL-terminated ("" if none)
 */
struct tplfs_event {
	__u64	seq;
	__u64	time_ns;
	__u32	type;
	__u32	flags;
	__u64	arg[2];
	char	ct[TPLFS_CT_NAME_SIZE];
};

/**
 * struct tplfs_cmd_abort - ABORT payload (16 bytes)
 * @reserved: must be 0
 *
 * Completes every WAIT_EVENT pending on this open file of /dev/tplfs with
 * -ECANCELED, then itself with the number it completed. For kernels whose
 * io_uring cannot cancel a passthrough command when its ring goes away.
 */
struct tplfs_cmd_abort {
	__u64	reserved[2];
};

/* The quota resources: allocated bytes and inodes. */
enum tplfs_quota_resource {
	TPLFS_QRES_BYTES	= 0,
	TPLFS_QRES_INODES	= 1,
	TPLFS_QRES_COUNT	= 2,
};

/**
 * struct tplfs_quota_limit - one resource of a container's quota
 * @used:      usage: bytes allocated in the private area (st_blocks * 512)
 *             or inodes
 * @soft:      soft limit, 0 for none
 * @hard:      hard limit, 0 for none
 * @grace:     how long usage may stay over @soft, in seconds
 * @grace_end: when the grace period ends (CLOCK_REALTIME seconds), 0 while
 *             usage is not over @soft
 */
struct tplfs_quota_limit {
	__u64	used;
	__u64	soft;
	__u64	hard;
	__u64	grace;
	__s64	grace_end;
};

/* tplfs_quota.flags */
#define TPLFS_QUOTA_USAGE_KNOWN	(1U << 0)	/* usage was set by SET_QUOTA */

/**
 * struct tplfs_quota - a container's quota (SET_QUOTA, GET_QUOTA)
 * @size:     bytes the kernel filled (GET_QUOTA); 0 or the struct's size
 *            (SET_QUOTA)
 * @flags:    TPLFS_QUOTA_* (GET_QUOTA); 0 (SET_QUOTA)
 * @gen:      changes whenever usage changes or an allocation begins or
 *            ends (GET_QUOTA); compared by TPLFS_QSET_IF_GEN
 * @res:      the resources, indexed by TPLFS_QRES_*
 */
struct tplfs_quota {
	__u32	size;
	__u32	flags;
	__u64	gen;
	struct tplfs_quota_limit res[TPLFS_QRES_COUNT];
};

/* tplfs_cmd_quota.flags for SET_QUOTA */
#define TPLFS_QSET_LIMITS	(1U << 0)	/* soft, hard, grace */
#define TPLFS_QSET_USAGE	(1U << 1)	/* used, grace_end */
#define TPLFS_QSET_IF_GEN	(1U << 2)	/* ...only if gen is unchanged */
#define TPLFS_QSET_KNOWN	(TPLFS_QSET_LIMITS | TPLFS_QSET_USAGE | \
				 TPLFS_QSET_IF_GEN)

/* tplfs_cmd_quota.flags for GET_QUOTA */
#define TPLFS_QGET_SYNC		(1U << 0)	/* re-read the cached inodes */

/**
 * struct tplfs_cmd_quota - SET_QUOTA and GET_QUOTA payload (80 bytes: SQE128)
 * @ct:    the mount's container id (ct=), NUL-terminated
 * @addr:  user address of a struct tplfs_quota
 * @len:   its size: SET_QUOTA reads exactly sizeof(struct tplfs_quota),
 *         GET_QUOTA fills at most @len bytes
 * @flags: TPLFS_QSET_* or TPLFS_QGET_*
 *
 * SET_QUOTA completes with 0; -ENOENT when no tplfs is mounted with that
 * ct=, -EINVAL for soft > hard or unknown flags, -EAGAIN when IF_GEN was
 * given and usage changed (or an allocation was in flight) since the
 * GET_QUOTA that returned gen. GET_QUOTA completes with the bytes written.
 */
struct tplfs_cmd_quota {
	char	ct[TPLFS_CT_NAME_SIZE];
	__u64	addr;
	__u32	len;
	__u32	flags;
};

/* tplfs_origin_state.flags */
#define TPLFS_OSTATE_STUB	(1U << 0)	/* a stub: @origin is its xattr */
#define TPLFS_OSTATE_BAD	(1U << 1)	/* ...whose origin is malformed */

/**
 * struct tplfs_origin_state - what GET_ORIGIN reads and SET_ORIGIN expects
 * @size:      bytes the kernel filled (GET_ORIGIN); the struct's size
 *             (SET_ORIGIN)
 * @flags:     TPLFS_OSTATE_*
 * @change:    a private file's change counter (i_version, where its
 *             filesystem keeps one; else 0)
 * @ctime_sec: a private file's ctime
 * @ctime_nsec:
 * @file_size: a private file's size
 * @origin:    a stub's origin xattr as it is (its first 48 bytes)
 *
 * A private file is "unchanged" while @change, the ctime and @file_size
 * all are: every write moves the ctime, and i_version too where the
 * filesystem has it (ext4 and xfs on 6.12), which the ctime's coarse
 * clock cannot be trusted to do between two writes in one tick.
 */
struct tplfs_origin_state {
	__u32	size;
	__u32	flags;
	__u64	change;
	__s64	ctime_sec;
	__u32	ctime_nsec;
	__u32	pad;
	__u64	file_size;
	__u8	origin[TPLFS_ORIGIN_SIZE];
};

/**
 * struct tplfs_origin_swap - SET_ORIGIN: a compare-and-swap of an origin
 * @expect: the state the file must still be in: a stub with exactly that
 *          origin (TPLFS_OSTATE_STUB), or a private file unchanged since
 *          the GET_ORIGIN that returned it (flags 0: a relink)
 * @origin: the new origin
 */
struct tplfs_origin_swap {
	struct tplfs_origin_state expect;
	__u8	origin[TPLFS_ORIGIN_SIZE];
};

/**
 * struct tplfs_cmd_origin - GET_ORIGIN and SET_ORIGIN payload (80 bytes:
 * SQE128; the ioctls of the same numbers take a pointer to it)
 * @ct:    the mount's container id (ct=), NUL-terminated
 * @addr:  user address of a struct tplfs_origin_state (GET_ORIGIN, filled)
 *         or struct tplfs_origin_swap (SET_ORIGIN, read)
 * @len:   its size: GET_ORIGIN fills at most @len bytes, SET_ORIGIN reads
 *         exactly sizeof(struct tplfs_origin_swap)
 * @fd:    a file descriptor (O_PATH is enough) of a regular file in the
 *         mount's private area, in the caller's file table
 *
 * GET_ORIGIN completes with the bytes written. SET_ORIGIN completes with 0
 * once the file stands for the new origin's object: new opens, stat and
 * reads see it, file descriptors opened before keep what they had. It
 * fails, changing nothing, with -ESTALE when @expect no longer holds (a
 * copy-up committed, the file changed), -ETXTBSY while the file is open
 * for writing, -EBUSY (a private file only) while it is open at all,
 * -ENOENT for no such mount or no object for the new origin (or one of
 * another size), -EXDEV for a file outside the mount's private area,
 * -EINVAL for a malformed origin or a file that is not regular.
 */
struct tplfs_cmd_origin {
	char	ct[TPLFS_CT_NAME_SIZE];
	__u64	addr;
	__u32	len;
	__s32	fd;
};

#define TPLFS_CMD_GET_STATS	_IOWR('T', 1, struct tplfs_cmd_stats)
#define TPLFS_CMD_WAIT_EVENT	_IOWR('T', 2, struct tplfs_cmd_wait)
#define TPLFS_CMD_ABORT		_IOW('T', 3, struct tplfs_cmd_abort)
#define TPLFS_CMD_SET_QUOTA	_IOW('T', 4, struct tplfs_cmd_quota)
#define TPLFS_CMD_GET_QUOTA	_IOWR('T', 5, struct tplfs_cmd_quota)
#define TPLFS_CMD_GET_ORIGIN	_IOWR('T', 6, struct tplfs_cmd_origin)
#define TPLFS_CMD_SET_ORIGIN	_IOW('T', 7, struct tplfs_cmd_origin)

#endif /* _UAPI_LINUX_TPLFS_H */
