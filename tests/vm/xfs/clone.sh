#!/bin/bash
# tests/vm/t/clone.sh on an xfs scratch disk (make check runs this directory
# with --fs xfs).
[ "$(stat -f -c %T "$TPLFS_SCRATCH")" = xfs ] || { echo "  FAIL: needs an xfs scratch disk (--fs xfs)"; exit 1; }
exec bash "$TPLFS_TOP/tests/vm/t/clone.sh"
