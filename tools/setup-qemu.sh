#!/usr/bin/env bash
# Set up the emulated machines that run wasmbuild's loader on images for another architecture
# (tests/test_targets.py needs them: outside CI their absence skips those tests, in CI it fails the run):
#   - Debian's qemu-user-static (qemu-aarch64-static, qemu-s390x-static, ...), installed with apt;
#   - a sysroot per architecture: Debian's packages of Python, libc, libgcc, libffi for it, fetched
#     with `apt-get download` through a private apt state (the system's architectures, sources and
#     package lists are left alone) and unpacked with `dpkg -x` (nothing is installed).
# riscv64 is not a release architecture before Debian 13: on an older system its packages come
# from the trixie suite of the system's own sources.
# Usage: tools/setup-qemu.sh [ARCH...]   (ARCH: aarch64 (default), s390x, riscv64)
# The sysroot of ARCH goes to ${WASMBUILD_QEMU_DIR:-~/.cache/wasmbuild-qemu}/ARCH.
set -euo pipefail
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(aarch64)
root="${WASMBUILD_QEMU_DIR:-$HOME/.cache/wasmbuild-qemu}"
if ! command -v qemu-aarch64-static >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
fi
. /etc/os-release
for arch in "${archs[@]}"; do
    suite="$VERSION_CODENAME"
    case "$arch" in
        aarch64) debarch=arm64 ;;
        s390x) debarch=s390x ;;
        riscv64) debarch=riscv64; [ "$suite" = bookworm ] && suite=trixie ;;
        *) echo "setup-qemu: unknown architecture $arch" >&2; exit 2 ;;
    esac
    dest="$root/$arch"
    if ls "$dest"/usr/bin/python3.* >/dev/null 2>&1; then
        echo "setup-qemu: $dest is ready"
        continue
    fi
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$work/sources"
    # The system's sources, for the suite wanted (security and updates suites renamed alike).
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed "s/\b$VERSION_CODENAME\b/$suite/g" "$f" > "$work/sources/$(basename "$f" | sed 's/^sources.list$/system.list/')"
    done
    apt_opts=(-o "APT::Architecture=$debarch" -o "APT::Architectures::=$debarch"
              -o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/sources"
              -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
              -o "Dir::State::status=/dev/null" -o "APT::Sandbox::User=root" -o Debug::NoLocking=1)
    apt-get "${apt_opts[@]}" update -qq
    py="$(apt-cache "${apt_opts[@]}" depends python3-minimal | grep -o 'python3\.[0-9]*-minimal' | head -1)"
    ver="${py%-minimal}"
    cd "$work/debs"
    apt-get "${apt_opts[@]}" download -qq "$py" "lib$ver-minimal" "lib$ver-stdlib" libc6 libgcc-s1 libffi8 >/dev/null
    for opt in zlib1g libexpat1 libbz2-1.0 liblzma5 libcrypt1 libuuid1 libssl3t64 libssl3; do
        apt-get "${apt_opts[@]}" download -qq "$opt" >/dev/null 2>&1 || true
    done
    cd - >/dev/null
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$dest.tmp"; done
    rm -rf "$dest" && mv "$dest.tmp" "$dest"
    rm -rf "$work"
    trap - EXIT
    echo "setup-qemu: $dest has $(cd "$dest" && ls usr/bin/python3.*)"
done
