#!/bin/bash
# A script that reads its standard input to the end (as ssh does): the
# scripts after it must still run (tests/vm/selftest/run).
cat >/dev/null
exit 0
