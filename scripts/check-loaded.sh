#!/bin/bash
# make check as CI runs it, from a fresh clone, while other work keeps the
# machine busy: the proof that no test depends on how fast the machine is.
#
#   scripts/check-loaded.sh [--runs N] [--cpu N] [--rev REV]
#
# Clones this repository at REV (default HEAD) into a new directory for each
# of N runs (default 2), starts `stress-ng --cpu N` (default 1: one of this
# machine's two cores kept busy) and runs `CI=true bash .ci/run` there.
# Each run's log is build/check-loaded/run-K.log; a line a run says how it
# ended and how long it took. Exits non-zero if any run failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
runs=2 cpu=1 rev=HEAD
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=${2:?}; shift 2 ;;
	--cpu) cpu=${2:?}; shift 2 ;;
	--rev) rev=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "check-loaded: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
command -v stress-ng >/dev/null || "$top/scripts/deps.sh" --packages >/dev/null ||
	{ echo "check-loaded: no stress-ng and deps.sh failed" >&2; exit 1; }
logs=$top/build/check-loaded
mkdir -p "$logs"
sha=$(git -C "$top" rev-parse --verify "$rev^{commit}") ||
	{ echo "check-loaded: no commit '$rev'" >&2; exit 2; }

stress-ng --cpu "$cpu" --timeout 0 --quiet &
load=$!
clone=
trap 'kill $load 2>/dev/null; wait $load 2>/dev/null; [ -z "$clone" ] || rm -rf "$clone"' EXIT
echo "check-loaded: $runs run(s) of make check at ${sha:0:12}, stress-ng --cpu $cpu (pid $load)"
bad=0
for k in $(seq "$runs"); do
	clone=$(mktemp -d /var/tmp/tplfs-check.XXXXXX)
	git clone -q "$top" "$clone/main" && git -C "$clone/main" checkout -q "$sha" || exit 1
	# CI's clone has shared/ beside it, as the session's does
	[ -d "$top/../shared" ] && ln -s "$(cd "$top/.." && pwd)/shared" "$clone/shared"
	start=$SECONDS
	(cd "$clone/main" && CI=true bash .ci/run </dev/null) >"$logs/run-$k.log" 2>&1
	rc=$?
	line=$(grep -E '^check: [0-9]+ passed, [0-9]+ failed' "$logs/run-$k.log" | tail -1)
	echo "check-loaded: run $k: exit $rc, ${line:-no closing line}, $((SECONDS - start)) s (log: $logs/run-$k.log)"
	[ $rc = 0 ] || bad=1
	rm -rf "$clone"
	clone=
done
exit $bad
