# Docker-host deployment of weir (services/compose.yaml). Included by the
# top-level Makefile: `include services/services.mk`. Needs Docker with the
# compose plugin (v2.20+) and BuildKit; the native stack (`make up`) does not.

SERVICES_ENV     ?= services/.env
WEIR_IMAGE       ?= weir:local
SERVICES_COMPOSE ?= docker compose --project-directory services -f services/compose.yaml --env-file $(SERVICES_ENV)

.PHONY: services_env build_images deploy_services watch_services stop_services

## services_env: write services/.env with random per-service secrets (existing values kept; git-ignored)
services_env:
	go run ./services/cmd/genenv -out $(SERVICES_ENV)

## build_images: build the weir image (multi-stage, cgo) from docker/weir.Dockerfile
build_images:
	DOCKER_BUILDKIT=1 docker build -f docker/weir.Dockerfile -t $(WEIR_IMAGE) .

## deploy_services: start the compose stack and wait until every service is healthy
deploy_services: services_env build_images
	$(SERVICES_COMPOSE) up -d --remove-orphans --wait --wait-timeout 900
	$(SERVICES_COMPOSE) ps

## watch_services: service states, then follow the logs (Ctrl-C stops watching, not the stack)
watch_services:
	$(SERVICES_COMPOSE) ps --all
	$(SERVICES_COMPOSE) logs --follow --tail 50

## stop_services: stop and remove the containers; named volumes (data) are kept
stop_services:
	$(SERVICES_COMPOSE) down --remove-orphans
