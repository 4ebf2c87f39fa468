#!/bin/bash
# Harness self-test for the debug kernel (make check-debug): plants a
# sleep-in-atomic report and a lockdep circular dependency; the run must
# fail because of them.
insmod "$TPLFS_SELFTEST_DIR/tplfs_selftest_lockdep.ko"
