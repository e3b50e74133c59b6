# tests/runner.sh — a real webhook-runner for end-to-end tests. Source after
# tests/lib.sh (and tests/sshd.sh when jobs must run). Then:
#   runner_start CONFIG [flags...]  start on a free loopback port, wait for
#                                   /healthz; sets RUNNER_PID RUNNER_PORT RUNNER_LOG
#   runner_stop                     SIGTERM and wait
#   runner_kill9                    kill -9 (crash), no cleanup
#   runner_url HOOK                 http://127.0.0.1:PORT/hooks/HOOK
#   RUNNER_SCHEME=https, RUNNER_CURL=(--cacert CA): the same over TLS
#   db SQL                          query the store at $DB (sqlite3 CLI)
#   rsign CONFIG HOOK PAYLOAD [sign options...] > headers   (our own signer)
#   post HOOK HEADERS_FILE PAYLOAD_FILE OUT_PREFIX [curl args...]
#        -> prints the HTTP status; body in OUT_PREFIX.body, headers in OUT_PREFIX.hdr
# Reading answers kept as $R/TAG.body, $R/TAG.hdr and $R/TAG.code:
#   header TAG NAME   a response header's value
#   jf TAG FIELD      a top-level field of the JSON body ("null" when absent
#                     or null; python3 parses it, once per answer)
#   jhas TAG FIELD    the field is present at all
#   answer NAME TAG K=V...   one ok/FAIL for all of them (below)
RUNNER_BIN=${RUNNER_BIN:-$BUILD/webhook-runner}
RUNNER_SCHEME=${RUNNER_SCHEME:-http}
[ -n "${RUNNER_CURL+x}" ] || RUNNER_CURL=()

runner_start() {
	local cfg=$1; shift
	local try port i
	RUNNER_LOG=${RUNNER_LOG:-$T_TMP/runner.log}
	for try in 1 2 3 4 5 6; do
		port=$((20000 + (RANDOM * 5 + try * 977) % 40000))
		"$RUNNER_BIN" --config "$cfg" --host 127.0.0.1 --port "$port" "$@" >>"$RUNNER_LOG" 2>&1 &
		RUNNER_PID=$!
		for i in $(seq 1 100); do
			kill -0 "$RUNNER_PID" 2>/dev/null || break
			if curl -s -o /dev/null --max-time 1 "${RUNNER_CURL[@]}" \
				"$RUNNER_SCHEME://127.0.0.1:$port/healthz"; then
				RUNNER_PORT=$port
				at_exit "runner_stop"
				return 0
			fi
			sleep 0.05
		done
		kill "$RUNNER_PID" 2>/dev/null
		wait "$RUNNER_PID" 2>/dev/null
	done
	echo "runner_start: webhook-runner did not start; log:" >&2
	tail -n 20 "$RUNNER_LOG" >&2
	return 1
}

runner_stop() {
	[ -n "${RUNNER_PID:-}" ] || return 0
	kill "$RUNNER_PID" 2>/dev/null
	wait "$RUNNER_PID" 2>/dev/null
	RUNNER_PID=
}

runner_kill9() {
	[ -n "${RUNNER_PID:-}" ] || return 0
	kill -9 "$RUNNER_PID" 2>/dev/null
	wait "$RUNNER_PID" 2>/dev/null
	RUNNER_PID=
}

runner_url() { echo "$RUNNER_SCHEME://127.0.0.1:$RUNNER_PORT/hooks/$1"; }
# db SQL : query the store at $DB with the sqlite3 CLI (WAL: safe while the
# daemon runs)
db() { sqlite3 -cmd '.timeout 5000' "$DB" "$1" 2>&1; }

rsign() {
	local cfg=$1 hook=$2 payload=$3; shift 3
	"$RUNNER_BIN" sign --config "$cfg" --hook "$hook" "$@" "$payload"
}

post() {
	local hook=$1 hdrs=$2 payload=$3 out=$4; shift 4
	curl -s --max-time 60 -o "$out.body" -D "$out.hdr" -w '%{http_code}' \
		-H @"$hdrs" --data-binary @"$payload" "${RUNNER_CURL[@]}" "$@" "$(runner_url "$hook")"
}

header() { sed -n "s/^$2: *//Ip" "$R/$1.hdr" 2>/dev/null | tr -d '\r' | tail -n 1; }
jkv() {
	[ -f "$R/$1.kv" ] || "$PY" - "$R/$1.body" >"$R/$1.kv" 2>/dev/null <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    d = {}
if not isinstance(d, dict):
    d = {}
for k, v in d.items():
    s = "null" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
    print("%s=%s" % (k, s.replace("\n", "\\n")))
PY
}
jf() {
	local v
	jkv "$1"
	v=$(grep -m1 "^$2=" "$R/$1.kv")
	if [ -n "$v" ]; then echo "${v#*=}"; else echo null; fi
}
jhas() { jkv "$1"; grep -q "^$2=" "$R/$1.kv"; }
# answer NAME TAG K=V... : keys code, hdr:NAME ("" = absent), has:FIELD
# (yes/no), runs:NAME / starts:NAME / ran:NAME (the script's own runs,
# starts and ran_with), else a top-level field of the JSON body; values are
# glob patterns.
answer() {
	local name=$1 tag=$2 kv k v got bad=""
	shift 2
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		case $k in
		code) got=$(cat "$R/$tag.code") ;;
		runs:*) got=$(runs "${k#runs:}") ;;
		starts:*) got=$(starts "${k#starts:}") ;;
		ran:*) got=$(ran_with "${k#ran:}") ;;
		hdr:*) got=$(header "$tag" "${k#hdr:}") ;;
		has:*) if jhas "$tag" "${k#has:}"; then got=yes; else got=no; fi ;;
		*) got=$(jf "$tag" "$k") ;;
		esac
		# shellcheck disable=SC2053 # V is a pattern
		[[ "$got" == $v ]] || bad+="$k=$got (want $v); "
	done
	if [ -z "$bad" ]; then ok "$name"; else
		fail "$name" "$bad body: $(head -c 300 "$R/$tag.body" 2>/dev/null)"
	fi
}
