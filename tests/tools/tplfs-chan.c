// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tplfs-chan: drive /dev/tplfs by hand, for tests (doc/control-device.md).
 *
 *   tplfs-chan stats CT [LEN]       GET_STATS; the counters as key=value
 *   tplfs-chan wait SEQ COUNT MS    WAIT_EVENT; one "seq type ct arg0 arg1"
 *                                   line per event ("-" for no ct), then
 *                                   result=N
 *   tplfs-chan small-ring           GET_STATS on a ring without SQE128 is
 *                                   refused with EINVAL, ABORT (16 bytes) is
 *                                   not
 *   tplfs-chan bad                  malformed commands are refused
 *   tplfs-chan park MS              park a WAIT_EVENT no event will satisfy,
 *                                   print "parked", wait for its completion
 *   tplfs-chan abort-test           ABORT completes parked waits (one issued
 *                                   inline, one from io-wq)
 *   tplfs-chan quota-get CT [sync]  GET_QUOTA; the quota as key=value
 *   tplfs-chan quota-set CT KEY=VALUE...
 *                                   SET_QUOTA: bytes=SOFT:HARD,
 *                                   inodes=SOFT:HARD, grace=SECONDS (limits);
 *                                   used=BYTES:INODES (usage);
 *                                   grace-end=BYTES_END:INODES_END (with
 *                                   used=: the grace periods' ends, epoch
 *                                   seconds, as tplfsd restores them);
 *                                   if-gen=GEN
 *   tplfs-chan origin-get CT FILE [ioctl]
 *                                   GET_ORIGIN of FILE (in CT's private
 *                                   area): "state=stub origin=HEX" or
 *                                   "state=private expect=private:C:S:N:Z"
 *                                   (what origin-set takes as EXPECT)
 *   tplfs-chan origin-set CT FILE EXPECT HEX [ioctl]
 *                                   SET_ORIGIN: FILE becomes a stub of the
 *                                   origin HEX (as tplfs-mkstub --origin
 *                                   prints it) if it is still EXPECT:
 *                                   stub:HEX (its origin now) or
 *                                   private:CHANGE:SEC:NSEC:SIZE
 *                                   (from origin-get)
 *                                   With "ioctl", the ioctl of the same
 *                                   number instead of the ring.
 *
 * A failed command prints error=ENAME (e.g. error=ENOENT). The exit status
 * is 0 when everything went as asked, 1 otherwise, 2 on a usage error or
 * when /dev/tplfs or the ring cannot be set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/tplfs.h>

#include "../../userspace/lib/devcmd.h"
#include "../../userspace/lib/korigin.h"
#include "../../userspace/lib/kquota.h"

#define DEV		"/dev/" TPLFS_DEV_NAME
#define NEVER_SEQ	(1ULL << 62)	/* an event no test will reach */

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

static void ring_setup(struct io_uring *ring, int *fd, bool sqe128)
{
	struct io_uring_params p;
	int ret;

	*fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (*fd < 0) {
		printf("open: error=%s\n", errname(errno));
		exit(2);
	}
	memset(&p, 0, sizeof(p));
	if (sqe128)
		p.flags = IORING_SETUP_SQE128;
	ret = io_uring_queue_init_params(8, ring, &p);
	if (ret < 0) {
		fprintf(stderr, "tplfs-chan: io_uring: %s\n", strerror(-ret));
		exit(2);
	}
}

/* Queue a passthrough command; @len bytes of payload, the rest zeroed. */
static struct io_uring_sqe *queue_cmd(struct io_uring *ring, int fd, __u32 op,
		      const void *payload, size_t len, __u64 user_data)
{
	size_t area = (ring->flags & IORING_SETUP_SQE128) ? 80 : 16;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		fprintf(stderr, "tplfs-chan: no free SQE\n");
		exit(2);
	}
	if (ring->flags & IORING_SETUP_SQE128) {
		tplfs_cmd_prep(sqe, fd, op, payload, len);
	} else {	/* the 16 bytes a 64-byte SQE has: refused */
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
		sqe->cmd_op = op;
		memset(sqe->cmd, 0, area);
		memcpy(sqe->cmd, payload, len < area ? len : area);
	}
	sqe->user_data = user_data;
	return sqe;
}

/* Wait for the next completion; its result, and its user_data in @ud. */
static int reap(struct io_uring *ring, __u64 *ud)
{
	struct io_uring_cqe *cqe;
	int ret, res;

	do
		ret = io_uring_wait_cqe(ring, &cqe);
	while (ret == -EINTR);
	if (ret < 0) {
		fprintf(stderr, "tplfs-chan: wait: %s\n", strerror(-ret));
		exit(2);
	}
	res = cqe->res;
	if (ud)
		*ud = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* One command, submitted and completed. */
static int run_cmd(struct io_uring *ring, int fd, __u32 op,
		   const void *payload, size_t len)
{
	queue_cmd(ring, fd, op, payload, len, 0);
	io_uring_submit(ring);
	return reap(ring, NULL);
}

static int print_result(int res)
{
	if (res < 0) {
		printf("error=%s\n", errname(-res));
		return 1;
	}
	printf("result=%d\n", res);
	return 0;
}

static int cmd_stats(const char *ct, const char *len)
{
	/* Room for more than this header knows of: a LEN up to 256. */
	union {
		struct tplfs_mount_stats st;
		char raw[256];
	} buf;
	struct tplfs_mount_stats *st = &buf.st;
	struct tplfs_cmd_stats c;
	struct io_uring ring;
	int fd, res;

	ring_setup(&ring, &fd, true);
	memset(&c, 0, sizeof(c));
	strncpy(c.ct, ct, sizeof(c.ct) - 1);
	c.addr = (uintptr_t)&buf;
	c.len = len ? strtoul(len, NULL, 0) : sizeof(*st);
	if (c.len > sizeof(buf))
		c.len = sizeof(buf);
	memset(&buf, 0, sizeof(buf));
	res = run_cmd(&ring, fd, TPLFS_CMD_GET_STATS, &c, sizeof(c));
	if (res >= 0) {
		printf("size=%" PRIu32 "\nflags=%" PRIu32 "\n", st->size,
		       st->flags);
		printf("lookups=%llu\nstub_opens=%llu\ncopy_ups=%llu\n",
		       (unsigned long long)st->lookups,
		       (unsigned long long)st->stub_opens,
		       (unsigned long long)st->copy_ups);
		printf("copy_up_bytes=%llu\ncopy_up_ns=%llu\nquota_denials=%llu\n",
		       (unsigned long long)st->copy_up_bytes,
		       (unsigned long long)st->copy_up_ns,
		       (unsigned long long)st->quota_denials);
	}
	return print_result(res);
}

static const char *ev_type(__u32 type)
{
	switch (type) {
	case TPLFS_EV_LOST:
		return "LOST";
	case TPLFS_EV_MOUNT:
		return "MOUNT";
	case TPLFS_EV_UMOUNT:
		return "UMOUNT";
	case TPLFS_EV_QUOTA_SOFT:
		return "QUOTA_SOFT";
	case TPLFS_EV_QUOTA_HARD:
		return "QUOTA_HARD";
	case TPLFS_EV_QUOTA_UNDER:
		return "QUOTA_UNDER";
	case TPLFS_EV_QUOTA_CHECKPOINT:
		return "QUOTA_CHECKPOINT";
	default:
		return "?";
	}
}

static int cmd_wait(const char *seq, const char *count, const char *ms)
{
	struct tplfs_cmd_wait c;
	struct tplfs_event *ev;
	struct io_uring ring;
	int fd, res, i;

	ring_setup(&ring, &fd, true);
	memset(&c, 0, sizeof(c));
	c.seq = strtoull(seq, NULL, 0);
	c.count = strtoul(count, NULL, 0);
	c.timeout_ms = strtoul(ms, NULL, 0);
	ev = calloc(c.count ? c.count : 1, sizeof(*ev));
	if (!ev)
		return 2;
	c.addr = (uintptr_t)ev;
	res = run_cmd(&ring, fd, TPLFS_CMD_WAIT_EVENT, &c, sizeof(c));
	for (i = 0; i < res; i++)
		printf("%llu %s %s %llu %llu\n", (unsigned long long)ev[i].seq,
		       ev_type(ev[i].type), ev[i].ct[0] ? ev[i].ct : "-",
		       (unsigned long long)ev[i].arg[0],
		       (unsigned long long)ev[i].arg[1]);
	free(ev);
	return print_result(res);
}

static int check(const char *what, int expected, int seen)
{
	if (expected == seen) {
		printf("ok: %s\n", what);
		return 0;
	}
	printf("FAIL: %s: expected %d, saw %d\n", what, expected, seen);
	return 1;
}

static int cmd_small_ring(void)
{
	struct tplfs_cmd_abort a = { 0 };
	struct tplfs_cmd_stats c;
	struct io_uring ring;
	int fd, bad = 0;

	ring_setup(&ring, &fd, false);
	memset(&c, 0, sizeof(c));
	strcpy(c.ct, "none");
	bad |= check("GET_STATS without SQE128", -EINVAL,
		     run_cmd(&ring, fd, TPLFS_CMD_GET_STATS, &c, sizeof(c)));
	bad |= check("ABORT without SQE128", 0,
		     run_cmd(&ring, fd, TPLFS_CMD_ABORT, &a, sizeof(a)));
	return bad;
}

static int cmd_bad(void)
{
	struct tplfs_event ev[2];
	struct tplfs_cmd_stats s;
	struct tplfs_cmd_wait w;
	struct tplfs_cmd_abort a;
	struct io_uring ring;
	int fd, bad = 0;

	ring_setup(&ring, &fd, true);
	memset(&a, 0, sizeof(a));
	bad |= check("an unknown command", -ENOTTY,
		     run_cmd(&ring, fd, _IOWR('T', 9, struct tplfs_cmd_abort),
			     &a, sizeof(a)));
	bad |= check("SET_QUOTA's number, not yet a command", -ENOTTY,
		     run_cmd(&ring, fd, _IOWR('T', 4, struct tplfs_cmd_abort),
			     &a, sizeof(a)));
	a.reserved[1] = 1;
	bad |= check("ABORT with reserved set", -EINVAL,
		     run_cmd(&ring, fd, TPLFS_CMD_ABORT, &a, sizeof(a)));

	memset(&s, 0, sizeof(s));
	memset(s.ct, 'a', sizeof(s.ct));
	bad |= check("GET_STATS with an unterminated ct", -EINVAL,
		     run_cmd(&ring, fd, TPLFS_CMD_GET_STATS, &s, sizeof(s)));
	memset(&s, 0, sizeof(s));
	strcpy(s.ct, "none");
	s.flags = 1;
	bad |= check("GET_STATS with flags set", -EINVAL,
		     run_cmd(&ring, fd, TPLFS_CMD_GET_STATS, &s, sizeof(s)));

	memset(&w, 0, sizeof(w));
	w.seq = 1;
	w.count = 2;
	w.timeout_ms = 1;
	w.addr = (uintptr_t)ev;
	w.reserved = 1;
	bad |= check("WAIT_EVENT with reserved set", -EINVAL,
		     run_cmd(&ring, fd, TPLFS_CMD_WAIT_EVENT, &w, sizeof(w)));
	w.reserved = 0;
	w.count = 0;
	bad |= check("WAIT_EVENT for 0 events", -EINVAL,
		     run_cmd(&ring, fd, TPLFS_CMD_WAIT_EVENT, &w, sizeof(w)));
	w.count = 2;
	w.seq = 0;
	bad |= check("WAIT_EVENT from event 0", -EINVAL,
		     run_cmd(&ring, fd, TPLFS_CMD_WAIT_EVENT, &w, sizeof(w)));
	return bad;
}

/* Queue a WAIT_EVENT that only its timeout or a cancellation ends. */
static struct io_uring_sqe *queue_wait_never(struct io_uring *ring, int fd,
					     struct tplfs_event *ev,
					     __u32 timeout_ms, __u64 user_data)
{
	struct tplfs_cmd_wait c;

	memset(&c, 0, sizeof(c));
	c.seq = NEVER_SEQ;
	c.count = 1;
	c.timeout_ms = timeout_ms;
	c.addr = (uintptr_t)ev;
	return queue_cmd(ring, fd, TPLFS_CMD_WAIT_EVENT, &c, sizeof(c),
			 user_data);
}

static int cmd_park(const char *ms)
{
	struct tplfs_event ev;
	struct io_uring ring;
	int fd;

	ring_setup(&ring, &fd, true);
	queue_wait_never(&ring, fd, &ev, strtoul(ms, NULL, 0), 0);
	if (io_uring_submit(&ring) != 1)
		return 2;
	printf("parked\n");
	fflush(stdout);
	return print_result(reap(&ring, NULL));
}

/*
 * Two waits parked, one issued inline and one from an io-wq worker
 * (IOSQE_ASYNC): ABORT completes both, and counts them. The worker's may be
 * parked after the first ABORT: abort until both are counted.
 */
static int cmd_abort_test(void)
{
	int fd, i, r, res[2] = { 1, 1 }, aborted = 0, bad = 0;
	struct tplfs_cmd_abort a = { 0 };
	struct tplfs_event ev[2];
	struct io_uring ring;
	__u64 ud;

	ring_setup(&ring, &fd, true);
	queue_wait_never(&ring, fd, &ev[0], 30000, 0);
	io_uring_sqe_set_flags(queue_wait_never(&ring, fd, &ev[1], 30000, 1),
			       IOSQE_ASYNC);
	io_uring_submit(&ring);
	for (i = 0; i < 100 && aborted < 2; i++) {
		if (i)
			usleep(50000);
		queue_cmd(&ring, fd, TPLFS_CMD_ABORT, &a, sizeof(a), 2);
		io_uring_submit(&ring);
		do {
			r = reap(&ring, &ud);
			if (ud < 2)
				res[ud] = r;
		} while (ud != 2);
		if (r < 0)
			return check("ABORT", 0, r);
		aborted += r;
	}
	/* The waits' completions come through their task: maybe later. */
	while (res[0] == 1 || res[1] == 1) {
		r = reap(&ring, &ud);
		if (ud < 2)
			res[ud] = r;
	}
	bad |= check("the parked wait is cancelled", -ECANCELED, res[0]);
	bad |= check("so is the one parked from io-wq", -ECANCELED, res[1]);
	bad |= check("ABORT counts them", 2, aborted);
	bad |= check("with nothing parked, ABORT completes none", 0,
		     run_cmd(&ring, fd, TPLFS_CMD_ABORT, &a, sizeof(a)));
	return bad;
}

static int usage(void);

static int cmd_quota_get(const char *ct, const char *sync)
{
	static const char *const res[] = { "bytes", "inodes" };
	struct tplfs_quota q;
	int i, err;

	err = tplfs_kquota_get(ct, sync && !strcmp(sync, "sync"), &q);
	if (err)
		return print_result(err);
	printf("size=%u\nflags=%u\ngen=%llu\n", q.size, q.flags,
	       (unsigned long long)q.gen);
	for (i = 0; i < TPLFS_QRES_COUNT; i++) {
		const struct tplfs_quota_limit *l = &q.res[i];

		printf("%s_used=%llu\n%s_soft=%llu\n%s_hard=%llu\n",
		       res[i], (unsigned long long)l->used,
		       res[i], (unsigned long long)l->soft,
		       res[i], (unsigned long long)l->hard);
		printf("%s_grace=%llu\n%s_grace_end=%lld\n",
		       res[i], (unsigned long long)l->grace,
		       res[i], (long long)l->grace_end);
	}
	return print_result(0);
}

/* "A:B" into two numbers. */
static int pair(const char *s, __u64 *a, __u64 *b)
{
	char *end;

	*a = strtoull(s, &end, 0);
	if (*end != ':')
		return -1;
	*b = strtoull(end + 1, &end, 0);
	return *end ? -1 : 0;
}

static int cmd_quota_set(const char *ct, int argc, char **argv)
{
	struct tplfs_quota_limit *b, *n;
	struct tplfs_quota q;
	__u32 flags = 0;
	int i, bad = 0;

	memset(&q, 0, sizeof(q));
	b = &q.res[TPLFS_QRES_BYTES];
	n = &q.res[TPLFS_QRES_INODES];
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "bytes=", 6)) {
			bad |= pair(a + 6, &b->soft, &b->hard);
			flags |= TPLFS_QSET_LIMITS;
		} else if (!strncmp(a, "inodes=", 7)) {
			bad |= pair(a + 7, &n->soft, &n->hard);
			flags |= TPLFS_QSET_LIMITS;
		} else if (!strncmp(a, "grace=", 6)) {
			b->grace = n->grace = strtoull(a + 6, NULL, 0);
			flags |= TPLFS_QSET_LIMITS;
		} else if (!strncmp(a, "used=", 5)) {
			bad |= pair(a + 5, &b->used, &n->used);
			flags |= TPLFS_QSET_USAGE;
		} else if (!strncmp(a, "grace-end=", 10)) {
			/* with used=: as the daemon restores a checkpoint */
			bad |= pair(a + 10, (__u64 *)&b->grace_end,
				    (__u64 *)&n->grace_end);
		} else if (!strncmp(a, "if-gen=", 7)) {
			q.gen = strtoull(a + 7, NULL, 0);
			flags |= TPLFS_QSET_IF_GEN;
		} else {
			bad = 1;
		}
	}
	if (bad)
		return usage();
	return print_result(tplfs_kquota_set(ct, &q, flags));
}

/* HEX (0x optional) into @out, exactly @len bytes. */
static int unhex(const char *hex, __u8 *out, size_t len)
{
	if (!strncmp(hex, "0x", 2))
		hex += 2;
	if (strlen(hex) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return 0;
}

/* The command as an ioctl on a /dev/tplfs file. */
static int origin_ioctl(__u32 op, struct tplfs_cmd_origin *c)
{
	int dev = open(DEV, O_RDWR | O_CLOEXEC), ret;

	if (dev < 0)
		return -errno;
	ret = ioctl(dev, op, c);
	ret = ret < 0 ? -errno : ret;
	close(dev);
	return ret;
}

static int origin_call(__u32 op, const char *ct, int fd, void *addr,
		       __u32 len, bool by_ioctl)
{
	struct tplfs_cmd_origin c;
	int ret;

	if (!by_ioctl && op == TPLFS_CMD_GET_ORIGIN)
		return tplfs_korigin_get(ct, fd, addr);
	if (!by_ioctl) {
		struct tplfs_origin_swap *sw = addr;

		return tplfs_korigin_set(ct, fd, &sw->expect, sw->origin);
	}
	memset(&c, 0, sizeof(c));
	snprintf(c.ct, sizeof(c.ct), "%s", ct);
	c.addr = (uintptr_t)addr;
	c.len = len;
	c.fd = fd;
	ret = origin_ioctl(op, &c);
	return ret < 0 ? ret : 0;
}

static int cmd_origin_get(const char *ct, const char *path, bool by_ioctl)
{
	struct tplfs_origin_state st;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC), err;

	if (fd < 0)
		return print_result(-errno);
	memset(&st, 0, sizeof(st));
	err = origin_call(TPLFS_CMD_GET_ORIGIN, ct, fd, &st, sizeof(st),
			  by_ioctl);
	close(fd);
	if (err)
		return print_result(err);
	if (st.flags & TPLFS_OSTATE_STUB) {
		printf("state=stub%s origin=",
		       st.flags & TPLFS_OSTATE_BAD ? " bad=1" : "");
		for (size_t i = 0; i < sizeof(st.origin); i++)
			printf("%02x", st.origin[i]);
		printf("\n");
	} else {
		printf("state=private expect=private:%llu:%lld:%u:%llu\n",
		       (unsigned long long)st.change, (long long)st.ctime_sec,
		       st.ctime_nsec, (unsigned long long)st.file_size);
	}
	return print_result(0);
}

static int cmd_origin_set(const char *ct, const char *path, const char *expect,
			  const char *origin, bool by_ioctl)
{
	struct tplfs_origin_swap sw;
	unsigned long long change, size;
	long long sec;
	unsigned int nsec;
	int fd, err;

	memset(&sw, 0, sizeof(sw));
	sw.expect.size = sizeof(sw.expect);
	if (!strncmp(expect, "stub:", 5)) {
		sw.expect.flags = TPLFS_OSTATE_STUB;
		if (unhex(expect + 5, sw.expect.origin, sizeof(sw.expect.origin)))
			return usage();
	} else if (sscanf(expect, "private:%llu:%lld:%u:%llu", &change, &sec,
			  &nsec, &size) == 4) {
		sw.expect.change = change;
		sw.expect.ctime_sec = sec;
		sw.expect.ctime_nsec = nsec;
		sw.expect.file_size = size;
	} else {
		return usage();
	}
	if (unhex(origin, sw.origin, sizeof(sw.origin)))
		return usage();
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return print_result(-errno);
	err = origin_call(TPLFS_CMD_SET_ORIGIN, ct, fd, &sw, sizeof(sw),
			  by_ioctl);
	close(fd);
	return print_result(err);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: tplfs-chan stats CT [LEN] | wait SEQ COUNT MS | small-ring | bad\n"
		"       | park MS | abort-test | quota-get CT [sync]\n"
		"       | quota-set CT [bytes=S:H] [inodes=S:H] [grace=SEC] [used=B:I]\n"
		"         [grace-end=B:I] [if-gen=G]\n"
		"       | origin-get CT FILE [ioctl] | origin-set CT FILE EXPECT HEX [ioctl]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "stats") && (argc == 3 || argc == 4))
		return cmd_stats(argv[2], argc == 4 ? argv[3] : NULL);
	if (!strcmp(cmd, "wait") && argc == 5)
		return cmd_wait(argv[2], argv[3], argv[4]);
	if (!strcmp(cmd, "small-ring") && argc == 2)
		return cmd_small_ring();
	if (!strcmp(cmd, "bad") && argc == 2)
		return cmd_bad();
	if (!strcmp(cmd, "park") && argc == 3)
		return cmd_park(argv[2]);
	if (!strcmp(cmd, "abort-test") && argc == 2)
		return cmd_abort_test();
	if (!strcmp(cmd, "quota-get") && (argc == 3 || argc == 4))
		return cmd_quota_get(argv[2], argc == 4 ? argv[3] : NULL);
	if (!strcmp(cmd, "quota-set") && argc >= 4)
		return cmd_quota_set(argv[2], argc - 3, argv + 3);
	if (!strcmp(cmd, "origin-get") && (argc == 4 ||
	    (argc == 5 && !strcmp(argv[4], "ioctl"))))
		return cmd_origin_get(argv[2], argv[3], argc == 5);
	if (!strcmp(cmd, "origin-set") && (argc == 6 ||
	    (argc == 7 && !strcmp(argv[6], "ioctl"))))
		return cmd_origin_set(argv[2], argv[3], argv[4], argv[5],
				      argc == 7);
	return usage();
}
