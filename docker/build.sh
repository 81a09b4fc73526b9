#!/usr/bin/env bash
# make build_images with IMAGES=local: every image of the compose stack,
# built on this machine from the artifacts the native stack already uses
# (weir stack artifacts: Kafka jars and the Trino server from Maven Central,
# MinIO, Alertmanager and Prometheus from `go install`, a JDK) on a Debian
# base image made by docker/base.sh. Nothing is pulled from a registry; the
# PostgreSQL image installs the Debian package from the base's apt mirror at
# build time. Each image carries a build key (its recipe, its artifact
# versions, the base) as a label: an image whose key is current is not
# rebuilt, so a run with nothing changed takes seconds.
#
#   docker/build.sh WEIR_BINARY [IMAGE...]     # default: every image
set -euo pipefail
cd "$(dirname "$0")/.."
weir_bin=${1:?usage: docker/build.sh WEIR_BINARY [IMAGE...]}
shift
docker=${DOCKER:-docker}
cache=${WEIR_CACHE_DIR:?WEIR_CACHE_DIR must be set}
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(weir kafka minio postgres trino alertmanager prometheus)

base=$(docker/base.sh weir-base)
# KEY=path lines; a failed install stops the build here.
artifacts=$("$weir_bin" stack artifacts)
eval "$artifacts"
# shellcheck disable=SC1091 # the pinned tags, shared with compose
source services/images.local.env

# BuildKit: only file-changing steps make layers, which matters on the vfs
# storage driver (every layer a full copy). The docker CLI needs its buildx
# plugin for it; Debian's 20.10 CLI (docker.io) has it built in; else the
# legacy builder.
if "$docker" buildx version >/dev/null 2>&1; then
	builder=(env DOCKER_BUILDKIT=1 "$docker")
elif [ -x /usr/bin/docker ] && [ "$(/usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)" = 20 ]; then
	builder=(env DOCKER_BUILDKIT=1 /usr/bin/docker)
else
	builder=(env DOCKER_BUILDKIT=0 "$docker")
fi

ctxroot="$cache/images/ctx"
mkdir -p "$ctxroot"

# link SRC DST: hard links where the cache and the context share a file
# system (a context costs no space), else a copy.
link() { cp -al "$1" "$2" 2>/dev/null || cp -a "$1" "$2"; }

current() { # current TAG KEY: the image exists with this build key
	if [ "$("$docker" image inspect -f '{{index .Config.Labels "weir.build-key"}}' "$1" 2>/dev/null)" = "$2" ]; then
		echo "image $1: up to date"
		return 0
	fi
	return 1
}

build() { # build NAME TAG KEY: docker/local/NAME with the context in $ctx
	local name=$1 tag=$2 key=$3
	local start=$SECONDS
	cp -a docker/local/"$name"/. "$ctx"/
	"${builder[@]}" build -q --network host --build-arg BASE="$base" \
		--label weir.build-key="$key" -t "$tag" "$ctx" >/dev/null
	echo "image $tag: built in $((SECONDS - start)) s"
}

# recipe NAME [WORDS...]: a digest of the image's Dockerfile and scripts, the
# base image and the given version words.
recipe() {
	local name=$1
	shift
	{ cat docker/local/"$name"/*; echo "$base $*"; } | sha256sum | cut -c1-16
}

newctx() { # a fresh, empty context directory for image NAME
	ctx="$ctxroot/$1"
	rm -rf "$ctx"
	mkdir -p "$ctx"
}

java_key=$(basename "$JAVA_HOME")$(cat "$JAVA_HOME/release" 2>/dev/null | sha256sum | cut -c1-8)
for image in "${images[@]}"; do
	case $image in
	weir)
		key=$(recipe weir "$(sha256sum "$weir_bin" | cut -c1-16)" "$(find dags sql rules -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)")
		current "$WEIR_IMAGE" "$key" && continue
		newctx weir
		link "$weir_bin" "$ctx/weir"
		cp -a dags sql rules "$ctx"/
		build weir "$WEIR_IMAGE" "$key"
		;;
	kafka)
		key=$(recipe kafka "$KAFKA_LIBS" "$(ls "$KAFKA_LIBS")" "$java_key")
		current "$KAFKA_IMAGE" "$key" && continue
		newctx kafka
		# The JDK without what a server never loads (sources, jmods).
		mkdir "$ctx/java" && for d in "$JAVA_HOME"/*; do
			case $(basename "$d") in jmods | src.zip | man | demo | sample) ;; *) link "$d" "$ctx/java/" ;; esac
		done
		link "$KAFKA_LIBS" "$ctx/libs"
		build kafka "$KAFKA_IMAGE" "$key"
		;;
	trino)
		key=$(recipe trino "$TRINO_HOME" "$(ls "$TRINO_HOME/lib" "$TRINO_HOME/plugin")" "$java_key")
		current "$TRINO_IMAGE" "$key" && continue
		newctx trino
		mkdir "$ctx/java" && for d in "$JAVA_HOME"/*; do
			case $(basename "$d") in jmods | src.zip | man | demo | sample) ;; *) link "$d" "$ctx/java/" ;; esac
		done
		mkdir "$ctx/trino" && link "$TRINO_HOME/lib" "$ctx/trino/lib" && link "$TRINO_HOME/plugin" "$ctx/trino/plugin"
		build trino "$TRINO_IMAGE" "$key"
		;;
	minio)
		key=$(recipe minio "$MINIO_BIN")
		current "$MINIO_IMAGE" "$key" && continue
		newctx minio
		link "$MINIO_BIN" "$ctx/minio"
		build minio "$MINIO_IMAGE" "$key"
		;;
	alertmanager)
		key=$(recipe alertmanager "$ALERTMANAGER_BIN")
		current "$ALERTMANAGER_IMAGE" "$key" && continue
		newctx alertmanager
		link "$ALERTMANAGER_BIN" "$ctx/alertmanager"
		build alertmanager "$ALERTMANAGER_IMAGE" "$key"
		;;
	prometheus)
		key=$(recipe prometheus "$PROMETHEUS_BIN")
		current "$PROMETHEUS_IMAGE" "$key" && continue
		newctx prometheus
		link "$PROMETHEUS_BIN" "$ctx/prometheus"
		build prometheus "$PROMETHEUS_IMAGE" "$key"
		;;
	postgres)
		key=$(recipe postgres )
		current "$POSTGRES_IMAGE" "$key" && continue
		newctx postgres
		build postgres "$POSTGRES_IMAGE" "$key"
		;;
	*) echo "build.sh: unknown image $image" >&2; exit 2 ;;
	esac
done
