#!/bin/bash
# The benchmarks at a tiny size, so that they cannot rot: bench/guest.sh
# with TPLFS_BENCH_SMOKE=1 on the busybox template runs every workload
# against every contender, its document lists all of them
# (bench/check-doc.py) and bench/report.py reads it. No timing is judged.
# The monitor (bench/run --monitor) runs too: its lines are in the log and,
# filtered as bench/run does, not in the document.
. "$TPLFS_TOP/tests/vm/lib.sh"

out=$PWD/smoke.log
TPLFS_BENCH_SMOKE=1 TPLFS_BENCH_MONITOR=5 TPLFS_BENCH_COMMAND="tests/vm/t/bench_smoke.sh" \
	bash "$TPLFS_TOP/bench/guest.sh" >"$out" 2>&1
rc=$?
grep -E '^bench: |FAIL' "$out"
[ "$rc" = 0 ] || tail -20 "$out"
expect_eq "bench/guest.sh ran to the end" 0 "$rc"
expect_match "the monitor printed its lines" '^bench-mon: t=[0-9.]+ MemFree:' "$(grep '^bench-mon: ' "$out" | head -1)"
"$TPLFS_TOP/bench/doc-from-log" "$out" >"$PWD/smoke.json"
expect_ok "every workload ran for every contender" python3 "$TPLFS_TOP/bench/check-doc.py" "$PWD/smoke.json"
expect_ok "report.py reads the document" \
	python3 "$TPLFS_TOP/bench/report.py" "$PWD/smoke.json" --md "$PWD/smoke.md" --no-png
expect_match "the table has tplfs's create time" "create" "$(grep -F '`create`' "$PWD/smoke.md")"
