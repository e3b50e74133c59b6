#!/usr/bin/env bash
# tests/e2e/deb.sh — the Debian package (`make deb`, packaging/deb/), built
# from $BUILD's binaries and installed into a clean Debian 12:
#  - the .deb: its name, Version (runner/version.h), Architecture (dpkg
#    --print-architecture), Depends naming every package that ships a library
#    the binaries need (found here independently: readelf's NEEDED, the
#    loader's path, dpkg -S), the files (programs, every unit of systemd/ with
#    ExecStart= in /usr/bin, the sysusers file, the example config as the one
#    conffile, docs, copyright, changelog.Debian.gz, man pages gzipped);
#  - lintian: no E: line (warnings are listed as # info);
#  - mkdeb.sh refuses a sanitizer build, saying so, and writes no .deb;
#  - a minbase bookworm root made by mmdebstrap from this machine's Debian
#    mirror (/etc/apt/sources.list*), cached as a tar (DEB_ROOT_CACHE,
#    ${XDG_CACHE_HOME:-~/.cache}/webhook-runner/; remade after 7 days) with
#    the .debs apt fetched beside it; in a chroot of a fresh copy:
#    `apt-get install ./webhook-runner_*.deb` resolves the dependencies from
#    the archive, no library is missing (ldd), --version, check-config of the
#    installed example with its credentials (and refused without them),
#    --help of the other two, man pages, units, the accounts postinst made,
#    nothing enabled, `systemctl enable` works offline; remove keeps the
#    conffile, purge removes it and keeps what the operator added.
# The one test that leaves loopback: apt and mmdebstrap reach the Debian
# archive (bounded: mmdebstrap 600 s, apt-get 300 s). Without root, or with
# the archive unreachable, the chroot part says skip and why. A sanitizer
# build is not packaged (the release pass runs this test).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

need_tools dpkg dpkg-deb dpkg-shlibdeps readelf ldconfig lintian mmdebstrap openssl flock
for p in remote-executor webhook-runner webhook-relay; do need_bins "$BUILD/$p"; done
if readelf -dW "$BUILD/webhook-runner" | grep -Eq 'NEEDED.*\[lib(asan|ubsan)'; then
	skip deb "$BUILD holds sanitizer binaries; the package is built from the release build, tested in that pass"
	exit 0
fi
VERSION=$(sed -n 's/^#define RUNNER_VERSION "\(.*\)"$/\1/p' "$TOP/runner/version.h")
ARCH=$(dpkg --print-architecture)

# ------------------------------------------------------------ make deb
OUT=$T_TMP/out
t0=$(now_ms)
if timeout 300 make -C "$TOP" --no-print-directory deb BUILD="$BUILD" DEB_OUT="$OUT" \
	-o "$BUILD/remote-executor" -o "$BUILD/webhook-runner" -o "$BUILD/webhook-relay" \
	>"$T_TMP/mkdeb.log" 2>&1; then
	ok make_deb_runs
else
	fail make_deb_runs "$(tail -n 5 "$T_TMP/mkdeb.log" | tr '\n' ' ')"
	exit 1
fi
info "make deb: $(($(now_ms) - t0)) ms"
DEB=$OUT/webhook-runner_${VERSION}-1_${ARCH}.deb
expect_eq deb_file_name "$(cd "$OUT" && ls ./*.deb | tr '\n' ' ')" "./$(basename "$DEB") "
expect_eq deb_last_line_is_the_path "$(tail -n 1 "$T_TMP/mkdeb.log")" "$DEB"
[ -f "$DEB" ] || exit 1
field() { dpkg-deb -f "$DEB" "$1"; }
expect_eq deb_package "$(field Package)" webhook-runner
expect_eq deb_version_from_version_h "$(field Version)" "$VERSION-1"
expect_eq deb_architecture "$(field Architecture)" "$ARCH"
DEPENDS=$(field Depends)
info "Depends: $DEPENDS"
# Every package shipping a library the binaries load, found without dpkg-shlibdeps.
libpkgs=$(for p in remote-executor webhook-runner webhook-relay; do
	readelf -dW "$BUILD/$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
done | sort -u | while read -r so; do
	path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64|AArch64|64bit/ { print $NF; exit }')
	[ -n "$path" ] || path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1
done | sort -u | tr '\n' ' ')
missing=""
for p in $libpkgs; do [[ ", $DEPENDS," == *", $p "* ]] || missing="$missing $p"; done
if [ -z "$libpkgs" ]; then
	fail deb_depends_cover_libraries "found no library package for the binaries"
elif [ -z "$missing" ]; then
	ok deb_depends_cover_libraries
else
	fail deb_depends_cover_libraries "Depends lacks$missing (libraries from: $libpkgs)"
fi
expect_match deb_depends_sysusers "$DEPENDS" '(^|, )systemd \| systemd-sysusers($|,)'
expect_match deb_depends_versioned "$DEPENDS" 'libc6 \(>= [0-9.]+\)'

contents=$(dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }')
has() { # NAME MODE PATH
	if grep -qxF -e "$2 root/root ./$3" <<<"$contents"; then ok "$1"; else
		fail "$1" "no $2 root/root ./$3 in the package"; fi
}
for p in remote-executor webhook-runner webhook-relay; do has "deb_has_$p" -rwxr-xr-x "usr/bin/$p"; done
units_want=$(cd "$TOP/systemd" && ls ./*.service | sed 's|^\./||' | tr '\n' ' ')
units_got=$(grep -o '\./lib/systemd/system/[^/]*\.service$' <<<"$contents" | sed 's|.*/||' | sort | tr '\n' ' ')
expect_eq deb_units_all_of_systemd "$units_got" "$units_want"
has deb_has_sysusers -rw-r--r-- usr/lib/sysusers.d/webhook-exec.conf
has deb_has_example_config -rw-r--r-- etc/webhook-runner/config.json.example
for d in copyright changelog.Debian.gz README.md.gz ARCHITECTURE.md.gz; do
	has "deb_has_doc_$d" -rw-r--r-- "usr/share/doc/webhook-runner/$d"
done
X=$T_TMP/x
dpkg-deb -R "$DEB" "$X"
expect_eq deb_conffiles "$(cat "$X/DEBIAN/conffiles")" /etc/webhook-runner/config.json.example
expect_eq deb_units_execstart_in_usr_bin \
	"$(grep -h '^ExecStart=' "$X"/lib/systemd/system/*.service | grep -vc '^ExecStart=/usr/bin/')" 0
expect_eq deb_sysusers_is_the_repository_one "$(cmp "$TOP/systemd/webhook-exec.sysusers" \
	"$X/usr/lib/sysusers.d/webhook-exec.conf" && echo same)" same
expect_eq deb_changelog_version "$(zcat "$X/usr/share/doc/webhook-runner/changelog.Debian.gz" | head -n 1)" \
	"webhook-runner ($VERSION-1) bookworm; urgency=medium"
expect_eq deb_md5sums_match "$(cd "$X" && md5sum --quiet -c DEBIAN/md5sums 2>&1 && echo match)" match
expect_eq deb_binaries_stripped "$(for p in "$X"/usr/bin/*; do readelf -SW "$p" | grep -c '\.debug_info'; done | sort -u)" 0
# Man pages: whatever man/ holds, gzipped, none left plain.
pages=$(cd "$TOP" && ls man/*.[0-9] 2>/dev/null)
if [ -z "$pages" ]; then
	skip deb_man_pages "no man/*.[0-9] pages in the tree yet"
else
	missing=""
	for m in $pages; do
		b=$(basename "$m"); s=${b##*.}
		[ -f "$X/usr/share/man/man$s/$b.gz" ] || missing="$missing $b"
	done
	if [ -z "$missing" ]; then ok deb_man_pages; else fail deb_man_pages "not packaged as .gz:$missing"; fi
	expect_eq deb_man_pages_all_gzipped \
		"$(find "$X/usr/share/man" -type f ! -name '*.gz' | wc -l | tr -d ' ')" 0
fi

# ------------------------------------------------------------------ lintian
# One lintian run (its start-up is most of its time) over the package and
# the control: a copy named webhook-runner-broken without its copyright
# file, which must be an error.
B=$T_TMP/broken
cp -a "$X" "$B" && rm -f "$B/usr/share/doc/webhook-runner/copyright" &&
	sed -i '\|usr/share/doc/webhook-runner/copyright$|d' "$B/DEBIAN/md5sums" &&
	sed -i 's/^Package: webhook-runner$/Package: webhook-runner-broken/' "$B/DEBIAN/control"
dpkg-deb --root-owner-group --build "$B" "$T_TMP/broken.deb" >/dev/null 2>&1
t0=$(now_ms)
timeout 300 lintian --allow-root --no-tag-display-limit "$DEB" "$T_TMP/broken.deb" >"$T_TMP/lintian.log" 2>&1
info "lintian: $(($(now_ms) - t0)) ms, $(grep -c '^W: webhook-runner: ' "$T_TMP/lintian.log") warnings"
grep '^W: webhook-runner: ' "$T_TMP/lintian.log" | sed 's/^/# info lintian /'
errs=$(grep '^E: webhook-runner: ' "$T_TMP/lintian.log")
if [ -n "$errs" ]; then
	fail lintian_no_errors "$(head -n 5 <<<"$errs" | tr '\n' ' ')"
elif grep -q '^E: webhook-runner-broken: no-copyright-file' "$T_TMP/lintian.log"; then
	ok lintian_no_errors
	ok lintian_sees_an_error
else
	fail lintian_sees_an_error "no E: no-copyright-file for the broken copy: $(tail -n 3 "$T_TMP/lintian.log" | tr '\n' ' ')"
fi

# ------------------------------------------------ refuses a sanitizer build
S=$T_TMP/sanbuild
mkdir -p "$S" "$T_TMP/sanout"
cp "$BUILD/remote-executor" "$BUILD/webhook-relay" "$S/"
printf 'int main(void) { return 0; }\n' >"$T_TMP/san.c"
if cc -fsanitize=address -o "$S/webhook-runner" "$T_TMP/san.c" 2>"$T_TMP/san.err"; then
	if sh "$TOP/packaging/deb/mkdeb.sh" "$S" "$T_TMP/sanout" >"$T_TMP/san.out" 2>&1; then
		fail deb_refuses_sanitizer_build "mkdeb.sh packaged an ASan binary"
	else
		expect_match deb_refuses_sanitizer_build "$(cat "$T_TMP/san.out")" \
			"webhook-runner is a sanitizer build; package the release build"
	fi
	expect_eq deb_refused_writes_nothing "$(ls "$T_TMP/sanout" | wc -l | tr -d ' ')" 0
else
	fail deb_refuses_sanitizer_build "cannot build an ASan program: $(head -c 200 "$T_TMP/san.err")"
fi

# ------------------------------------------------------- a clean Debian 12
if [ "$(id -u)" -ne 0 ]; then
	skip deb_install "chroot and mmdebstrap's root mode need root (id -u is $(id -u))"
	exit 0
fi
# The machine's own mirrors: the bookworm suite's, the security suite's.
mirror_for() { # SUITE -> first URI that serves it in /etc/apt/sources.list*
	{
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk -v s="$1" '$1 == "deb" { u = ""; for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if (u == "") u = $i; else if ($i == s) { print u; break } else break } }'
		cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$1" '
			/^[ \t]*$/ { if (ok && uri != "") print uri; ok = 0; uri = ""; next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
			END { if (ok && uri != "") print uri }'
	} | grep -m 1 '^https\?://'
}
MIRROR=${DEB_MIRROR:-$(mirror_for bookworm)}
SEC_MIRROR=${DEB_SECURITY_MIRROR:-$(mirror_for bookworm-security)}
: "${MIRROR:=http://deb.debian.org/debian}" "${SEC_MIRROR:=http://deb.debian.org/debian-security}"
SOURCES="deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SEC_MIRROR bookworm-security main"
info "mirrors: $MIRROR, $SEC_MIRROR"
if ! curl -fsS -o /dev/null --max-time 20 "$MIRROR/dists/bookworm/InRelease" 2>"$T_TMP/curl.err"; then
	skip deb_install "the Debian archive $MIRROR is unreachable: $(head -c 200 "$T_TMP/curl.err")"
	exit 0
fi
CACHE_TAR=${DEB_ROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/webhook-runner/bookworm-minbase.tar}
CACHE_DIR=$(dirname "$CACHE_TAR")
mkdir -p "$CACHE_DIR/archives"
# One builder at a time (several worktrees share the cache); made whole
# beside the cache and renamed into place.
exec 9>"$CACHE_TAR.lock"
flock -w 900 9 || { fail deb_root "waited 900 s for $CACHE_TAR.lock"; exit 1; }
if [ -f "$CACHE_TAR" ] && [ "$(cat "$CACHE_TAR.sources" 2>/dev/null)" == "$SOURCES" ] &&
	[ -n "$(find "$CACHE_TAR" -mtime -7)" ]; then
	info "root: cached $CACHE_TAR ($(($(stat -c %s "$CACHE_TAR") / 1048576)) MiB, $(stat -c %y "$CACHE_TAR" | cut -d. -f1))"
else
	t0=$(now_ms)
	rm -f "$CACHE_TAR.tmp"
	mapfile -t src <<<"$SOURCES"
	if timeout 600 mmdebstrap --mode=root --format=tar --variant=minbase --skip=cleanup/apt/lists \
		bookworm "$CACHE_TAR.tmp" "${src[@]}" >"$T_TMP/mmdebstrap.log" 2>&1; then
		mv -f "$CACHE_TAR.tmp" "$CACHE_TAR"
		printf '%s\n' "$SOURCES" >"$CACHE_TAR.sources"
		info "root: mmdebstrap minbase bookworm in $(($(now_ms) - t0)) ms ($(($(stat -c %s "$CACHE_TAR") / 1048576)) MiB)"
	else
		rm -f "$CACHE_TAR.tmp"
		fail deb_root "mmdebstrap failed: $(tail -n 5 "$T_TMP/mmdebstrap.log" | tr '\n' ' ')"
		exit 1
	fi
fi
flock -u 9
ROOT=$T_TMP/root
mkdir -p "$ROOT"
t0=$(now_ms)
tar -C "$ROOT" -xf "$CACHE_TAR" || { fail deb_root "cannot unpack $CACHE_TAR"; exit 1; }
info "root: unpacked in $(($(now_ms) - t0)) ms"
ok deb_root
[ -c "$ROOT/dev/null" ] || { rm -f "$ROOT/dev/null"; mknod -m 666 "$ROOT/dev/null" c 1 3; }
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# a throwaway root: dpkg need not fsync what it unpacks
echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/test-unsafe-io"
# The .debs fetched on earlier runs, so that this one downloads nothing new.
find "$CACHE_DIR/archives" -name '*.deb' -exec cp -t "$ROOT/var/cache/apt/archives/" {} + 2>/dev/null
cp "$DEB" "$ROOT/tmp/"
# in_root COMMAND... : in the chroot, with a clean environment, /proc
# (webhook-runner finds remote-executor beside /proc/self/exe) and /dev/pts
# (apt's terminal log), both mounted in a mount namespace of its own: they
# go when the command ends, and the host never sees them.
in_root() {
	timeout 300 unshare --mount --propagation private sh -c \
		'mount -t proc proc "$0/proc" && mount -t devpts -o newinstance,ptmxmode=0666 devpts "$0/dev/pts" &&
		exec chroot "$0" "$@"' "$ROOT" \
		/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
expect_eq root_has_no_systemd "$(in_root sh -c 'test -e /lib/systemd/systemd && echo yes || echo no')" no

t0=$(now_ms)
in_root apt-get install -y --no-install-recommends "./tmp/$(basename "$DEB")" >"$T_TMP/apt.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q '404\|Unable to fetch\|Failed to fetch' "$T_TMP/apt.log"; then
	# the cached lists are older than the archive: refresh them once
	info "apt: lists out of date, apt-get update and again"
	in_root apt-get update -qq >>"$T_TMP/apt.log" 2>&1
	in_root apt-get install -y --no-install-recommends "./tmp/$(basename "$DEB")" >>"$T_TMP/apt.log" 2>&1
	rc=$?
fi
info "apt-get install: $(($(now_ms) - t0)) ms, $(grep -c '^Get:' "$T_TMP/apt.log") downloads"
find "$ROOT/var/cache/apt/archives" -maxdepth 1 -name '*.deb' \
	-exec cp -n -t "$CACHE_DIR/archives/" {} + 2>/dev/null
if [ "$rc" -eq 0 ]; then ok apt_install; else
	fail apt_install "rc=$rc: $(grep -E '^(E|W):|rror' "$T_TMP/apt.log" | head -n 5 | tr '\n' ' ')"
	exit 1
fi
expect_eq apt_install_status "$(in_root dpkg-query -W -f='${Status} ${Version}' webhook-runner)" \
	"install ok installed $VERSION-1"
expect_eq apt_install_no_warning "$(grep '^W:\|^E:\|Failed\|rror:' "$T_TMP/apt.log" | head -n 3)" ""
notfound=$(in_root sh -c 'ldd /usr/bin/webhook-runner /usr/bin/remote-executor /usr/bin/webhook-relay' 2>&1 | grep -c 'not found')
expect_eq installed_libraries_resolve "$notfound" 0

out=$(in_root webhook-runner --version 2>&1)
expect_match installed_version "$out" "(^|[^0-9])${VERSION//./\\.}($|[^0-9])"
for p in remote-executor webhook-relay; do
	out=$(in_root "$p" --help 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [[ "$out" == *"$p"* ]]; then ok "installed_${p}_help"; else
		fail "installed_${p}_help" "rc=$rc: ${out:0:200}"; fi
done
# check-config of the installed example, with what it names: three signing
# secrets (credentials), the CI's JWT key, the GitHub secret's variable.
mkdir -p "$ROOT/tmp/creds"
for c in hookdeck-signing-secret hookdeck-signing-secret-old hookdeck-github-signing-secret; do
	rand_hex 24 >"$ROOT/tmp/creds/$c"
done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T_TMP/ci.pem" 2>/dev/null
openssl pkey -in "$T_TMP/ci.pem" -pubout -out "$ROOT/etc/webhook-runner/ci-jwt.pub" 2>/dev/null
ex=/etc/webhook-runner/config.json.example
out=$(in_root env CREDENTIALS_DIRECTORY=/tmp/creds GITHUB_WEBHOOK_SECRET="$(rand_hex 16)" \
	webhook-runner check-config "$ex" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then ok installed_example_checks; else
	fail installed_example_checks "rc=$rc: ${out:0:300}"; fi
out=$(in_root env GITHUB_WEBHOOK_SECRET=x webhook-runner check-config "$ex" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && [[ "$out" == *CREDENTIALS_DIRECTORY* ]]; then ok installed_example_needs_credentials
else fail installed_example_needs_credentials "rc=$rc: ${out:0:300}"; fi

if [ -n "$pages" ]; then
	missing=""
	for m in $pages; do
		b=$(basename "$m"); s=${b##*.}
		zcat "$ROOT/usr/share/man/man$s/$b.gz" 2>/dev/null | cmp -s - "$TOP/$m" || missing="$missing $b"
	done
	if [ -z "$missing" ]; then ok installed_man_pages; else fail installed_man_pages "missing or not the page of the tree:$missing"; fi
else
	skip installed_man_pages "no man/*.[0-9] pages in the tree yet"
fi
units=$(cd "$ROOT/lib/systemd/system" && ls webhook-*.service remote-executor.service 2>/dev/null | sort | tr '\n' ' ')
expect_eq installed_units "$units" "$units_want"
expect_eq installed_sysusers "$(test -f "$ROOT/usr/lib/sysusers.d/webhook-exec.conf" && echo yes)" yes
# The accounts of webhook-exec.conf, made by postinst (systemd-sysusers).
expect_match postinst_made_group "$(in_root getent group webhook-exec)" '^webhook-exec:x:[0-9]+:'
pw=$(in_root getent passwd webhook-runner)
expect_match postinst_made_user "$pw" '^webhook-runner:x:[0-9]+:[0-9]+:webhook-runner daemon:/var/lib/webhook-runner:'
expect_match postinst_user_in_webhook_exec "$(in_root id -nG webhook-runner)" '(^| )webhook-exec( |$)'
uid=$(cut -d: -f3 <<<"$pw")
if [ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$uid" -gt 0 ]; then ok postinst_user_is_a_system_user
else fail postinst_user_is_a_system_user "uid '$uid'"; fi
expect_eq postinst_enabled_nothing \
	"$(find "$ROOT/etc/systemd/system" -name 'webhook-*' -o -name 'remote-executor*' 2>/dev/null | wc -l | tr -d ' ')" 0
# What the README tells an operator to do, offline (no systemd runs here).
in_root systemctl enable webhook-runner.service >"$T_TMP/enable.log" 2>&1
expect_eq units_enable_offline "$(readlink "$ROOT/etc/systemd/system/multi-user.target.wants/webhook-runner.service")" \
	/lib/systemd/system/webhook-runner.service
in_root systemctl disable webhook-runner.service >>"$T_TMP/enable.log" 2>&1
expect_eq units_disable_offline "$(test -e "$ROOT/etc/systemd/system/multi-user.target.wants/webhook-runner.service" && echo present || echo gone)" gone

# ------------------------------------------------------- remove and purge
in_root apt-get remove -y webhook-runner >"$T_TMP/remove.log" 2>&1
rc=$?
expect_eq apt_remove "$rc $(in_root dpkg-query -W -f='${Status}' webhook-runner 2>&1)" "0 deinstall ok config-files"
expect_eq remove_removes_programs "$(ls "$ROOT/usr/bin" | grep -c '^webhook-\|^remote-executor$')" 0
expect_eq remove_keeps_conffile "$(test -f "$ROOT$ex" && echo kept)" kept
expect_match remove_keeps_accounts "$(in_root getent passwd webhook-runner)" '^webhook-runner:'
in_root apt-get purge -y webhook-runner >"$T_TMP/purge.log" 2>&1
rc=$?
st=$(in_root dpkg-query -W -f='${Status}' webhook-runner 2>/dev/null)
if [ "$rc" -eq 0 ] && { [ -z "$st" ] || [ "$st" == "unknown ok not-installed" ]; }; then ok apt_purge
else fail apt_purge "rc=$rc status '$st': $(tail -n 3 "$T_TMP/purge.log" | tr '\n' ' ')"; fi
expect_eq purge_removes_conffile "$(test -e "$ROOT$ex" && echo present || echo gone)" gone
expect_eq purge_keeps_operator_files "$(test -f "$ROOT/etc/webhook-runner/ci-jwt.pub" && echo kept)" kept
expect_eq purge_removes_units "$(ls "$ROOT/lib/systemd/system" | grep -c '^webhook-\|^remote-executor')" 0
