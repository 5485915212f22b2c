#!/bin/sh
# Makes the golden disk-image fixtures with Debian's qemu-img/qemu-io (QEMU 7.2):
# one small image per format with the same writes, plus what qemu says about it
# (raw contents, map and info JSON). Images and raw contents are gzipped: mostly
# zeroes, they shrink to a few KiB. Output: apps/cli/test/fixtures/ (committed).
#
#   tools/disk-fixtures/make-fixtures.sh [outdir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../apps/cli/test/fixtures}
command -v qemu-img >/dev/null || { echo "make-fixtures: qemu-img not found (apt-get install qemu-utils)" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name format size create-options
while read -r name fmt size opts; do
  img="$work/$name.$fmt"
  if [ "$opts" = "-" ]; then qemu-img create -q -f "$fmt" "$img" "$size"; else qemu-img create -q -f "$fmt" -o "$opts" "$img" "$size"; fi
  # Aligned and unaligned data, a zeroed range inside data, data near the end.
  qemu-io -f "$fmt" \
    -c 'write -P 0xa5 0 4k' \
    -c 'write -P 0x5a 70000 3000' \
    -c 'write -P 0x3c 131072 65536' \
    -c 'write -z 139264 8192' \
    -c "write -P 0xee $((size - 1024)) 1024" \
    "$img" >/dev/null
  (cd "$work" && qemu-img map -f "$fmt" --output=json "$name.$fmt") > "$out/$name.$fmt.map.json"
  (cd "$work" && qemu-img info -f "$fmt" --output=json "$name.$fmt") > "$out/$name.$fmt.info.json"
  qemu-img convert -f "$fmt" -O raw "$img" "$work/$name.contents"
  gzip -9n < "$img" > "$out/$name.$fmt.gz"
  gzip -9n < "$work/$name.contents" > "$out/$name.$fmt.contents.gz"
done <<'LIST'
small raw 262144 -
small qcow2 262144 cluster_size=4096
v2 qcow2 262144 compat=0.10,cluster_size=65536
small vpc 2097152 subformat=dynamic
small vmdk 262144 -
small vdi 1048576 -
LIST
echo "fixtures written to $out"
