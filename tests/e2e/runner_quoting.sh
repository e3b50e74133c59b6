#!/usr/bin/env bash
# tests/e2e/runner_quoting.sh — a parameter value reaches the command as one
# literal word, whatever it holds and whatever the target account's login
# shell is: a real daemon, real executor, real sshd, and accounts whose login
# shells are bash, dash, zsh, fish and tcsh (tests/sshd.sh SSHD_SHELL_USERS;
# as root). For every account, with and without the remote timeout(1)
# wrapper, hostile values are sent through the allowed template forms (a
# bare word, part of a word, a variable used in double quotes); the target
# must write back exactly the value, and no marker file may appear there.
# Templates that put a placeholder where a single-quoted word is not literal
# (double or single quotes, $'...', after a backslash or $, in a comment,
# in a here-document, in $(...)) are refused by check-config, naming the
# field.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
SHELLS="bash:/bin/bash dash:/bin/dash zsh:/usr/bin/zsh fish:/usr/bin/fish tcsh:/usr/bin/tcsh"
if [ "$(id -u)" -eq 0 ]; then
	SSHD_SHELL_USERS=""
	for s in $SHELLS; do SSHD_SHELL_USERS+="wrsh-${s%%:*}:${s#*:} "; done
	export SSHD_SHELL_USERS
fi
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

need_bins "$RUNNER_BIN" "$BUILD/remote-executor"
need_tools openssl curl
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
ACCOUNTS=""
if [ "$(id -u)" -eq 0 ]; then
	for s in $SHELLS; do ACCOUNTS+="wrsh-${s%%:*} "; done
else
	skip login_shells "needs root to create accounts with other login shells; only $SSH_USER"
	ACCOUNTS=$SSH_USER
fi

R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T_TMP/hd")
HD=$(cat "$T_TMP/hd")
CFG=$T_TMP/config.json
export T_TMP MARK_DIR SSHD_PORT KEY_ED25519 KNOWN_HOSTS BUILD ACCOUNTS
"$PY" "$TOP/tests/tools/quoting_config.py" "$CFG" || { fail setup "cannot write config"; exit 1; }
RUNNER_LOG=$T_TMP/runner.log
runner_start "$CFG" || { fail runner_start "webhook-runner did not start (see stderr)"; exit 1; }

# Hostile values (each a JSON string): quotes of every kind, substitutions,
# the fish and tcsh escapes, globs, history, newline-free but long. Each one
# that breaks out would run "touch $MARK_DIR/pwned".
M=$MARK_DIR
VALUES=(
	"\$(touch $M/pwned)" "\`touch $M/pwned\`" "';touch $M/pwned;#" "\\';touch $M/pwned;#"
	"\\\\';touch $M/pwned;#" "\";touch $M/pwned;#\"" "\\" "'" "\"" "\$" "\${IFS}" "!" "!!" "*" "~" "a b"
	"-n" "%s" "\$HOME" "{a,b}" "\$'\\x27';touch $M/pwned" "é ü ∑ 🐚" "; touch $M/pwned" "| touch $M/pwned"
	"& touch $M/pwned &" "\$((1+1))" "a\\\\tb"
)
# send_one N HOOK : post body N to HOOK, its answer in $R/N.{body,code}
send_one() {
	local sig
	sig=$(openssl dgst -sha256 -hmac "$HD" -binary "$P/b$1.json" | openssl base64 -A)
	curl -s -o "$R/$1.body" -w '%{http_code}' --max-time 30 -H "x-hookdeck-signature: $sig" \
		-H "Idempotency-Key: q-$1" --data-binary @"$P/b$1.json" "$(runner_url "$2")" >"$R/$1.code"
}
n=0
for acct in $ACCOUNTS; do
	for w in t n; do
		for form in word part var; do
			hook=$acct-$form-$w
			: >"$P/want.$hook"
			first=$((n + 1))
			pids=()
			for v in "${VALUES[@]}"; do
				n=$((n + 1))
				"$PY" -c 'import json,sys; sys.stdout.write(json.dumps({"v": sys.argv[1], "n": sys.argv[2]}))' \
					"$v" "$n" >"$P/b$n.json"
				if [ "$form" = part ]; then printf 'x%sy\n' "$v"; else printf '%s\n' "$v"; fi >>"$P/want.$hook"
				# four at a time (the per-destination cap); lines land in any order
				if [ ${#pids[@]} -ge 4 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
				send_one "$n" "$hook" &
				pids+=($!)
			done
			wait "${pids[@]}"
			bad=""
			for ((i = first; i <= n; i++)); do
				[ "$(cat "$R/$i.code")" = 200 ] || bad+="request $i answered $(cat "$R/$i.code") $(head -c 120 "$R/$i.body"); "
			done
			if [ -z "$bad" ] && cmp -s <(sort "$P/want.$hook") <(sort "$MARK_DIR/$hook" 2>/dev/null); then
				ok "values_literal_$hook"
			else
				fail "values_literal_$hook" "${bad}target wrote: $(diff <(sort "$P/want.$hook") <(sort "$MARK_DIR/$hook" 2>&1) 2>&1 | head -c 400)"
			fi
		done
	done
done
check no_injection_ran test ! -e "$MARK_DIR/pwned"

# ---- where a placeholder may not stand: check-config refuses, naming it -------
# refused_at NAME COMMAND CONTEXT : a one-hook config with COMMAND fails
# check-config (exit 1) with hooks[0].job.command and CONTEXT in its message
refused_at() {
	local n=$1
	"$PY" "$TOP/tests/tools/quoting_bad_config.py" "$T_TMP/bad-$n.json" "$2"
	"$RUNNER_BIN" check-config "$T_TMP/bad-$n.json" >"$R/bad-$n.out" 2>"$R/bad-$n.err"
	local rc=$?
	if [ "$rc" = 1 ] && grep -q "hooks\[0\]\.job\.command: placeholder {{v}} at byte [0-9]* is $3" "$R/bad-$n.err"; then
		ok "refused_$n"
	else
		fail "refused_$n" "exit $rc: $(head -c 300 "$R/bad-$n.err")"
	fi
}
refused_at double_quotes 'echo "deploying {{v}} now"' 'inside double quotes'
refused_at single_quotes "echo '{{v}}'" 'inside single quotes'
refused_at ansi_c "echo \$'{{v}}'" "inside"
refused_at after_dollar 'echo ${{v}}' 'directly after'
refused_at after_backslash 'echo \{{v}}' 'directly after'
refused_at comment 'true # {{v}}' 'in a comment'
refused_at heredoc "$(printf 'cat <<EOF\n{{v}}\nEOF')" 'in a here-document'
refused_at command_substitution 'echo $(echo {{v}})' 'inside'
refused_at backticks 'echo `echo {{v}}`' 'inside'
