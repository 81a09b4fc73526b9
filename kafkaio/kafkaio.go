// Package kafkaio is weir's one Kafka wrapper, over confluent-kafka-go
// (librdkafka). Every producer, consumer and topic admin in weir comes from
// here so that delivery guarantees are set in one place:
//
//   - NewProducer: acks=all, idempotence on, delivery reports drained in the
//     background and counted; Flush reports the first delivery error.
//   - NewConsumer: auto commit and auto offset store off (jobs own their
//     offsets), isolation read_committed, earliest reset. It returns the
//     librdkafka consumer itself: jobs need its rebalance and Assign API.
//   - EnsureTopics: idempotent topic creation (and partition growth).
//   - ReadAll: read partitions from the beginning to the end they had when
//     called, for tests, replays and checks.
//
// Callers pass overrides as a kafka.ConfigMap; they are applied last.
package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/config"
	"weir/events"
	"weir/wait"
)

func baseConfig(cfg config.Kafka, defaults, overrides kafka.ConfigMap) (*kafka.ConfigMap, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka config: no brokers")
	}
	cm := kafka.ConfigMap{"bootstrap.servers": strings.Join(cfg.Brokers, ",")}
	for k, v := range defaults {
		cm[k] = v
	}
	for k, v := range overrides {
		cm[k] = v
	}
	return &cm, nil
}

// Producer is an idempotent, acks=all producer whose delivery reports are
// counted by a background drain.
type Producer struct {
	p         *kafka.Producer
	drained   chan struct{}
	enqueued  atomic.Int64
	delivered atomic.Int64
	failed    atomic.Int64

	mu       sync.Mutex
	firstErr error
}

// ProducerStats counts messages since the producer was created.
type ProducerStats struct {
	Enqueued  int64 // accepted by Produce
	Delivered int64 // acknowledged by all in-sync replicas
	Failed    int64 // delivery reported an error
}

// NewProducer returns a producer with acks=all and idempotence on; overrides
// (e.g. linger.ms, compression.type) are applied over weir's defaults.
func NewProducer(cfg config.Kafka, overrides kafka.ConfigMap) (*Producer, error) {
	cm, err := baseConfig(cfg, kafka.ConfigMap{
		"acks":                         "all",
		"enable.idempotence":           true,
		"linger.ms":                    20,
		"batch.size":                   1 << 20,
		"compression.type":             "lz4",
		"queue.buffering.max.messages": 1_000_000,
		"queue.buffering.max.kbytes":   1 << 20,
		"go.delivery.report.fields":    "none",
	}, overrides)
	if err != nil {
		return nil, err
	}
	// These two define the guarantee; overrides may not weaken them.
	(*cm)["acks"] = "all"
	(*cm)["enable.idempotence"] = true
	kp, err := kafka.NewProducer(cm)
	if err != nil {
		return nil, fmt.Errorf("create kafka producer: %w", err)
	}
	p := &Producer{p: kp, drained: make(chan struct{})}
	go p.drain()
	return p, nil
}

func (p *Producer) drain() {
	defer close(p.drained)
	for ev := range p.p.Events() {
		switch e := ev.(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil {
				p.failed.Add(1)
				p.record(fmt.Errorf("deliver to %s: %w", topicOf(e), e.TopicPartition.Error))
				continue
			}
			p.delivered.Add(1)
		case kafka.Error:
			// Non-fatal client errors (broker down, retried) are librdkafka's
			// business; a fatal one (idempotence broken) ends the producer.
			if e.IsFatal() {
				p.record(fmt.Errorf("kafka producer fatal error: %w", e))
			}
		}
	}
}

func topicOf(m *kafka.Message) string {
	if m.TopicPartition.Topic == nil {
		return "?"
	}
	return *m.TopicPartition.Topic
}

func (p *Producer) record(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.firstErr == nil {
		p.firstErr = err
	}
}

// Err returns the first delivery or fatal error seen, if any.
func (p *Producer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.firstErr
}

// Produce enqueues one message (partitioned by key). When librdkafka's queue
// is full it waits for deliveries instead of failing, until ctx is done. The
// key and value may be reused after it returns.
func (p *Producer) Produce(ctx context.Context, topic string, key, value []byte) error {
	if err := p.Err(); err != nil {
		return err
	}
	msg := &kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
		Key:            key,
		Value:          value,
	}
	for {
		err := p.p.Produce(msg, nil)
		if err == nil {
			p.enqueued.Add(1)
			return nil
		}
		var kerr kafka.Error
		if !errors.As(err, &kerr) || kerr.Code() != kafka.ErrQueueFull {
			return fmt.Errorf("produce to %s: %w", topic, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Flush waits until every enqueued message is delivered or failed, or ctx
// is done; it returns the first delivery error.
func (p *Producer) Flush(ctx context.Context) error {
	for p.p.Flush(200) > 0 || p.enqueued.Load() > p.delivered.Load()+p.failed.Load() {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("flush kafka producer (%d messages outstanding): %w", p.p.Len(), err)
		}
		time.Sleep(time.Millisecond) // delivery reports still on their way to drain
	}
	return p.Err()
}

// Stats returns the message counters.
func (p *Producer) Stats() ProducerStats {
	return ProducerStats{Enqueued: p.enqueued.Load(), Delivered: p.delivered.Load(), Failed: p.failed.Load()}
}

// Close releases the producer without flushing; call Flush first to wait
// for deliveries.
func (p *Producer) Close() {
	p.p.Close()
	<-p.drained
}

// NewConsumer returns a consumer in groupID with auto commit and auto offset
// store off and isolation read_committed; overrides are applied last.
func NewConsumer(cfg config.Kafka, groupID string, overrides kafka.ConfigMap) (*kafka.Consumer, error) {
	cm, err := baseConfig(cfg, kafka.ConfigMap{
		"group.id":                 groupID,
		"enable.auto.commit":       false,
		"enable.auto.offset.store": false,
		"isolation.level":          "read_committed",
		"auto.offset.reset":        "earliest",
		"enable.partition.eof":     false,
	}, overrides)
	if err != nil {
		return nil, err
	}
	c, err := kafka.NewConsumer(cm)
	if err != nil {
		return nil, fmt.Errorf("create kafka consumer: %w", err)
	}
	return c, nil
}

// TopicSpec is a topic EnsureTopics creates. ReplicationFactor 0 means the
// broker default (1 on the single-broker stack, 3 on the cluster).
type TopicSpec struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	Config            map[string]string
}

// EnsureTopics creates the topics that do not exist and grows the partition
// count of those that have fewer than specified. Existing configs are left
// as they are. It is safe to call from several processes at once.
func EnsureTopics(ctx context.Context, cfg config.Kafka, specs []TopicSpec) error {
	admin, err := newAdmin(cfg)
	if err != nil {
		return err
	}
	defer admin.Close()

	ks := make([]kafka.TopicSpecification, len(specs))
	for i, s := range specs {
		ks[i] = kafka.TopicSpecification{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor, Config: s.Config}
	}
	results, err := admin.CreateTopics(ctx, ks, kafka.SetAdminOperationTimeout(30*time.Second))
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for _, r := range results {
		if c := r.Error.Code(); c != kafka.ErrNoError && c != kafka.ErrTopicAlreadyExists {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Error)
		}
	}

	var grow []kafka.PartitionsSpecification
	for _, s := range specs {
		md, err := admin.GetMetadata(&s.Name, false, 10_000)
		if err != nil {
			return fmt.Errorf("read metadata of topic %s: %w", s.Name, err)
		}
		if n := len(md.Topics[s.Name].Partitions); n < s.Partitions {
			grow = append(grow, kafka.PartitionsSpecification{Topic: s.Name, IncreaseTo: s.Partitions})
		}
	}
	if len(grow) == 0 {
		return nil
	}
	results, err = admin.CreatePartitions(ctx, grow)
	if err != nil {
		return fmt.Errorf("grow topic partitions: %w", err)
	}
	for _, r := range results {
		if c := r.Error.Code(); c != kafka.ErrNoError && c != kafka.ErrInvalidPartitions {
			return fmt.Errorf("grow partitions of topic %s: %w", r.Topic, r.Error)
		}
	}
	return nil
}

func newAdmin(cfg config.Kafka) (*kafka.AdminClient, error) {
	cm, err := baseConfig(cfg, nil, nil)
	if err != nil {
		return nil, err
	}
	admin, err := kafka.NewAdminClient(cm)
	if err != nil {
		return nil, fmt.Errorf("create kafka admin client: %w", err)
	}
	return admin, nil
}

// DeleteTopics deletes topics and consumer groups (a test's or a replay's
// own): what does not exist is not an error; every other failure is
// returned, joined.
func DeleteTopics(ctx context.Context, cfg config.Kafka, topics, groups []string) error {
	admin, err := newAdmin(cfg)
	if err != nil {
		return err
	}
	defer admin.Close()
	var errs []error
	if len(topics) > 0 {
		res, err := admin.DeleteTopics(ctx, topics)
		if err != nil {
			return fmt.Errorf("delete topics: %w", err)
		}
		for _, r := range res {
			if c := r.Error.Code(); c != kafka.ErrNoError && c != kafka.ErrUnknownTopicOrPart {
				errs = append(errs, fmt.Errorf("delete topic %s: %w", r.Topic, r.Error))
			}
		}
	}
	if len(groups) > 0 {
		res, err := admin.DeleteConsumerGroups(ctx, groups)
		if err != nil {
			return fmt.Errorf("delete consumer groups: %w", err)
		}
		for _, g := range res.ConsumerGroupResults {
			if c := g.Error.Code(); c != kafka.ErrNoError && c != kafka.ErrGroupIDNotFound {
				errs = append(errs, fmt.Errorf("delete consumer group %s: %w", g.Group, g.Error))
			}
		}
	}
	return errors.Join(errs...)
}

// Retention of the event topics: long enough to re-read a week of outages;
// records carry produce time, so replayed history is not expired at once.
const eventRetentionMs = "604800000"

// SourceTopics returns the specs of DESIGN §2's source topics: six
// partitions for the event streams, three for metrics, one compacted
// partition for each dimension topic.
func SourceTopics() []TopicSpec {
	streams := map[string]string{"retention.ms": eventRetentionMs}
	dims := map[string]string{"cleanup.policy": "compact"}
	return []TopicSpec{
		{Name: events.TopicWebAccess, Partitions: 6, Config: streams},
		{Name: events.TopicAppEvents, Partitions: 6, Config: streams},
		{Name: events.TopicAppLogs, Partitions: 6, Config: streams},
		{Name: events.TopicMetrics, Partitions: 3, Config: streams},
		{Name: events.TopicDimItems, Partitions: 1, Config: dims},
		{Name: events.TopicDimProviders, Partitions: 1, Config: dims},
	}
}

// ReadAll reads every partition of topic from its low watermark to the high
// watermark it had when ReadAll was called, calling fn for each message in
// partition order. It uses no consumer group offsets (nothing is committed).
func ReadAll(ctx context.Context, cfg config.Kafka, topic string, fn func(*kafka.Message) error) error {
	c, err := NewConsumer(cfg, "weir-readall", nil)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = readUpTo(ctx, c, topic, func(low int64, _ kafka.TopicPartition) int64 { return low }, fn)
	return err
}

// ReadCommitted reads every partition of topic from the committed offset of
// c's consumer group (the low watermark where there is none, or where it fell
// below it) to the high watermark it had when ReadCommitted was called,
// calling fn for each message in partition order. It commits nothing: it
// returns the next offset of every partition, for c.CommitOffsets once what
// fn produced is durable (a crash before the commit re-reads the range).
func ReadCommitted(ctx context.Context, c *kafka.Consumer, topic string, fn func(*kafka.Message) error) ([]kafka.TopicPartition, error) {
	return readUpTo(ctx, c, topic, func(low int64, committed kafka.TopicPartition) int64 {
		if committed.Offset >= 0 && int64(committed.Offset) > low {
			return int64(committed.Offset)
		}
		return low
	}, fn)
}

// coordinatorWait bounds how long committedOffsets waits for the group's
// coordinator.
const coordinatorWait = time.Minute

// committedOffsets is c.Committed, asked again while the consumer group's
// coordinator is loading or moving (a broker that just started, or failed
// over), for up to coordinatorWait.
func committedOffsets(ctx context.Context, c *kafka.Consumer, parts []kafka.TopicPartition) ([]kafka.TopicPartition, error) {
	ctx, cancel := context.WithTimeout(ctx, coordinatorWait)
	defer cancel()
	var committed []kafka.TopicPartition
	err := wait.Until(ctx, 500*time.Millisecond, func(context.Context) error {
		var err error
		committed, err = c.Committed(parts, 10_000)
		if err != nil && !coordinatorUnsettled(err) {
			return wait.Stop(err)
		}
		return err
	})
	return committed, err
}

// coordinatorUnsettled reports whether err says the group's coordinator is
// not ready yet, which passes by itself.
func coordinatorUnsettled(err error) bool {
	var kerr kafka.Error
	if !errors.As(err, &kerr) {
		return false
	}
	switch kerr.Code() {
	case kafka.ErrNotCoordinator, kafka.ErrCoordinatorLoadInProgress, kafka.ErrCoordinatorNotAvailable:
		return true
	}
	return false
}

// readUpTo assigns c every partition of topic from start(low watermark,
// committed offset) to the high watermark and calls fn for each message; it
// returns the next offset of every partition (its high watermark).
func readUpTo(ctx context.Context, c *kafka.Consumer, topic string, start func(low int64, committed kafka.TopicPartition) int64, fn func(*kafka.Message) error) ([]kafka.TopicPartition, error) {
	md, err := c.GetMetadata(&topic, false, 10_000)
	if err != nil {
		return nil, fmt.Errorf("read metadata of topic %s: %w", topic, err)
	}
	tm, ok := md.Topics[topic]
	if !ok || tm.Error.Code() != kafka.ErrNoError {
		return nil, fmt.Errorf("read metadata of topic %s: %v", topic, tm.Error)
	}
	parts := make([]kafka.TopicPartition, len(tm.Partitions))
	for i, p := range tm.Partitions {
		parts[i] = kafka.TopicPartition{Topic: &topic, Partition: p.ID}
	}
	committed, err := committedOffsets(ctx, c, parts)
	if err != nil {
		return nil, fmt.Errorf("read committed offsets of %s: %w", topic, err)
	}
	var assign, next []kafka.TopicPartition
	end := map[int32]int64{}
	for _, p := range committed {
		low, high, err := c.QueryWatermarkOffsets(topic, p.Partition, 10_000)
		if err != nil {
			return nil, fmt.Errorf("query watermarks of %s/%d: %w", topic, p.Partition, err)
		}
		next = append(next, kafka.TopicPartition{Topic: &topic, Partition: p.Partition, Offset: kafka.Offset(high)})
		if from := start(low, p); high > from {
			assign = append(assign, kafka.TopicPartition{Topic: &topic, Partition: p.Partition, Offset: kafka.Offset(from)})
			end[p.Partition] = high
		}
	}
	if len(assign) == 0 {
		return next, nil
	}
	if err := c.Assign(assign); err != nil {
		return nil, fmt.Errorf("assign %s: %w", topic, err)
	}
	defer func() { _ = c.Unassign() }()
	for len(end) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev := c.Poll(200)
		switch e := ev.(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil {
				return nil, fmt.Errorf("read %s/%d: %w", topic, e.TopicPartition.Partition, e.TopicPartition.Error)
			}
			if _, reading := end[e.TopicPartition.Partition]; !reading {
				continue
			}
			if err := fn(e); err != nil {
				return nil, err
			}
			// Transaction markers and compaction leave gaps, so the last data
			// offset may be below high-1; the idle branch catches that case.
			if int64(e.TopicPartition.Offset)+1 >= end[e.TopicPartition.Partition] {
				delete(end, e.TopicPartition.Partition)
			}
		case kafka.Error:
			if e.IsFatal() {
				return nil, fmt.Errorf("read %s: %w", topic, e)
			}
		case nil:
			// Idle: a partition may end on control records; check positions.
			pos, err := c.Position(assign)
			if err != nil {
				continue
			}
			for _, tp := range pos {
				if h, ok := end[tp.Partition]; ok && tp.Offset >= 0 && int64(tp.Offset) >= h {
					delete(end, tp.Partition)
				}
			}
		}
	}
	return next, nil
}
