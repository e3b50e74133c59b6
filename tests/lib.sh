# tests/lib.sh — shell helpers for end-to-end tests: results in the runner's
# protocol, a per-script temp dir removed at exit, and small assertions.
# Sourced by every tests/e2e/*.sh. BUILD and TOP come from tests/run.sh.
# Results: ok NAME / FAIL NAME: why / skip NAME: why (tests/run.sh counts
# exactly these); NAME is the same on every run, and what was measured goes
# into the FAIL message or an "# info" line (info), which run.sh ignores.
# Python programs the scripts need live in tests/tools/, one file each.
set -u
: "${BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../build/release" && pwd)}"
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
T_TMP=$(mktemp -d /tmp/wrtest.XXXXXX)
chmod 755 "$T_TMP"
T_CLEANUPS=()
t_cleanup() {
	local i
	# errexit off: a cleanup that fails (a process already gone) must not
	# end the trap early, here or in the set -e scripts (demo, bench).
	set +e
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${T_CLEANUPS[i]}" >/dev/null 2>&1; done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM
at_exit() { T_CLEANUPS+=("$1"); }

ok()   { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "skip $1: $2"; }
# check NAME COND-COMMAND... : ok when the command succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else fail "$n" "command failed: $*"; fi; }
# expect_eq NAME GOT WANT
expect_eq() { if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi; }
# expect_match NAME STRING REGEX
expect_match() { if [[ "$2" =~ $3 ]]; then ok "$1"; else fail "$1" "'${2:0:300}' !~ /$3/"; fi; }
# info TEXT : a line run.sh does not count (measured times, sizes, counts:
# a test's name stays the same on every run, its numbers go here)
info() { echo "# info $*"; }
now_ms() { date +%s%3N; }
# rand_hex BYTES : that many random bytes as lowercase hex
rand_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Debian's python3 (python3-jwt, python3-cryptography), not a pyenv shim.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
# need_bins FILE... / need_tools COMMAND... : report a setup failure and end
# the script when one is missing
need_bins() { local b; for b; do [ -x "$b" ] || { fail setup "$b not built"; exit 1; }; done; }
need_tools() {
	local t
	for t; do command -v "$t" >/dev/null || { fail setup "$t missing (make deps)"; exit 1; }; done
}
# wait_until SECONDS COMMAND... : poll every 0.1 s until COMMAND succeeds, for
# at most SECONDS of real time (the command is tried once more at the end)
wait_until() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}
# wait_for SECONDS 'EXPRESSION' : wait_until for a shell expression that is
# evaluated afresh on every try. `wait_until 9 test "$(count)" -ge 1` would
# expand $(count) once, before the first try, and so wait the whole time.
wait_for() { local secs=$1; shift; wait_until "$secs" eval "$1"; }
# closed_port : a loopback TCP port nothing listens on (bound, then released)
closed_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# lines FILE : its line count, 0 when it does not exist
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
# pid_gone PID : not running (absent, or a zombie nobody reaped)
pid_gone() { [ ! -e "/proc/$1" ] || grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
# json_get FILE KEY : top-level scalar from a one-line JSON object (test-side,
# independent of our C code); python3 does the parsing.
json_get() { "$PY" -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d=d.get(k) if isinstance(d,dict) else None
print("null" if d is None else (str(d).lower() if isinstance(d,bool) else d))' "$1" "$2"; }
