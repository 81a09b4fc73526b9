//go:build integration

package localstack_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/config"
)

// produceConsume writes n messages with acks=all and idempotence to a fresh
// topic and reads them all back.
func produceConsume(t *testing.T, brokers []string, topic string, replicas, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	boot := strings.Join(brokers, ",")
	ac, err := kafka.NewAdminClient(&kafka.ConfigMap{"bootstrap.servers": boot})
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	res, err := ac.CreateTopics(ctx, []kafka.TopicSpecification{{Topic: topic, NumPartitions: 3, ReplicationFactor: replicas}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Error.Code() != kafka.ErrNoError && res[0].Error.Code() != kafka.ErrTopicAlreadyExists {
		t.Fatalf("create topic: %v", res[0].Error)
	}

	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": boot, "acks": "all", "enable.idempotence": true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < n; i++ {
		msg := &kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
			Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("message %d", i))}
		for {
			err := p.Produce(msg, nil)
			if err == nil {
				break
			}
			if kerr, ok := err.(kafka.Error); ok && kerr.Code() == kafka.ErrQueueFull {
				p.Flush(100)
				continue
			}
			t.Fatal(err)
		}
	}
	failed := 0
	go func() {
		for e := range p.Events() {
			if m, ok := e.(*kafka.Message); ok && m.TopicPartition.Error != nil {
				failed++
			}
		}
	}()
	if left := p.Flush(60_000); left != 0 {
		t.Fatalf("%d messages not delivered", left)
	}
	if failed != 0 {
		t.Fatalf("%d deliveries failed", failed)
	}

	c, err := kafka.NewConsumer(&kafka.ConfigMap{"bootstrap.servers": boot, "group.id": topic + "-reader",
		"auto.offset.reset": "earliest", "enable.auto.commit": false})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe(topic, nil); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for len(seen) < n && ctx.Err() == nil {
		m, err := c.ReadMessage(time.Second)
		if err != nil {
			if kerr, ok := err.(kafka.Error); ok && kerr.IsTimeout() {
				continue
			}
			t.Fatal(err)
		}
		seen[string(m.Key)] = true
	}
	if len(seen) != n {
		t.Fatalf("consumed %d distinct messages, produced %d", len(seen), n)
	}
}

func TestKafkaRoundTrip(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	replicas := 1
	if os.Getenv("WEIR_STACK_PROFILE") == "cluster" {
		replicas = 3
	}
	produceConsume(t, cfg.Kafka.Brokers, fmt.Sprintf("it.roundtrip.%d", rand.Int64N(1e9)), replicas, 1000)
}
