#!/bin/sh
# packaging/deb/mkdeb.sh — builds webhook-runner's Debian package from the
# binaries of one build directory (what `make deb` runs).
#   sh packaging/deb/mkdeb.sh BUILD_DIR [OUT_DIR]
# Prints the path of the .deb on its last line (OUT_DIR, BUILD_DIR by
# default). Uses dpkg's own tools, no debhelper: the binaries are already
# built by the Makefile, so what is left is laying out a tree, which this
# script does in the order dh would (install, strip, compress, shlibdeps,
# gencontrol, md5sums, build):
#  - the tree is `make install DESTDIR=... PREFIX=/usr UNITDIR=/lib/systemd/system`:
#    whatever that installs (programs, units, the example config, man pages,
#    docs) is packaged; units and the sysusers file it does not install are
#    added from systemd/ with ExecStart= in /usr/bin;
#  - every file under /etc is a conffile;
#  - binaries stripped as dh_strip does, man pages and docs over 4 KiB
#    gzipped -9n as dh_compress does;
#  - Depends: computed by dpkg-shlibdeps from the binaries, plus the provider
#    of systemd-sysusers the postinst calls; Version: runner/version.h and
#    DEB_REVISION (1); Architecture: the build's (dpkg --print-architecture);
#  - file times and the changelog date are SOURCE_DATE_EPOCH (the commit's
#    time by default): the same tree gives the same package.
# Refuses binaries built with SANITIZE=1 (they need the sanitizer runtimes
# and are slow): package the release build.
set -eu
umask 022
die() { echo "mkdeb: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: mkdeb.sh BUILD_DIR [OUT_DIR]"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$TOP/packaging/deb
[ -d "$1" ] || die "$1: no such build directory (make first)"
BUILD=$(cd "$1" && pwd)
OUT=${2:-$BUILD}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
for t in dpkg-deb dpkg-shlibdeps dpkg-gencontrol strip readelf gzip md5sum; do
	command -v "$t" >/dev/null || die "$t missing (make deps: dpkg-dev, binutils)"
done

PROGS="remote-executor webhook-runner webhook-relay"
for p in $PROGS; do
	[ -x "$BUILD/$p" ] || die "$BUILD/$p not built (make)"
	if readelf -dW "$BUILD/$p" | grep -Eq 'NEEDED.*\[lib(asan|ubsan|tsan|lsan)'; then
		die "$BUILD/$p is a sanitizer build; package the release build (make deb, without SANITIZE=1)"
	fi
done

VERSION=$(sed -n 's/^#define RUNNER_VERSION "\([0-9][0-9A-Za-z.+~]*\)"$/\1/p' "$TOP/runner/version.h")
[ -n "$VERSION" ] || die "no RUNNER_VERSION \"x.y.z\" in runner/version.h"
REV=${DEB_REVISION:-1}
ARCH=$(dpkg --print-architecture)
MAINTAINER=${DEB_MAINTAINER:-webhook-runner maintainers <maintainers@users.noreply.b-seed-ba07852b.example>}
COMMIT=$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$TOP" log -1 --format=%ct 2>/dev/null || stat -c %Y "$TOP/runner/version.h")
fi
export SOURCE_DATE_EPOCH

W=$(mktemp -d "${TMPDIR:-/tmp}/mkdeb.XXXXXX")
trap 'rm -rf "$W"' EXIT
R=$W/debian/webhook-runner
DOC=$R/usr/share/doc/webhook-runner
UNITDIR=/lib/systemd/system

# ----------------------------------------------------------- the tree
# -o: the binaries of BUILD as they are, never rebuilt here.
if ! ${MAKE:-make} -C "$TOP" --no-print-directory install BUILD="$BUILD" DESTDIR="$R" \
	PREFIX=/usr UNITDIR=$UNITDIR DOCDIR=/usr/share/doc/webhook-runner \
	-o "$BUILD/remote-executor" -o "$BUILD/webhook-runner" -o "$BUILD/webhook-relay" \
	>"$W/install.log" 2>&1; then
	cat "$W/install.log" >&2
	die "make install failed"
fi
for p in $PROGS; do
	[ -x "$R/usr/bin/$p" ] || die "make install did not install /usr/bin/$p"
done
mkdir -p "$R$UNITDIR"
for u in "$TOP"/systemd/*.service; do
	n=$(basename "$u")
	[ -e "$R$UNITDIR/$n" ] || [ -e "$R/usr/lib/systemd/system/$n" ] ||
		sed 's|/usr/local/bin/|/usr/bin/|g' "$u" >"$R$UNITDIR/$n"
done
if grep -l '/usr/local/' "$R$UNITDIR"/*.service >"$W/local" 2>/dev/null; then
	die "units still name /usr/local: $(tr '\n' ' ' <"$W/local")"
fi
[ -e "$R/usr/lib/sysusers.d/webhook-exec.conf" ] ||
	install -D -m 0644 "$TOP/systemd/webhook-exec.sysusers" "$R/usr/lib/sysusers.d/webhook-exec.conf"
install -d "$DOC"
install -m 0644 "$TOP/ARCHITECTURE.md" "$DOC/"
[ -e "$DOC/README.md" ] || install -m 0644 "$TOP/README.md" "$DOC/"
install -m 0644 "$HERE/copyright" "$DOC/copyright"
[ -f "$TOP/third_party/civetweb/debian/copyright" ] ||
	die "third_party/civetweb/debian/copyright missing (make deps fetches CivetWeb's source)"
install -m 0644 "$TOP/third_party/civetweb/debian/copyright" "$DOC/copyright.civetweb"
DATE=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
mkdir -p "$W/debian"
cat >"$W/debian/changelog" <<EOF
webhook-runner ($VERSION-$REV) bookworm; urgency=medium

  * webhook-runner $VERSION, packaged by make deb from the source tree
    (git $COMMIT).

 -- $MAINTAINER  $DATE
EOF
cp "$W/debian/changelog" "$DOC/changelog.Debian"

# ------------------------------------------------- strip and compress
for p in $PROGS; do
	strip --remove-section=.comment --remove-section=.note "$R/usr/bin/$p"
done
if [ -d "$R/usr/share/man" ]; then
	find "$R/usr/share/man" -type f ! -name '*.gz' -exec gzip -9nf {} +
	# a link to a page follows it to its .gz
	find "$R/usr/share/man" -type l ! -name '*.gz' | while read -r l; do
		ln -s "$(readlink "$l").gz" "$l.gz" && rm -f "$l"
	done
fi
find "$DOC" -type f -size +4k ! -name 'copyright*' ! -name '*.gz' -exec gzip -9nf {} +
gzip -9nf "$DOC/changelog.Debian"

# ------------------------------------------------------ control files
mkdir -p "$R/DEBIAN"
UNITS=$(cd "$R$UNITDIR" && ls ./*.service | sed 's|^\./||' | tr '\n' ' ' | sed 's/ $//')
for s in postinst prerm postrm; do
	sed "s|@UNITS@|$UNITS|" "$HERE/$s" >"$R/DEBIAN/$s"
	chmod 0755 "$R/DEBIAN/$s"
done
(cd "$R" && find etc -type f 2>/dev/null | sort | sed 's|^|/|') >"$R/DEBIAN/conffiles"
[ -s "$R/DEBIAN/conffiles" ] || rm -f "$R/DEBIAN/conffiles"
sed "s|@MAINTAINER@|$MAINTAINER|" "$HERE/control.in" >"$W/debian/control"
find "$R" -path "$R/DEBIAN" -prune -o -type f -exec chmod 0644 {} +
find "$R" -type d -exec chmod 0755 {} +
chmod 0755 "$R"/usr/bin/*
(cd "$W" && dpkg-shlibdeps -Tdebian/substvars debian/webhook-runner/usr/bin/remote-executor \
	debian/webhook-runner/usr/bin/webhook-runner debian/webhook-runner/usr/bin/webhook-relay) ||
	die "dpkg-shlibdeps failed"
grep -q '^shlibs:Depends=.*libc6' "$W/debian/substvars" || die "dpkg-shlibdeps found no libc6 dependency"
(cd "$W" && dpkg-gencontrol -pwebhook-runner -Pdebian/webhook-runner -DArchitecture="$ARCH") ||
	die "dpkg-gencontrol failed"
(cd "$R" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
	xargs md5sum) >"$W/md5sums"
mv "$W/md5sums" "$R/DEBIAN/md5sums"
chmod 0644 "$R/DEBIAN/control" "$R/DEBIAN/md5sums"
[ ! -e "$R/DEBIAN/conffiles" ] || chmod 0644 "$R/DEBIAN/conffiles"
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

DEB=$OUT/webhook-runner_$VERSION-${REV}_$ARCH.deb
rm -f "$DEB"
dpkg-deb --root-owner-group -Zxz --build "$R" "$DEB" >/dev/null || die "dpkg-deb failed"
echo "$DEB"
