// Package setup creates, idempotently, everything weir's jobs and readers
// expect to exist before any job has run: the source Kafka topics and
// app.events.enriched, the lakehouse namespaces, every Iceberg table of
// lakehouse.Tables (bronze, dead letters, silver with alerts and rejects,
// archive), the scheduler's store, and gold through Trino: gold.orders with
// the order mart views (jobs/orders), then the rollups and views (sql/gold),
// all by gold.Runner.Apply.
//
// `weir init` runs it. `weir stack up`, `make demo`, the compose init
// service and the silver_build DAG's first task run `weir init`, so no reader
// depends on a writer having created a table lazily. Running it again
// changes nothing that exists, except that gold views whose SQL changed are
// replaced (gold.Runner.Apply).
package setup

import (
	"context"
	"fmt"
	"log/slog"

	"weir/config"
	"weir/events"
	"weir/jobs/gold"
	"weir/jobs/orders"
	"weir/kafkaio"
	"weir/lakehouse"
	"weir/trino"
)

// Options choose the parts to prepare.
type Options struct {
	// SkipTopics leaves the Kafka topics alone (a deployment whose topics
	// are managed elsewhere).
	SkipTopics bool
	// SkipGold leaves out the gold rollups and views, which need Trino.
	SkipGold bool
	// GoldSQL is the directory of the gold SQL ("": the copy built into weir).
	GoldSQL string
	Log     *slog.Logger
}

// Run prepares the topics, the lakehouse tables, the scheduler store and
// gold, and returns what gold apply did to each gold object.
func Run(ctx context.Context, cfg config.Config, opts Options) ([]gold.Result, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	if !opts.SkipTopics {
		topics := append(kafkaio.SourceTopics(), orders.OutTopic(events.TopicAppEventsEnriched))
		if err := kafkaio.EnsureTopics(ctx, cfg.Kafka, topics); err != nil {
			return nil, fmt.Errorf("create source topics: %w", err)
		}
	}
	lake, err := lakehouse.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	target := gold.Target{Catalog: cfg.Trino.Catalog}
	err = gold.EnsureSources(ctx, lake, target)
	lake.Close()
	if err != nil {
		return nil, fmt.Errorf("create lakehouse tables: %w", err)
	}
	log.Info("lakehouse tables ready", "tables", len(lakehouse.Tables()))
	if opts.SkipGold {
		return nil, nil
	}
	defs, err := gold.Definitions(opts.GoldSQL)
	if err != nil {
		return nil, err
	}
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := &gold.Runner{DB: db, Target: target, Log: log}
	results, err := r.Apply(ctx, defs)
	if err != nil {
		return results, fmt.Errorf("apply gold: %w", err)
	}
	return results, nil
}
