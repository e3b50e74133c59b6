#!/usr/bin/env bash
# man_pages.sh — the manual pages in man/ against the programs they describe:
#  - each page is clean under `mandoc -Tlint -Wwarning` (no output at all),
#    and its .Dt names its file (name and section);
#  - every option, subcommand and variable that each program's --help (and
#    each subcommand's) lists is an item of the page's lists
#    (tests/tools/man_check.py opts);
#  - every field the config parsers accept is an item of the (5) page, the
#    fields read from the parsers' own key tables (tests/tools/cfg_keys.py);
#    the relay's channel file in webhook-relay(8);
#  - the reader of those tables reads what the parsers enforce: each field of
#    a section with a literal path is not "unknown" to the real program, and a
#    made-up one is;
#  - the checker can fail: a page with one option or one field taken out is
#    refused, naming it;
#  - `make install DESTDIR PREFIX=/usr` puts each page, unchanged, in
#    share/man/man1, man5 or man8.
# Needs mandoc (tests/deps.sh). About a second.
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need_bins "$BUILD/webhook-runner" "$BUILD/remote-executor" "$BUILD/webhook-relay"
need_tools mandoc ssh-keygen
WR=$BUILD/webhook-runner EX=$BUILD/remote-executor RL=$BUILD/webhook-relay
M=$TOP/man
CHECK="$PY $TOP/tests/tools/man_check.py"
KEYS="$PY $TOP/tests/tools/cfg_keys.py"
PAGES="remote-executor.1 remote-executor.json.5 webhook-relay.8 webhook-runner.8 webhook-runner.json.5"

expect_eq pages_present "$(cd "$M" && ls -- *.[158] | tr '\n' ' ')" "$PAGES "

# ------------------------------------------------------------------ mandoc
for p in $PAGES; do
	n=${p%.*}
	out=$(mandoc -Tlint -Wwarning "$M/$p" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok "lint_$n"; else fail "lint_$n" "rc=$rc: ${out:0:400}"; fi
	dt=$(grep -m1 '^\.Dt ' "$M/$p")
	want=".Dt $(echo "$n" | tr '[:lower:]' '[:upper:]') ${p##*.}"
	expect_eq "dt_$n" "$dt" "$want"
	expect_eq "name_$n" "$(grep -m1 -A1 '^\.Sh NAME' "$M/$p" | tail -n1)" ".Nm $n"
done
# mandoc really lints: a page with a macro it does not know is reported.
sed 's/^\.Sh DESCRIPTION/.Sh DESCRIPTION\n.Zz bogus/' "$M/webhook-runner.8" >"$T_TMP/bad.8"
out=$(mandoc -Tlint -Wwarning "$T_TMP/bad.8" 2>&1)
expect_match lint_catches_a_bad_macro "$out" 'Zz'

# ------------------------------------------------------------------ options
helps_runner() { local s; for s in "" sign jobs replay approvals healthcheck; do "$WR" $s --help 2>&1; done; }
helps_executor() { "$EX" --help 2>&1; "$EX" serve --help 2>&1; }
helps_relay() { local s; for s in "" serve connect healthcheck; do "$RL" $s --help 2>&1; done; }
opts_case() { # NAME PAGE PROG HELPFN
	local out rc
	out=$("$4" | $CHECK opts "$M/$2" --commands "$3")
	rc=$?
	info "$1: $(echo "$out" | head -n1) options, commands and variables in --help"
	if [ "$rc" -eq 0 ]; then ok "$1"; else fail "$1" "$(echo "$out" | grep '^missing' | tr '\n' ' ')"; fi
}
opts_case options_webhook_runner webhook-runner.8 webhook-runner helps_runner
opts_case options_remote_executor remote-executor.1 remote-executor helps_executor
opts_case options_webhook_relay webhook-relay.8 webhook-relay helps_relay
# The relay's help texts hold at least what they held when this was written.
n=$(helps_relay | $CHECK opts "$M/webhook-relay.8" --commands webhook-relay | sed -n 's/^found //p')
if [ "${n:-0}" -ge 55 ]; then ok options_relay_count; else fail options_relay_count "found ${n:-none}, want >= 55"; fi

# The checker fails: take the --posix-sh item out of remote-executor.1.
grep -v '^\.It Fl \\-posix-sh' "$M/remote-executor.1" >"$T_TMP/re.1"
out=$(helps_executor | $CHECK opts "$T_TMP/re.1" --commands remote-executor)
expect_eq options_check_refuses_a_gap "$?:$(echo "$out" | grep '^missing')" "1:missing --posix-sh"
# ... and a variable (serve's RELAY_MAX_BODY) and a command (connect).
sed -e 's/^\.Pq Ev RELAY_MAX_BODY$/.Pq Ev RELAY_OTHER/' -e 's/\.Cm connect\b/.Cm other/g' "$M/webhook-relay.8" >"$T_TMP/rl.8"
out=$(helps_relay | $CHECK opts "$T_TMP/rl.8" --commands webhook-relay)
expect_eq options_check_refuses_env_and_command "$(echo "$out" | grep '^missing' | tr '\n' ' ')" \
	'missing $RELAY_MAX_BODY missing command connect '

# ------------------------------------------------------------------ fields
cd "$TOP" || exit 1
"$PY" "$TOP/tests/tools/cfg_keys.py" runner/config.c runner/hookcfg.c runner/storecfg.c \
	runner/approvalcfg.c runner/tmplparam.c >"$T_TMP/runner.keys"
expect_eq runner_keys_read "$?" 0
$KEYS executor/svccfg.c >"$T_TMP/executor.keys"
$KEYS relay/auth.c >"$T_TMP/relay.keys"
info "fields read: runner $(lines "$T_TMP/runner.keys"), executor $(lines "$T_TMP/executor.keys"), relay $(lines "$T_TMP/relay.keys")"
fields_case() { # NAME PAGE KEYFILE MIN
	local out rc n
	out=$($CHECK fields "$M/$2" <"$3")
	rc=$?
	n=$(echo "$out" | sed -n 's/^found //p')
	if [ "$rc" -eq 0 ] && [ "${n:-0}" -ge "$4" ]; then ok "$1"
	else fail "$1" "found ${n:-none} (want >= $4): $(echo "$out" | grep '^missing' | tr '\n' ' ')"; fi
}
fields_case fields_webhook_runner_json webhook-runner.json.5 "$T_TMP/runner.keys" 80
fields_case fields_remote_executor_json remote-executor.json.5 "$T_TMP/executor.keys" 15
fields_case fields_relay_channel_file webhook-relay.8 "$T_TMP/relay.keys" 5
# Every top-level section of the runner's config is one of them.
for s in server store executor log hooks slack; do
	grep -qx "runner/config.c:[0-9]* \\. $s" "$T_TMP/runner.keys" || { fail fields_top_level "no $s"; s=; break; }
done
[ -n "$s" ] && ok fields_top_level
# The checker fails: take out the item of job.identity_name.
grep -v '^\.It Cm identity_name' "$M/webhook-runner.json.5" >"$T_TMP/wr.5"
out=$($CHECK fields "$T_TMP/wr.5" <"$T_TMP/runner.keys")
expect_eq fields_check_refuses_a_gap "$?:$(echo "$out" | grep '^missing')" "1:missing field identity_name"

# The tables are the parsers' own: a listed field of a section is never
# "unknown" to the real program, a made-up one always is.
unknown_runner() { # PATH KEY -> prints yes when check-config calls KEY unknown
	local doc
	case $1 in
	.) doc="{\"$2\": 5}" ;;
	*) doc="{\"$1\": {\"$2\": {}}}" ;;
	esac
	echo "$doc" >"$T_TMP/k.json"
	"$WR" check-config "$T_TMP/k.json" 2>&1 | grep -q "unknown field \"$2\"" && echo yes || echo no
}
bad="" n=0
while read -r _ path key; do
	case $path in -|*NAME*) continue ;; esac
	n=$((n + 1))
	[ "$(unknown_runner "$path" "$key")" = no ] || bad="$bad $path.$key"
	[ "$(unknown_runner "$path" "zz_$key")" = yes ] || bad="$bad $path.zz_$key(accepted)"
done <"$T_TMP/runner.keys"
info "runner fields probed with check-config: $n"
if [ -z "$bad" ] && [ "$n" -ge 35 ]; then ok fields_are_what_check_config_accepts
else fail fields_are_what_check_config_accepts "n=$n:$bad"; fi
# The service checks the pool's fields after the required ones: a config
# that has them (a key file, an empty known_hosts), never started because
# the probed field's value {} is no valid value.
ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/xid" >/dev/null </dev/null
: >"$T_TMP/xkh"
XBASE="\"socket\": \"$T_TMP/x.sock\", \"allowed_uids\": [0], \"known_hosts\": \"$T_TMP/xkh\",
 \"identities\": {\"d\": {\"key\": \"$T_TMP/xid\", \"destinations\": [\"a@b:22\"]}}"
unknown_executor() { # PATH KEY
	local doc
	case $1 in
	config) doc="{\"$2\": {}}" ;;
	pool) doc="{$XBASE, \"pool\": {\"$2\": {}}}" ;;
	esac
	echo "$doc" >"$T_TMP/x.json"
	timeout 5 "$EX" serve --config "$T_TMP/x.json" 2>&1 | grep -q "unknown key \"$2\"" && echo yes || echo no
}
bad="" n=0
while read -r _ path key; do
	case $path in -|*NAME*) continue ;; esac
	n=$((n + 1))
	[ "$(unknown_executor "$path" "$key")" = no ] || bad="$bad $path.$key"
	[ "$(unknown_executor "$path" "zz_$key")" = yes ] || bad="$bad $path.zz_$key(accepted)"
done <"$T_TMP/executor.keys"
if [ -z "$bad" ] && [ "$n" -ge 12 ]; then ok fields_are_what_the_service_accepts
else fail fields_are_what_the_service_accepts "n=$n:$bad"; fi

# ------------------------------------------------------------------ install
DEST=$T_TMP/dest
if timeout 120 make -C "$TOP" --no-print-directory install BUILD="$BUILD" DESTDIR="$DEST" PREFIX=/usr \
	-o "$BUILD/webhook-runner" -o "$BUILD/remote-executor" -o "$BUILD/webhook-relay" >"$T_TMP/install.log" 2>&1; then
	got=$(cd "$DEST/usr/share/man" && find . -type f | sort | tr '\n' ' ')
	expect_eq install_man_layout "$got" \
		"./man1/remote-executor.1 ./man5/remote-executor.json.5 ./man5/webhook-runner.json.5 ./man8/webhook-relay.8 ./man8/webhook-runner.8 "
	same=yes
	for p in $PAGES; do
		cmp -s "$M/$p" "$DEST/usr/share/man/man${p##*.}/$p" || same="no: $p"
		[ "$(stat -c %a "$DEST/usr/share/man/man${p##*.}/$p")" = 644 ] || same="mode: $p"
	done
	expect_eq install_man_pages_unchanged "$same" yes
	# man(1) finds an installed page by name and section.
	if command -v man >/dev/null; then
		expect_eq install_man_finds_page "$(MANPATH=$DEST/usr/share/man man -w 5 webhook-runner.json 2>&1)" \
			"$DEST/usr/share/man/man5/webhook-runner.json.5"
	fi
else
	fail install_man_layout "make install failed: $(tail -n 3 "$T_TMP/install.log")"
fi

# ------------------------------------------------------------------ examples
# The (5) pages' EXAMPLES are configs the programs take: the runner's passes
# check-config (its secrets, key and paths moved into the temp dir), the
# service's is JSON with only fields its page lists.
example() { awk '/^\.Sh EXAMPLES/ { f = 1 } f && /^\.Bd/ { g = 1; next } g && /^\.Ed/ { exit } g' "$1"; }
mkdir -p "$T_TMP/ex/c"
for n in hookdeck-signing-secret jwt-key; do rand_hex 32 >"$T_TMP/ex/c/$n"; chmod 600 "$T_TMP/ex/c/$n"; done
ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/ex/key" </dev/null >/dev/null
: >"$T_TMP/ex/kh"
example "$M/webhook-runner.json.5" | sed -e "s|/run/credentials/webhook-runner.service/deploy_key|$T_TMP/ex/key|" \
	-e "s|/etc/webhook-runner/known_hosts|$T_TMP/ex/kh|" -e "s|/var/lib/webhook-runner/|$T_TMP/ex/|" >"$T_TMP/ex/c.json"
out=$(CREDENTIALS_DIRECTORY=$T_TMP/ex/c "$WR" check-config "$T_TMP/ex/c.json" 2>&1)
expect_match example_runner_config_passes_check_config "$out" 'c\.json: ok \(1 hook\)'
out=$(example "$M/remote-executor.json.5" | "$PY" -c 'import json, sys
def keys(o, p=""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield k
            if k != "identities":
                yield from keys(v)
            else:
                for i in v.values():
                    yield from keys(i)
print(" ".join(sorted(set(keys(json.load(sys.stdin))))))' 2>&1)
bad=""
for k in $out; do grep -q "^\.It Cm $k\$" "$M/remote-executor.json.5" || bad="$bad $k"; done
if [ -n "$out" ] && [ -z "$bad" ]; then ok example_executor_config_fields_listed
else fail example_executor_config_fields_listed "fields: $out; not listed:$bad"; fi
