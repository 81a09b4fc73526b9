# Docker-host deployment of weir (services/compose.yaml). Included by the
# top-level Makefile. Needs a Docker engine with the compose plugin (v2.24+);
# services/engine.sh installs and starts both where they are missing
# (make docker_engine). The native stack (`make up`) needs neither.
#
# IMAGES=local (default): every image built here from the native stack's
# artifacts (docker/build.sh), nothing pulled. IMAGES=official: the
# projects' own images (a host that can pull), Grafana included.
# SERVICES_NETWORK=host (the default where the engine has no bridge
# network): every container on the host's network (compose.host.yaml).

IMAGES           ?= local
SERVICES_ENV     ?= services/.env
# host when the engine has no bridge network (dockerd --bridge=none).
SERVICES_NETWORK ?= $(shell docker network inspect bridge >/dev/null 2>&1 && echo bridge || echo host)
SERVICES_PROFILES ?= prometheus$(if $(filter official,$(IMAGES)),$(comma)grafana,)
comma := ,
SERVICES_FILES   := -f services/compose.yaml $(if $(filter host,$(SERVICES_NETWORK)),-f services/compose.host.yaml,) $(SERVICES_EXTRA_FILES)
SERVICES_COMPOSE ?= COMPOSE_PROFILES=$(SERVICES_PROFILES) docker compose --project-directory services $(SERVICES_FILES) \
	--env-file services/images.$(IMAGES).env --env-file $(SERVICES_ENV)
WEIR_IMAGE       ?= weir:local

.PHONY: services_env build_images deploy_services watch_services stop_services clean_services docker_engine test-compose

## services_env: write services/.env with random per-service secrets (existing values kept; git-ignored)
services_env:
	go run ./services/cmd/genenv -out $(SERVICES_ENV)

## build_images: every image of the stack (IMAGES=local: built here; official: weir from source)
build_images: build
ifeq ($(IMAGES),official)
	DOCKER_BUILDKIT=1 docker build -f docker/weir.Dockerfile -t $(WEIR_IMAGE) .
else
	docker/build.sh $(WEIR)
endif

## deploy_services: start the compose stack and wait until every service is healthy
deploy_services: services_env build_images
	$(SERVICES_COMPOSE) up -d --remove-orphans --wait --wait-timeout 1800
	$(SERVICES_COMPOSE) ps

## watch_services: service states, then follow the logs (Ctrl-C stops watching, not the stack)
watch_services:
	$(SERVICES_COMPOSE) ps --all
	$(SERVICES_COMPOSE) logs --follow --tail 50

## stop_services: stop and remove the containers; named volumes (data) are kept
stop_services:
	$(SERVICES_COMPOSE) down --remove-orphans

## clean_services: stop_services and remove the data volumes too (every table, topic and secret-bound store)
clean_services:
	$(SERVICES_COMPOSE) down --remove-orphans --volumes

## docker_engine: install and start a Docker engine and the compose plugin where none runs
docker_engine:
	services/engine.sh start

# The compose stack under a real Docker engine (services/compose_integration_test.go,
# build tag compose): images, deploy, exact counts through the deployed
# services, a killed stream container, an alert, maintenance, down, nothing
# left, and Prometheus (profile prometheus) scraping every target. Host
# networking: the CI machines' engine has no bridge.
# An engine this target started is stopped at the end, pass or fail (its
# data directory, with the images, stays for the next run); dangling images
# and build cache of earlier weir builds are pruned so repeated runs do not
# fill the disk. Each step that fails says which one.
COMPOSE_TEST_IMAGES ?= weir kafka minio postgres trino alertmanager prometheus
test-compose: build
	@set -o pipefail; log=$$(mktemp); start=$$SECONDS; \
	services/engine.sh start 2>&1 | tee $$log; erc=$$?; \
	started=$$(grep -c 'starting dockerd' $$log || true); rm -f $$log; \
	stop() { if [ "$$started" != 0 ]; then services/engine.sh stop; fi; }; \
	[ $$erc = 0 ] || { echo "test-compose: services/engine.sh start failed (above)"; stop; exit 1; }; \
	echo "test-compose: engine ready after $$((SECONDS - start)) s"; \
	docker/build.sh $(WEIR) $(COMPOSE_TEST_IMAGES) || { echo "test-compose: docker/build.sh failed (above)"; stop; exit 1; }; \
	docker image prune -f >/dev/null; docker builder prune -f >/dev/null; \
	echo "test-compose: images ready after $$((SECONDS - start)) s"; \
	WEIR_COMPOSE_NETWORK=host $(GOTEST) -tags compose -timeout 50m -run '^TestComposeDeployment$$' -v ./services/; \
	rc=$$?; [ $$rc = 0 ] || echo "test-compose: TestComposeDeployment failed (its log above)"; \
	stop; echo "test-compose: $$((SECONDS - start)) s"; exit $$rc
