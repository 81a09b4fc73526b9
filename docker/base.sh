#!/usr/bin/env bash
# Builds the base image of the locally built images (make build_images with
# IMAGES=local): a minimal Debian root file system made with debootstrap from
# the Debian mirror and suite this machine's apt already uses, imported with
# `docker import`. No registry is contacted. The image is tagged with the
# suite and a digest of this script, so it is built once per machine and
# rebuilt only when the recipe changes.
#
#   docker/base.sh IMAGE_REPO   # prints the tag, e.g. weir-base:bookworm-1a2b3c4d
set -euo pipefail
repo=${1:-weir-base}
docker=${DOCKER:-docker}
cache=${WEIR_CACHE_DIR:?WEIR_CACHE_DIR must be set}

# The mirror and suite of the first Debian "main" source: deb822 files first
# (Debian 12+), then the one-line format.
mirror="" suite=""
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	mirror=$(awk '$1=="URIs:"{print $2; exit}' "$f")
	suite=$(awk '$1=="Suites:"{print $2; exit}' "$f")
	case "$mirror" in *security*) mirror="" suite="" ;; esac
	[ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
	read -r mirror suite < <(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -v security | awk '{ i = 2; if ($2 ~ /^\[/) i = 3; print $i, $(i+1); exit }')
fi
[ -n "$mirror" ] && [ -n "$suite" ] || { echo "base.sh: no Debian mirror in the apt sources" >&2; exit 1; }

packages=ca-certificates,curl,wget,procps,tzdata
recipe=$( { cat "$0"; echo "$suite $packages"; } | sha256sum | cut -c1-8)
tag="$repo:$suite-$recipe"
if "$docker" image inspect "$tag" >/dev/null 2>&1; then
	echo "$tag"
	exit 0
fi

# The root file system tarball is cached too: a new Docker data directory
# imports it again without a second debootstrap.
tarball="$cache/images/base-$suite-$recipe.tar"
if [ ! -s "$tarball" ]; then
	command -v debootstrap >/dev/null || {
		echo "base.sh: installing debootstrap" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	}
	mkdir -p "$cache/images"
	root=$(mktemp -d "$cache/images/rootfs-XXXXXX")
	trap 'rm -rf "$root"' EXIT
	echo "base.sh: debootstrap $suite (minbase) from the machine's mirror" >&2
	debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$root.log" 2>&1 ||
		{ tail -20 "$root.log" >&2; exit 1; }
	rm -f "$root.log"
	# Smaller and reproducible enough: no package lists, caches or docs.
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
		"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*
	# mktemp made the directory 0700; it becomes the image's /.
	chmod 0755 "$root"
	tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	# Older recipes' file systems are not needed any more.
	find "$cache/images" -maxdepth 1 -name 'base-*.tar' ! -name "$(basename "$tarball")" -delete
fi
"$docker" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'CMD ["/bin/bash"]' "$tarball" "$tag" >/dev/null
echo "$tag"
