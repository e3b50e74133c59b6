# tests/dockerfile.sh — the checks every Dockerfile of this project shares,
# proven without a Docker engine (none runs on the test machines). Sourced
# after tests/lib.sh by tests/e2e/deploy_docker.sh (Dockerfile) and
# tests/e2e/deploy_docker_relay.sh (Dockerfile.relay); each script keeps the
# checks only its image makes (ports, volumes, entrypoint, the daemon run).
#   df_parse DF           the facts of DF (tests/tools/dockerfile_facts.py);
#                         `get KEY` prints them; sets user, uid, gid
#   df_check_stages       two stages at least, debian:bookworm bases
#   df_check_user         a numeric non-root USER that the stage's useradd made
#   df_check_packages     no -dev package or compiler at runtime, every package
#                         in bookworm, the build stage's packages installed here
#                         and providing the Makefile's pkg-config modules, and
#                         CivetWeb's source fetched (dpkg-dev, .dockerignore)
#   df_build              the build stage's make, as written, in a fresh copy of
#                         the committed tree (git archive HEAD) under $SRC
#   df_runtime_bins       the runtime stage's COPY --from sources exist; the
#                         executables copied to /usr/local/bin/ into BINS
#   df_check_libraries    ldd + dpkg -S: every shared library of BINS comes from
#                         a runtime package or an apt dependency of one
#   as_image_user CMD...  CMD as the image's uid:gid (setpriv)
# Test names are $DF_PREFIX followed by the check's name (DF_PREFIX is empty
# for the runner's Dockerfile, so its names are what they always were).
DF_PREFIX=${DF_PREFIX:-}
df_parse() {
	DF=$1
	[ -f "$DF" ] || { fail "${DF_PREFIX}setup" "no $DF"; exit 1; }
	"$PY" "$TOP/tests/tools/dockerfile_facts.py" "$DF" >"$T_TMP/df" 2>"$T_TMP/df.err"
	[ -s "$T_TMP/df" ] || { fail "${DF_PREFIX}parse" "cannot parse $DF: $(head -c 300 "$T_TMP/df.err")"; exit 1; }
	ok "${DF_PREFIX}dockerfile_parses"
	user=$(get runtime.user)
	uid=${user%%:*}
	gid=${user#*:}
	RT_PKGS=$(get runtime.apt | sort -u)
	BD_PKGS=$(get build.apt | sort -u)
}
get() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$T_TMP/df"; }

df_check_stages() {
	[ "$(get stages)" -ge 2 ] && ok "${DF_PREFIX}multi_stage" || fail "${DF_PREFIX}multi_stage" "$(get stages) stage(s)"
	expect_match "${DF_PREFIX}build_base_is_bookworm" "$(get build.base)" '^debian:bookworm(-slim)?(@sha256:[0-9a-f]+)?$'
	expect_match "${DF_PREFIX}runtime_base_is_bookworm" "$(get runtime.base)" '^debian:bookworm(-slim)?(@sha256:[0-9a-f]+)?$'
}

df_check_user() {
	if [ -z "$user" ]; then
		fail "${DF_PREFIX}user_not_root" "no USER in the runtime stage"
	elif [[ "$uid" =~ ^[0-9]+$ ]] && [ "$uid" -ne 0 ]; then
		ok "${DF_PREFIX}user_not_root"
	else
		fail "${DF_PREFIX}user_not_root" "USER $user: want a numeric non-zero uid (Kubernetes' runAsNonRoot checks it)"
	fi
	expect_eq "${DF_PREFIX}user_created_by_the_image" "$(get runtime.useradd_uid)" "$uid"
}

owner() { # FILE -> package (merged /usr: try both spellings)
	local f r
	for f in "$1" "$(readlink -f "$1")" "/usr$(readlink -f "$1")" "${1#/usr}"; do
		r=$(dpkg -S "$f" 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$r" ] && { echo "$r"; return 0; }
	done
	return 1
}

df_check_packages() {
	local bad missing="" not_here="" mods m pc pkg unprovided="" p
	bad=$(grep -E -- '-dev$|^(build-essential|gcc|g\+\+|cpp|make|pkg-config|clang|binutils)$' <<<"$RT_PKGS" | tr '\n' ' ')
	if [ -z "$RT_PKGS" ]; then fail "${DF_PREFIX}runtime_no_dev_packages" "no apt-get install in the runtime stage"
	elif [ -z "$bad" ]; then ok "${DF_PREFIX}runtime_no_dev_packages"
	else fail "${DF_PREFIX}runtime_no_dev_packages" "build-only packages in the runtime stage: $bad"; fi

	# Every package named exists in bookworm (apt's lists on this Debian 12 machine).
	for p in $RT_PKGS $BD_PKGS; do
		apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || dpkg-query -W "$p" >/dev/null 2>&1 ||
			missing="$missing $p"
	done
	if [ -z "$missing" ]; then ok "${DF_PREFIX}packages_exist_in_bookworm"; else
		fail "${DF_PREFIX}packages_exist_in_bookworm" "unknown:$missing"; fi

	# The build stage provides what the Makefile asks pkg-config for, and CivetWeb's header.
	for p in $BD_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || not_here="$not_here $p"
	done
	if [ -z "$not_here" ]; then ok "${DF_PREFIX}build_packages_installed_here"; else
		fail "${DF_PREFIX}build_packages_installed_here" "not installed here, so the build below proves less:$not_here"; fi
	mods=$(sed -nE 's/^PKGS[[:space:]]*:?=[[:space:]]*(.*)$/\1/p' "$TOP/Makefile")
	for m in $mods; do
		pc=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null)/$m.pc
		pkg=$(owner "$pc") || pkg="?"
		grep -qx "${pkg%%:*}" <<<"$BD_PKGS" || unprovided="$unprovided $m($pkg)"
	done
	if [ -n "$mods" ] && [ -z "$unprovided" ]; then ok "${DF_PREFIX}build_stage_provides_makefile_libs"; else
		fail "${DF_PREFIX}build_stage_provides_makefile_libs" "not from the build stage's packages:$unprovided (modules: $mods)"; fi
	# CivetWeb is compiled from Debian's source: fetched by the build stage.
	if get build.make | grep -q 'make civetweb-source' && grep -qx dpkg-dev <<<"$BD_PKGS"; then
		ok "${DF_PREFIX}build_stage_fetches_civetweb_source"
	else fail "${DF_PREFIX}build_stage_fetches_civetweb_source" "want 'make civetweb-source' and dpkg-dev in the build stage"; fi
	grep -qx 'third_party/civetweb' "$TOP/.dockerignore" && ok "${DF_PREFIX}dockerignore_keeps_host_civetweb_out" ||
		fail "${DF_PREFIX}dockerignore_keeps_host_civetweb_out" "add third_party/civetweb to .dockerignore"
}

df_build() {
	local make_cmd
	SRC=$T_TMP/ctx
	mkdir -p "$SRC"
	make_cmd=$(get build.make | while IFS= read -r c; do printf '%s && ' "$c"; done)
	make_cmd=${make_cmd% && }
	WD=$(get build.workdir | tail -n 1)
	if [ -z "$make_cmd" ]; then
		fail "${DF_PREFIX}build_stage_make" "no make command in the build stage"
	elif ! git -C "$TOP" archive HEAD | tar -x -C "$SRC"; then
		fail "${DF_PREFIX}build_stage_make" "git archive HEAD failed"
	else
		[ -f "$TOP/third_party/civetweb/.debian-version" ] && cp -a "$TOP/third_party/civetweb" "$SRC/third_party/"
		echo "# build stage: (cd <fresh tree of HEAD $(git -C "$TOP" rev-parse --short HEAD)> && $make_cmd)"
		# The environment of a docker build: nothing of ours leaks in (under
		# `make test SANITIZE=1`, MAKEFLAGS would carry SANITIZE=1 into it).
		if (cd "$SRC" && timeout 900 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u BUILD \
			sh -c "$make_cmd") >"$T_TMP/build.log" 2>&1; then
			ok "${DF_PREFIX}build_stage_make"
		else
			fail "${DF_PREFIX}build_stage_make" "$(grep -E 'error|Error' "$T_TMP/build.log" | head -n 3 | tr '\n' ' ')"
		fi
	fi
}

df_runtime_bins() {
	local copy_ok=1 from src dst local_src
	BINS=()
	while IFS=' ' read -r from src dst; do
		[ -n "$src" ] || continue
		local_src=$SRC/${src#"$WD"/}
		if [ ! -e "$local_src" ]; then
			copy_ok=0
			fail "${DF_PREFIX}runtime_copy_sources" "COPY --from=$from $src: not there after the build"
		elif [ -x "$local_src" ] && [ "${dst%/}/" = /usr/local/bin/ ]; then
			BINS+=("$local_src")
		fi
	done <<<"$(get runtime.copy_from)"
	[ "$copy_ok" = 1 ] && ok "${DF_PREFIX}runtime_copy_sources"
}

df_check_libraries() {
	local closure lib_fail="" lib_report="" b out so pkg how unused="" p
	# apt's closure of the runtime list, from the installed packages' metadata.
	closure=$("$PY" "$TOP/tests/tools/apt_closure.py" $RT_PKGS)
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
	if [ "${#BINS[@]}" -eq 0 ]; then fail "${DF_PREFIX}runtime_libraries_provided" "no binaries to check"
	elif [ -z "$lib_fail" ]; then ok "${DF_PREFIX}runtime_libraries_provided"
	else fail "${DF_PREFIX}runtime_libraries_provided" "not provided by the runtime stage:$lib_fail"; fi
	# And no package of the runtime list is a stranger to apt's dependency data.
	for p in $RT_PKGS; do
		grep -q "=$p(" <<<"$lib_report" || unused="$unused $p"
	done
	echo "# runtime packages no binary links directly or through a listed dependency:${unused:- none}"
}

as_image_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs -- "$@"; }
