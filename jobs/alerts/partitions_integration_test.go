//go:build integration

package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"weir/events"
	"weir/internal/stacktest"
	"weir/jobs/alerts/rules"
	"weir/kafkaio"
)

// TestNewPartitionPickedUp: a partition added to a source topic under a
// running alert job is read without a restart. The probe rule matches only
// records written to the new partition, so its alert can come from nowhere
// else; the checkpoint then holds the new partition's offset.
func TestNewPartitionPickedUp(t *testing.T) {
	cfg := loadConfig(t)
	run := runID("newpart")
	prefix := run + "."
	probe := `{name: NewPartitionProbe, source: app.logs, filter: [{field: service, eq: newpart}], group_by: [service],` +
		` window: {size: 10s}, conditions: [{aggregate: count, op: ">=", value: 5}], labels: {kind: probe}}`
	f, err := rules.Parse([]byte(`{settings: {out_of_orderness: 1s, allowed_lateness: 30s, idle_timeout: 2s, external_labels: {run: ` + run + `}}, rules: [` + probe + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	produce(t, cfg, prefix, dimItems()) // creates the topics
	topic := prefix + events.TopicAppLogs
	before := partitionCount(t, cfg.Kafka.Brokers, topic)

	stop := startJob(t, cfg, Options{Rules: f, Job: run, TopicPrefix: prefix, Sinks: []string{}, PartitionRefresh: time.Second})
	defer stop()
	waitFor(t, 60*time.Second, "checkpoint of the job", func() bool { _, ok := checkpointOffsets(t, cfg.Scheduler.Database, run); return ok })

	if err := kafkaio.EnsureTopics(context.Background(), cfg.Kafka, []kafkaio.TopicSpec{{Name: topic, Partitions: before + 1}}); err != nil {
		t.Fatal(err)
	}
	// Five error lines of service newpart, then one 15 s later that closes
	// their window, all on the new partition only.
	now := time.Now().UTC().Truncate(10 * time.Second)
	var vals [][]byte
	for i := range 5 {
		l := events.AppLog{TS: now.Add(time.Duration(i) * time.Second), Level: events.LevelError, Service: "newpart", Host: "h1", Message: "m"}
		vals = append(vals, l.AppendJSON(nil))
	}
	l := events.AppLog{TS: now.Add(15 * time.Second), Level: events.LevelInfo, Service: "other", Host: "h1", Message: "m"}
	vals = append(vals, l.AppendJSON(nil))
	produceTo(t, cfg.Kafka.Brokers, topic, int32(before), vals)

	key := fmt.Sprintf("%s/%d", events.TopicAppLogs, before)
	waitFor(t, 60*time.Second, "alert from the new partition", func() bool {
		return slices.ContainsFunc(outbox(t, cfg, run), func(n Notification) bool {
			return n.Rule == "NewPartitionProbe" && n.Status == Firing && n.Labels["service"] == "newpart"
		})
	})
	waitFor(t, 30*time.Second, "offset of the new partition in the checkpoint", func() bool {
		offs, _ := checkpointOffsets(t, cfg.Scheduler.Database, run)
		return offs[key] == int64(len(vals))
	})
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	stacktest.Eventually(t, timeout, 500*time.Millisecond, func() (bool, error) { return ok(), nil },
		func() string { return fmt.Sprintf("no %s within %s", what, timeout) })
}

// checkpointOffsets reads the job's checkpointed next offsets (straight
// from the table: OpenStore would race the job creating its tables).
func checkpointOffsets(t *testing.T, dsn, job string) (map[string]int64, bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var raw []byte
	if err := conn.QueryRow(ctx, `SELECT offsets FROM alerts_checkpoint WHERE job = $1`, job).Scan(&raw); err != nil {
		return nil, false // no checkpoint (or no table) yet
	}
	offs := map[string]int64{}
	if err := json.Unmarshal(raw, &offs); err != nil {
		t.Fatal(err)
	}
	return offs, true
}

func partitionCount(t *testing.T, brokers []string, topic string) int {
	t.Helper()
	a, err := kafka.NewAdminClient(&kafka.ConfigMap{"bootstrap.servers": strings.Join(brokers, ",")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	md, err := a.GetMetadata(&topic, false, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	return len(md.Topics[topic].Partitions)
}

// produceTo writes values to one partition (kafkaio's producer chooses the
// partition by key; this test needs a given one).
func produceTo(t *testing.T, brokers []string, topic string, partition int32, values [][]byte) {
	t.Helper()
	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": strings.Join(brokers, ","), "acks": "all"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// The partition was just added: wait until this client's metadata has it.
	waitFor(t, 30*time.Second, "new partition in the producer's metadata", func() bool {
		md, err := p.GetMetadata(&topic, false, 5_000)
		return err == nil && len(md.Topics[topic].Partitions) > int(partition)
	})
	reports := make(chan kafka.Event, len(values))
	for _, v := range values {
		if err := p.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: partition}, Value: v}, reports); err != nil {
			t.Fatal(err)
		}
	}
	for range values {
		if m := (<-reports).(*kafka.Message); m.TopicPartition.Error != nil {
			t.Fatalf("produce to %s/%d: %v", topic, partition, m.TopicPartition.Error)
		}
	}
}

// TestUndecodableDimensionsCounted: a dimension record the job cannot
// decode (cut JSON; a tombstone is not one) counts in
// weir_alerts_invalid_records_total, whether it was read before evaluation
// started or while the job ran.
func TestUndecodableDimensionsCounted(t *testing.T) {
	cfg := loadConfig(t)
	run := runID("baddims")
	prefix := run + "."
	f, err := rules.Parse([]byte(`{settings: {enrich: [{topic: dims.items, key: item, value: category, source: app.events, on: item, as: category}]},` +
		` rules: [{name: DimsProbe, source: app.events, group_by: [category], window: {size: 10s}, conditions: [{aggregate: count, op: ">=", value: 5}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	bad := scenarioMsg{events.TopicDimItems, "cut", []byte(`{"item": "cut`), time.Time{}}
	tombstone := scenarioMsg{events.TopicDimItems, "gone", nil, time.Time{}}
	produce(t, cfg, prefix, append(dimItems(), bad, tombstone))
	reg := prometheus.NewRegistry()
	stop := startJob(t, cfg, Options{Rules: f, Job: run, TopicPrefix: prefix, Sinks: []string{}, Registry: reg})
	defer stop()
	invalid := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "weir_alerts_invalid_records_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "topic" && l.GetValue() == events.TopicDimItems {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	waitFor(t, 60*time.Second, "the undecodable record read at start counted once", func() bool { return invalid() == 1 })
	produce(t, cfg, prefix, []scenarioMsg{bad, tombstone})
	waitFor(t, 60*time.Second, "the undecodable record read live counted", func() bool { return invalid() == 2 })
}
