// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs: the control device, /dev/tplfs. Its commands are io_uring
 * passthrough commands (->uring_cmd); doc/control-device.md describes them.
 *
 * Events (mount, umount, quota) go into a ring of the last TPLFS_EV_RING, numbered
 * from 1. A WAIT_EVENT asking for an event not posted yet is parked on
 * tplfs_waits until one is, until its timeout, until ABORT, or until io_uring
 * cancels it. Whoever takes a wait off that list (under tplfs_ev_lock) owns
 * it and completes it exactly once; completions go through the submitter's
 * task (tplfs_wait_done), where the events are copied to its memory. Only
 * io_uring's cancel call (6.12) completes a wait at once.
 *
 * A parked command holds its file of /dev/tplfs, so the module, until it
 * completes: every wait is bounded (TPLFS_WAIT_MAX_MS), and where io_uring
 * has no cancel hook (6.1) the timeout work also ends the waits of tasks
 * that are exiting.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "tplfs.h"

#define TPLFS_EV_RING		256	/* events kept */
#define TPLFS_CMD_SMALL		16	/* command area of a 64-byte SQE */
#define TPLFS_MONITOR_PERIOD	(HZ / 2)

/**
 * struct tplfs_wait - a parked WAIT_EVENT
 * @node:     entry in tplfs_waits; empty once taken off it
 * @cmd:      the command
 * @file:     its file of /dev/tplfs (the command holds a reference)
 * @task:     the task that submitted it (referenced)
 * @seq:      the first event wanted
 * @addr:     user address of the events
 * @count:    how many fit there
 * @deadline: when it completes with 0 events (jiffies)
 * @result:   set by whoever took it off the list: TPLFS_WAIT_COPY, 0
 *            (timed out) or -ECANCELED
 */
struct tplfs_wait {
	struct list_head node;
	struct io_uring_cmd *cmd;
	struct file *file;
	struct task_struct *task;
	u64 seq;
	u64 addr;
	u32 count;
	unsigned long deadline;
	int result;
};

#define TPLFS_WAIT_COPY		1	/* copy the events */

static DEFINE_SPINLOCK(tplfs_ev_lock);
/* Under tplfs_ev_lock: the ring, the next number, the parked waits. */
static struct tplfs_event tplfs_ev_ring[TPLFS_EV_RING];
static u64 tplfs_ev_next = 1;
static LIST_HEAD(tplfs_waits);

static void tplfs_wait_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(tplfs_wait_work, tplfs_wait_work_fn);

/* The parked wait of a command, kept in its driver-private area. */
static struct tplfs_wait **tplfs_cmd_wait_slot(struct io_uring_cmd *cmd)
{
	BUILD_BUG_ON(sizeof(struct tplfs_wait *) > sizeof(cmd->pdu));
	return (struct tplfs_wait **)cmd->pdu;
}

/* The event numbered @seq, or a LOST entry for those dropped from @seq on. */
static bool tplfs_event_get(u64 seq, struct tplfs_event *ev)
{
	u64 oldest = tplfs_ev_next > TPLFS_EV_RING ?
		     tplfs_ev_next - TPLFS_EV_RING : 1;

	lockdep_assert_held(&tplfs_ev_lock);
	if (seq >= tplfs_ev_next)
		return false;
	if (seq >= oldest) {
		*ev = tplfs_ev_ring[seq % TPLFS_EV_RING];
		return true;
	}
	memset(ev, 0, sizeof(*ev));
	ev->seq = seq;
	ev->time_ns = ktime_get_real_ns();
	ev->type = TPLFS_EV_LOST;
	ev->arg[0] = oldest - seq;
	return true;
}

/*
 * Copy up to @count events from @seq on to user memory at @addr, in the
 * submitter's context. A LOST entry comes first or not at all: a gap that
 * opens while copying is reported to the next wait. Returns the number of
 * events copied, or -EFAULT if not even the first could be.
 */
static ssize_t tplfs_copy_events(u64 seq, u64 addr, u32 count)
{
	struct tplfs_event __user *uev = u64_to_user_ptr(addr);
	struct tplfs_event ev;
	bool found;
	u32 n;

	for (n = 0; n < count; n++) {
		spin_lock(&tplfs_ev_lock);
		found = tplfs_event_get(seq, &ev);
		spin_unlock(&tplfs_ev_lock);
		if (!found || (n && ev.type == TPLFS_EV_LOST))
			break;
		if (copy_to_user(&uev[n], &ev, sizeof(ev)))
			return n ? n : -EFAULT;
		seq += ev.type == TPLFS_EV_LOST ? ev.arg[0] : 1;
	}
	return n;
}

static void tplfs_wait_free(struct tplfs_wait *w)
{
	put_task_struct(w->task);
	kfree(w);
}

/* The end of every wait but a cancelled one, in its submitter's task. */
static void tplfs_wait_done(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct tplfs_wait *w = *tplfs_cmd_wait_slot(cmd);
	ssize_t ret = w->result;

	if (ret == TPLFS_WAIT_COPY) {
		if (tplfs_uring_task_dead(issue_flags))
			ret = -ECANCELED;
		else
			ret = tplfs_copy_events(w->seq, w->addr, w->count);
	}
	tplfs_wait_free(w);
	io_uring_cmd_done(cmd, ret, 0, issue_flags);
}

/* Complete waits taken off tplfs_waits with @result; how many. */
static int tplfs_wait_complete(struct list_head *list, int result)
{
	struct tplfs_wait *w, *tmp;
	int n = 0;

	list_for_each_entry_safe(w, tmp, list, node) {
		list_del_init(&w->node);
		w->result = result;
		/* From here on @w belongs to the callback. */
		io_uring_cmd_complete_in_task(w->cmd, tplfs_wait_done);
		n++;
	}
	return n;
}

/*
 * Have the work run at the earliest deadline and, without io_uring's cancel
 * hook, every TPLFS_MONITOR_PERIOD while a wait is parked.
 */
static void tplfs_wait_schedule(void)
{
	unsigned long now = jiffies, at;
	struct tplfs_wait *w;

	lockdep_assert_held(&tplfs_ev_lock);
	if (list_empty(&tplfs_waits))
		return;
	at = now + msecs_to_jiffies(TPLFS_WAIT_MAX_MS);
	if (!TPLFS_URING_CANCEL_HOOK)
		at = now + TPLFS_MONITOR_PERIOD;
	list_for_each_entry(w, &tplfs_waits, node) {
		if (time_before(w->deadline, at))
			at = w->deadline;
	}
	mod_delayed_work(system_wq, &tplfs_wait_work,
			 time_after(at, now) ? at - now : 0);
}

/*
 * Time the expired waits out. Without the cancel hook, also cancel the waits
 * of exiting tasks: io_uring would keep their rings (and this module) until
 * the timeout.
 */
static void tplfs_wait_work_fn(struct work_struct *work)
{
	unsigned long now = jiffies;
	struct tplfs_wait *w, *tmp;
	LIST_HEAD(expired);
	LIST_HEAD(orphaned);

	spin_lock(&tplfs_ev_lock);
	list_for_each_entry_safe(w, tmp, &tplfs_waits, node) {
		if (!TPLFS_URING_CANCEL_HOOK &&
		    (READ_ONCE(w->task->flags) & PF_EXITING))
			list_move_tail(&w->node, &orphaned);
		else if (time_after_eq(now, w->deadline))
			list_move_tail(&w->node, &expired);
	}
	tplfs_wait_schedule();
	spin_unlock(&tplfs_ev_lock);

	tplfs_wait_complete(&orphaned, -ECANCELED);
	tplfs_wait_complete(&expired, 0);
}

/**
 * tplfs_event_post - record an event and wake the waits it satisfies
 * @type: enum tplfs_event_type
 * @ct:   the container it concerns, or NULL
 * @arg0: first type-specific value
 * @arg1: second type-specific value
 *
 * Process context.
 */
void tplfs_event_post(u32 type, const char *ct, u64 arg0, u64 arg1)
{
	struct tplfs_wait *w, *tmp;
	struct tplfs_event *ev;
	LIST_HEAD(ready);

	spin_lock(&tplfs_ev_lock);
	ev = &tplfs_ev_ring[tplfs_ev_next % TPLFS_EV_RING];
	memset(ev, 0, sizeof(*ev));
	ev->seq = tplfs_ev_next++;
	ev->time_ns = ktime_get_real_ns();
	ev->type = type;
	ev->arg[0] = arg0;
	ev->arg[1] = arg1;
	if (ct)
		strscpy(ev->ct, ct, sizeof(ev->ct));
	list_for_each_entry_safe(w, tmp, &tplfs_waits, node) {
		if (w->seq < tplfs_ev_next)
			list_move_tail(&w->node, &ready);
	}
	spin_unlock(&tplfs_ev_lock);

	tplfs_wait_complete(&ready, TPLFS_WAIT_COPY);
}

/* Copy the command's payload out of the SQE, once. */
static int tplfs_cmd_payload(struct io_uring_cmd *cmd, unsigned int issue_flags,
			     void *payload, size_t size)
{
	/* A 64-byte SQE has 16 bytes of it; reading more would overrun. */
	if (size > TPLFS_CMD_SMALL && !(issue_flags & IO_URING_F_SQE128))
		return -EINVAL;
	memcpy(payload, tplfs_uring_cmd_payload(cmd), size);
	return 0;
}

static int tplfs_cmd_get_stats(struct io_uring_cmd *cmd,
			       unsigned int issue_flags)
{
	struct tplfs_mount_stats st;
	struct tplfs_cmd_stats c;
	u32 len;
	int err;

	err = tplfs_cmd_payload(cmd, issue_flags, &c, sizeof(c));
	if (err)
		return err;
	if (c.flags || !memchr(c.ct, 0, sizeof(c.ct)))
		return -EINVAL;
	err = tplfs_get_mount_stats(c.ct, &st);
	if (err)
		return err;
	len = min_t(u32, c.len, sizeof(st));
	st.size = len;
	if (copy_to_user(u64_to_user_ptr(c.addr), &st, len))
		return -EFAULT;
	return len;
}

/* SET_QUOTA and GET_QUOTA: the payload and the mount it names. */
static struct super_block *tplfs_cmd_quota_sb(struct io_uring_cmd *cmd,
					      unsigned int issue_flags,
					      struct tplfs_cmd_quota *c,
					      u32 known)
{
	struct super_block *sb;
	int err;

	err = tplfs_cmd_payload(cmd, issue_flags, c, sizeof(*c));
	if (err)
		return ERR_PTR(err);
	if ((c->flags & ~known) || !memchr(c->ct, 0, sizeof(c->ct)))
		return ERR_PTR(-EINVAL);
	sb = tplfs_get_ct_super(c->ct);
	return sb ?: ERR_PTR(-ENOENT);
}

static int tplfs_cmd_set_quota(struct io_uring_cmd *cmd,
			       unsigned int issue_flags)
{
	struct tplfs_cmd_quota c;
	struct tplfs_quota info;
	struct super_block *sb;
	int err;

	sb = tplfs_cmd_quota_sb(cmd, issue_flags, &c, TPLFS_QSET_KNOWN);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	err = -EINVAL;
	if (c.len != sizeof(info))
		goto out;
	err = -EFAULT;
	if (copy_from_user(&info, u64_to_user_ptr(c.addr), sizeof(info)))
		goto out;
	err = -EINVAL;
	if ((info.size && info.size != sizeof(info)) || info.flags)
		goto out;
	err = tplfs_quota_set(sb, &info, c.flags);
out:
	deactivate_super(sb);
	return err;
}

static int tplfs_cmd_get_quota(struct io_uring_cmd *cmd,
			       unsigned int issue_flags)
{
	struct tplfs_cmd_quota c;
	struct tplfs_quota info;
	struct super_block *sb;
	u32 len;

	sb = tplfs_cmd_quota_sb(cmd, issue_flags, &c, TPLFS_QGET_SYNC);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	tplfs_quota_get(sb, &info, c.flags & TPLFS_QGET_SYNC);
	deactivate_super(sb);
	len = min_t(u32, c.len, sizeof(info));
	info.size = len;
	if (copy_to_user(u64_to_user_ptr(c.addr), &info, len))
		return -EFAULT;
	return len;
}

/*
 * GET_ORIGIN and SET_ORIGIN, from the ring or an ioctl: the mount @c names,
 * and its file @c->fd, which must be in that mount's private area.
 */
static int tplfs_origin_cmd(unsigned int op, const struct tplfs_cmd_origin *c)
{
	struct tplfs_origin_state st;
	struct tplfs_origin_swap sw;
	struct super_block *sb;
	struct tplfs_fs *fs;
	struct file *file;
	u32 len;
	int err;

	if (!memchr(c->ct, 0, sizeof(c->ct)))
		return -EINVAL;
	if (op == TPLFS_CMD_SET_ORIGIN) {
		if (c->len != sizeof(sw))
			return -EINVAL;
		if (copy_from_user(&sw, u64_to_user_ptr(c->addr), sizeof(sw)))
			return -EFAULT;
		if (sw.expect.size != sizeof(sw.expect))
			return -EINVAL;
	}
	sb = tplfs_get_ct_super(c->ct);
	if (!sb)
		return -ENOENT;
	fs = tplfs_fs(sb);
	file = fget_raw(c->fd);	/* O_PATH is enough */
	err = -EBADF;
	if (!file)
		goto out_sb;
	err = -EXDEV;
	if (file->f_path.mnt->mnt_sb != fs->private_path.mnt->mnt_sb ||
	    !is_subdir(file->f_path.dentry, fs->private_path.dentry))
		goto out_fput;
	if (op == TPLFS_CMD_SET_ORIGIN) {
		err = tplfs_set_origin(sb, file->f_path.dentry, &sw);
		goto out_fput;
	}
	err = tplfs_get_origin(sb, file->f_path.dentry, &st);
	if (err)
		goto out_fput;
	len = min_t(u32, c->len, sizeof(st));
	st.size = len;
	err = copy_to_user(u64_to_user_ptr(c->addr), &st, len) ? -EFAULT : len;
out_fput:
	fput(file);
out_sb:
	deactivate_super(sb);
	return err;
}

static int tplfs_cmd_origin(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct tplfs_cmd_origin c;
	int err;

	err = tplfs_cmd_payload(cmd, issue_flags, &c, sizeof(c));
	return err ?: tplfs_origin_cmd(cmd->cmd_op, &c);
}

static int tplfs_cmd_wait_event(struct io_uring_cmd *cmd,
				unsigned int issue_flags)
{
	struct tplfs_cmd_wait c;
	struct tplfs_wait *w;
	unsigned int ms;
	bool ready;
	int err;

	err = tplfs_cmd_payload(cmd, issue_flags, &c, sizeof(c));
	if (err)
		return err;
	if (c.reserved || !c.seq || !c.count)
		return -EINVAL;
	ms = c.timeout_ms;
	if (!ms || ms > TPLFS_WAIT_MAX_MS)
		ms = TPLFS_WAIT_MAX_MS;

	spin_lock(&tplfs_ev_lock);
	ready = c.seq < tplfs_ev_next;
	spin_unlock(&tplfs_ev_lock);
	if (ready)
		return tplfs_copy_events(c.seq, c.addr, c.count);

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	INIT_LIST_HEAD(&w->node);
	w->cmd = cmd;
	w->file = cmd->file;
	w->task = get_task_struct(tplfs_uring_cmd_task(cmd));
	w->seq = c.seq;
	w->addr = c.addr;
	w->count = c.count;
	w->deadline = jiffies + msecs_to_jiffies(ms);
	*tplfs_cmd_wait_slot(cmd) = w;
	/*
	 * Cancelable before anyone can complete it: marking a command that
	 * was completed meanwhile (by an event, issued from io-wq) would touch
	 * a freed request.
	 */
	tplfs_uring_cmd_mark_cancelable(cmd, issue_flags);

	spin_lock(&tplfs_ev_lock);
	ready = c.seq < tplfs_ev_next;
	if (!ready) {
		list_add_tail(&w->node, &tplfs_waits);
		tplfs_wait_schedule();
	}
	spin_unlock(&tplfs_ev_lock);
	/* An event came in between: complete it as if it had been parked. */
	if (ready) {
		w->result = TPLFS_WAIT_COPY;
		io_uring_cmd_complete_in_task(cmd, tplfs_wait_done);
	}
	return -EIOCBQUEUED;
}

/* Complete every wait parked on @file with -ECANCELED; how many. */
static int tplfs_wait_abort(struct file *file)
{
	struct tplfs_wait *w, *tmp;
	LIST_HEAD(aborted);

	spin_lock(&tplfs_ev_lock);
	list_for_each_entry_safe(w, tmp, &tplfs_waits, node) {
		if (w->file == file)
			list_move_tail(&w->node, &aborted);
	}
	spin_unlock(&tplfs_ev_lock);
	return tplfs_wait_complete(&aborted, -ECANCELED);
}

static int tplfs_cmd_abort(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct tplfs_cmd_abort c;
	int err;

	err = tplfs_cmd_payload(cmd, issue_flags, &c, sizeof(c));
	if (err)
		return err;
	if (c.reserved[0] || c.reserved[1])
		return -EINVAL;
	return tplfs_wait_abort(cmd->file);
}

/*
 * io_uring cancels a command marked cancelable (its ring or task is going
 * away). If the wait is still parked, complete it here; if not, whoever took
 * it off the list completes it.
 */
static void tplfs_wait_cancel(struct io_uring_cmd *cmd,
			      unsigned int issue_flags)
{
	struct tplfs_wait *w, *found = NULL;

	spin_lock(&tplfs_ev_lock);
	list_for_each_entry(w, &tplfs_waits, node) {
		if (w->cmd == cmd) {
			list_del_init(&w->node);
			found = w;
			break;
		}
	}
	spin_unlock(&tplfs_ev_lock);
	if (found) {
		tplfs_wait_free(found);
		io_uring_cmd_done(cmd, -ECANCELED, 0, issue_flags);
	}
}

static int tplfs_ctl_uring_cmd(struct io_uring_cmd *cmd,
			       unsigned int issue_flags)
{
	if (tplfs_uring_cmd_is_cancel(issue_flags)) {
		tplfs_wait_cancel(cmd, issue_flags);
		return 0;
	}

	switch (cmd->cmd_op) {
	case TPLFS_CMD_GET_STATS:
		return tplfs_cmd_get_stats(cmd, issue_flags);
	case TPLFS_CMD_WAIT_EVENT:
		return tplfs_cmd_wait_event(cmd, issue_flags);
	case TPLFS_CMD_ABORT:
		return tplfs_cmd_abort(cmd, issue_flags);
	case TPLFS_CMD_SET_QUOTA:
		return tplfs_cmd_set_quota(cmd, issue_flags);
	case TPLFS_CMD_GET_QUOTA:
		return tplfs_cmd_get_quota(cmd, issue_flags);
	case TPLFS_CMD_GET_ORIGIN:
	case TPLFS_CMD_SET_ORIGIN:
		return tplfs_cmd_origin(cmd, issue_flags);
	default:
		return -ENOTTY;
	}
}

/* The origin commands as ioctls too, for debugging and scripts. */
static long tplfs_ctl_ioctl(struct file *file, unsigned int op,
			    unsigned long arg)
{
	struct tplfs_cmd_origin c;

	if (op != TPLFS_CMD_GET_ORIGIN && op != TPLFS_CMD_SET_ORIGIN)
		return -ENOTTY;
	if (copy_from_user(&c, (void __user *)arg, sizeof(c)))
		return -EFAULT;
	return tplfs_origin_cmd(op, &c);
}

static int tplfs_ctl_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return nonseekable_open(inode, file);
}

static int tplfs_ctl_release(struct inode *inode, struct file *file)
{
	/* Each parked command holds the file: none can be left. */
	WARN_ON_ONCE(tplfs_wait_abort(file));
	return 0;
}

static const struct file_operations tplfs_ctl_fops = {
	.owner		= THIS_MODULE,
	.open		= tplfs_ctl_open,
	.release	= tplfs_ctl_release,
	.uring_cmd	= tplfs_ctl_uring_cmd,
	.unlocked_ioctl	= tplfs_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice tplfs_ctl_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= TPLFS_DEV_NAME,
	.fops	= &tplfs_ctl_fops,
	.mode	= 0600,
};

int tplfs_ctl_init(void)
{
	return misc_register(&tplfs_ctl_dev);
}

void tplfs_ctl_exit(void)
{
	misc_deregister(&tplfs_ctl_dev);
	/* No wait is parked (each holds the module); the work may be queued. */
	cancel_delayed_work_sync(&tplfs_wait_work);
}
