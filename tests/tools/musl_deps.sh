#!/usr/bin/env bash
# musl_deps.sh DIR — the libraries of the musl tool (make LIBC=musl: build/musl/lastgasp, a static binary), built
# from source with musl-gcc into DIR/{include,lib}: zlib, minizip, mbedTLS, and libcurl on mbedTLS with http and
# https only. No musl build of them exists in Debian, and Debian's registry is the only one reachable for them
# here: the sources are Debian's (a private apt state with deb-src lines, as arm64_sysroot.sh does for binaries;
# nothing is installed on the machine), and `apt-get source --download-only` checks each file against the
# Sources index, whose hash the signed Release holds. Each is built as Debian builds it, upstream's tarball with
# Debian's patches (its security fixes), by the upstream build, with the musl tool's options.
# minizip: Debian's libminizip is not built from zlib's tree but from the source package minizip (an older
# snapshot of zlib's contrib/minizip, 1.1, with Debian's fixes, CVE-2023-45853 among them): so is this one.
# TLS: mbedTLS, not OpenSSL: its library builds in ~10 s of CPU here, OpenSSL 3.0's in minutes (README.md).
# libcurl finds certificates where Debian and Alpine both keep them (/etc/ssl/certs/ca-certificates.crt, and
# the hashed directory /etc/ssl/certs), which is also where curl-config --ca says Debian's libcurl looks.
# Idempotent: DIR/.ready holds this script's hash and the source versions it was made from; a changed script
# remakes the tree, and MUSL_DEPS_REFRESH=1 looks for newer sources (a security update).
set -euo pipefail
dir=${1:?usage: musl_deps.sh DIR}
src_pkgs=(zlib minizip mbedtls curl)
command -v musl-gcc >/dev/null || { echo "musl_deps: musl-gcc is missing (Debian package musl-tools)" >&2; exit 1; }

recipe=$(sha256sum <"$0" | cut -c1-16)
[ -e "$dir/.ready" ] && [ "$(head -1 "$dir/.ready")" = "$recipe" ] && [ -z "${MUSL_DEPS_REFRESH:-}" ] && exit 0

. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
apt=$dir.apt
rm -rf "$apt"
mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/prefs.d" "$apt/src"
: >"$apt/status"
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt/sources.list" <<EOF
deb-src [signed-by=$key] http://deb.debian.org/debian $suite main
deb-src [signed-by=$key] http://deb.debian.org/debian $suite-updates main
deb-src [signed-by=$key] http://deb.debian.org/debian-security $suite-security main
EOF
opts=(-o "Dir::State=$apt/state" -o "Dir::State::status=$apt/status" -o "Dir::Cache=$apt/cache"
      -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/none"
      -o "Dir::Etc::Preferences=$apt/none" -o "Dir::Etc::PreferencesParts=$apt/prefs.d"
      -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
apt-get "${opts[@]}" -qq update
# For each source package, the newest version the registry serves (the indexes may name one whose files are
# gone: zlib 1:1.2.13.dfsg-1+deb12u1 in bookworm-security, here), downloaded and checked by apt. The versions
# are the key that says whether DIR is current.
dl=$apt/dl
mkdir -p "$dl"
want=
for p in "${src_pkgs[@]}"; do
  got=
  for v in $(apt-cache "${opts[@]}" showsrc "$p" | sed -n 's/^Version: //p' | sort -urV); do
    rm -rf "$dl/$p" && mkdir -p "$dl/$p"
    if (cd "$dl/$p" && apt-get "${opts[@]}" -qq --download-only source "$p=$v" >/dev/null 2>&1); then got=$v; break; fi
  done
  [ -n "$got" ] || { echo "musl_deps: no version of the source package $p could be downloaded" >&2; exit 1; }
  mv "$dl/$p"/* "$apt/src/"
  want+="$p=$got "
done
if [ -e "$dir/.ready" ] && [ "$(cat "$dir/.ready")" = "$recipe"$'\n'"$want" ]; then rm -rf "$apt"; exit 0; fi
rm -rf "$dir"
mkdir -p "$dir"
export CC=musl-gcc CFLAGS="-O2 -fPIC"
jobs=$(nproc 2>/dev/null || echo 1)
[ "$jobs" -gt 2 ] && jobs=2
log=$apt/build.log
: >"$log"
fail() { tail -40 "$log" >&2; echo "musl_deps: $1 failed (log above)" >&2; exit 1; }
# Each source as Debian builds it: the upstream tarball and Debian's patches (its security fixes among them),
# applied with patch(1) in the order of debian/patches/series, but those named in skip (curl's 90_gnutls and
# 99_nss, which make Debian's other TLS flavours of libcurl). apt checked every file already.
unpack() {
  local p=$1 skip=${2:-} d=$apt/b/$1
  mkdir -p "$d"
  tar -xf "$(ls "$apt/src/$p"_*.orig.tar.* | grep -v "\.asc$")" -C "$d" --strip-components=1
  tar -xf "$(ls "$apt/src/$p"_*.debian.tar.*)" -C "$d"
  [ -f "$d/debian/patches/series" ] || return 0
  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$d/debian/patches/series" | while read -r patch _; do
    case " $skip " in *" $patch "*) continue;; esac
    patch -d "$d" -p1 -s -N <"$d/debian/patches/$patch" >>"$log" 2>&1 || fail "$p: patch $patch"
  done
}

unpack zlib
(cd "$apt/b/zlib" && ./configure --static --prefix="$dir" && make -j"$jobs" libz.a && make install) >>"$log" 2>&1 ||
  fail zlib
# The three files of minizip that the tool's bundles use.
unpack minizip
(cd "$apt/b/minizip" && for f in ioapi zip unzip; do $CC $CFLAGS -I"$dir/include" -c $f.c -o $f.o || exit 1; done &&
   ar rcs "$dir/lib/libminizip.a" ioapi.o zip.o unzip.o) >>"$log" 2>&1 || fail minizip
mkdir -p "$dir/include/minizip"
cp "$apt/b/minizip"/{ioapi,zip,unzip,crypt}.h "$dir/include/minizip/"

unpack mbedtls
# mbedTLS 2.28 draws entropy from getrandom(2) on Linux with glibc only, and from /dev/urandom elsewhere: musl
# has the system call too, and a static tool may run where there is no /dev (an empty chroot). Any Linux libc,
# then (upstream's test is the libc's, not the kernel's).
ep=$apt/b/mbedtls/library/entropy_poll.c
sed -i 's/^#if ((defined(__linux__) && defined(__GLIBC__)) || defined(__midipix__))$/#if defined(__linux__) || defined(__midipix__)/' "$ep"
grep -q '^#if defined(__linux__) || defined(__midipix__)$' "$ep" || { echo "musl_deps: $ep: getrandom test not found" >&2; exit 1; }
make -C "$apt/b/mbedtls/library" -j"$jobs" CC="$CC" CFLAGS="$CFLAGS" static >>"$log" 2>&1 || fail mbedtls
cp -r "$apt/b/mbedtls/include/mbedtls" "$apt/b/mbedtls/include/psa" "$dir/include/"
cp "$apt/b/mbedtls"/library/libmbed{tls,x509,crypto}.a "$dir/lib/"

unpack curl "90_gnutls.patch 99_nss.patch"
# Only what `lastgasp upload` and `watch` use: HTTP and HTTPS; no other protocol, compression, IDN, PSL, HTTP/2.
(cd "$apt/b/curl" && ./configure --prefix="$dir" --disable-shared --enable-static --disable-maintainer-mode \
    --with-mbedtls="$dir" --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs \
    --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
    --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
    --disable-manual --disable-ntlm --disable-unix-sockets --disable-alt-svc --disable-hsts --disable-cookies \
    --without-zlib --without-brotli --without-zstd --without-libpsl --without-libidn2 --without-nghttp2 \
    --without-libssh2 --without-librtmp && make -j"$jobs" -C lib && make -C lib install && make -C include install) \
    >>"$log" 2>&1 || fail curl
rm -rf "$apt"
printf '%s\n%s\n' "$recipe" "$want" >"$dir/.ready"
