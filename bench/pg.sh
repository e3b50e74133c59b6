#!/usr/bin/env bash
# bench/pg.sh BUILD — two webhook-runner daemons on one PostgreSQL store, a
# section of `make bench` (bench/run.sh calls it; BENCH_ONLY=pg runs it
# alone). A throwaway server (tests/pg.sh: loopback, TLS, fsync on), one
# sshd (tests/sshd.sh), the jobs through one remote-executor service with
# warm sessions (tests/xservice.sh), so that the accepted jobs drain in
# seconds. Rows:
#   - accept path (async hook: HMAC + idempotency claim in PostgreSQL →
#     202), wrk for BENCH_PG_SECONDS (default 3): one daemon at c=8, then two
#     daemons at once, c=4 each (the same total load); every accepted job is
#     then counted on the SSH target, against the 2xx answers and the store;
#   - duplicate storm: BENCH_PG_STORM (default 200) identical deliveries
#     (one Idempotency-Key) split over both daemons at c=16 → executions
#     counted on the SSH target (want exactly 1), and the answers.
# BENCH_DRAIN_MAX bounds each wait for the queue (default 120 s).
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
export BUILD TOP
cd "$TOP"
SECS=${BENCH_PG_SECONDS:-3}
STORM=${BENCH_PG_STORM:-200}
DRAIN_MAX=${BENCH_DRAIN_MAX:-120}
# shellcheck source=../tests/lib.sh
source tests/lib.sh
# shellcheck source=../tests/sshd.sh
source tests/sshd.sh
# shellcheck source=../tests/runner.sh
source tests/runner.sh
# shellcheck source=../tests/xservice.sh
source tests/xservice.sh
# shellcheck source=../tests/pg.sh
source tests/pg.sh
# shellcheck source=lib.sh
source bench/lib.sh
trap 'set +e; t_cleanup' EXIT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
B=$T_TMP/pgb BR=$T_TMP/pgb/results
mkdir -p "$B" "$BR"
pg_available || { bsay "PostgreSQL server binaries missing (make deps)"; exit 1; }
at_exit pg_stop
pg_start || { bsay "tests/pg.sh could not start PostgreSQL"; exit 1; }
sshd_start >&2 || { bsay "cannot start sshd"; exit 1; }
XS_SESSIONS=8 xsvc_start "$B/xs" bench "$KEY_ED25519" "$KNOWN_HOSTS" "$SSH_USER@127.0.0.1:$SSHD_PORT" ||
	{ bsay "remote-executor serve did not start"; exit 1; }
RUN=$(date +%s)-$$

umask 077
rand_hex 32 >"$B/hmac.secret"
umask 022
head -c 1024 /dev/zero | tr '\0' x | sed 's/^/{"pad":"/; s/$/"}/' >"$B/body.json"
export WR_PG_PASSWORD=$PG_PASSWORD
hook() { # ID MODE COMMAND
	cat <<JSON
    { "id": "$1",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$B/hmac.secret"] },
      "idempotency": { "dedupe_body": false },
      "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity_name": "bench",
               "command": "$3", "timeout_s": 30, "mode": "$2" } }
JSON
}
for n in a b; do
	cat >"$T_TMP/$n.json" <<JSON
{
  "server": { "listen": "127.0.0.1:8080", "threads": 40 },
  "store": { "url": "$PG_DSN_NOPW?sslmode=verify-full&sslrootcert=$PG_CA", "password": "env:WR_PG_PASSWORD" },
  "executor": { "socket": "$XS_SOCK", "max_jobs": 8, "max_per_destination": 8, "max_queued": 200000 },
  "log": { "level": "info", "format": "text" },
  "hooks": [
$(hook accept async "echo x >>$MARK_DIR/acc"),
$(hook storm sync "echo x >>$MARK_DIR/storm; sleep 1")
  ]
}
JSON
	"$RUNNER_BIN" check-config "$T_TMP/$n.json" >&2
done
start_as A >&2
start_as B >&2
"$RUNNER_BIN" sign --config "$T_TMP/a.json" --hook accept --ttl 7200 "$B/body.json" |
	grep -vi '^idempotency-key:' >"$B/acc.hdr"
"$RUNNER_BIN" sign --config "$T_TMP/a.json" --hook storm --ttl 7200 --idempotency-key "storm-$RUN" "$B/body.json" \
	>"$B/storm.hdr"
URL_A=http://127.0.0.1:$A_PORT/hooks URL_B=http://127.0.0.1:$B_PORT/hooks

# ssum STATES REGEX : the sum of the counts of the states matching REGEX
ssum() { echo "$1" | tr ' ' '\n' | awk -F= -v re="^($2)\$" '$1 ~ re {s += $2} END {print s + 0}'; }
# drain : wait until every claimed accept job is done (bounded); sets
# CLAIMED EXEC STATES DRAIN_S
drain() {
	local t0 left
	t0=$(date +%s%N)
	while :; do
		STATES=$(bjobs "$T_TMP/a.json" accept)
		left=$(ssum "$STATES" 'queued|running')
		[ "${left:-0}" -eq 0 ] && break
		[ $(($(date +%s%N) - t0)) -gt $((DRAIN_MAX * 1000000000)) ] && break
		sleep 0.5
	done
	DRAIN_S=$(awk -v n="$(($(date +%s%N) - t0))" 'BEGIN {printf "%.1f", n/1e9}')
	CLAIMED=$(ssum "$STATES" '[a-z_]+')
	EXEC=$(lines "$MARK_DIR/acc")
}
ok2xx() { echo $(($(bget "$BR/$1" requests) - $(bget "$BR/$1" non2xx))); }

# ---------------------------------------------------------------- accept
bwrk one "$URL_A/accept" 8 "$SECS" "$B/acc.hdr" "$B/body.json" "$RUN-one"
drain
ONE_ACC=$(ok2xx one) ONE_CLAIMED=$CLAIMED ONE_EXEC=$EXEC ONE_STATES=$STATES ONE_DRAIN=$DRAIN_S
bsay "one daemon: 2xx $ONE_ACC, claimed $CLAIMED ($STATES), executed $EXEC, drain $DRAIN_S s"

bsay "wrk two: A and B at once, c=4 each, ${SECS}s"
bwrk twoA "$URL_A/accept" 4 "$SECS" "$B/acc.hdr" "$B/body.json" "$RUN-twoA" &
WA=$!
bwrk twoB "$URL_B/accept" 4 "$SECS" "$B/acc.hdr" "$B/body.json" "$RUN-twoB"
wait "$WA"
drain
TWO_ACC=$(($(ok2xx twoA) + $(ok2xx twoB)))
TWO_CLAIMED=$((CLAIMED - ONE_CLAIMED)) TWO_EXEC=$((EXEC - ONE_EXEC)) TWO_STATES=$STATES TWO_DRAIN=$DRAIN_S
bsay "two daemons: 2xx $TWO_ACC, claimed $TWO_CLAIMED, executed $TWO_EXEC, drain $DRAIN_S s"

# ---------------------------------------------------------------- storm
bsay "storm: $STORM identical deliveries over A and B, c=16"
seq 1 "$STORM" | xargs -P 16 -I{} sh -c 'u='"$URL_A"'; [ $(( {} % 2 )) -eq 0 ] && u='"$URL_B"';
	curl -s --max-time 60 -o /dev/null -D '"$BR"'/storm.{}.hdr -w "%{http_code}\n" \
	-H @'"$B"'/storm.hdr --data-binary @'"$B"'/body.json $u/storm' >"$BR/storm.codes" 2>/dev/null || true
sleep 1
S_RUNS=$(lines "$MARK_DIR/storm")
S200=$(grep -c '^200$' "$BR/storm.codes" || true)
S409=$(grep -c '^409$' "$BR/storm.codes" || true)
SOTHER=$(($(lines "$BR/storm.codes") - S200 - S409))
SREPLAY=$(grep -li '^Idempotent-Replayed: true' "$BR"/storm.*.hdr 2>/dev/null | wc -l)
S_STORE=$(bjobs "$T_TMP/a.json" storm)
read -r A_RSS _ < <(bmem "$A_PID")
read -r B_RSS _ < <(bmem "$B_PID")

# ---------------------------------------------------------------- table
pct() { awk -v e="$1" -v a="$2" 'BEGIN {printf "%.1f%%", a ? 100*e/a : 0}'; }
ONE_RATE=$(brate "$BR/one")
TWO_RATE=$(awk -v a="$(brate "$BR/twoA")" -v b="$(brate "$BR/twoB")" 'BEGIN {print a + b}')
echo
bhead "P. Two daemons on one PostgreSQL store ($("$PG_BIN/postgres" --version | awk '{print $3}'), loopback, TLS, fsync on)"
echo "   load before: $LOAD_START; took $(($(date +%s) - T_START)) s. Async hook (HMAC + claim → 202), 1 KB body, ${SECS} s of wrk;"
echo "   jobs (SSH \`echo >>file\`) through one remote-executor service, 8 warm sessions; executed = lines on the SSH target"
printf '   %-26s | %-10s | %-15s | %-8s | %-8s | %-9s | %-20s | %s\n' "" "2xx/s" "p50 / p99 ms" "2xx" "claimed" "executed" "executed/claimed" "drain, store states"
printf '   %-26s | %-10s | %-15s | %-8s | %-8s | %-9s | %-20s | %s\n' "one daemon, c=8" "$ONE_RATE" \
	"$(bms "$BR/one" p50_us) / $(bms "$BR/one" p99_us)" "$ONE_ACC" "$ONE_CLAIMED" "$ONE_EXEC" \
	"$(pct "$ONE_EXEC" "$ONE_CLAIMED")" "$ONE_DRAIN s; $ONE_STATES"
printf '   %-26s | %-10s | %-15s | %-8s | %-8s | %-9s | %-20s | %s\n' "two daemons, c=4 + 4" "$TWO_RATE" \
	"A $(bms "$BR/twoA" p99_us), B $(bms "$BR/twoB" p99_us) p99" "$TWO_ACC" "$TWO_CLAIMED" "$TWO_EXEC" \
	"$(pct "$TWO_EXEC" "$TWO_CLAIMED")" "$TWO_DRAIN s; all: $TWO_STATES"
echo "   two/one: $(awk -v a="$TWO_RATE" -v b="$ONE_RATE" 'BEGIN {printf "%.2f", b ? a/b : 0}')× (same total concurrency, same 2 cores: the store's commits are shared)"
echo "   (claimed − 2xx = requests in flight when wrk stopped: answered after its window)
   every accepted job executed once: $([ "$ONE_EXEC" -eq "$ONE_CLAIMED" ] && [ "$TWO_EXEC" -eq "$TWO_CLAIMED" ] && echo met || echo MISSED)"\
	"(non-2xx: $(bget "$BR/one" non2xx), $(bget "$BR/twoA" non2xx)+$(bget "$BR/twoB" non2xx))"
printf '   %-26s | %s\n' "duplicate storm, c=16" "$STORM identical deliveries over A and B → executed $S_RUNS on the SSH target" \
	"" "answers: 200 $S200 ($SREPLAY replayed), 409 $S409, other $SOTHER; store: $S_STORE"
echo "   exactly 1 execution: $([ "$S_RUNS" -eq 1 ] && echo met || echo MISSED); RSS after: A $((A_RSS / 1024)) MB, B $((B_RSS / 1024)) MB"
