#!/usr/bin/env bash
# mkdocker-archive.sh: turn an OCI image layout into a docker-archive (the
# format of `docker save` before Docker 25, and of skopeo's docker-archive:
# transport), rootless and without a docker daemon.
#
#   mkdocker-archive.sh [--compress gzip] LAYOUT_DIR OUT.tar REPO:TAG...
#
# Layout of the tar: manifest.json ([{Config, RepoTags, Layers}]), the config
# as <hex>.json, each layer as <diff_id hex>.tar, uncompressed as skopeo
# writes them (--compress gzip: gzip-compressed, as some tools do). The
# layout's only (or "latest") image is used. Written to a temp file, renamed.
set -euo pipefail
compress=none
if [ "${1:-}" = --compress ]; then
	compress=$2
	shift 2
fi
if [ $# -lt 2 ] || [ ! -d "$1" ]; then
	echo "usage: mkdocker-archive.sh [--compress gzip] LAYOUT_DIR OUT.tar [REPO:TAG...]" >&2
	exit 2
fi
layout=$1 out=$2
shift 2
blob() { echo "$layout/blobs/sha256/${1#sha256:}"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

manifest=$(jq -r '.manifests[0].digest' "$layout/index.json")
config=$(jq -r '.config.digest' "$(blob "$manifest")")
cp "$(blob "$config")" "$work/${config#sha256:}.json"
layers=()
i=0
for d in $(jq -r '.layers[].digest' "$(blob "$manifest")"); do
	mt=$(jq -r ".layers[$i].mediaType" "$(blob "$manifest")")
	diff=$(jq -r ".rootfs.diff_ids[$i]" "$(blob "$config")")
	name=${diff#sha256:}.tar
	case "$mt" in
	*gzip) gzip -dc "$(blob "$d")" >"$work/$name" ;;
	*zstd) zstd -qdc "$(blob "$d")" >"$work/$name" ;;
	*) cp "$(blob "$d")" "$work/$name" ;;
	esac
	if [ "$compress" = gzip ]; then
		gzip -n "$work/$name"
		mv "$work/$name.gz" "$work/$name"
	fi
	layers+=("$name")
	i=$((i + 1))
done
jq -c -n --arg cfg "${config#sha256:}.json" \
	--argjson tags "$(printf '%s\n' "$@" | jq -R . | jq -s 'map(select(. != ""))')" \
	--argjson layers "$(printf '%s\n' "${layers[@]}" | jq -R . | jq -s .)" \
	'[{Config: $cfg, RepoTags: $tags, Layers: $layers}]' >"$work/manifest.json"
tmp=$(mktemp "$out.tmp.XXXXXX")
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$tmp" .
mv "$tmp" "$out"
