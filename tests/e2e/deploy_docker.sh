#!/usr/bin/env bash
# tests/e2e/deploy_docker.sh — the Dockerfile, proven without a Docker engine
# (none runs on the test machines). What it does:
#  - parses the Dockerfile (continuations, stages, exec-form JSON) with an
#    independent little parser, and checks the runtime stage's promises:
#    debian:bookworm bases, a numeric non-root USER created by the stage's own
#    useradd, EXPOSE 8080, config and state VOLUMEs, a HEALTHCHECK that runs
#    `webhook-runner healthcheck` (no curl), an ENTRYPOINT/CMD serving
#    /etc/webhook-runner/config.json, no -dev package or compiler;
#  - checks every package either stage installs exists in bookworm's apt
#    lists, that the build stage's packages are the ones providing the
#    Makefile's pkg-config modules, and that they are the ones installed here
#    (so the build below used them); that the build stage fetches CivetWeb's
#    source (`make civetweb-source`, which needs dpkg-dev's dpkg-source);
#  - runs the build stage's make commands, as written, in a fresh copy of the
#    committed tree (git archive HEAD: what CI clones; .dockerignore keeps a
#    host build out of the real context). CivetWeb's source, which `make
#    deps` fetched on this machine through apt, is copied in first, so the
#    fetch step runs but does not download again;
#  - checks the files the runtime stage copies exist, and with ldd + dpkg -S
#    that every shared library the two binaries load comes from a package the
#    runtime stage installs (directly or as an apt dependency of one);
#  - runs the freshly built binaries as uid 10001: --version, and the image's
#    HEALTHCHECK command against a daemon serving (0) and a closed port (1).
# What it cannot do: pull debian:bookworm, run apt-get in it, or start a
# container — README.md says so.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DF=$TOP/Dockerfile
[ -f "$DF" ] || { fail setup "no Dockerfile"; exit 1; }
need_tools git dpkg dpkg-query ldd pkg-config curl

# ---------------------------------------------------------------- parse
# One line per fact, "KEY<TAB>value", from the Dockerfile.
"$PY" "$TOP/tests/tools/dockerfile_facts.py" "$DF" >"$T_TMP/df" 2>"$T_TMP/df.err"
[ -s "$T_TMP/df" ] || { fail parse "cannot parse the Dockerfile: $(head -c 300 "$T_TMP/df.err")"; exit 1; }
get() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$T_TMP/df"; }
ok dockerfile_parses

[ "$(get stages)" -ge 2 ] && ok multi_stage || fail multi_stage "$(get stages) stage(s)"
expect_match build_base_is_bookworm "$(get build.base)" '^debian:bookworm(-slim)?(@sha256:[0-9a-f]+)?$'
expect_match runtime_base_is_bookworm "$(get runtime.base)" '^debian:bookworm(-slim)?(@sha256:[0-9a-f]+)?$'

# ------------------------------------------------------- runtime promises
user=$(get runtime.user)
uid=${user%%:*}
if [ -z "$user" ]; then
	fail user_not_root "no USER in the runtime stage"
elif [[ "$uid" =~ ^[0-9]+$ ]] && [ "$uid" -ne 0 ]; then
	ok user_not_root
else
	fail user_not_root "USER $user: want a numeric non-zero uid (Kubernetes' runAsNonRoot checks it)"
fi
expect_eq user_created_by_the_image "$(get runtime.useradd_uid)" "$uid"
expect_eq expose_8080 "$(get runtime.expose)" 8080
vols=$(get runtime.volume | sort | tr '\n' ' ')
expect_eq volumes_config_and_state "$vols" "/etc/webhook-runner /var/lib/webhook-runner "
hc=$(get runtime.healthcheck)
expect_match healthcheck_is_the_subcommand "$hc" '^\["webhook-runner", "healthcheck"'
ep=$(get runtime.entrypoint) cmd=$(get runtime.cmd)
argv=$("$PY" -c 'import json,sys; print(" ".join(json.loads(sys.argv[1]) + json.loads(sys.argv[2])))' "$ep" "$cmd" 2>/dev/null)
expect_eq entrypoint_serves_the_config "$argv" "webhook-runner --config /etc/webhook-runner/config.json"
expect_eq stopsignal_term "$(get runtime.stopsignal)" SIGTERM

RT_PKGS=$(get runtime.apt | sort -u)
BD_PKGS=$(get build.apt | sort -u)
bad=$(grep -E -- '-dev$|^(build-essential|gcc|g\+\+|cpp|make|pkg-config|clang|binutils)$' <<<"$RT_PKGS" | tr '\n' ' ')
if [ -z "$RT_PKGS" ]; then fail runtime_no_dev_packages "no apt-get install in the runtime stage"
elif [ -z "$bad" ]; then ok runtime_no_dev_packages
else fail runtime_no_dev_packages "build-only packages in the runtime stage: $bad"; fi

# Every package named exists in bookworm (apt's lists on this Debian 12 machine).
missing=""
for p in $RT_PKGS $BD_PKGS; do
	apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || dpkg-query -W "$p" >/dev/null 2>&1 ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then ok packages_exist_in_bookworm; else
	fail packages_exist_in_bookworm "unknown:$missing"; fi

# The build stage provides what the Makefile asks pkg-config for, and CivetWeb's header.
not_here=""
for p in $BD_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || not_here="$not_here $p"
done
if [ -z "$not_here" ]; then ok build_packages_installed_here; else
	fail build_packages_installed_here "not installed here, so the build below proves less:$not_here"; fi
owner() { # FILE -> package (merged /usr: try both spellings)
	local f r
	for f in "$1" "$(readlink -f "$1")" "/usr$(readlink -f "$1")" "${1#/usr}"; do
		r=$(dpkg -S "$f" 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$r" ] && { echo "$r"; return 0; }
	done
	return 1
}
mods=$(sed -nE 's/^PKGS[[:space:]]*:?=[[:space:]]*(.*)$/\1/p' "$TOP/Makefile")
unprovided=""
for m in $mods; do
	pc=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null)/$m.pc
	pkg=$(owner "$pc") || pkg="?"
	grep -qx "${pkg%%:*}" <<<"$BD_PKGS" || unprovided="$unprovided $m($pkg)"
done
if [ -n "$mods" ] && [ -z "$unprovided" ]; then ok build_stage_provides_makefile_libs; else
	fail build_stage_provides_makefile_libs "not from the build stage's packages:$unprovided (modules: $mods)"; fi
# CivetWeb is compiled from Debian's source: fetched by the build stage.
if get build.make | grep -q 'make civetweb-source' && grep -qx dpkg-dev <<<"$BD_PKGS"; then
	ok build_stage_fetches_civetweb_source
else fail build_stage_fetches_civetweb_source "want 'make civetweb-source' and dpkg-dev in the build stage"; fi
grep -qx 'third_party/civetweb' "$TOP/.dockerignore" && ok dockerignore_keeps_host_civetweb_out ||
	fail dockerignore_keeps_host_civetweb_out "add third_party/civetweb to .dockerignore"

# ---------------------------------------------------- the build stage's make
SRC=$T_TMP/ctx
mkdir -p "$SRC"
MAKE_CMD=$(get build.make | while IFS= read -r c; do printf '%s && ' "$c"; done)
MAKE_CMD=${MAKE_CMD% && }
WD=$(get build.workdir | tail -n 1)
if [ -z "$MAKE_CMD" ]; then
	fail build_stage_make "no make command in the build stage"
elif ! git -C "$TOP" archive HEAD | tar -x -C "$SRC"; then
	fail build_stage_make "git archive HEAD failed"
else
	[ -f "$TOP/third_party/civetweb/.debian-version" ] && cp -a "$TOP/third_party/civetweb" "$SRC/third_party/"
	echo "# build stage: (cd <fresh tree of HEAD $(git -C "$TOP" rev-parse --short HEAD)> && $MAKE_CMD)"
	# The environment of a docker build: nothing of ours leaks in (under
	# `make test SANITIZE=1`, MAKEFLAGS would carry SANITIZE=1 into it).
	if (cd "$SRC" && timeout 900 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u BUILD \
		sh -c "$MAKE_CMD") >"$T_TMP/build.log" 2>&1; then
		ok build_stage_make
	else
		fail build_stage_make "$(grep -E 'error|Error' "$T_TMP/build.log" | head -n 3 | tr '\n' ' ')"
	fi
fi

# The runtime stage's COPY --from sources exist; the binaries' libraries come
# from the runtime stage's packages (or their apt dependencies).
BINS=()
copy_ok=1
while IFS=' ' read -r from src dst; do
	[ -n "$src" ] || continue
	local_src=$SRC/${src#"$WD"/}
	if [ ! -e "$local_src" ]; then
		copy_ok=0
		fail runtime_copy_sources "COPY --from=$from $src: not there after the build"
	elif [ -x "$local_src" ] && [ "${dst%/}/" = /usr/local/bin/ ]; then
		BINS+=("$local_src")
	fi
done <<<"$(get runtime.copy_from)"
[ "$copy_ok" = 1 ] && ok runtime_copy_sources
names=$(for b in "${BINS[@]}"; do basename "$b"; done | sort | tr '\n' ' ')
expect_eq runtime_gets_both_binaries "$names" "remote-executor webhook-runner "

# apt's closure of the runtime list, from the installed packages' metadata.
closure=$("$PY" "$TOP/tests/tools/apt_closure.py" $RT_PKGS
)
lib_fail=""
lib_report=""
for b in "${BINS[@]}"; do
	out=$(ldd "$b" 2>&1)
	if grep -q 'not found' <<<"$out"; then
		lib_fail="$lib_fail $(basename "$b"): $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
		continue
	fi
	while read -r so; do
		[ -n "$so" ] || continue
		pkg=$(owner "$so") || { lib_fail="$lib_fail $so(no package)"; continue; }
		pkg=${pkg%%:*}
		if grep -qx "$pkg" <<<"$RT_PKGS"; then how=listed
		elif grep -qx "$pkg" <<<"$closure"; then how=dependency
		else lib_fail="$lib_fail $(basename "$b"):$(basename "$so")($pkg)"; continue; fi
		lib_report="$lib_report $(basename "$so")=$pkg($how)"
	done <<<"$(awk '/=>/ { print $3 } /^[[:space:]]*\/[^ ]+ \(/ { print $1 }' <<<"$out" | sort -u)"
done
echo "# libraries:$lib_report"
if [ "${#BINS[@]}" -eq 0 ]; then fail runtime_libraries_provided "no binaries to check"
elif [ -z "$lib_fail" ]; then ok runtime_libraries_provided
else fail runtime_libraries_provided "not provided by the runtime stage:$lib_fail"; fi
# And no package of the runtime list is a stranger to apt's dependency data.
unused=""
for p in $RT_PKGS; do
	grep -q "=$p(" <<<"$lib_report" || unused="$unused $p"
done
echo "# runtime packages no binary links directly or through a listed dependency:${unused:- none}"

# ------------------------------------- the image's commands, on its binaries
WRB=
for b in "${BINS[@]}"; do [ "$(basename "$b")" = webhook-runner ] && WRB=$b; done
if [ -n "$WRB" ] && [ -x "$WRB" ] && [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	as_image_user() { setpriv --reuid="$uid" --regid="${user#*:}" --clear-groups --no-new-privs -- "$@"; }
	v=$(as_image_user "$WRB" --version 2>&1)
	expect_match image_binary_runs_as_uid "$v" '^webhook-runner [0-9]'
	# A state directory owned by the image's user, a minimal config.
	ST=$T_TMP/state
	mkdir -p "$ST"
	printf 'image-test-secret-%s' "$RANDOM" >"$ST/secret"
	: >"$ST/known_hosts"
	cat >"$ST/config.json" <<EOF
{ "store": { "path": "$ST/webhook-runner.db" },
  "hooks": [ { "id": "h", "signature": { "scheme": "hookdeck", "secrets": ["file:$ST/secret"] },
    "job": { "destination": "u@127.0.0.1:1", "identity": "$ST/secret",
             "known_hosts": "$ST/known_hosts", "command": "true" } } ] }
EOF
	chown -R "$uid:${user#*:}" "$ST"
	D_PID=
	at_exit '[ -n "$D_PID" ] && kill -9 $D_PID'
	for try in 1 2 3 4 5; do
		port=$((20000 + (RANDOM * 3 + try * 733) % 40000))
		# (exec: $! must be the daemon itself, not a subshell around it)
		(exec setpriv --reuid="$uid" --regid="${user#*:}" --clear-groups --no-new-privs -- \
			"$WRB" --config "$ST/config.json" --host 127.0.0.1 --port "$port") >>"$T_TMP/img.log" 2>&1 &
		D_PID=$!
		wait_until 10 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" && break
		kill -9 "$D_PID" 2>/dev/null
		wait "$D_PID" 2>/dev/null
		D_PID=
	done
	if [ -n "$D_PID" ]; then
		# HEALTHCHECK's command, with the port this test could get (the image uses 8080).
		hc_argv=$("$PY" -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])[1:]))' "$hc")
		as_image_user "$WRB" $hc_argv --port "$port" >"$T_TMP/hc.out" 2>&1
		expect_eq image_healthcheck_healthy "$?" 0
		kill -TERM "$D_PID"
		wait "$D_PID"
		expect_eq image_daemon_stops_cleanly "$?" 0
		D_PID=
		as_image_user "$WRB" $hc_argv --port "$port" >"$T_TMP/hc.out" 2>&1
		expect_eq image_healthcheck_unhealthy "$?" 1
	else
		fail image_daemon_serves "the freshly built daemon did not serve: $(tail -n 3 "$T_TMP/img.log")"
	fi
else
	skip image_binary_runs_as_uid "needs the build above, root and setpriv"
fi
