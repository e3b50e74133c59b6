#!/usr/bin/env bash
# tests/e2e/runner_tls.sh — HTTPS and IPv6 listening, against a real daemon,
# executor and sshd, with certificates made by the openssl CLI (a root CA,
# an intermediate CA and leaf certificates for localhost/127.0.0.1/::1):
#   serve    curl verifies the chain (sent by the daemon) and the name; a
#            signed delivery over HTTPS runs its job once; a bad one runs
#            nothing and records nothing; /metrics has the expiry
#   versions TLS 1.2 and 1.3 are served; TLS 1.1 is refused by the daemon
#            (its log says so); plain HTTP on the TLS port gets no answer; a
#            stalled handshake is cut at request_timeout_ms
#   flags    --tls-cert/--tls-key (relative paths) turn TLS on; one alone is
#            refused
#   refuse   a missing, unreadable, non-PEM, expired, not yet valid or
#            mismatched certificate or key, an encrypted key (no prompt even
#            on a terminal): the daemon refuses to start, says which file and
#            why, and has created no store; check-config says the same. A
#            certificate that expires within 14 days is a warning
#   renew    new files at the same paths: SIGHUP says "restart"; a restart
#            serves them
#   probe    `webhook-runner healthcheck --url https://…` against the daemon,
#            a plain-HTTP server, and a server that never handshakes
#   reload   SIGHUP with other TLS files keeps serving and says "restart";
#            back to the start files, it says nothing
#   ipv6     listen on [::1] (config and --host), plain and TLS
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools openssl curl sqlite3
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
C=$T_TMP/pki R=$T_TMP/r
mkdir -p "$C" "$R"

# ------------------------------------------------------------------ the PKI
# root CA -> intermediate CA -> leaf (localhost, 127.0.0.1, ::1). The
# daemon's certificate file holds leaf + intermediate; clients trust the
# root only, so a verified connection proves the chain was sent.
pki() {
	local o=$C/openssl.log
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj /CN=wr-test-root -keyout "$C/root.key" -out "$C/root.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >>"$o" 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=wr-test-inter \
		-keyout "$C/inter.key" -out "$C/inter.csr" >>"$o" 2>&1 &&
	printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n' >"$C/inter.ext" &&
	openssl x509 -req -in "$C/inter.csr" -CA "$C/root.pem" -CAkey "$C/root.key" -CAcreateserial \
		-days 30 -extfile "$C/inter.ext" -out "$C/inter.pem" >>"$o" 2>&1 &&
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' >"$C/leaf.ext" &&
	for n in leaf other; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
			-keyout "$C/$n.key" -out "$C/$n.csr" >>"$o" 2>&1 &&
		openssl x509 -req -in "$C/$n.csr" -CA "$C/inter.pem" -CAkey "$C/inter.key" -CAcreateserial \
			-days 30 -extfile "$C/leaf.ext" -out "$C/$n.pem" >>"$o" 2>&1 || return 1
	done &&
	cat "$C/leaf.pem" "$C/inter.pem" >"$C/chain.pem" &&
	cat "$C/other.pem" "$C/inter.pem" >"$C/other-chain.pem"
}
pki || { fail pki "openssl: $(tail -n 3 "$C/openssl.log")"; exit 1; }
ok pki_made_by_openssl_cli

SECRET=$T_TMP/hookdeck.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET"
CMD="echo {{name}} >>$MARK_DIR/{{name}}"
# tls_cfg FILE STORE [LISTEN] [TLS_CERT TLS_KEY] : written, not checked (the
# refusals below are configs check-config must refuse)
tls_cfg() {
	mkcfg "$1" "$(cat <<JSON
    { "id": "t",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },
      "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity": "$KEY_ED25519",
               "known_hosts": "$KNOWN_HOSTS", "command": "$CMD",
               "params": { "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" } },
               "timeout_s": 20, "connect_timeout_s": 3, "handshake_timeout_s": 5 } }
JSON
)" store="$2" listen="${3:-127.0.0.1:8080}" threads=6 request_timeout_ms=1500 max_jobs=2 \
		tls_cert="${4:-}" tls_key="${5:-}" check=no
}
config_ok() { "$RUNNER_BIN" check-config "$1" >/dev/null; }
# deliver TAG NAME [curl args...] : sign our own way, post; sets CODE
deliver() {
	local tag=$1 name=$2
	shift 2
	printf '{"name":"%s"}' "$name" >"$R/$tag.json"
	send "$tag" t "$R/$tag.json" "tls-$tag" "$@"
}

# ------------------------------------------------------------------ serve
CFG=$T_TMP/tls.json DB=$T_TMP/tls.db
tls_cfg "$CFG" "$DB" 127.0.0.1:8080 "$C/chain.pem" "$C/leaf.key"
RUNNER_SCHEME=https RUNNER_CURL=(--cacert "$C/root.pem")
RUNNER_LOG=$T_TMP/tls.log
check check_config_accepts_tls config_ok "$CFG"
runner_start "$CFG" || { fail runner_start "webhook-runner did not start over TLS"; exit 1; }
P=$RUNNER_PORT
grep -q '"tls":"on"\|tls=on' "$RUNNER_LOG" && ok log_says_tls_on || fail log_says_tls_on "$(grep listening "$RUNNER_LOG")"
code=$(curl -s -o "$R/h.body" -w '%{http_code}' --max-time 5 --cacert "$C/root.pem" "https://localhost:$P/healthz")
expect_eq healthz_over_verified_tls "$code" 200
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/root.pem" "https://127.0.0.1:$P/healthz")
expect_eq ip_address_name_verified "$code" 200
# The chain: trusting the root only works because the daemon sends the
# intermediate; openssl s_client shows two certificates in the chain.
depth=$(openssl s_client -connect "127.0.0.1:$P" -servername localhost -showcerts </dev/null 2>/dev/null |
	grep -c 'BEGIN CERTIFICATE')
expect_eq chain_sent_leaf_and_intermediate "$depth" 2
vr=$(openssl s_client -connect "127.0.0.1:$P" -CAfile "$C/root.pem" -verify_return_error </dev/null 2>&1 |
	grep -m1 'Verify return code')
expect_match chain_verifies_to_the_root "$vr" 'Verify return code: 0 \(ok\)'
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "https://127.0.0.1:$P/healthz")
rc=$?
[ "$code" = 000 ] && [ "$rc" = 60 ] && ok untrusted_client_refuses || fail untrusted_client_refuses "code $code rc $rc"

deliver good tls-good
expect_eq signed_delivery_over_tls_200 "$CODE" 200
expect_eq signed_delivery_ran_once "$(runs tls-good)" 1
deliver replay tls-good-dup
deliver replay tls-good-dup
expect_eq replay_over_tls_still_once "$(runs tls-good-dup)" 1
BEFORE=$(counts)
printf '{"name":"tls-bad"}' >"$R/bad.json"
printf 'x-hookdeck-signature: %s\n' "$(printf 'forged' | base64)" >"$R/bad.hdrs"
CODE=$(post t "$R/bad.hdrs" "$R/bad.json" "$R/bad" --max-time 10)
if [ "$CODE" = 401 ] && [ "$(runs tls-bad)" = 0 ] && [ "$(counts)" = "$BEFORE" ]; then ok bad_signature_over_tls_401_nothing
else fail bad_signature_over_tls_401_nothing "code $CODE runs $(runs tls-bad) store $BEFORE -> $(counts)"; fi

# The expiry as a gauge, equal to what openssl reads from the leaf.
curl -s --max-time 5 --cacert "$C/root.pem" -o "$R/metrics.prom" "https://localhost:$P/metrics"
got=$(sed -n 's/^webhook_runner_tls_certificate_expiry_timestamp_seconds \([0-9]*\)$/\1/p' "$R/metrics.prom")
want=$(date -u -d "$(openssl x509 -in "$C/leaf.pem" -noout -enddate | cut -d= -f2)" +%s)
expect_eq metrics_certificate_expiry "$got" "$want"
if command -v promtool >/dev/null; then
	promtool check metrics <"$R/metrics.prom" >"$R/promtool.out" 2>&1 && ok metrics_with_tls_promtool_clean ||
		fail metrics_with_tls_promtool_clean "$(head -n 3 "$R/promtool.out" | tr '\n' '|')"
fi

# ------------------------------------------------------------------ versions
for v in 1.2 1.3; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/root.pem" \
		--tlsv$v --tls-max $v "https://localhost:$P/healthz")
	expect_eq "tls${v/./}_served" "$code" 200
done
proto=$(openssl s_client -connect "127.0.0.1:$P" </dev/null 2>/dev/null | grep -m1 -o 'TLSv1\.3')
expect_eq tls13_negotiated_by_default "$proto" TLSv1.3
# TLS 1.1: an OpenSSL client at security level 0 does offer it; the daemon
# must be the one to say no (its log shows why), not our client.
n0=$(grep -c 'unsupported protocol' "$RUNNER_LOG")
out=$(openssl s_client -connect "127.0.0.1:$P" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1)
rc=$?
wait_until 3 bash -c "[ \$(grep -c 'unsupported protocol' '$RUNNER_LOG') -gt $n0 ]"
n1=$(grep -c 'unsupported protocol' "$RUNNER_LOG")
if [ "$rc" -ne 0 ] && [ "$n1" -gt "$n0" ] && ! grep -q 'Cipher is [A-Z]' <<<"$out"; then ok tls11_refused_by_the_daemon
else fail tls11_refused_by_the_daemon "s_client rc $rc, daemon log lines $n0 -> $n1: $(grep -m2 -E 'alert|Cipher' <<<"$out")"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P/healthz")
rc=$?
[ "$code" = 000 ] && [ "$rc" -ne 0 ] && ok plain_http_on_tls_port_no_answer || fail plain_http_on_tls_port_no_answer "code $code rc $rc"
# A client that connects and never finishes the handshake is cut off.
t=$("$PY" "$TOP/tests/tools/tls_stalled_hello.py" "$P"
)
if [[ "$t" =~ ^[0-9.]+$ ]] && "$PY" -c "import sys; sys.exit(not (1.2 <= float('$t') <= 4.0))"; then
	ok stalled_handshake_cut_at_request_timeout
else fail stalled_handshake_cut_at_request_timeout "closed after $t s (request_timeout_ms 1500)"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/root.pem" "https://localhost:$P/healthz")
expect_eq still_serving_after_bad_clients "$code" 200

# ------------------------------------------------------------------ probe
out=$("$RUNNER_BIN" healthcheck --url "https://127.0.0.1:$P/healthz" 2>&1)
rc=$?
[ "$rc" = 0 ] && [[ "$out" == healthy:* ]] && ok healthcheck_https || fail healthcheck_https "rc $rc: $out"
out=$("$RUNNER_BIN" healthcheck --url "http://127.0.0.1:$P/healthz" 2>&1)
rc=$?
[ "$rc" = 1 ] && ok healthcheck_http_on_tls_port_unhealthy || fail healthcheck_http_on_tls_port_unhealthy "rc $rc: $out"

# ------------------------------------------------------------------ reload
cp "$CFG" "$T_TMP/tls.orig.json"
tls_cfg "$CFG" "$DB" 127.0.0.1:8080 "$C/other-chain.pem" "$C/other.key"
kill -HUP "$RUNNER_PID"
wait_until 5 bash -c "[ \$(grep -c 'server.tls_cert/tls_key' '$RUNNER_LOG') -gt 0 ]" &&
	ok reload_says_tls_needs_restart || fail reload_says_tls_needs_restart "$(tail -n 3 "$RUNNER_LOG")"
serial=$(openssl s_client -connect "127.0.0.1:$P" </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null)
want=$(openssl x509 -in "$C/leaf.pem" -noout -serial)
expect_eq reload_keeps_serving_the_old_certificate "$serial" "$want"
# Back to the files it started with: nothing to restart for, nothing said.
cp "$T_TMP/tls.orig.json" "$CFG"
n0=$(grep -c 'server.tls_cert/tls_key' "$RUNNER_LOG")
kill -HUP "$RUNNER_PID"
wait_until 5 bash -c "[ \$(grep -c '\"reload\".*ok\|reload result=ok' '$RUNNER_LOG') -ge 2 ]"
expect_eq reload_back_to_start_files_quiet "$(grep -c 'server.tls_cert/tls_key' "$RUNNER_LOG")" "$n0"
runner_stop

# ------------------------------------------------------------------ renew
# A renewal at the same paths (what certbot does), then SIGHUP: the daemon
# cannot swap certificates while serving, so it must say "restart".
mkdir -p "$T_TMP/live"
cp "$C/chain.pem" "$T_TMP/live/fullchain.pem"
cp "$C/leaf.key" "$T_TMP/live/privkey.pem"
CFG=$T_TMP/renew.json DB=$T_TMP/renew.db RUNNER_LOG=$T_TMP/renew.log
tls_cfg "$CFG" "$DB" 127.0.0.1:8080 "$T_TMP/live/fullchain.pem" "$T_TMP/live/privkey.pem"
runner_start "$CFG" || { fail renew_start "$(tail -n 3 "$RUNNER_LOG")"; exit 1; }
sleep 1.1 # a new mtime, even on a coarse clock
cp "$C/other-chain.pem" "$T_TMP/live/fullchain.pem.new" && mv "$T_TMP/live/fullchain.pem.new" "$T_TMP/live/fullchain.pem"
cp "$C/other.key" "$T_TMP/live/privkey.pem"
kill -HUP "$RUNNER_PID"
wait_until 5 grep -q 'server.tls_cert/tls_key' "$RUNNER_LOG" && ok renewed_files_reload_says_restart ||
	fail renewed_files_reload_says_restart "$(tail -n 3 "$RUNNER_LOG")"
runner_stop
runner_start "$CFG" || fail renew_restart "$(tail -n 3 "$RUNNER_LOG")"
serial=$(openssl s_client -connect "127.0.0.1:$RUNNER_PORT" </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null)
want=$(openssl x509 -in "$C/other.pem" -noout -serial)
expect_eq restart_serves_the_renewed_certificate "$serial" "$want"
runner_stop

# ------------------------------------------------------------------ flags
CFG=$T_TMP/plain.json DB=$T_TMP/plain.db
tls_cfg "$CFG" "$DB"
RUNNER_LOG=$T_TMP/flags.log
cp "$C/chain.pem" "$C/leaf.key" "$T_TMP/"
pushd "$T_TMP" >/dev/null || exit 1
runner_start "$CFG" --tls-cert chain.pem --tls-key leaf.key &&
	ok cli_flags_turn_tls_on || fail cli_flags_turn_tls_on "$(tail -n 3 "$RUNNER_LOG")"
popd >/dev/null || exit 1
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$C/root.pem" \
	"https://localhost:$RUNNER_PORT/healthz")
expect_eq cli_flags_serve_https "$code" 200
runner_stop
out=$(timeout 10 "$RUNNER_BIN" --config "$CFG" --port 1 --tls-cert "$C/chain.pem" 2>&1)
rc=$?
[ "$rc" = 1 ] && [[ "$out" == *"go together"* ]] && ok cli_tls_cert_alone_refused ||
	fail cli_tls_cert_alone_refused "rc $rc: $out"
out=$(timeout 10 "$RUNNER_BIN" --config "$CFG" --port 1 --tls-key "$C/leaf.key" 2>&1)
rc=$?
[ "$rc" = 1 ] && [[ "$out" == *"go together"* ]] && ok cli_tls_key_alone_refused ||
	fail cli_tls_key_alone_refused "rc $rc: $out"

# ------------------------------------------------------------------ refuse
mkdir -p "$C/adir"
printf 'not a certificate\n' >"$C/garbage.pem"
# NAME CERT KEY WANT-REGEX
refuse() {
	local name=$1 cert=$2 key=$3 want=$4 cfg=$T_TMP/ref-$1.json store=$T_TMP/ref-$1.db out rc
	tls_cfg "$cfg" "$store" 127.0.0.1:1 "$cert" "$key"
	out=$(timeout 10 "$RUNNER_BIN" --config "$cfg" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && [[ "$out" =~ $want ]] && [ ! -e "$store" ]; then ok "refuse_$name"
	else fail "refuse_$name" "rc $rc, store created: $([ -e "$store" ] && echo yes || echo no): $out"; fi
	out=$("$RUNNER_BIN" check-config "$cfg" 2>&1)
	rc=$?
	[ "$rc" = 1 ] && [[ "$out" =~ $want ]] && ok "check_config_refuses_$name" ||
		fail "check_config_refuses_$name" "rc $rc: $out"
}
refuse missing_cert "$C/nope.pem" "$C/leaf.key" "server\.tls_cert: cannot read .*/nope\.pem: No such file"
refuse missing_key "$C/chain.pem" "$C/nope.key" "server\.tls_key: cannot read .*/nope\.key: No such file"
refuse garbage_cert "$C/garbage.pem" "$C/leaf.key" "server\.tls_cert: .*garbage\.pem: not a usable PEM certificate"
refuse key_is_a_directory "$C/chain.pem" "$C/adir" "server\.tls_key: .*adir: not a usable PEM private key"
refuse cert_given_as_key "$C/chain.pem" "$C/chain.pem" "server\.tls_key: .*chain\.pem: not a usable PEM private key"
refuse key_of_another_cert "$C/chain.pem" "$C/other.key" "server\.tls_key: .*other\.key does not belong to the certificate"
# Certificates with chosen dates, signed by the intermediate (Debian's
# python3-cryptography: openssl x509 -req here cannot back-date).
dated() { # NAME NOT_BEFORE_DAYS NOT_AFTER_DAYS (relative to now)
	"$PY" "$TOP/tests/tools/dated_cert.py" "$C" "$1" "$2" "$3"
}
if dated expired -30 -1 && dated future 1 30 && dated soon -1 5; then
	refuse expired_cert "$C/expired.pem" "$C/expired.key" "server\.tls_cert: .*expired\.pem: expired on 20[0-9-]+ "
	refuse not_yet_valid_cert "$C/future.pem" "$C/future.key" "server\.tls_cert: .*future\.pem: not valid before 20"
	CFG=$T_TMP/soon.json DB=$T_TMP/soon.db RUNNER_LOG=$T_TMP/soon.log
	tls_cfg "$CFG" "$DB" 127.0.0.1:8080 "$C/soon.pem" "$C/soon.key"
	if runner_start "$CFG"; then
		line=$(grep '"event":"tls"\|warn tls ' "$RUNNER_LOG")
		expect_match expiring_soon_warned "$line" 'warn.*days_left[=":]+[45]\b.*renew it'
		runner_stop
	else fail expiring_soon_warned "did not start: $(tail -n 2 "$RUNNER_LOG")"; fi
else
	fail dated_certs "python3-cryptography could not make them"
fi
grep -Eq 'info tls .*days_left=(29|30)( |$)' "$T_TMP/tls.log" && ok valid_cert_logged_at_info ||
	fail valid_cert_logged_at_info "$(grep -m1 'tls' "$T_TMP/tls.log")"
# An encrypted key is refused at once, even with a terminal to prompt on.
openssl pkey -in "$C/leaf.key" -aes256 -passout pass:sesame -out "$C/enc.key" 2>/dev/null
refuse encrypted_key "$C/chain.pem" "$C/enc.key" "server\.tls_key: .*enc\.key is encrypted"
tls_cfg "$T_TMP/enc.json" "$T_TMP/enc.db" 127.0.0.1:1 "$C/chain.pem" "$C/enc.key"
t0=$(now_ms)
out=$(timeout 10 script -qec "$RUNNER_BIN check-config $T_TMP/enc.json" /dev/null </dev/null 2>&1)
rc=$? dt=$(($(now_ms) - t0))
if [ "$rc" = 1 ] && [[ "$out" == *"is encrypted"* ]] && [[ "$out" != *"pass phrase"* ]]; then
	ok encrypted_key_no_prompt_on_a_tty
else fail encrypted_key_no_prompt_on_a_tty "rc $rc after $dt ms: $(tr -d '\r' <<<"$out" | head -c 300)"; fi

if [ "$(id -u)" != 0 ]; then
	cp "$C/leaf.key" "$C/locked.key" && chmod 000 "$C/locked.key"
	refuse unreadable_key "$C/chain.pem" "$C/locked.key" "server\.tls_key: cannot read .*locked\.key: Permission denied"
else
	skip refuse_unreadable_key "root reads any file"
fi

# ------------------------------------------------------------------ probe peers
# A plain HTTP server and a server that accepts but never speaks TLS.
"$PY" "$TOP/tests/tools/probe_peers.py" "$T_TMP/peers" &
PEERS_PID=$!
at_exit "kill $PEERS_PID"
wait_until 5 test -s "$T_TMP/peers" || fail probe_peers "did not start"
read -r HP MP <"$T_TMP/peers"
out=$("$RUNNER_BIN" healthcheck --url "https://127.0.0.1:$HP/" 2>&1)
rc=$?
[ "$rc" = 1 ] && [[ "$out" == *"TLS handshake:"* ]] && ok healthcheck_https_to_plain_server_says_handshake ||
	fail healthcheck_https_to_plain_server_says_handshake "rc $rc: $out"
t0=$(now_ms)
out=$("$RUNNER_BIN" healthcheck --url "https://127.0.0.1:$MP/" 2>&1)
rc=$? dt=$(($(now_ms) - t0))
[ "$rc" = 1 ] && [[ "$out" == *"TLS handshake: no answer within 3000 ms"* ]] && [ "$dt" -lt 6000 ] &&
	ok healthcheck_https_silent_server_bounded || fail healthcheck_https_silent_server_bounded "rc $rc ${dt} ms: $out"

# ------------------------------------------------------------------ ipv6
if ! ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	skip ipv6 "no ::1 on lo"
	exit 0
fi
v6port() { "$PY" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])'; }
v6up() { curl -s -g -o /dev/null --max-time 1 "$@"; }
CFG=$T_TMP/v6.json DB=$T_TMP/v6.db
V6P=$(v6port)
tls_cfg "$CFG" "$DB" "[::1]:$V6P"
check check_config_accepts_ipv6 config_ok "$CFG"
"$RUNNER_BIN" --config "$CFG" >>"$T_TMP/v6.log" 2>&1 &
V6PID=$!
at_exit "kill $V6PID"
wait_until 10 v6up "http://[::1]:$V6P/healthz" && ok ipv6_listen_from_config ||
	fail ipv6_listen_from_config "$(tail -n 3 "$T_TMP/v6.log")"
RUNNER_SCHEME=http RUNNER_CURL=(-g) RUNNER_PORT=$V6P
runner_url() { echo "http://[::1]:$RUNNER_PORT/hooks/$1"; }
deliver v6 tls-v6
expect_eq ipv6_signed_delivery_runs "$CODE/$(runs tls-v6)" 200/1
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$V6P/healthz")
expect_eq ipv6_only_not_on_ipv4 "$code" 000
kill "$V6PID"
wait "$V6PID" 2>/dev/null
V6P=$(v6port)
"$RUNNER_BIN" --config "$CFG" --host ::1 --port "$V6P" --tls-cert "$C/chain.pem" --tls-key "$C/leaf.key" \
	>>"$T_TMP/v6.log" 2>&1 &
V6PID=$!
at_exit "kill $V6PID"
wait_until 10 v6up --cacert "$C/root.pem" "https://[::1]:$V6P/healthz" && ok ipv6_tls_from_flags ||
	fail ipv6_tls_from_flags "$(tail -n 3 "$T_TMP/v6.log")"
out=$("$RUNNER_BIN" healthcheck --url "https://[::1]:$V6P/healthz" 2>&1)
[ $? = 0 ] && ok healthcheck_https_ipv6 || fail healthcheck_https_ipv6 "$out"
kill "$V6PID"
wait "$V6PID" 2>/dev/null
