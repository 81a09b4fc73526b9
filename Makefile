# weir — see README.md. Every target works on a fresh machine: the native
# stack installs what it needs into $(WEIR_CACHE_DIR).
SHELL := /bin/bash
export WEIR_STACK_DIR ?= $(CURDIR)/.stack
export WEIR_CACHE_DIR ?= $(WEIR_STACK_DIR)/cache
PROFILE ?= single
WEIR := $(CURDIR)/bin/weir
STACK_ENV := source $(WEIR_STACK_DIR)/env.sh
GOTEST := go test -count=1

.PHONY: build up down status logs test test-unit test-rules test-integration test-fresh test-cluster test-faults fuzz demo bench bench-peer bench-scaleout bench-freshness bench-report vet soak-stack test-alone test-helm

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
test: build vet test-unit test-helm up test-rules test-integration test-fresh test-cluster fuzz

# vet: go.mod is tidy, go vet and staticcheck (pinned; go run fetches and
# caches it) pass over every file, the build-tagged ones included; a build
# tag in the tree that VET_TAGS lacks fails the target, and so does a
# package that docs/architecture.md does not describe.
VET_TAGS := integration fresh cluster stackdown bench compose helm
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	@for t in $$(git ls-files -co --exclude-standard '*.go' | xargs grep -hE '^//go:build ' | sed 's#^//go:build##' | grep -oE '[A-Za-z_][A-Za-z0-9_]*' | sort -u); do \
		case " $(VET_TAGS) unix linux " in *" $$t "*) ;; *) echo "vet: build tag $$t is missing from VET_TAGS"; exit 1;; esac; \
	done
	@for p in $$(go list ./... | sed 's|^weir/||'); do \
		grep -qE "^\| .*\`$$p\`" docs/architecture.md || { echo "vet: package $$p is missing from docs/architecture.md"; exit 1; }; \
	done
	@unformatted=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
		if [ -n "$$unformatted" ]; then echo "vet: not gofmt-formatted: $$unformatted"; exit 1; fi
	go mod tidy -diff
	go vet -tags '$(VET_TAGS)' ./...
	go run $(STATICCHECK) -tags '$(VET_TAGS)' ./...

# Unit tests, then again under the race detector with -short (the
# long single-goroutine engine sweeps skip there: they ran just before).
test-unit:
	$(GOTEST) ./...
	$(GOTEST) -race -short ./...

# The Kubernetes chart (deploy/helm/weir) rendered by Helm's CLI for its
# default values, the production example and a trial install, every
# manifest decoded strictly into k8s.io/api types (deploy/helm/chart_test.go,
# build tag helm). The CLI is built once with go install into the cache
# (minutes; a few seconds for the test after that).
HELM_MODULE := helm.sh/helm/v4/cmd/helm@v4.3.2
HELM := $(WEIR_CACHE_DIR)/bin/helm-$(lastword $(subst @, ,$(HELM_MODULE)))
$(HELM):
	@echo "building helm (go install $(HELM_MODULE))"; tmp=$$(mktemp -d); \
	(cd $$tmp && GOBIN=$$tmp GOFLAGS= GOWORK=off CGO_ENABLED=0 go install $(HELM_MODULE)) && \
	mkdir -p $(@D) && mv $$tmp/helm $@; rc=$$?; rm -rf $$tmp; exit $$rc

test-helm: $(HELM)
	cd deploy/helm && WEIR_HELM=$(HELM) $(GOTEST) -tags helm -v -run '^TestChart' .

# The pipeline-health rules (services/prometheus/rules) against their unit
# tests, and the compose stack's Prometheus configuration with them, by
# promtool of the stack's Prometheus version (built into the cache once, like
# the stack's programs: weir stack artifacts --promtool). After up: the
# artifacts are installed by then.
test-rules: build
	@eval "$$($(WEIR) stack artifacts --promtool)" && \
		$$PROMTOOL_BIN check config services/prometheus/prometheus.yml services/prometheus/prometheus.host.yml && \
		$$PROMTOOL_BIN test rules services/prometheus/testdata/*_test.yml

# Packages run one at a time in a random order, and the tests of each in a
# random order too: a test that passes only after another one ran fails here.
# The stream, alerts and scheduler packages (goroutines sharing state: the
# committer and fetcher, the evaluator and sinks, the engine and its lease
# renewer) run under the race detector, with -short (the alert engine's
# long sweeps, unit tests that test-unit ran, skip).
RACE_PKGS := weir/jobs/stream weir/jobs/alerts weir/jobs/alerts/% weir/scheduler weir/scheduler/%
test-integration:
	$(STACK_ENV) && pkgs=$$(go list ./... | shuf) && echo "package order:" $$pkgs && failed= && \
		for p in $$pkgs; do \
			race=; case " $(filter $(RACE_PKGS),$(shell go list ./...)) " in *" $$p "*) race="-race -short";; esac; \
			$(GOTEST) $$race -tags integration -timeout 40m -shuffle=on $$p || failed="$$failed $$p"; \
		done; \
		if [ -n "$$failed" ]; then echo "integration tests failed in:$$failed"; exit 1; fi

# The README's first command from nothing: a brand-new private stack
# directory on ports of its own, weir stack up, weir demo, answers checked
# against the generator, weir stack down (jobs/demo/fresh_integration_test.go).
test-fresh: build
	$(GOTEST) -tags 'integration fresh' -timeout 25m -run '^TestDemoOnFreshStack$$' -v ./jobs/demo/

# The cluster profile (3 Kafka brokers, 4 MinIO nodes, Trino with 2 workers)
# runs beside the single stack on ports shifted by 1000, in its own
# directory; the test stops it at the end and checks nothing is left. Its
# faults, each with exact row accounting: a partition-leading broker and a
# MinIO node killed -9 under weir stream (and compaction), the catalog
# stopped for 30 s, the Trino coordinator stopped during a gold refresh. They record in $(WEIR_FAULT_REPORT) when it is set
# (make test-faults).
CLUSTER_DIR ?= $(WEIR_STACK_DIR)-cluster
CLUSTER_ENV = WEIR_STACK_DIR=$(CLUSTER_DIR) WEIR_STACK_PORT_OFFSET=$$(( $${WEIR_STACK_PORT_OFFSET:-0} + 1000 ))
test-cluster: build
	$(CLUSTER_ENV) $(WEIR) stack up --profile cluster
	source $(CLUSTER_DIR)/env.sh && $(GOTEST) -tags 'integration cluster' -timeout 30m -p 1 -run 'Cluster|Kafka|CatalogDown' \
		./localstack/ ./jobs/stream/ ./jobs/maintain/ ./jobs/gold/ \
		|| { $(CLUSTER_ENV) $(WEIR) stack down; exit 1; }
	$(CLUSTER_ENV) $(GOTEST) -tags stackdown -run TestDownLeavesNothing -v ./localstack/

# The fault tests (kills inside commits, retention gaps, outages; then the
# cluster profile's), each recording its fault and the row accounting
# after recovery; the README's reliability table is made from the report.
# The same tests run in test-integration and test-cluster, without the report.
FAULT_REPORT := $(CURDIR)/bench/results/faults.jsonl
test-faults: build
	rm -f $(FAULT_REPORT)
	$(STACK_ENV) && WEIR_FAULT_REPORT=$(FAULT_REPORT) $(GOTEST) -tags integration -timeout 30m -p 1 \
		-run 'KillPoints|KilledHalfway|RetentionGap|CatalogDown|TrinoDown' ./jobs/stream/ ./jobs/silver/ ./jobs/archive/ ./jobs/gold/
	$(MAKE) test-cluster WEIR_FAULT_REPORT=$(FAULT_REPORT)
	go run ./internal/faultreport/cmd/faulttable -in $(FAULT_REPORT) -readme README.md

# Every fuzz target runs for a budget of executions, not of time: Go's fuzz
# coordinator can fail at a time limit with "context deadline exceeded" and
# no failing input (golang/go#75804). A target fails the step only when the
# run wrote a new reproducer under testdata/fuzz or the stored corpus fails;
# any other error is reported and the step goes on.
FUZZEXECS ?= 50000
fuzz:
	@start=$$(date +%s); \
	for t in $$(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' . | sed 's/func //' | sort -u); do \
		pkg=$$(grep -rlE "^func $$t\(" --include='*_test.go' . | head -1 | xargs dirname); \
		corpus=$$pkg/testdata/fuzz/$$t; before=$$(ls $$corpus 2>/dev/null); \
		echo "fuzz $$t in $$pkg for $(FUZZEXECS) executions"; \
		go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZEXECS)x $$pkg && continue; \
		if [ "$$(ls $$corpus 2>/dev/null)" != "$$before" ]; then \
			echo "fuzz $$t: new reproducer in $$corpus"; exit 1; \
		fi; \
		go test -count=1 -run "^$$t$$" $$pkg || { echo "fuzz $$t: stored corpus fails"; exit 1; }; \
		echo "fuzz $$t: the fuzzer stopped without a failing input (golang/go#75804); corpus passes"; \
	done; \
	echo "fuzz: all targets in $$(( $$(date +%s) - start )) s"

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
	$(STACK_ENV) && WEIR_BENCH_RESULTS=1 $(GOTEST) -tags 'integration bench' -timeout 90m -p 1 -run '^TestBench' -bench . -benchtime 1x \
		./jobs/stream/ ./jobs/silver/ ./jobs/gold/ ./jobs/maintain/ ./jobs/alerts/
	$(STACK_ENV) && WEIR_BENCH_RESULTS=1 $(GOTEST) -tags integration -timeout 30m -v \
		-run '^(TestGroundTruth|TestAlertLatency|TestSIGKILLRestart|TestThroughputReport|TestGeneratorGroundTruth)$$' ./jobs/alerts/
	$(STACK_ENV) && $(WEIR) load --clients 4 --duration 60s --out bench/results/load.json

# weir's stream job beside Apache Iceberg's Kafka Connect sink (assembled
# from Maven Central jars into $(WEIR_CACHE_DIR) on first use) on the same
# stack, topics and records: rounds A B A B, freshness, kill -9 exactness;
# bench/results/peer.json. Not part of make bench (its name is not TestBench*). PEER_MESSAGES=100000 (or PEER_FLAGS=-short) for a
# quick run, written to peer-short.json instead.
PEER_MESSAGES ?=
PEER_FLAGS ?=
bench-peer: up
	mkdir -p bench/results
	$(STACK_ENV) && WEIR_BENCH_MESSAGES=$(PEER_MESSAGES) $(GOTEST) -tags 'integration bench' -timeout 120m -run '^TestSideBySidePeer$$' -v $(PEER_FLAGS) ./jobs/stream/

# 1, 2 and 3 weir stream instances in one consumer group on the cluster
# profile (3 brokers, 4 MinIO nodes, Trino + 2 workers, started beside the
# single stack on ports +1000 and stopped at the end):
# bench/results/scaleout.json. SCALE_MESSAGES=100000 for a quick run
# (scaleout-short.json).
SCALE_MESSAGES ?=
bench-scaleout: build
	$(CLUSTER_ENV) $(WEIR) stack up --profile cluster
	source $(CLUSTER_DIR)/env.sh && WEIR_BENCH_MESSAGES=$(SCALE_MESSAGES) $(GOTEST) -tags 'integration bench' -timeout 90m -run '^TestScaleOutStream$$' -v ./jobs/stream/ \
		|| { $(CLUSTER_ENV) $(WEIR) stack down; exit 1; }
	$(CLUSTER_ENV) $(WEIR) stack down

# Event → gold view freshness with silver in follow mode (weir batch silver
# --follow --gold, interval 10 s): the generator live and flat at FRESH_RATE
# records/s (FRESH_WARMUP to reach it, then FRESH_DURATION measured), the
# stream job, the follower refreshing every gold rollup, and probe events
# polled through Trino in gold.events (over silver) and
# gold.event_counts_15m (over a rollup): bench/results/freshness-gold.json.
# Not part of make bench or make test.
FRESH_RATE ?= 5000
FRESH_WARMUP ?= 5m
FRESH_DURATION ?= 2m
bench-freshness: up
	mkdir -p bench/results
	$(STACK_ENV) && WEIR_BENCH_RESULTS=1 WEIR_BENCH_RATE=$(FRESH_RATE) WEIR_BENCH_WARMUP=$(FRESH_WARMUP) WEIR_BENCH_DURATION=$(FRESH_DURATION) \
		$(GOTEST) -tags 'integration bench' -timeout 30m -run '^TestFreshnessFollow$$' -v ./jobs/gold/

# The README's Performance table, made from bench/results/*.json
# (internal/benchreport): no figure in it is typed by hand.
bench-report:
	go run ./internal/benchreport/cmd/benchtable -dir bench/results -readme README.md

# Stack start-up soak (not part of make test: ~35 s a cycle): SOAK_CYCLES
# up/down cycles, each a fresh private stack directory on free ports (offsets
# from 7000: below the ephemeral port range), checked healthy and left without process or port; results in
# bench/results/stack-soak.json.
SOAK_CYCLES ?= 20
soak-stack: build
	mkdir -p bench/results
	$(WEIR) stack soak --cycles $(SOAK_CYCLES) --out bench/results/stack-soak.json

# Each integration package alone on a brand-new stack of its own (a private
# directory, ports shifted by ALONE_OFFSET): no package may need what
# another left behind. Not part of make test (a stack start per package).
ALONE_OFFSET ?= 2500
test-alone: build
	@set -e; for d in $$(grep -rlx --include='*_test.go' '//go:build integration' . | xargs -n1 dirname | sort -u); do \
		dir=$$(mktemp -d)/stack; echo "== $$d alone on $$dir"; \
		export WEIR_STACK_DIR=$$dir WEIR_STACK_PORT_OFFSET=$(ALONE_OFFSET); \
		$(WEIR) stack up >/dev/null; \
		( source $$dir/env.sh && $(GOTEST) -tags integration -timeout 20m -shuffle=on $$d ) || { $(WEIR) stack down --remove; exit 1; }; \
		$(WEIR) stack down --remove >/dev/null; rmdir $$(dirname $$dir); \
	done

-include services/services.mk
