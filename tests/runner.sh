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
#   fetch OUT_PREFIX CURL-ARGS...  one bounded request -> the HTTP status
#   post HOOK HEADERS_FILE PAYLOAD_FILE OUT_PREFIX [curl args...]
#        -> prints the HTTP status; body in OUT_PREFIX.body, headers in OUT_PREFIX.hdr
# Reading answers kept as $R/TAG.body, $R/TAG.hdr and $R/TAG.code:
#   header TAG NAME   a response header's value
#   jf TAG FIELD      a top-level field of the JSON body ("null" when absent
#                     or null; python3 parses it, once per answer)
#   jhas TAG FIELD    the field is present at all
#   answer NAME TAG K=V...   one ok/FAIL for all of them (below)
# Configs, deliveries and executions (sections below): mkcfg, cfg_store,
# start_daemon, send/send_signed, pl, counts, dbn, runs/starts/started,
# ran_with, remote_left/no_remote_left, kill_leftovers (BG_PIDS, EXEC_PIDS).
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

# fetch OUT_PREFIX CURL-ARGS... : one request (curl -s, at most 60 s unless
# the args say --max-time); prints the HTTP status, keeps the body in
# OUT_PREFIX.body and the headers in OUT_PREFIX.hdr
fetch() {
	local out=$1; shift
	curl -s --max-time 60 -o "$out.body" -D "$out.hdr" -w '%{http_code}' "$@"
}
post() {
	local hook=$1 hdrs=$2 payload=$3 out=$4; shift 4
	fetch "$out" -H @"$hdrs" --data-binary @"$payload" "${RUNNER_CURL[@]}" "$@" "$(runner_url "$hook")"
}

header() { sed -n "s/^$2: *//Ip" "$R/$1.hdr" 2>/dev/null | tr -d '\r' | tail -n 1; }
jkv() {
	[ -f "$R/$1.kv" ] || "$PY" "$TOP/tests/tools/json_kv.py" "$R/$1.body" >"$R/$1.kv" 2>/dev/null
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

# ---------------------------------------------------------------- configs
# mkcfg FILE HOOKS_JSON [KEY=VALUE...] : write a daemon config whose "hooks"
# list is HOOKS_JSON (hook objects joined by commas), then have check-config
# accept it (else FAIL config and end the script). Keys and defaults:
#   store=$DB  listen=127.0.0.1:8080  threads=8
#   max_jobs=4  max_per_dest=MAX_JOBS  max_queued= (absent)
#   drain= read_token=FILE request_timeout_ms= min_request_rate=
#   max_body_bytes= tls_cert= tls_key=     (each absent when empty)
#   log_level= log_format=                 (no "log" object when both empty)
#   store_json= the store object's members as JSON text, instead of "path"
#               (a PostgreSQL store: '"url": "postgresql://...", ...')
#   check=yes (no: write only)  atomic=no (yes: write FILE.tmp, then rename,
#   so a SIGHUP never reads half a file)
#   socket= (set: "executor" has this "socket" and no "path"; the hooks then
#   name identities with "identity_name")
#   server_extra= more members of "server" as JSON text ('"max_followers": 2')
mkcfg() {
	local file=$1 hooks=$2
	shift 2
	local store=${DB:-} listen=127.0.0.1:8080 threads=8 max_jobs=4 max_per_dest="" max_queued=""
	local drain="" read_token="" request_timeout_ms="" min_request_rate="" max_body_bytes=""
	local tls_cert="" tls_key="" log_level="" log_format="" check=yes atomic=no socket="" store_json=""
	local server_extra=""
	local kv
	for kv; do
		case ${kv%%=*} in
		store | listen | threads | max_jobs | max_per_dest | max_queued | drain | read_token | \
			request_timeout_ms | min_request_rate | max_body_bytes | tls_cert | tls_key | log_level | \
			log_format | check | atomic | socket | store_json | server_extra) local "$kv" ;;
		*) fail config "mkcfg: unknown option $kv"; exit 1 ;;
		esac
	done
	[ -n "$max_per_dest" ] || max_per_dest=$max_jobs
	local server="\"listen\": \"$listen\", \"threads\": $threads"
	[ -z "$drain" ] || server+=", \"drain_timeout_s\": $drain"
	[ -z "$read_token" ] || server+=", \"read_token\": \"file:$read_token\""
	[ -z "$request_timeout_ms" ] || server+=", \"request_timeout_ms\": $request_timeout_ms"
	[ -z "$min_request_rate" ] || server+=", \"min_request_rate\": $min_request_rate"
	[ -z "$max_body_bytes" ] || server+=", \"max_body_bytes\": $max_body_bytes"
	[ -z "$tls_cert" ] || server+=", \"tls_cert\": \"$tls_cert\""
	[ -z "$tls_key" ] || server+=", \"tls_key\": \"$tls_key\""
	[ -z "$server_extra" ] || server+=", $server_extra"
	local executor="\"path\": \"$EX\", \"max_jobs\": $max_jobs, \"max_per_destination\": $max_per_dest"
	[ -z "$socket" ] || executor="\"socket\": \"$socket\", \"max_jobs\": $max_jobs, \"max_per_destination\": $max_per_dest"
	[ -z "$max_queued" ] || executor+=", \"max_queued\": $max_queued"
	local log=""
	if [ -n "$log_level$log_format" ]; then
		log="\"log\": { ${log_level:+\"level\": \"$log_level\"}${log_level:+${log_format:+, }}${log_format:+\"format\": \"$log_format\"} },"
	fi
	local out=$file
	[ "$atomic" = yes ] && out=$file.tmp
	cat >"$out" <<JSON
{
  "server": { $server },
  "store": { ${store_json:-\"path\": \"$store\"} },
  "executor": { $executor },
  $log
  "hooks": [
$hooks
  ]
}
JSON
	if [ "$check" = yes ]; then
		"$RUNNER_BIN" check-config "$out" >/dev/null || { fail config "check-config $file"; exit 1; }
	fi
	[ "$out" = "$file" ] || mv "$out" "$file"
}
# cfg_store CONFIG : the store path a config names
cfg_store() { json_get "$1" store.path; }

# ---------------------------------------------------------------- sending
# send TAG HOOK PAYLOAD KEY [curl args...] : sign with $CFG (our own signer)
# and idempotency key KEY, then post (send_signed); sets CODE. Files:
# $R/TAG.{hdrs,signerr,body,hdr,code,hook}
send() {
	local tag=$1 hook=$2 payload=$3 key=$4
	shift 4
	rsign "$CFG" "$hook" "$payload" --idempotency-key "$key" >"$R/$tag.hdrs" 2>"$R/$tag.signerr" ||
		{ CODE=sign-failed; echo "$CODE" >"$R/$tag.code"; return; }
	send_signed "$tag" "$hook" "$payload" "$@"
}
# send_signed TAG HOOK PAYLOAD [curl args...] : post with $R/TAG.hdrs as they
# are, bounded by SEND_MAX_TIME seconds (default 30); sets CODE
send_signed() {
	local tag=$1 hook=$2 payload=$3
	shift 3
	echo "$hook" >"$R/$tag.hook"
	rm -f "$R/$tag.kv"
	CODE=$(post "$hook" "$R/$tag.hdrs" "$payload" "$R/$tag" --max-time "${SEND_MAX_TIME:-30}" "$@")
	echo "$CODE" >"$R/$tag.code"
}
# pl NAME ACTION SECS [EXTRA] : a payload file in $P (EXTRA changes the body only)
pl() {
	local f=$P/$1-$2-$3${4:+-$4}.json
	printf '{"name":"%s","action":"%s","secs":"%s"%s}' "$1" "$2" "$3" \
		"${4:+,\"extra\":\"$4\"}" >"$f"
	echo "$f"
}
# counts : "deliveries/jobs" rows in the store at $DB
counts() { db "select (select count(*) from deliveries) || '/' || (select count(*) from jobs)"; }
# start_daemon CONFIG LOG [flags...] : runner_start with its own log (added
# to LOGS); sets CFG and DB (the config's store), ends the script on failure
start_daemon() {
	local cfg=$1 log=$2
	shift 2
	CFG=$cfg
	RUNNER_LOG=$log
	LOGS+=("$log")
	DB=$(cfg_store "$cfg")
	runner_start "$cfg" "$@" || { fail runner_start "webhook-runner did not start with $cfg"; exit 1; }
}

# ---------------------------------------------------------------- executions
# A job counts itself through side effects on the test sshd: its shell
# appends its pid to $MARK_DIR/<name>.pids and "start" to <name>.start when
# it begins, and a line (its config version, or "run") to <name> when it
# gets to its end.
runs() { lines "$MARK_DIR/$1"; }             # executions that reached their end
starts() { lines "$MARK_DIR/$1.start"; }     # executions that began
started() { [ "$(starts "$1")" -ge "${2:-1}" ]; }
# ran_with NAME : the lines of NAME's mark file, space-separated
ran_with() { if [ -f "$MARK_DIR/$1" ]; then tr '\n' ' ' <"$MARK_DIR/$1" | sed 's/ $//'; fi; }
# remote_left NAME : remote shells of NAME (and their children) still alive
remote_left() {
	local p c left=""
	[ -f "$MARK_DIR/$1.pids" ] || return 0
	while read -r p; do
		[ -n "$p" ] || continue
		pid_gone "$p" || left+="sh:$p "
		for c in $(pgrep -P "$p" 2>/dev/null); do left+="$(ps -o comm= -p "$c"):$c "; done
	done <"$MARK_DIR/$1.pids"
	echo "$left"
}
no_remote_left() { [ -z "$(remote_left "$1")" ]; }
# kill_leftovers : at exit (at_exit kill_leftovers, after sshd_start) kill
# BG_PIDS (background curls and peers), EXEC_PIDS while they are still
# remote-executors (with their process group), and every remote shell
# recorded in $MARK_DIR/*.pids that runs as the test user, with its children
BG_PIDS=(${BG_PIDS[@]+"${BG_PIDS[@]}"})
EXEC_PIDS=(${EXEC_PIDS[@]+"${EXEC_PIDS[@]}"})
LOGS=(${LOGS[@]+"${LOGS[@]}"})
kill_leftovers() {
	local f p
	for p in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do kill -9 "$p"; done
	for p in ${EXEC_PIDS[@]+"${EXEC_PIDS[@]}"}; do
		grep -q remote-executor "/proc/$p/cmdline" 2>/dev/null && kill -9 -- "-$p"
	done
	for f in "${MARK_DIR:-/nonexistent}"/*.pids; do
		[ -f "$f" ] || continue
		while read -r p; do
			[ -n "$p" ] && [ "$(ps -o user= -p "$p" 2>/dev/null)" = "$SSH_USER" ] || continue
			pkill -9 -P "$p"
			kill -9 "$p"
		done <"$f"
	done
}
# dbn TABLE : the number of rows in TABLE of the store at $DB
dbn() { db "select count(*) from $1"; }

# ---------------------------------------------------------------- verification
# The request-verification suites (tests/e2e/runner_verify.sh and
# tests/e2e/runner_templates.sh) share one world. verify_setup: check the
# binaries and tools, start the test sshd, write the secrets (file:
# references, 0600), the daemon config (tests/tools/verify_config.py) and the
# payloads in $P. The helpers below send requests and count what ran.
verify_setup() {
	WR=$BUILD/webhook-runner
	need_bins "$WR" "$BUILD/remote-executor"
	need_tools openssl sqlite3 curl
	HAVE_PYJWT=1
	"$PY" -c 'import jwt, cryptography' 2>/dev/null || HAVE_PYJWT=0

	sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }

	S=$T_TMP/secrets P=$T_TMP/payloads RESP=$T_TMP/resp
	mkdir -p "$S" "$P" "$RESP"
	chmod 700 "$S"
	umask_was=$(umask)
	umask 077 # secret files 0600: check-config warns about looser ones
	DB=$T_TMP/runner.db
	CFG=$T_TMP/config.json
	CLI_ERR=$T_TMP/cli.err # stderr of every check-config / sign run (sanitizer scan)
	TOKENS=$T_TMP/tokens.list
	: >"$TOKENS"
	: >"$CLI_ERR"


	# ---- secrets (all as file: references) --------------------------------------
	HD1=$(rand_hex 32)
	HD2=$(rand_hex 32)
	GH_SECRET="It's a Secret to Everybody"
	JWT_HS=$(rand_hex 32)
	printf '%s' "$HD1" >"$S/hd1"
	printf '%s\n' "$HD2" >"$S/hd2" # one trailing newline: not part of the secret
	printf '%s' "$GH_SECRET" >"$S/gh"
	printf '%s' "$JWT_HS" >"$S/jwt_hs"
	head -c 24 /dev/urandom >"$S/std.raw"
	STD_HEX=$(od -An -tx1 "$S/std.raw" | tr -d ' \n')
	STD_B64=$(openssl base64 -A <"$S/std.raw")
	STD_SECRET=whsec_$STD_B64
	printf '%s' "$STD_SECRET" >"$S/std"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$S/rsa.key" 2>/dev/null &&
		openssl pkey -in "$S/rsa.key" -pubout -out "$S/rsa.pub" 2>/dev/null &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$S/ec.key" 2>/dev/null &&
		openssl pkey -in "$S/ec.key" -pubout -out "$S/ec.pub" 2>/dev/null &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$S/ec_other.key" 2>/dev/null ||
		{ fail setup "openssl could not make keys"; exit 1; }
	# The RSA public key PEM exactly as the daemon holds it (file: drops one
	# trailing newline), and as it is on disk: the alg-confusion attacker's HMAC keys.
	printf '%s' "$(cat "$S/rsa.pub")" >"$S/rsa.pub.stripped"
	umask "$umask_was"
	ISS=https://ci.example.test
	AUD=webhook-runner
	SUB=deployer

	# ---- the daemon's config ----------------------------------------------------
	export S MARK_DIR SSH_USER SSHD_PORT KEY_ED25519 KNOWN_HOSTS DB BUILD ISS AUD SUB
	"$PY" "$TOP/tests/tools/verify_config.py" "$CFG" || { fail setup "cannot write config"; exit 1; }

	# ---- payloads
	printf '{"event":"push","n":1}' >"$P/small.json"
	printf '{"event":"push","n":2}' >"$P/small2.json"
	printf 'Hello, World!' >"$P/hello"
	mkbody() { "$PY" -c 'import sys; n=int(sys.argv[1]); s="{\"pad\":\""; e="\"}"; sys.stdout.write(s+"a"*(n-len(s)-len(e))+e)' "$1" >"$2"; }
	mkbody 4096 "$P/exact.json"
	mkbody 4097 "$P/over.json"
	mkbody 200000 "$P/huge.json"
	jbody() { "$PY" -c 'import json,sys; sys.stdout.write(json.dumps({sys.argv[1]: sys.argv[2]}))' "$@"; }
	# ---- counters
	declare -gA RUNS # mark lines expected per hook
	NJOBS=0 NDEL=0  # rows expected in jobs / deliveries
	KEYN=0
	WHY=()
}
newkey() { KEYN=$((KEYN + 1)); KEY="k$KEYN-$(rand_hex 4)"; }
# hd_sig SECRET FILE : base64(HMAC-SHA256) by openssl, independent of our code
hd_sig() { openssl dgst -sha256 -hmac "$1" -binary "$2" | openssl base64 -A; }
# std_sig HEXKEY ID TS FILE : standard-webhooks v1 signature over id.ts.body
std_sig() {
	{ printf '%s.%s.' "$2" "$3"; cat "$4"; } |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | openssl base64 -A
}
# req NAME CURL-ARGS... : one request; CODE, and $R.body / $R.hdr
req() {
	R=$RESP/$1
	shift
	CODE=$(fetch "$R" --max-time 30 "$@")
}
# hd_post NAME HOOK BODY [CURL-ARGS...] : hookdeck-signed (HD1) with a fresh Idempotency-Key
hd_post() {
	local n=$1 hook=$2 body=$3
	shift 3
	newkey
	req "$n" -H "x-hookdeck-signature: $(hd_sig "$HD1" "$body")" -H "Idempotency-Key: $KEY" \
		-H 'Content-Type: application/json' --data-binary @"$body" "$@" "$(runner_url "$hook")"
}
store_check() {
	local j d
	j=$(dbn jobs)
	d=$(dbn deliveries)
	[ "$j" = "$NJOBS" ] || WHY+=("store has $j jobs, want $NJOBS")
	[ "$d" = "$NDEL" ] || WHY+=("store has $d deliveries, want $NDEL")
	[ -e "$MARK_DIR/pwned" ] && WHY+=("$MARK_DIR/pwned exists: an injection ran")
}
report() {
	if [ ${#WHY[@]} -eq 0 ]; then ok "$1"; else
		local IFS=';'
		fail "$1" "${WHY[*]}"
	fi
	WHY=()
}
# The end of a verify-style script: no token (nor its signature part) and no
# secret ever reached $RUNNER_LOG (or $CLI_ERR), and no sanitizer report.
# PREFIX names the three checks (PREFIX"log_has_no_token"…); at least
# MIN_TOKENS tokens of 20+ bytes must have been recorded in $TOKENS.
verify_log_scans() { # prefix min_tokens
	local prefix=$1 min=$2 n=0 t s v
	local san='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer'
	WHY=()
	while IFS= read -r t; do
		[ ${#t} -ge 20 ] || continue
		n=$((n + 1))
		if grep -qF -- "$t" "$RUNNER_LOG"; then WHY+=("token #$n (${t:0:12}…) in the log"); fi
		# also its signature part alone
		s=${t##*.}
		if [ ${#s} -ge 20 ] && grep -qF -- "$s" "$RUNNER_LOG"; then WHY+=("signature of token #$n in the log"); fi
	done <"$TOKENS"
	[ "$n" -ge "$min" ] || WHY+=("only $n tokens were recorded")
	report "${prefix}log_has_no_token"
	for v in HD1 HD2 GH_SECRET STD_SECRET STD_B64 STD_HEX JWT_HS; do
		grep -qF -- "${!v}" "$RUNNER_LOG" "$CLI_ERR" && WHY+=("$v in the log")
	done
	report "${prefix}log_has_no_secret"
	if grep -qE "$san" "$RUNNER_LOG" "$CLI_ERR"; then
		fail "${prefix}sanitizer_clean" "$(grep -hE -m 3 "$san" "$RUNNER_LOG" "$CLI_ERR" | head -c 400)"
	else
		ok "${prefix}sanitizer_clean"
	fi
}
# After a failed case, take the world as it is so one failure does not cascade.
resync() {
	local h
	for h in "${!RUNS[@]}"; do RUNS[$h]=$(runs "$h"); done
	NJOBS=$(dbn jobs)
	NDEL=$(dbn deliveries)
}
# expect_none NAME STATUS HOOK|- [HEADER-REGEX] : refused with STATUS, nothing ran or was recorded
expect_none() {
	local n=$1 want=$2 hook=$3 hre=${4:-}
	[ "$CODE" = "$want" ] || WHY+=("status $CODE, want $want: $(head -c 200 "$R.body" 2>/dev/null)")
	if [ -n "$hre" ] && ! grep -qiE "$hre" "$R.hdr" 2>/dev/null; then WHY+=("no header /$hre/"); fi
	if [ "$hook" != - ]; then
		local got
		got=$(runs "$hook")
		[ "$got" = "${RUNS[$hook]:-0}" ] || WHY+=("$hook ran: mark has $got lines, want ${RUNS[$hook]:-0}")
	fi
	store_check
	[ ${#WHY[@]} -eq 0 ] || { report "$n"; resync; return; }
	report "$n"
}
# expect_run NAME HOOK [LAST-LINE] : 200, the command ran once (with LAST-LINE), one job and delivery
expect_run() {
	local n=$1 hook=$2 got
	RUNS[$hook]=$((${RUNS[$hook]:-0} + 1))
	NJOBS=$((NJOBS + 1))
	NDEL=$((NDEL + 1))
	[ "$CODE" = 200 ] || WHY+=("status $CODE, want 200: $(head -c 300 "$R.body" 2>/dev/null)")
	got=$(runs "$hook")
	[ "$got" = "${RUNS[$hook]}" ] || WHY+=("mark $hook has $got lines, want ${RUNS[$hook]}")
	if [ $# -ge 3 ] && [ "$got" -gt 0 ]; then
		local last
		last=$(tail -n 1 "$MARK_DIR/$hook")
		[ "$last" == "$3" ] || WHY+=("remote wrote '$last', want '$3'")
	fi
	store_check
	[ ${#WHY[@]} -eq 0 ] || { report "$n"; resync; return; }
	report "$n"
}
# Tokens: PyJWT (independent), hand-built (what PyJWT will not mint).
mint() { TOK=$("$PY" "$TOP/tests/tools/jwt_mint.py" "$@") && echo "$TOK" >>"$TOKENS"; }
raw() { TOK=$("$PY" "$TOP/tests/tools/jwt_raw.py" "$@") && echo "$TOK" >>"$TOKENS"; }
claims_json() { # claims_json [EXTRA-MEMBERS]: the policy's claims as raw JSON text
	local now
	now=$(date +%s)
	printf '{"iss":"%s","aud":"%s","sub":"%s","team":"platform","iat":%d,"exp":%d%s}' \
		"$ISS" "$AUD" "$SUB" "$now" $((now + 300)) "${1:-}"
}
# sign_hdrs NAME HOOK PAYLOAD [OPTIONS] : our `sign` into $T_TMP/NAME.hdrs (stderr too)
sign_hdrs() {
	local n=$1 hook=$2 pl=$3
	shift 3
	H=$T_TMP/$n.hdrs
	"$WR" sign --config "$CFG" --hook "$hook" "$@" "$pl" >"$H" 2>"$T_TMP/$n.sign.err"
	local rc=$?
	cat "$T_TMP/$n.sign.err" >>"$CLI_ERR"
	sed -n 's/^\(Authorization: Bearer\|X-Auth-Token:\) //p' "$H" >>"$TOKENS"
	sed -n 's/^# add to the URL: ?access_token=//p' "$T_TMP/$n.sign.err" >>"$TOKENS"
	return $rc
}
# jwt_post NAME HOOK TOKEN-OR-EMPTY [CURL-ARGS...] : hookdeck-signed, Bearer TOKEN
jwt_post() {
	local n=$1 hook=$2 tok=$3
	shift 3
	if [ -n "$tok" ]; then
		hd_post "$n" "$hook" "$P/small.json" -H "Authorization: Bearer $tok" "$@"
	else
		hd_post "$n" "$hook" "$P/small.json" "$@"
	fi
}

# Two daemons side by side (several instances on one store), configured by
# $T_TMP/a.json and $T_TMP/b.json; each log is appended to LOGS.
# start_as A|B : start that daemon on its own port and log; sets A_PID/A_PORT or B_*
start_as() {
	RUNNER_LOG=$T_TMP/$1.log RUNNER_PID=
	LOGS+=("$RUNNER_LOG")
	runner_start "$T_TMP/$(echo "$1" | tr AB ab).json" || { fail "start_$1" "daemon $1 did not start"; exit 1; }
	eval "$1_PID=$RUNNER_PID $1_PORT=$RUNNER_PORT"
	at_exit "kill $RUNNER_PID; wait $RUNNER_PID"
	RUNNER_PID=
}
on() { RUNNER_PORT=$(eval echo "\$$1_PORT"); } # on A|B : send to that daemon
