# Sourced by tests/check.sh and tests/check-debug.sh: the stages' counts.
# check_name (set before sourcing) prefixes what count() says.
passed=0
failed=0
# count LOG WHAT: add the counts of LOG's last "... N passed, N failed" line
count() {
	local line
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	if [ -z "$line" ]; then
		echo "$check_name: $2 printed no result"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")))
	failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
}
stage() { echo; echo "=== $* ($(date +%T))"; }
