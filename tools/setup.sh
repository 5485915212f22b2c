#!/usr/bin/env bash
# Sets up a fresh machine for Backplane: the Debian tools the tests and the
# default VM use (QEMU and qemu-img as reference peers, the RISC-V cross
# toolchain, dtc, e2fsprogs), then the npm packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(qemu-system-misc qemu-utils gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf device-tree-compiler e2fsprogs opensbi cpio binutils xz-utils dpkg-dev strace zstd)
tools=(qemu-system-riscv64 qemu-img qemu-io riscv64-unknown-elf-gcc dtc mke2fs debugfs cpio objcopy readelf xz dpkg-scanpackages strace zstd)
missing=()
for t in "${tools[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages for: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${debs[@]}"
  else
    echo "setup: missing ${missing[*]}; install the Debian packages: ${debs[*]}" >&2
    echo "setup: (tests that need them are skipped with a message)" >&2
  fi
fi
npm ci --no-audit --no-fund
