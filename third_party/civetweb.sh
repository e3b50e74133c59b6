#!/bin/sh
# Fetch Debian 12's CivetWeb source package (1.15, with Debian's patches)
# into third_party/civetweb/. Idempotent: an unpacked copy is left alone.
#
# Why not Debian's libcivetweb1: it is built to load OpenSSL at run time
# through the OpenSSL 1.1 API, and with bookworm's OpenSSL 3 it calls a
# NULL pointer (SSL_get_peer_certificate is no longer exported) on the
# first TLS connection. The same source, compiled into our binary with
# NO_SSL_DL and OPENSSL_API_3_0 (see the Makefile), links OpenSSL 3 for real.
#
# The source comes through apt from this machine's own Debian archive, so
# apt checks it against the archive's signed Sources index. apt's state is
# a private temporary copy: the system's lists and caches are not touched.
# Needs dpkg-source (package dpkg-dev) to unpack and patch.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DEST=$HERE/civetweb
UPSTREAM=1.15
if [ -f "$DEST/.debian-version" ]; then
	echo "civetweb: source present ($(cat "$DEST/.debian-version"))"
	exit 0
fi
command -v dpkg-source >/dev/null || { echo "civetweb: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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
apt-get "$@" update >"$tmp/update.log" 2>&1 || { cat "$tmp/update.log" >&2; exit 1; }
ver=$(apt-cache "$@" showsrc civetweb 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n 1)
case "$ver" in
"$UPSTREAM"+*|"$UPSTREAM"-*) ;;
*) echo "civetweb: the archive offers source version '$ver', want $UPSTREAM" >&2; exit 1 ;;
esac
(cd "$tmp/src" && apt-get "$@" source "civetweb=$ver") >"$tmp/source.log" 2>&1 ||
	{ cat "$tmp/source.log" >&2; exit 1; }
dir=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d -name 'civetweb-*' | head -n 1)
[ -f "$dir/src/civetweb.c" ] && [ -f "$dir/include/civetweb.h" ] ||
	{ echo "civetweb: unexpected source layout" >&2; exit 1; }
rm -rf "$DEST"
mv "$dir" "$DEST"
echo "$ver" >"$DEST/.debian-version"
echo "civetweb: fetched Debian source $ver into $DEST"
