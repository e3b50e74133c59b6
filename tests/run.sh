#!/usr/bin/env bash
# Test runner. Runs every unit test program, every fuzz harness over its seed
# corpus, and every end-to-end script, in that order. Each program prints lines
#   ok NAME | FAIL NAME: why | skip NAME: why
# A program that exits non-zero without printing FAIL counts as one failure.
# The last line is "N passed, N failed" (", N skipped" when any were skipped);
# the exit status is non-zero when anything failed.
set -u
BUILD=${1:?usage: run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
export BUILD
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
ONLY=${TEST_ONLY:-}
pass=0 fail=0 skip=0
failed_names=()

run_one() { # name, command...
	local name=$1; shift
	local out rc t0 secs
	out=$(mktemp)
	t0=$(date +%s)
	"$@" >"$out" 2>"$out.err"
	rc=$?
	secs=$(($(date +%s) - t0))
	local p f s
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^skip ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited $rc without reporting a failure" >>"$out"
		f=1
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		grep -E '^(FAIL|skip) ' "$out" | sed "s|^|  [$name] |"
		echo "  [$name] --- stderr (last 30 lines) ---"
		tail -n 30 "$out.err" | sed "s|^|  [$name] |"
		failed_names+=("$name")
	fi
	[ -n "${VERBOSE:-}" ] && sed "s|^|  [$name] |" "$out"
	printf '%-34s %3d ok %3d failed %3d skipped %4ds\n' "$name" "$p" "$f" "$s" "$secs"
	rm -f "$out" "$out.err"
}

want() { [ -z "$ONLY" ] || [[ "$1" == *"$ONLY"* ]]; }

# The unit tests of the PostgreSQL store (the contract suite, runner_store_pg*)
# need a server: one throwaway server (tests/pg.sh) for the whole run, named
# in STORE_TEST_PG_DSN, stopped at the end. Each test uses schemas of its own.
# e2e scripts start their own. A server that is installed but does not start
# is a failure, not a skip.
if [ -z "${STORE_TEST_PG_DSN:-}" ] && [ -f "$TOP/tests/pg.sh" ]; then
	# shellcheck source=pg.sh
	. "$TOP/tests/pg.sh"
	if pg_available; then
		trap pg_stop EXIT
		if pg_start; then
			export STORE_TEST_PG_DSN=$PG_DSN STORE_TEST_PG_PASSWORD=$PG_PASSWORD
			export STORE_TEST_PG_CA=$PG_CA STORE_TEST_PG_CA_OTHER=$PG_CA_OTHER
			# runner_store_pg restarts the server under an open store
			export STORE_TEST_PG_STOP=". '$TOP/tests/pg.sh' && pg_server_stop"
			export STORE_TEST_PG_START=". '$TOP/tests/pg.sh' && pg_server_start"
		else
			echo "FAIL unit/pg-server: tests/pg.sh could not start PostgreSQL"
			fail=$((fail + 1))
			failed_names+=("unit/pg-server")
		fi
	fi
fi

for t in "$BUILD"/tests/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	n=unit/$(basename "$t"); want "$n" && run_one "$n" "$t"
done
for f in "$BUILD"/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	b=$(basename "$f")
	n=fuzz-replay/$b; want "$n" && run_one "$n" "$f" "$TOP/tests/fuzz/corpus/${b#fuzz_}"
done
# An e2e script marked "# build-independent" (a line of its own) uses none of
# BUILD's programs: it builds what it tests itself (the container images), so
# under a sanitizer build it would only repeat the release pass. There it is
# reported as skipped.
sanitized=0
readelf -dW "$BUILD/webhook-runner" 2>/dev/null | grep -Eq 'NEEDED.*\[lib(asan|ubsan)' && sanitized=1
for s in "$TOP"/tests/e2e/*.sh; do
	[ -f "$s" ] || continue
	n=e2e/$(basename "$s" .sh); want "$n" || continue
	if [ "$sanitized" = 1 ] && grep -qx '# build-independent' "$s"; then
		run_one "$n" echo "skip $n: builds its own programs; run by the release pass"
	else
		run_one "$n" bash "$s"
	fi
done

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
