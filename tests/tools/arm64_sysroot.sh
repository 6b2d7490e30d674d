#!/usr/bin/env bash
# arm64_sysroot.sh DIR — a tree of Debian's arm64 libraries and headers in DIR, for what `make ARCH=arm64` links
# beyond the C library (the tool's minizip, zlib, libcurl, libdw and libdebuginfod), what its tests run against
# under qemu-user (qemu-aarch64 -L DIR), the references of the arm64 tests (libunwind, musl), and a kernel and
# busybox to boot an arm64 machine with.
# The machine's own packages are not touched: no `dpkg --add-architecture`, which would make apt reinstall the
# amd64 libraries at the arm64 versions. A private apt state (DIR.apt/) downloads the arm64 packages with their
# dependencies from the release the machine runs, and each .deb is unpacked into DIR. Idempotent: DIR/.ready
# holds the package list it was made with; a different list remakes the tree.
set -euo pipefail
dir=${1:?usage: arm64_sysroot.sh DIR}
pkgs=(libc6-dev libminizip-dev zlib1g-dev libcurl4-openssl-dev libdw-dev libdebuginfod-dev libunwind-dev musl-dev)
# Unpacked without their dependencies: an arm64 kernel (boot/vmlinuz-*) and a static busybox, which boot an arm64
# machine under qemu-system for the tests that need a real arm64 kernel (tests/crash/test_arm64_kernel.py).
bare=(linux-image-cloud-arm64 busybox-static)
want="${pkgs[*]} ${bare[*]}"
[ -e "$dir/.ready" ] && [ "$(cat "$dir/.ready")" = "$want" ] && exit 0

. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
apt=$dir.apt
rm -rf "$dir" "$apt"
mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/prefs.d" "$dir"
: >"$apt/status"
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt/sources.list" <<EOF
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian $suite main
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian $suite-updates main
deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian-security $suite-security main
EOF
opts=(-o "Dir::State=$apt/state" -o "Dir::State::status=$apt/status" -o "Dir::Cache=$apt/cache"
      -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/none"
      -o "Dir::Etc::Preferences=$apt/none" -o "Dir::Etc::PreferencesParts=$apt/prefs.d"
      -o "APT::Architecture=arm64" -o "APT::Architectures::=arm64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
apt-get "${opts[@]}" -qq update
apt-get "${opts[@]}" -qq -y -d --no-install-recommends install "${pkgs[@]}" >/dev/null
kernel=$(apt-cache "${opts[@]}" depends linux-image-cloud-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p')
(cd "$apt/cache/archives" && apt-get "${opts[@]}" -qq download "${kernel:?no kernel behind linux-image-cloud-arm64}" \
    busybox-static)
for deb in "$apt"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$dir"; done
# Links the packages make absolute (libz.so -> /lib/aarch64-linux-gnu/libz.so.1) would name the machine's own
# files: point them into the tree.
find "$dir" -type l -lname '/*' | while read -r l; do ln -sfn "$dir$(readlink "$l")" "$l"; done
rm -rf "$dir/lib/modules" # the kernel's modules: the test machine needs none (console and initramfs are built in)
rm -rf "$apt"
echo "$want" >"$dir/.ready"
