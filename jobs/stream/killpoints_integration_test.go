//go:build integration

package stream_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/internal/faultreport"
	"weir/internal/stacktest"
	"weir/jobs/stream"
)

// TestStreamKillPoints SIGKILLs the real `weir stream` process at every
// point of a flush — before the commit, with the commit built, with the
// new table metadata written but the catalog's compare-and-swap not sent,
// right after the catalog accepted it, after the commit, and between the
// dead-letter commit and the topic tables' — four times each, while
// records (some of them dead letters) keep arriving, restarting it after
// each kill. Every record must end up stored exactly once.
func TestStreamKillPoints(t *testing.T) {
	s := openStack(t)
	topics := s.newTopics(t, 4, "app.events", "app.logs")
	group := "it-" + topics[0]

	stopProducing := make(chan struct{})
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": strings.Join(s.cfg.Kafka.Brokers, ","), "acks": "all"})
		if err != nil {
			t.Error(err)
			return
		}
		defer p.Close()
		for i := 0; ; i++ {
			select {
			case <-stopProducing:
				p.Flush(30_000)
				return
			default:
			}
			s.produce(t, topics, 400, 300*time.Millisecond)
			// An oversized record per round: every batch has dead letters.
			topic := topics[i%len(topics)]
			if err := p.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
				Value: make([]byte, 5000)}, nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	var rounds []string
	for range 4 {
		rounds = append(rounds, stream.CrashPoints...)
	}
	rand.Shuffle(len(rounds), func(i, j int) { rounds[i], rounds[j] = rounds[j], rounds[i] })
	hits := map[string]int{}
	for i, point := range rounds {
		env := []string{"WEIR_KILL_POINT=" + point, fmt.Sprintf("WEIR_KILL_AFTER=%d", 1+rand.IntN(3))}
		p := startStream(t, fmt.Sprintf("kill%02d-%s", i, point), topics, group, env,
			"--instance-id", "kill-test", "--max-record-bytes", "2048")
		select {
		case <-p.Done():
		case <-time.After(90 * time.Second):
			p.Kill()
			out, _ := os.ReadFile(p.Log)
			t.Fatalf("round %d: the job never reached %s:\n%s", i, point, stacktest.Tail(string(out), 3000))
		}
		if !stacktest.KilledBySIGKILL(p.Err()) {
			out, _ := os.ReadFile(p.Log)
			t.Fatalf("round %d (%s): exit %v, want SIGKILL:\n%s", i, point, p.Err(), stacktest.Tail(string(out), 3000))
		}
		hits[point]++
	}
	close(stopProducing)
	<-produced

	p := startStream(t, "final", topics, group, nil, "--max-record-bytes", "2048")
	high := s.waitCaughtUp(t, topics, 3*time.Minute)
	stop(t, p)
	rows, dead := s.checkExact(t, topics, high)
	if dead == 0 {
		t.Error("no dead letters: the dead-letter commit was never between kills")
	}
	var expected int64
	for _, h := range high {
		expected += h
	}
	for _, point := range stream.CrashPoints {
		if err := faultreport.Record(faultreport.Entry{Test: t.Name(), Fault: "weir stream killed at " + point,
			Injected: "SIGKILL by the process itself (WEIR_KILL_POINT), while producing", Times: hits[point],
			Expected: expected, Stored: int64(rows + dead)}); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d kills at %v; %d rows + %d dead letters = %d records, exactly once", len(rounds), hits, rows, dead, rows+dead)
}
