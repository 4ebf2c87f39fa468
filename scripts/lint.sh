#!/bin/bash
# make lint: the module through checkpatch (from Debian's linux-source, cached
# under build/tools), sparse (C=2), W=1 and kernel-doc on both target
# kernels; userspace and tests through cppcheck. Exits non-zero on any finding.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
tools=$top/build/tools
status=0

checkpatch=$tools/checkpatch/checkpatch.pl
if [ ! -x "$checkpatch" ]; then
	echo "lint: fetching checkpatch.pl from linux-source-6.12 (once)"
	mkdir -p "$tools/dl" "$tools/checkpatch"
	(cd "$tools/dl" && apt-get download -qq -o APT::Sandbox::User=root linux-source-6.12) ||
		{ echo "lint: cannot download linux-source-6.12"; exit 2; }
	deb=$(ls "$tools"/dl/linux-source-6.12_*.deb | tail -1)
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO --wildcards './usr/src/linux-source-6.12.tar.xz' |
		tar -xJ -C "$tools/checkpatch" --strip-components=2 --wildcards \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch' ||
		{ echo "lint: cannot extract checkpatch.pl"; exit 2; }
	rm -rf "$tools/dl"
fi

echo "== checkpatch (kmod/, include/, tests/vm/selftest/)"
if ! "$checkpatch" --no-tree --strict --terse --show-types --quiet \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,CAMELCASE \
	-f $(ls kmod/*.[ch] | grep -v '^kmod/trace.h$') include/uapi/linux/tplfs.h \
	tests/vm/selftest/*.c 2>/dev/null; then
	status=1
fi
# TRACE_EVENT() bodies are laid out by convention, not by C style.
if ! "$checkpatch" --no-tree --strict --terse --show-types --quiet \
	--ignore SPDX_LICENSE_TAG,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT \
	-f kmod/trace.h 2>/dev/null; then
	status=1
fi

for k in 6.12 6.1; do
	echo "== sparse and W=1, $k"
	out=$(scripts/build-kmod.sh "$k" C=2 2>&1)
	rc=$?
	echo "$out" | grep -v 'Skipping BTF generation'
	if [ $rc != 0 ] || grep -qE 'warning:|error:' <<<"$out"; then
		status=1
	fi
done

# kernel-doc comments: every documented function says what it returns in a
# "Return:" section, every parameter and member is described (-v), with
# each kernel's own scripts/kernel-doc (from its linux-kbuild package).
for k in 6.12 6.1; do
	echo "== kernel-doc, $k"
	kroot=$(scripts/kernel-cache.sh root "$k") || { status=1; continue; }
	kerneldoc=$(ls "$kroot"/usr/lib/linux-kbuild-*/scripts/kernel-doc 2>/dev/null | head -1)
	if [ -z "$kerneldoc" ]; then
		echo "lint: no scripts/kernel-doc for $k: run 'make deps'"
		status=1
		continue
	fi
	out=$(perl "$kerneldoc" -v -none kmod/*.[ch] 2>&1 | grep -v ': info: ')
	if [ -n "$out" ]; then
		echo "$out"
		status=1
	fi
done

echo "== cppcheck (userspace/, tests/, bench/)"
if ! cppcheck --quiet --error-exitcode=1 --inline-suppr \
	--enable=warning,style,performance,portability \
	--suppress=missingIncludeSystem -Iinclude/uapi -Iuserspace/lib \
	userspace tests/unit tests/fuzz tests/tools bench; then
	status=1
fi

[ $status = 0 ] && echo "lint: clean" || echo "lint: findings above"
exit $status
