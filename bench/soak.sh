#!/usr/bin/env bash
# bench/soak.sh BUILD — a bounded soak of webhook-runner, by hand or
# `make soak`; not part of `make test` (it takes minutes).
#   1. capacity: 40 new SSH jobs (`true` on a loopback sshd) at c=8 through a
#      sync hook with HMAC + JWT (bench/fixed_load.py) → jobs/s
#   2. soak: SOAK_SECONDS (default 300, at most 600) of an open-loop mix at
#      half that job rate (bench/soak.py): per new job, one replay of an
#      answered key, and 4 wrong signatures and 4 wrong JWTs. Every answer must
#      be the expected one; VmRSS is sampled every 5 s, and its growth from
#      the end of the warm-up (the first third of the run, at least a minute)
#      to the end must stay under 1 MB. The warm-up is where SQLite's page
#      cache fills up to its cap and each thread's malloc arena is first used:
#      a 600 s run grew 16076 -> 17184 kB in minutes 1-3, then +96 kB in the
#      six minutes after. The growth from the first minute is printed too.
#   3. valgrind: the same daemon binary under memcheck (leak check full) for
#      VALGRIND_SECONDS (default 60) at 1 job/s with the same mix, then
#      SIGTERM: no error, nothing definitely or indirectly lost
# Everything listens on 127.0.0.1 and is stopped at exit.
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
export BUILD TOP
cd "$TOP"
SOAK_SECONDS=${SOAK_SECONDS:-300}
[ "$SOAK_SECONDS" -le 600 ] || SOAK_SECONDS=600
VG_SECONDS=${VALGRIND_SECONDS:-60}
say() { echo "soak: $*" >&2; }
sh bench/deps.sh >&2
# shellcheck source=../tests/lib.sh
source tests/lib.sh
# shellcheck source=../tests/sshd.sh
source tests/sshd.sh
trap 'set +e; t_cleanup' EXIT
S=$T_TMP/soak
mkdir -p "$S"
sshd_start
umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$S/hmac.secret"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$S/jwt.secret"
umask 022
printf '{"ref":"refs/heads/main","repository":{"full_name":"acme/app"},"pad":"%s"}' \
	"$(head -c 900 /dev/zero | tr '\0' x)" >"$S/body.json"
mkcfg() { # FILE DB
	cat >"$1" <<JSON
{
  "server": { "listen": "127.0.0.1:8080", "threads": 32 },
  "store": { "path": "$2" },
  "executor": { "path": "$BUILD/remote-executor", "max_jobs": 8, "max_per_destination": 8 },
  "log": { "level": "warn" },
  "hooks": [ { "id": "soak",
    "signature": { "scheme": "hookdeck", "secrets": ["file:$S/hmac.secret"] },
    "jwt": { "algorithms": ["HS256"], "key": "file:$S/jwt.secret", "issuer": "soak",
             "audience": "webhook-runner" },
    "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity": "$KEY_ED25519",
             "known_hosts": "$KNOWN_HOSTS", "command": "true", "timeout_s": 30 } } ]
}
JSON
	"$BUILD/webhook-runner" check-config "$1" >&2
}
mkcfg "$S/soak.json" "$S/soak.db"
"$BUILD/webhook-runner" sign --config "$S/soak.json" --hook soak --ttl 7200 "$S/body.json" >"$S/good.hdr"
BAD_SIG=$(openssl dgst -sha256 -hmac not-the-secret -binary "$S/body.json" | base64)
sed "s|^x-hookdeck-signature: .*|x-hookdeck-signature: $BAD_SIG|" "$S/good.hdr" >"$S/badsig.hdr"
BAD_JWT=$($PY -c 'import jwt, time; print(jwt.encode({"iss": "soak", "aud": "webhook-runner",
	"exp": int(time.time()) + 7200}, "not-the-jwt-secret-but-long-enough-32b", algorithm="HS256"))')
sed "s|^Authorization: Bearer .*|Authorization: Bearer $BAD_JWT|" "$S/good.hdr" >"$S/badjwt.hdr"
grep -q "$BAD_SIG" "$S/badsig.hdr" && grep -q "$BAD_JWT" "$S/badjwt.hdr"

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/hooks/soak
D_PID=
at_exit '[ -n "$D_PID" ] && kill -9 $D_PID'
start() { # LOG [wrapper...]
	local log=$1
	shift
	"$@" "$BUILD/webhook-runner" --config "$S/soak.json" --port "$PORT" --host 127.0.0.1 >"$log" 2>&1 &
	D_PID=$!
	for _ in $(seq 1 300); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/healthz" && return 0
		sleep 0.1
	done
	say "daemon did not start: $(tail -n 5 "$log")"
	exit 1
}
stop() {
	kill -TERM "$D_PID"
	wait "$D_PID" || true
	D_PID=
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$D_PID/status"; }

# ---------------------------------------------------------------- 1. capacity
start "$S/daemon.log"
say "capacity: 40 new jobs at c=8"
$PY bench/fixed_load.py "$URL" "$S/body.json" "$S/good.hdr" 8 40 --idem "cap-$$" >"$S/cap.out"
CAP=$(awk '/^RESULT/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "%.2f", (v["requests"] - v["non2xx"]) / (v["duration_us"] / 1e6) }' "$S/cap.out")
RATE=$(awk -v c="$CAP" 'BEGIN {printf "%.2f", c / 2}')
say "capacity $CAP jobs/s; soak at $RATE new jobs/s for ${SOAK_SECONDS}s"

# ---------------------------------------------------------------- 2. soak
: >"$S/rss"
( while kill -0 "$D_PID" 2>/dev/null; do echo "$(date +%s) $(rss)" >>"$S/rss"; sleep 5; done ) &
SAMPLER=$!
T0=$(date +%s)
set +e
$PY bench/soak.py "$URL" "$S/body.json" "$S/good.hdr" "$S/badsig.hdr" "$S/badjwt.hdr" \
	"$RATE" "$SOAK_SECONDS" --idem "soak-$$" | tee "$S/soak.out" >&2
SOAK_RC=${PIPESTATUS[0]}
set -e
RSS_END=$(rss)
kill "$SAMPLER" 2>/dev/null || true
WARM=$((SOAK_SECONDS / 3 > 60 ? SOAK_SECONDS / 3 : 60))
RSS_1MIN=$(awk -v t=$((T0 + 60)) '$1 >= t {print $2; exit}' "$S/rss")
RSS_WARM=$(awk -v t=$((T0 + WARM)) '$1 >= t {print $2; exit}' "$S/rss")
RSS_START=$(head -n 1 "$S/rss" | cut -d' ' -f2)
: "${RSS_1MIN:=$RSS_START}" "${RSS_WARM:=$RSS_1MIN}"
stop
EXECUTED=$(sqlite3 "$S/soak.db" "select count(*) from jobs where state='succeeded' and key like 'soak-%'")

# ---------------------------------------------------------------- 3. valgrind
rm -f "$S/soak.db"*
start "$S/vg.daemon.log" valgrind --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$S/vg.log"
say "valgrind: ${VG_SECONDS}s at 1 new job/s"
set +e
$PY bench/soak.py "$URL" "$S/body.json" "$S/good.hdr" "$S/badsig.hdr" "$S/badjwt.hdr" \
	1 "$VG_SECONDS" --idem "vg-$$" >"$S/vg.soak.out" 2>&1
VG_SOAK_RC=$?
kill -TERM "$D_PID"
wait "$D_PID"
VG_RC=$?
set -e
D_PID=
VG_ERR=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$S/vg.log" | tail -n 1)
VG_DEF=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$S/vg.log" | tail -n 1)
VG_IND=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$S/vg.log" | tail -n 1)

# ---------------------------------------------------------------- report
GROWTH=$((RSS_END - RSS_WARM))
echo "webhook-runner soak — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
echo "capacity (sync SSH jobs, c=8): $CAP jobs/s; soak at half: $RATE new jobs/s + as many replays + 8x bad"
grep '^SOAK' "$S/soak.out" | sed 's/^/soak:     /'
echo "soak:     jobs succeeded in the store: $EXECUTED"
echo "rss:      start $RSS_START kB, after 1 min $RSS_1MIN kB, after the warm-up (${WARM} s) $RSS_WARM kB, end $RSS_END kB"
echo "rss:      growth after the warm-up $GROWTH kB (limit 1024); after 1 min $((RSS_END - RSS_1MIN)) kB"
echo "rss:      by minute (kB): $(awk -v t0="$T0" '{m = int(($1 - t0) / 60); if (!(m in seen)) {seen[m] = 1; printf "%d:%s ", m, $2}}' "$S/rss")"
grep '^SOAK' "$S/vg.soak.out" | sed 's/^/valgrind: /'
echo "valgrind: exit $VG_RC, errors ${VG_ERR:-?}, definitely lost ${VG_DEF:-0} B, indirectly lost ${VG_IND:-0} B"
RC=0
[ "$SOAK_RC" = 0 ] || { echo "FAILED: unexpected answers in the soak"; RC=1; }
[ "$GROWTH" -lt 1024 ] || { echo "FAILED: RSS grew $GROWTH kB"; RC=1; }
[ "$VG_SOAK_RC" = 0 ] || { echo "FAILED: unexpected answers under valgrind"; RC=1; }
[ "${VG_ERR:-1}" = 0 ] && [ "$VG_RC" = 0 ] || { echo "FAILED: valgrind errors (see $S/vg.log)"; RC=1; }
exit $RC
