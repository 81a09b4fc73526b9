//go:build integration

package generate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/config"
	"weir/events"
	"weir/internal/stacktest"
	"weir/kafkaio"
)

// Against the local stack (source .stack/env.sh first):
//
//	go test -tags integration ./jobs/generate
//
// Both tests run the weir binary itself and write to topics of their own
// (weir.test.<run>.<topic>), so a running pipeline is not disturbed.

// TestMain removes the weir binary the tests built.
func TestMain(m *testing.M) { stacktest.Main(m) }

func kafkaConfig(t *testing.T) config.Kafka {
	t.Helper()
	return stacktest.Config(t).Kafka
}

// digest is an order-independent fingerprint of a multiset of records.
type digest struct {
	n   int64
	sum [32]byte
}

func (d *digest) add(key, value []byte) {
	h := sha256.New()
	h.Write(key)
	h.Write([]byte{0})
	h.Write(value)
	var s [32]byte
	h.Sum(s[:0])
	for i := range d.sum {
		d.sum[i] += s[i]
	}
	d.n++
}

func TestGenerateToKafkaMatchesSummary(t *testing.T) {
	kcfg := kafkaConfig(t)
	dir := t.TempDir()
	prefix := stacktest.TopicPrefix(t)
	args := []string{"generate", "--seed", "11", "--start", "2026-03-02T10:00:00Z", "--history", "20m", "--rate", "20",
		"--users", "300", "--anomaly-every", "5m", "--faults", "malformed=0.01,non_utf8=0.01,duplicate=0.02,out_of_order=0.01,future=0.005",
		"--topic-prefix", prefix, "--summary", filepath.Join(dir, "summary.json")}
	cmd := exec.Command(stacktest.Weir(t), args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("weir generate: %v\n%s", err, out)
	}
	// The same flags to a file give the records Kafka must now hold.
	fileArgs := append(args[:len(args)-4:len(args)-4], "--output", filepath.Join(dir, "gen.jsonl"))
	if out, err := exec.Command(stacktest.Weir(t), fileArgs...).CombinedOutput(); err != nil {
		t.Fatalf("weir generate --output: %v\n%s", err, out)
	}
	want := map[string]*digest{}
	f, err := os.Open(filepath.Join(dir, "gen.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = ReadRecords(f, func(r FileRecord) error {
		if want[r.Topic] == nil {
			want[r.Topic] = &digest{}
		}
		want[r.Topic].add(r.KeyBytes(), r.Payload())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, topic := range events.Topics {
		ts := sum.Topics[topic]
		t.Run(topic, func(t *testing.T) {
			got := &digest{}
			var valid int64
			err := kafkaio.ReadAll(ctx, kcfg, prefix+topic, func(m *kafka.Message) error {
				got.add(m.Key, m.Value)
				if parseAs(topic, m.Value) == nil {
					valid++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.n != ts.Produced || valid != ts.Valid {
				t.Fatalf("consumed %d (%d valid), summary says %d (%d valid)", got.n, valid, ts.Produced, ts.Valid)
			}
			if got.sum != want[topic].sum {
				t.Fatalf("consumed records differ from the --output run of the same flags")
			}
		})
	}
}

func TestProduceFixture(t *testing.T) {
	kcfg := kafkaConfig(t)
	lines := accessFixture(t, 10_000)
	path := filepath.Join(t.TempDir(), "access.log.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	bad := 0
	for _, l := range lines {
		zw.Write(l)
		zw.Write([]byte{'\n'})
		if _, err := events.ParseAccessLog(l); err != nil {
			bad++
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	topic := stacktest.TopicPrefix(t) + events.TopicWebAccess
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := kafkaio.EnsureTopics(ctx, kcfg, []kafkaio.TopicSpec{{Name: topic, Partitions: 6}}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(stacktest.Weir(t), "produce", "--topic", topic, "--format", events.TopicWebAccess, "--file", path).CombinedOutput()
	if err != nil {
		t.Fatalf("weir produce: %v\n%s", err, out)
	}
	if wantLine := fmt.Sprintf("lines=10000 produced=10000 delivered=10000 bad=%d cut=0", bad); !strings.Contains(string(out), wantLine) {
		t.Fatalf("weir produce reported:\n%s\nwant %q", out, wantLine)
	}
	got := map[string]int{}
	n := 0
	err = kafkaio.ReadAll(ctx, kcfg, topic, func(m *kafka.Message) error {
		got[string(m.Value)]++
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 10_000 {
		t.Fatalf("consumed %d records, want 10000", n)
	}
	for _, l := range lines {
		if got[string(l)] == 0 {
			t.Fatalf("line not consumed unchanged: %q", l)
		}
		got[string(l)]--
	}
}
