#!/usr/bin/env bash
# mkoci.sh: wrap flat layer tars into an OCI image layout, rootless.
#
#   mkoci.sh [options] OUT CONFIG_JSON LAYER_TAR...
#
# OUT          the layout directory to write (replaced atomically: built in
#              OUT.tmp.XXXXXX next to it, then renamed)
# CONFIG_JSON  the image config's "config" object, e.g.
#              '{"Env":["PATH=/bin"],"Cmd":["sh"]}'  (use '{}' for none)
# LAYER_TAR    uncompressed tar files, base layer first
#
# Options
#   --ref NAME        org.opencontainers.image.ref.name of the image (default: latest)
#   --compress KIND   gzip (default), zstd or none, for all layers
#   --arch ARCH       config/platform architecture (default: amd64)
#   --docker          Docker v2 schema 2 media types instead of OCI ones
#   --add             add the image to an existing layout OUT (another tag)
#
# Needs: bash, coreutils (sha256sum), gzip, jq; zstd for --compress zstd.
# Deterministic: the same inputs give the same digests.
set -euo pipefail

ref=latest compress=gzip arch=amd64 docker=0 add=0
while [ $# -gt 0 ]; do
	case "$1" in
	--ref) ref=$2; shift 2 ;;
	--compress) compress=$2; shift 2 ;;
	--arch) arch=$2; shift 2 ;;
	--docker) docker=1; shift ;;
	--add) add=1; shift ;;
	--) shift; break ;;
	-*) echo "mkoci.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -lt 2 ]; then
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
out=$1 config=$2
shift 2

mt_index=application/vnd.oci.image.index.v1+json # index.json is always OCI
if [ "$docker" = 1 ]; then
	mt_manifest=application/vnd.docker.distribution.manifest.v2+json
	mt_config=application/vnd.docker.container.image.v1+json
	mt_layer=application/vnd.docker.image.rootfs.diff.tar
	[ "$compress" = gzip ] && mt_layer=$mt_layer.gzip
	[ "$compress" = zstd ] && mt_layer=$mt_layer.zstd
else
	mt_manifest=application/vnd.oci.image.manifest.v1+json
	mt_config=application/vnd.oci.image.config.v1+json
	mt_layer=application/vnd.oci.image.layer.v1.tar
	[ "$compress" = gzip ] && mt_layer=$mt_layer+gzip
	[ "$compress" = zstd ] && mt_layer=$mt_layer+zstd
fi
case "$compress" in
gzip | zstd | none) ;;
*) echo "mkoci.sh: --compress must be gzip, zstd or none" >&2; exit 2 ;;
esac
echo "$config" | jq -e 'type == "object"' >/dev/null ||
	{ echo "mkoci.sh: CONFIG_JSON must be a JSON object" >&2; exit 2; }

parent=$(dirname "$out")
mkdir -p "$parent"
tmp=$(mktemp -d "$out.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blobs/sha256"
if [ "$add" = 1 ] && [ -d "$out" ]; then
	cp -a "$out/." "$tmp/"
fi

# put_blob FILE -> prints "sha256:<hex> <size>" and moves FILE into blobs/
put_blob() {
	local hex size
	hex=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$tmp/blobs/sha256/$hex"
	echo "sha256:$hex $size"
}

layers='[]' diff_ids='[]'
for tar in "$@"; do
	[ -f "$tar" ] || { echo "mkoci.sh: no such layer tar: $tar" >&2; exit 2; }
	diff_id=sha256:$(sha256sum "$tar" | cut -d' ' -f1)
	case "$compress" in
	gzip) gzip -n -c "$tar" >"$tmp/layer" ;;
	zstd) zstd -q -c "$tar" >"$tmp/layer" ;;
	none) cp "$tar" "$tmp/layer" ;;
	esac
	read -r digest size < <(put_blob "$tmp/layer")
	layers=$(jq -c --arg mt "$mt_layer" --arg d "$digest" --argjson s "$size" \
		'. + [{mediaType: $mt, digest: $d, size: $s}]' <<<"$layers")
	diff_ids=$(jq -c --arg d "$diff_id" '. + [$d]' <<<"$diff_ids")
done

jq -c -n --arg arch "$arch" --argjson cfg "$config" --argjson diffs "$diff_ids" \
	'{architecture: $arch, os: "linux", config: $cfg,
	  rootfs: {type: "layers", diff_ids: $diffs}}' >"$tmp/config"
read -r cdigest csize < <(put_blob "$tmp/config")

jq -c -n --arg mt "$mt_manifest" --arg cmt "$mt_config" --arg cd "$cdigest" \
	--argjson cs "$csize" --argjson layers "$layers" \
	'{schemaVersion: 2, mediaType: $mt,
	  config: {mediaType: $cmt, digest: $cd, size: $cs}, layers: $layers}' >"$tmp/manifest"
read -r mdigest msize < <(put_blob "$tmp/manifest")

entry=$(jq -c -n --arg mt "$mt_manifest" --arg d "$mdigest" --argjson s "$msize" \
	--arg ref "$ref" --arg arch "$arch" \
	'{mediaType: $mt, digest: $d, size: $s,
	  annotations: {"org.opencontainers.image.ref.name": $ref},
	  platform: {architecture: $arch, os: "linux"}}')
if [ -f "$tmp/index.json" ]; then
	# --add: replace an entry of the same name
	jq -c --argjson e "$entry" --arg ref "$ref" \
		'.manifests = ([.manifests[] |
		   select(.annotations["org.opencontainers.image.ref.name"] != $ref)] + [$e])' \
		"$tmp/index.json" >"$tmp/index.json.new"
	mv "$tmp/index.json.new" "$tmp/index.json"
else
	jq -c -n --arg mt "$mt_index" --argjson e "$entry" \
		'{schemaVersion: 2, mediaType: $mt, manifests: [$e]}' >"$tmp/index.json"
fi
echo '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
chmod 755 "$tmp"

if [ -e "$out" ]; then
	old=$(mktemp -d "$out.old.XXXXXX")
	mv "$out" "$old/"
	mv "$tmp" "$out"
	rm -rf "$old"
else
	mv "$tmp" "$out"
fi
trap - EXIT
echo "$mdigest"
