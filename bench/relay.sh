#!/usr/bin/env bash
# bench/relay.sh BUILD — the relay section of `make bench` (bench/run.sh
# calls it; BENCH_ONLY=relay runs it alone): webhook-relay serve on a
# throwaway redis-server (tests/redis.sh), webhook-relay connect forwarding
# to bench/evsink.c (an HTTP target that hashes each body and timestamps
# its receipt), loads from bench/evload.c (random binary bodies, every one
# recorded with its SHA-256). Rows:
#   - c=8, as fast as it goes: the same load straight to the target (the
#     ceiling), through one relay instance, through two instances on one
#     Redis (publishers split over both, the client on the first);
#   - a fixed 100 events/s: p50/p99 from publish to receipt, relay vs direct;
#   - the client restarted (SIGTERM, ~1 s down, start again with its state
#     file) in the middle of a paced load: events lost and repeated;
#   - idle RSS of serve and of connect.
# Every event is checked byte for byte (length + SHA-256) by
# bench/evcompare.py, once more after the last run: an event that came in
# after its run's wait counts as late, not lost. Tunables: BENCH_RELAY_N
# (events per c=8 run, default 5000), BENCH_RELAY_DRAIN (bound on waiting
# for the target to have a run's events, default 60 s),
# BENCH_RELAY_RESTART_RATE (events/s during the restart, default 300, for
# 6 s). Loopback only; the table on stdout.
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
export BUILD TOP
cd "$TOP"
N=${BENCH_RELAY_N:-5000}
DRAIN=${BENCH_RELAY_DRAIN:-60}
RRATE=${BENCH_RELAY_RESTART_RATE:-300}
# shellcheck source=../tests/lib.sh
source tests/lib.sh
# shellcheck source=../tests/redis.sh
source tests/redis.sh
# shellcheck source=../tests/relay.sh
source tests/relay.sh
# shellcheck source=lib.sh
source bench/lib.sh
trap 'set +e; t_cleanup' EXIT
[ -x "$RELAY_BIN" ] || { bsay "$RELAY_BIN missing: run 'make' first"; exit 1; }
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
B=$T_TMP/relay BR=$T_TMP/relay/results
mkdir -p "$B" "$BR"
EVSINK=$(bench_tool evsink) EVLOAD=$(bench_tool evload)
BGP=()
bg_stop() { local p; for p in ${BGP[@]+"${BGP[@]}"}; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
at_exit bg_stop

TOK=$B/sub.token
(umask 077 && rand_hex 24 >"$TOK")
redis_start
# Room for every event of a run in history and in a subscriber's queue: the
# bench measures the relay's path, not its bounds (a client that falls
# behind past its queue is dropped and resumes from history; what is
# trimmed before it reads it is a gap, lost).
RELAY_ARGS=(--token "file:$TOK" --redis-url "$REDIS_URL" --redis-prefix "bench$(rand_hex 4):"
	--history 200000 --queue-events 200000 --queue-bytes 536870912)
relay_start a "${RELAY_ARGS[@]}" || exit 1

"$EVSINK" "$B/sink.port" "$B/sink.out" 2>>"$B/sink.err" &
BGP+=("$!")
wait_until 10 test -s "$B/sink.port" || { bsay "evsink did not start"; exit 1; }
SINK_PORT=$(cat "$B/sink.port")
SINK=127.0.0.1:$SINK_PORT
sink_count() { curl -s --max-time 5 "http://$SINK/_flush" || echo 0; }

CPID=
client_start() {
	"$RELAY_BIN" connect --source "$(rurl a /subscribe/bench/)" --target "http://$SINK" \
		--token "file:$TOK" --state "$B/c.state" --reconnect-min 100 --reconnect-max 2 \
		>>"$B/c.log" 2>&1 &
	CPID=$!
	wait_until 10 grep -qs subscribing "$B/c.log" || { bsay "connect did not subscribe:"; tail -n 5 "$B/c.log" >&2; exit 1; }
}
client_stop() { [ -z "$CPID" ] || { kill -TERM "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=; }; }
at_exit client_stop
client_start
sleep 1
read -r SERVE_IDLE_RSS _ < <(bmem "${RPID[a]}")
read -r CONN_IDLE_RSS _ < <(bmem "$CPID")

# run NAME ADDRS PATH CONC TOTAL [evload options] : one load; the target's
# records are compared once it has every published event (or after DRAIN s)
FIRST=0
run() {
	local name=$1 addrs=$2 path=$3 c=$4 n=$5 want i
	shift 5
	FIRST=$((FIRST + 10000000))
	bsay "relay $name: c=$c, $n events $*"
	"$EVLOAD" "$addrs" "$path" "$c" "$n" "$BR/$name.pub" --first "$FIRST" --seed "$FIRST" "$@" \
		>"$BR/$name" 2>"$BR/$name.err" || { bsay "evload failed"; cat "$BR/$name.err" >&2; exit 1; }
	want=$(awk '$2 >= 200 && $2 <= 299' "$BR/$name.pub" | wc -l)
	for i in $(seq 1 $((DRAIN * 10))); do
		[ "$(($(sink_count) - BASE))" -ge "$want" ] && break
		sleep 0.1
	done
	sleep 0.3 # late duplicates, if any, land in this run's count
	BASE=$(sink_count)
	python3 bench/evcompare.py "$BR/$name.pub" "$B/sink.out" >"$BR/$name.cmp0"
	bsay "  $(cat "$BR/$name.cmp0")"
	RUNS+=("$name")
}
RUNS=()
BASE=$(sink_count)
ADDR_A=127.0.0.1:${RPORT[a]}
run direct8 "$SINK" /direct 8 "$N"
run relay1_8 "$ADDR_A" /webhooks/bench/e 8 "$N"
relay_start b "${RELAY_ARGS[@]}" || exit 1
ADDR_B=127.0.0.1:${RPORT[b]}
run relay2_8 "$ADDR_A,$ADDR_B" /webhooks/bench/e 8 "$N"
# The same through a second client whose state file is on tmpfs: what the
# fsync per event costs (a diagnostic row, not a deployment).
SHM=$(mktemp -d /dev/shm/wrbench.XXXXXX)
at_exit "rm -rf $SHM"
"$RELAY_BIN" connect --source "$(rurl a /subscribe/bench2/)" --target "http://$SINK" \
	--token "file:$TOK" --state "$SHM/c.state" >>"$B/c2.log" 2>&1 &
BGP+=("$!")
wait_until 10 grep -qs subscribing "$B/c2.log" || { bsay "second connect did not subscribe"; exit 1; }
run relay1_shm "$ADDR_A" /webhooks/bench2/e 8 "$N"
run direct_r100 "$SINK" /direct 8 500 --rate 100
run relay1_r100 "$ADDR_A" /webhooks/bench/e 8 500 --rate 100
# the restart: 6 s paced, the client down from 2 s to about 3 s
(
	sleep 2
	kill -TERM "$CPID" || true
	for _ in $(seq 1 50); do pid_gone "$CPID" && break; sleep 0.02; done
	sleep 1
	exec "$RELAY_BIN" connect --source "$(rurl a /subscribe/bench/)" --target "http://$SINK" \
		--token "file:$TOK" --state "$B/c.state" --reconnect-min 100 --reconnect-max 2 >>"$B/c.log" 2>&1
) &
RESTARTER=$!
BGP+=("$RESTARTER")
run restart "$ADDR_A" /webhooks/bench/e 8 $((RRATE * 6)) --rate "$RRATE"
RESTART_STOPS=$(grep -c ' stopped ' "$B/c.log" || true)
# the final count: whatever came in since (bounded: until nothing new for 2 s, at most 30 s)
last=-1
for i in $(seq 1 30); do
	now=$(sink_count)
	[ "$now" = "$last" ] && break
	last=$now
	sleep 2
done
LATE=0
for x in "${RUNS[@]}"; do
	python3 bench/evcompare.py "$BR/$x.pub" "$B/sink.out" >"$BR/$x.cmp"
	LATE=$((LATE + $(bkv "$(cat "$BR/$x.cmp0")" lost) - $(bkv "$(cat "$BR/$x.cmp")" lost)))
done
read -r SERVE_RSS _ < <(bmem "${RPID[a]}")
CONN_RSS=$(bmem "$RESTARTER" | cut -d' ' -f1)

# ---------------------------------------------------------------- table
f() { bkv "$(cat "$BR/$1.cmp")" "$2"; }
row() { # LABEL NAME
	printf '   %-40s | %8s | %8s | %7s / %-8s | %-22s | %s\n' "$1" "$(f "$2" eps)" "$(brate "$BR/$2")" \
		"$(f "$2" p50_ms)" "$(f "$2" p99_ms)" \
		"$(f "$2" identical)/$(f "$2" published) ($(f "$2" identical_pct)%)" \
		"$(f "$2" lost) lost, $(f "$2" duplicates) dup, $(f "$2" mismatched) differ"
}
kb_mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k/1024}'; }
echo
bhead "R. Relay: webhook-relay serve (Redis $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')) → connect → HTTP target"
echo "   load before: $LOAD_START; took $(($(date +%s) - T_START)) s. Bodies: 1-2048 random bytes; the target (bench/evsink.c) hashes"
echo "   each one; latency = target's receipt − publish start (same clock); events/s = identical events / (last receipt − first publish)."
echo "   connect writes its state file with two fsyncs per event ($(df -T "$B" | awk 'NR==2 {print $2}'), the bench's temp dir; the tmpfs row"
echo "   shows what they cost). publish/s = the relay's 202 answers per second to the publishers; latency at c=8 is mostly queueing"
printf '   %-40s | %-8s | %-8s | %-18s | %-22s | %s\n' "" "events/s" "publish/s" "p50 / p99 ms" "byte-identical" "lost"
row "direct to the target, c=8 (ceiling)" direct8
row "relay, 1 instance, c=8" relay1_8
row "relay, 2 instances on 1 Redis, c=8" relay2_8
row "relay, 1 instance, c=8, state on tmpfs" relay1_shm
row "direct, fixed 100 events/s" direct_r100
row "relay, 1 instance, 100 events/s" relay1_r100
row "relay, client restarted ~1 s mid-load" restart
R1=$(f relay1_8 eps) R2=$(f relay2_8 eps) P99=$(f relay1_r100 p99_ms)
IDALL=0 PUBALL=0 LOSTALL=0 DUPALL=0
for x in relay1_8 relay2_8 relay1_shm relay1_r100 restart; do
	IDALL=$((IDALL + $(f $x identical))) PUBALL=$((PUBALL + $(f $x published)))
	LOSTALL=$((LOSTALL + $(f $x lost))) DUPALL=$((DUPALL + $(f $x duplicates)))
done
echo "   (restart row: $((RRATE * 6)) events at $RRATE/s, the client stopped with SIGTERM at 2 s and started 1 s later; $RESTART_STOPS stopped lines)"
[ "$LATE" -eq 0 ] || echo "   ($LATE events reached the target only after their run's wait of up to ${DRAIN} s: late, not lost)"
printf '   %-40s | %s\n' "idle RSS, webhook-relay serve" "$(kb_mb "$SERVE_IDLE_RSS") MB ($(kb_mb "$SERVE_RSS") MB after the loads)"
printf '   %-40s | %s\n' "idle RSS, webhook-relay connect" "$(kb_mb "$CONN_IDLE_RSS") MB ($(kb_mb "${CONN_RSS:-0}") MB, the restarted client, after)"
echo "   targets: ≥ 7000 events/s at c=8: 1 instance $R1 $(bverdict "$R1" ">=" 7000), 2 instances $R2 $(bverdict "$R2" ">=" 7000);"\
	"p99 ≤ 10 ms at 100/s: $P99 ms $(bverdict "$P99" "<=" 10);"
echo "   100% byte-identical: $IDALL/$PUBALL $( [ "$IDALL" -eq "$PUBALL" ] && echo met || echo MISSED); 0 lost: $LOSTALL ($DUPALL repeated)"\
	"$( [ "$LOSTALL" -eq 0 ] && echo met || echo MISSED); idle RSS ≤ 8 MB: serve $(bverdict "$SERVE_IDLE_RSS" "<=" 8192),"\
	"connect $(bverdict "$CONN_IDLE_RSS" "<=" 8192)"
echo "   (for scale, not measured in this run: the Codefresh relay (Node 20), measured earlier on this machine, did 1.3-1.6k events/s"
echo "    at c=8 with p99 42-478 ms, lost 199 of 200 binary bodies and ~24% of events across a one-second client restart, 73 MB idle RSS)"
