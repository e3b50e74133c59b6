# bench/lib.sh — helpers shared by the bench sections that run as scripts of
# their own (bench/relay.sh, approvals.sh, pg.sh, overload.sh), sourced after
# tests/lib.sh. Each section prints its rows of the table on stdout and its
# progress on stderr, starts everything on 127.0.0.1 and stops it at exit.
#   bsay TEXT...                progress line on stderr
#   bench_tool NAME             build bench/NAME.c into $BUILD/bench/NAME
#                               (cc -O2, libcrypto, pthreads); prints its path
#   bmem PID                    "VmRSS VmHWM" of PID in kB
#   bget FILE FIELD             a field of a RESULT line (bench/post.lua's format)
#   bms FILE FIELD              that field (µs) in ms
#   brate FILE                  2xx answers per second of a RESULT line
#   bverdict VALUE OP TARGET    "met" or "MISSED" (OP: >= or <=)
#   bkv LINE KEY                the value of KEY=… in a line of assignments
#   bwrk NAME URL CONC SECS HEADERS BODY [IDEM_PREFIX]   one wrk load with
#                               bench/post.lua; RESULT line in $BR/NAME
#   bfixed NAME URL CONC TOTAL HEADERS BODY [IDEM_PREFIX] [DEADLINE]  the
#                               same through bench/fixed_load.py
#   bjobs CONFIG HOOK           "state=count ..." of HOOK's jobs, read with
#                               `webhook-runner jobs list --json` (any store;
#                               the CLI lists at most 10000, newest first)
#   bhead                       the section's header line: date, load average
# BR (results directory) must be set before bwrk/bfixed.
bsay() { echo "bench: $*" >&2; }
bench_tool() {
	mkdir -p "$BUILD/bench"
	local out=$BUILD/bench/$1
	if [ ! -x "$out" ] || [ "$TOP/bench/$1.c" -nt "$out" ]; then
		cc -O2 -g -Wall -Wextra -Werror "$TOP/bench/$1.c" -lcrypto -lpthread -o "$out" >&2 || return 1
	fi
	echo "$out"
}
bmem() { awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {print r, h}' "/proc/$1/status"; }
bget() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1"; }
bms() { awk -v u="$(bget "$1" "$2")" 'BEGIN {printf (u < 10000 ? "%.2f" : "%.0f"), u/1000}'; }
brate() {
	awk -v r="$(bget "$1" requests)" -v n="$(bget "$1" non2xx)" -v d="$(bget "$1" duration_us)" \
		'BEGIN {printf "%.0f", (d > 0 ? (r-n)/(d/1e6) : 0)}'
}
bverdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "met" : "MISSED"}'; }
bkv() { echo " $1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
bwrk() {
	local name=$1 url=$2 c=$3 secs=$4 hdrs=$5 body=$6 idem=${7:-} t
	t=$((c < 2 ? c : 2))
	bsay "wrk $name: c=$c, ${secs}s"
	BENCH_BODY=$body BENCH_HEADERS=$hdrs BENCH_IDEM=$idem \
		wrk -t"$t" -c"$c" -d"${secs}s" --timeout 30s --latency -s "$TOP/bench/post.lua" "$url" \
		>"$BR/$name.out" 2>&1 || { bsay "wrk failed:"; cat "$BR/$name.out" >&2; return 1; }
	grep '^RESULT ' "$BR/$name.out" >"$BR/$name" || { bsay "no RESULT from wrk"; cat "$BR/$name.out" >&2; return 1; }
}
bfixed() {
	local name=$1 url=$2 c=$3 n=$4 hdrs=$5 body=$6 idem=${7:-} dl=${8:-60}
	bsay "fixed_load $name: c=$c, $n requests"
	python3 "$TOP/bench/fixed_load.py" "$url" "$body" "$hdrs" "$c" "$n" --idem "$idem" \
		--timeout 60 --deadline "$dl" >"$BR/$name.out" 2>&1 || { cat "$BR/$name.out" >&2; return 1; }
	grep '^RESULT ' "$BR/$name.out" >"$BR/$name"
}
bjobs() {
	"$BUILD/webhook-runner" jobs list --config "$1" --hook "$2" --json --limit 10000 2>/dev/null |
		python3 -c 'import collections, json, sys
c = collections.Counter(json.loads(l)["status"] for l in sys.stdin if l.strip())
print(" ".join("%s=%d" % kv for kv in sorted(c.items())) or "none")'
}
bhead() {
	echo "$1 — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
