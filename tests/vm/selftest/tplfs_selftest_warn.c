// SPDX-License-Identifier: GPL-2.0
/*
 * Loading this module plants a WARN in the guest kernel's log, which
 * tests/vm/run must turn into a failed run.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init tplfs_selftest_warn_init(void)
{
	WARN(1, "tplfs harness self-test: a planted warning\n");
	return 0;
}

static void __exit tplfs_selftest_warn_exit(void)
{
}

module_init(tplfs_selftest_warn_init);
module_exit(tplfs_selftest_warn_exit);

MODULE_DESCRIPTION("tplfs test harness self-test: plants a WARN");
MODULE_LICENSE("GPL");
