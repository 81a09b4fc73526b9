package orders

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/config"
	"weir/events"
	"weir/kafkaio"
)

// EnrichConfig names the topics and the consumer group of the enrich job;
// tests prefix them to run beside everyone else.
type EnrichConfig struct {
	Events   string // input, app.events
	DimItems string // dims.items
	Out      string // app.events.enriched
	Group    string // consumer group whose offsets say what was enriched
}

// DefaultEnrichConfig is the production topics and group.
func DefaultEnrichConfig() EnrichConfig {
	return EnrichConfig{Events: events.TopicAppEvents, DimItems: events.TopicDimItems,
		Out: events.TopicAppEventsEnriched, Group: "weir-enrich"}
}

// OutTopic is the spec of the enriched topic: as many partitions as
// app.events, compacted (consumers keep the last message per event_id, so a
// re-produced message replaces its twin) and deleted after the events'
// retention.
func OutTopic(name string) kafkaio.TopicSpec {
	return kafkaio.TopicSpec{Name: name, Partitions: 6,
		Config: map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "604800000"}}
}

// EnrichResult is what one run did.
type EnrichResult struct {
	Read         int64         `json:"read"`
	Produced     int64         `json:"produced"`
	Invalid      int64         `json:"invalid"`       // did not parse: skipped
	UnknownItems int64         `json:"unknown_items"` // an item dims.items lacks
	DimItems     int           `json:"dim_items"`
	Took         time.Duration `json:"took_ns"`
}

// Enrich runs one micro-batch (see the package contract).
func Enrich(ctx context.Context, kcfg config.Kafka, cfg EnrichConfig, log *slog.Logger) (EnrichResult, error) {
	start := time.Now()
	var res EnrichResult
	if err := kafkaio.EnsureTopics(ctx, kcfg, []kafkaio.TopicSpec{OutTopic(cfg.Out)}); err != nil {
		return res, err
	}
	items, err := readItems(ctx, kcfg, cfg.DimItems)
	if err != nil {
		return res, err
	}
	res.DimItems = len(items)
	p, err := kafkaio.NewProducer(kcfg, nil)
	if err != nil {
		return res, err
	}
	defer p.Close()
	c, err := kafkaio.NewConsumer(kcfg, cfg.Group, nil)
	if err != nil {
		return res, err
	}
	defer func() { _ = c.Close() }()
	var buf []byte
	next, err := kafkaio.ReadCommitted(ctx, c, cfg.Events, func(m *kafka.Message) error {
		res.Read++
		ev, err := events.ParseAppEvent(m.Value)
		if err != nil {
			res.Invalid++
			return nil
		}
		out := events.EnrichedEvent{Event: ev}
		if ev.Item != "" {
			if d, ok := items[ev.Item]; ok {
				out.ItemName, out.ItemCategory = d.Name, d.Category
			} else {
				res.UnknownItems++
			}
		}
		buf = out.AppendJSON(buf[:0])
		if err := p.Produce(ctx, cfg.Out, []byte(ev.EventID), buf); err != nil {
			return err
		}
		res.Produced++
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("enrich %s: %w", cfg.Events, err)
	}
	if err := p.Flush(ctx); err != nil {
		return res, fmt.Errorf("flush %s: %w", cfg.Out, err)
	}
	// Only now: a crash before this line re-reads and re-produces the range.
	if len(next) > 0 {
		if _, err := c.CommitOffsets(next); err != nil {
			return res, fmt.Errorf("commit offsets of %s: %w", cfg.Group, err)
		}
	}
	res.Took = time.Since(start)
	log.Info("enrich", "topic", cfg.Events, "read", res.Read, "produced", res.Produced, "invalid", res.Invalid,
		"unknown_items", res.UnknownItems, "took", res.Took.Round(time.Millisecond))
	return res, nil
}

// readItems reads dims.items in full: the last record of a key wins, an
// empty value (a compaction tombstone) deletes it, a record that does not
// parse is skipped.
func readItems(ctx context.Context, kcfg config.Kafka, topic string) (map[string]events.DimItem, error) {
	items := map[string]events.DimItem{}
	err := kafkaio.ReadAll(ctx, kcfg, topic, func(m *kafka.Message) error {
		if len(m.Value) == 0 {
			delete(items, string(m.Key))
			return nil
		}
		d, err := events.ParseDimItem(m.Value)
		if err == nil {
			items[d.Item] = d
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", topic, err)
	}
	return items, nil
}
