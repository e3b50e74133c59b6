#!/bin/sh
# Fetch Debian 12's CivetWeb source package (1.15, with Debian's patches)
# into third_party/civetweb/. Idempotent: an unpacked copy is left alone,
# unless FORCE=1 (`make civetweb-source FORCE=1`), which fetches again, so
# that a Debian update of the package (a security fix) reaches the build.
# Compiled into our binary, CivetWeb is not updated by `apt upgrade`; so when
# the copy is present, this asks the archive (bounded in time) whether it
# offers a newer 1.15 source, and if so warns with both versions and the
# command that updates. Offline, that check is a one-line note, never an
# error: the present copy is used as it is. Our own patches to CivetWeb
# (third_party/patches/) are applied by the Makefile to a copy in the build
# directory, never to this tree, which stays exactly Debian's.
#
# Why not Debian's libcivetweb1: it is built to load OpenSSL at run time
# through the OpenSSL 1.1 API, and with bookworm's OpenSSL 3 it calls a
# NULL pointer (SSL_get_peer_certificate is no longer exported) on the
# first TLS connection. The same source, compiled into our binary with
# NO_SSL_DL and OPENSSL_API_3_0 (see the Makefile), links OpenSSL 3 for real.
#
# The source comes through apt from this machine's own sources (Debian's
# archive on a stock machine), so apt checks it against the signed Sources
# index. apt's state is a private temporary copy: the system's lists and
# caches are not touched. The highest 1.15 version wins, whatever other
# versions a source offers. Needs dpkg-source (package dpkg-dev) to unpack
# and patch. The copy appears whole or not at all (renamed into place).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DEST=$HERE/civetweb
UPSTREAM=1.15
present=""
[ -f "$DEST/.debian-version" ] && [ "${FORCE:-0}" != 1 ] && present=$(cat "$DEST/.debian-version")
[ -n "$present" ] || command -v dpkg-source >/dev/null ||
	{ echo "civetweb: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }
# Beside DEST, so that the final rename is atomic.
tmp=$(mktemp -d "$HERE/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
# deb-src twins of every deb source this machine has, in either format.
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >"$tmp/parts/$(basename "$f")"
done
: >"$tmp/src.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && sed -n 's/^deb[[:space:]]\{1,\}\(.*\)$/deb-src \1/p' "$f" >>"$tmp/src.list"
done
set -- -q -o "Dir::Etc::SourceList=$tmp/src.list" -o "Dir::Etc::SourceParts=$tmp/parts" \
	-o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o "APT::Sandbox::User=$(id -un)"
newest() { # the highest $UPSTREAM version the fetched Sources indexes offer
	apt-cache "$@" showsrc civetweb 2>/dev/null | sed -n 's/^Version: //p' |
		grep -E "^$UPSTREAM[+-]" | sort -V | tail -n 1
}
if [ -n "$present" ]; then
	echo "civetweb: source present ($present; FORCE=1 fetches again)"
	# Bounded: 10 s per connection, no retries, 60 s in all.
	timeout 60 apt-get "$@" -o Acquire::Retries=0 -o Acquire::http::Timeout=10 \
		-o Acquire::https::Timeout=10 update >"$tmp/update.log" 2>&1 || true
	ver=$(newest "$@") || true
	if [ -z "$ver" ]; then
		echo "civetweb: could not ask the archive for a newer source (offline?): using $present"
	elif dpkg --compare-versions "$ver" gt "$present"; then
		echo "civetweb: WARNING: the archive offers CivetWeb $ver, newer than the $present" \
			"in $DEST (a Debian update, maybe a security fix); update with:" \
			"make civetweb-source FORCE=1 && make" >&2
	fi
	exit 0
fi
# A source without a Sources index (a third-party repository) fails the
# update but not the fetch, as long as one source offers CivetWeb 1.15.
apt-get "$@" update >"$tmp/update.log" 2>&1 || echo "civetweb: apt-get update complained (carrying on):" \
	"$(grep -m 1 '^E:' "$tmp/update.log" || tail -n 1 "$tmp/update.log")" >&2
ver=$(newest "$@") || true
if [ -z "$ver" ]; then
	echo "civetweb: no source of CivetWeb $UPSTREAM in this machine's apt sources" >&2
	tail -n 5 "$tmp/update.log" >&2
	exit 1
fi
(cd "$tmp/src" && apt-get "$@" source "civetweb=$ver") >"$tmp/source.log" 2>&1 ||
	{ cat "$tmp/source.log" >&2; exit 1; }
dir=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d -name 'civetweb-*' | head -n 1)
[ -n "$dir" ] && [ -f "$dir/src/civetweb.c" ] && [ -f "$dir/include/civetweb.h" ] ||
	{ echo "civetweb: unexpected source layout" >&2; exit 1; }
echo "$ver" >"$dir/.debian-version"
rm -rf "$DEST.old"
[ ! -e "$DEST" ] || mv "$DEST" "$DEST.old"
mv "$dir" "$DEST"
rm -rf "$DEST.old"
echo "civetweb: fetched Debian source $ver into $DEST"
