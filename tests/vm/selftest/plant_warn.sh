#!/bin/bash
# Harness self-test: plants a kernel WARN; the run must fail because of it.
insmod "$TPLFS_SELFTEST_DIR/tplfs_selftest_warn.ko"
