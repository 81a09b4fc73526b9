//go:build integration

package kafkaio_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/config"
	"weir/kafkaio"
)

// Runs against the local stack: source /work/main/.stack/env.sh, then
// go test -tags integration ./kafkaio

func TestProduceEnsureReadAll(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	topic := fmt.Sprintf("weir.test.kafkaio.%d", time.Now().UnixNano())
	spec := []kafkaio.TopicSpec{{Name: topic, Partitions: 2}}
	if err := kafkaio.EnsureTopics(ctx, cfg.Kafka, spec); err != nil {
		t.Fatal(err)
	}
	spec[0].Partitions = 3 // second call: idempotent, and grows the topic
	if err := kafkaio.EnsureTopics(ctx, cfg.Kafka, spec); err != nil {
		t.Fatalf("second EnsureTopics: %v", err)
	}

	p, err := kafkaio.NewProducer(cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const n = 5000
	for i := range n {
		if err := p.Produce(ctx, topic, fmt.Appendf(nil, "k%d", i%17), fmt.Appendf(nil, "v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Delivered != n || s.Failed != 0 {
		t.Fatalf("stats %+v, want %d delivered", s, n)
	}

	seen := map[string]bool{}
	parts := map[int32]bool{}
	err = kafkaio.ReadAll(ctx, cfg.Kafka, topic, func(m *kafka.Message) error {
		seen[string(m.Value)] = true
		parts[m.TopicPartition.Partition] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("read back %d distinct values, want %d", len(seen), n)
	}
	if len(parts) < 2 {
		t.Errorf("messages landed in %d partitions, want keys spread over several", len(parts))
	}
}
