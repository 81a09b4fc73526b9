# weir — see README.md. Every target works on a fresh machine: the native
# stack installs what it needs into $(WEIR_CACHE_DIR).
SHELL := /bin/bash
export WEIR_STACK_DIR ?= $(CURDIR)/.stack
export WEIR_CACHE_DIR ?= $(WEIR_STACK_DIR)/cache
PROFILE ?= single
WEIR := $(CURDIR)/bin/weir
STACK_ENV := source $(WEIR_STACK_DIR)/env.sh
GOTEST := go test -count=1

.PHONY: build up down status logs test test-unit test-integration test-fresh test-cluster fuzz demo bench vet soak-stack

build:
	go build -o $(WEIR) ./cmd/weir

## native local stack
up: build
	$(WEIR) stack up --profile $(PROFILE)

down: build
	$(WEIR) stack down

status: build
	$(WEIR) stack status

logs: build
	@$(WEIR) stack logs | while read -r f; do echo "== $$f"; tail -n 20 "$$f"; done

## tests: unit tests, then integration tests against the running (or started) stack
test: build vet test-unit up test-integration test-fresh test-cluster fuzz

vet:
	go vet ./...

test-unit:
	$(GOTEST) ./...

# Packages run one at a time in a random order, and the tests of each in a
# random order too: a test that passes only after another one ran fails here.
test-integration:
	$(STACK_ENV) && pkgs=$$(go list ./... | shuf) && echo "package order:" $$pkgs && \
		$(GOTEST) -tags integration -timeout 40m -p 1 -shuffle=on $$pkgs

# The README's first command from nothing: a brand-new private stack
# directory on ports of its own, weir stack up, weir demo, answers checked
# against the generator, weir stack down (jobs/demo/fresh_integration_test.go).
test-fresh: build
	$(GOTEST) -tags 'integration fresh' -timeout 25m -run '^TestDemoOnFreshStack$$' -v ./jobs/demo/

# The cluster profile (3 Kafka brokers, 4 MinIO nodes, Trino with 2 workers)
# runs beside the single stack on ports shifted by 1000, in its own
# directory; the test stops it at the end and checks nothing is left.
CLUSTER_DIR ?= $(WEIR_STACK_DIR)-cluster
CLUSTER_ENV = WEIR_STACK_DIR=$(CLUSTER_DIR) WEIR_STACK_PORT_OFFSET=$$(( $${WEIR_STACK_PORT_OFFSET:-0} + 1000 ))
test-cluster: build
	$(CLUSTER_ENV) $(WEIR) stack up --profile cluster
	source $(CLUSTER_DIR)/env.sh && $(GOTEST) -tags 'integration cluster' -timeout 20m -p 1 -run 'Cluster|Kafka' ./localstack/ ./jobs/stream/ \
		|| { $(CLUSTER_ENV) $(WEIR) stack down; exit 1; }
	$(CLUSTER_ENV) $(GOTEST) -tags stackdown -run TestDownLeavesNothing -v ./localstack/

FUZZTIME ?= 10s
fuzz:
	@for t in $$(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' . | sed 's/func //' | sort -u); do \
		pkg=$$(grep -rlE "^func $$t\(" --include='*_test.go' . | head -1 | xargs dirname); \
		echo "fuzz $$t in $$pkg for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

demo: up
	$(STACK_ENV) && $(WEIR) demo

# Benchmarks write machine-readable results to bench/results/ (JSON, or
# go test -json lines for the pure-CPU benchmarks). The figures depend on the
# machine: each file records where it ran.
bench: up
	mkdir -p bench/results
	go test -run '^$$' -bench . -cpu 1 -json ./events/ > bench/results/events.jsonl
	go test -run '^$$' -bench . -json ./jobs/alerts/ > bench/results/alerts-evaluate.jsonl
	$(STACK_ENV) && $(WEIR) generate --seed 3 --start 2026-03-02T18:00:00Z --history 20m --rate 1000 \
		--topic-prefix bench. --bench-out bench/results/generate.json
	$(STACK_ENV) && $(GOTEST) -tags 'integration bench' -timeout 90m -p 1 -run '^TestBench' -bench . -benchtime 1x \
		./jobs/stream/ ./jobs/silver/ ./jobs/gold/ ./jobs/maintain/ ./jobs/alerts/
	$(STACK_ENV) && $(WEIR) load --clients 4 --duration 60s --out bench/results/load.json

# Stack start-up soak (not part of make test: ~35 s a cycle): SOAK_CYCLES
# up/down cycles, each a fresh private stack directory on free ports (offsets
# from 7000: below the ephemeral port range), checked healthy and left without process or port; results in
# bench/results/stack-soak.json.
SOAK_CYCLES ?= 20
soak-stack: build
	mkdir -p bench/results
	$(WEIR) stack soak --cycles $(SOAK_CYCLES) --out bench/results/stack-soak.json

-include services/services.mk
