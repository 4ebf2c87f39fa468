#!/bin/bash
# The quota tests of tests/vm/t/quota_kernel.sh on xfs, whose speculative
# preallocation beyond the end of growing files shows in st_blocks: at a
# limit the module gives it back before refusing a write (doc/quota.md).
# Run by make check with --fs xfs.
[ "$(stat -f -c %T "$TPLFS_SCRATCH")" = xfs ] || { echo "  FAIL: needs an xfs scratch disk (--fs xfs)"; exit 1; }
exec bash "$TPLFS_TOP/tests/vm/t/quota_kernel.sh"
