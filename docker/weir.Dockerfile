# syntax=docker/dockerfile:1
#
# The weir image: one binary for every weir service (stream, alerts,
# scheduler, init, batch jobs). Built from the repository root:
#   docker build -f docker/weir.Dockerfile -t weir:local .
# cgo is on because confluent-kafka-go links its bundled librdkafka (glibc),
# so builder and runtime are the same Debian release.

ARG GO_VERSION=1.26.8
ARG DEBIAN_RELEASE=trixie

FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/weir ./cmd/weir

FROM debian:${DEBIAN_RELEASE}-slim
# curl: the compose health checks; ca-certificates: the system trust roots.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/weir --create-home weir
COPY --from=build /out/weir /usr/local/bin/weir
# DAG files, gold SQL and alert rules, found relative to the working
# directory as in the repository (dags/, sql/gold/, rules/).
COPY dags /etc/weir/dags
COPY sql /etc/weir/sql
COPY rules /etc/weir/rules
WORKDIR /etc/weir
USER weir:weir
ENTRYPOINT ["/usr/local/bin/weir"]
CMD ["--help"]
