#!/bin/sh
# Test-only: writes an ELF object whose .modinfo section holds the given
# tag=value strings, NUL-terminated, the way a kernel module carries them
# (include/linux/moduleparam.h, __MODULE_INFO). GNU objcopy does the ELF
# writing, so it also judges our ELF reader. A stand-in for real modules in
# the guest-image and CLI tests.
#   fake-ko.sh [-f elf64-little|elf64-big|elf32-little|elf32-big] OUT.ko 'name=ext4' 'depends=jbd2,mbcache' ...
set -eu
format=elf64-little
if [ "$1" = -f ]; then
  format=$2
  shift 2
fi
out=$1
shift
info=$(mktemp)
trap 'rm -f "$info"' EXIT
for tag in "$@"; do printf '%s\0' "$tag"; done >"$info"
objcopy -I binary -O "$format" --rename-section .data=.modinfo "$info" "$out"
