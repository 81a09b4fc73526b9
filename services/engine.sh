#!/usr/bin/env bash
# A Docker engine and the compose plugin for make test-compose and
# deploy_services on machines that have neither (the CI machines).
#
#   services/engine.sh start   # no-op when `docker info` answers
#   services/engine.sh stop    # stops the dockerd this script started
#
# The engine is Debian's docker.io, started as
#   dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver=vfs
# because these machines have no kernel bridge or overlay file system:
# containers run with host networking (services/compose.host.yaml). Its data
# directory (image layers) lives in $WEIR_CACHE_DIR/docker-engine, so images
# survive between runs. Compose v2 is built from its Go module (pinned below)
# into $WEIR_CACHE_DIR/bin and linked as the docker CLI plugin.
set -euo pipefail
COMPOSE_VERSION=v2.40.3
cache=${WEIR_CACHE_DIR:?WEIR_CACHE_DIR must be set}
state=$cache/docker-engine
pidfile=$state/dockerd.pid

start() {
	if ! docker info >/dev/null 2>&1; then
		if ! command -v dockerd >/dev/null; then
			echo "engine: installing docker.io"
			t=$SECONDS
			export DEBIAN_FRONTEND=noninteractive
			apt-get update -qq
			# Its recommends (apparmor, needrestart, git, ...) are not needed to
			# run containers here.
			apt-get install -y -qq --no-install-recommends docker.io >/dev/null
			echo "engine: docker.io installed in $((SECONDS - t)) s"
		fi
		command -v docker >/dev/null || { echo "engine: no docker CLI" >&2; exit 1; }
		mkdir -p "$state"
		echo "engine: starting dockerd (data in $state/data, log $state/dockerd.log)"
		# setsid: the engine outlives this script and make, until stop.
		setsid dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver=vfs \
			--data-root="$state/data" --exec-root="$state/exec" --pidfile="$pidfile" \
			>>"$state/dockerd.log" 2>&1 </dev/null &
		for _ in $(seq 60); do
			docker info >/dev/null 2>&1 && break
			sleep 1
		done
		docker info >/dev/null 2>&1 || { tail -20 "$state/dockerd.log" >&2; echo "engine: dockerd did not answer in 60 s" >&2; exit 1; }
	fi
	if ! docker compose version >/dev/null 2>&1; then
		bin=$cache/bin/docker-compose-$COMPOSE_VERSION
		if [ ! -x "$bin" ]; then
			echo "engine: building docker compose $COMPOSE_VERSION from its Go module"
			t=$SECONDS
			# Built inside its own module: `go install ...@version` refuses a
			# module whose go.mod has exclude directives.
			dir=$(cd /tmp && GOFLAGS= go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
			mkdir -p "$cache/bin"
			(cd "$dir" && GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 go build -trimpath \
				-ldflags "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" -o "$bin.tmp" ./cmd)
			mv "$bin.tmp" "$bin"
			echo "engine: docker compose built in $((SECONDS - t)) s"
		fi
		mkdir -p "$HOME/.docker/cli-plugins"
		ln -sf "$bin" "$HOME/.docker/cli-plugins/docker-compose"
	fi
	docker compose version
}

stop() {
	[ -s "$pidfile" ] || { echo "engine: not started by engine.sh"; return 0; }
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
	fi
	rm -f "$pidfile"
	echo "engine: stopped"
}

case ${1:-} in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
