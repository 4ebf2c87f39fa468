// SPDX-License-Identifier: GPL-2.0
/*
 * Loading this module plants, on a kernel with lockdep and
 * DEBUG_ATOMIC_SLEEP (the debug kernel of make check-debug), a
 * sleep-in-atomic report and a circular locking dependency (two mutexes
 * taken in both orders, one after the other: no deadlock, but lockdep sees
 * the cycle). tests/vm/run must turn them into a failed run. On a kernel
 * without those options it reports nothing.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/kernel.h>

static DEFINE_MUTEX(tplfs_selftest_a);
static DEFINE_MUTEX(tplfs_selftest_b);
static DEFINE_SPINLOCK(tplfs_selftest_spin);

static int __init tplfs_selftest_lockdep_init(void)
{
	spin_lock(&tplfs_selftest_spin);
	might_sleep();
	spin_unlock(&tplfs_selftest_spin);

	mutex_lock(&tplfs_selftest_a);
	mutex_lock(&tplfs_selftest_b);
	mutex_unlock(&tplfs_selftest_b);
	mutex_unlock(&tplfs_selftest_a);

	mutex_lock(&tplfs_selftest_b);
	mutex_lock(&tplfs_selftest_a);
	mutex_unlock(&tplfs_selftest_a);
	mutex_unlock(&tplfs_selftest_b);
	return 0;
}

static void __exit tplfs_selftest_lockdep_exit(void)
{
}

module_init(tplfs_selftest_lockdep_init);
module_exit(tplfs_selftest_lockdep_exit);

MODULE_DESCRIPTION("tplfs test harness self-test: plants lockdep and might_sleep reports");
MODULE_LICENSE("GPL");
