//go:build integration && cluster

package stream_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"weir/internal/faultreport"
	"weir/internal/stacktest"
	"weir/kafkaio"
)

// TestClusterStreamBrokerKilled runs weir stream on the cluster profile (3
// brokers, RF 3, min ISR 2) and kills -9 the broker that leads the most
// partitions of the topics it consumes, in the middle of the run, while
// records are produced with acks=all (idempotent); 10 s later the broker
// starts again. The job must keep committing with the broker gone and end
// with every produced record stored once: the topics end at exactly the
// produced count, and bronze + dead letters hold each offset once.
// Run it with the cluster stack up (make test-cluster).
func TestClusterStreamBrokerKilled(t *testing.T) {
	if os.Getenv("WEIR_STACK_PROFILE") != "cluster" {
		t.Skip("needs the cluster profile: make test-cluster")
	}
	s := openStack(t)
	ls := stacktest.Stack(t)
	topics := s.newTopics(t, 6, "app.events", "web.access")
	group := "it-" + topics[0]
	victim, led := s.busiestLeader(t, topics)

	p := startStream(t, "cluster", topics, group, nil)
	p.WaitLog(t, "stream started", time.Minute)
	const perTopic = 30_000
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		s.produce(t, topics, perTopic, 25*time.Second) // acks=all, idempotent; fails the test on an undelivered record
	}()

	time.Sleep(6 * time.Second)
	ctx := context.Background()
	if err := ls.KillService(ctx, victim); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := ls.StartService(context.Background(), victim); err != nil {
				t.Errorf("restart %s: %v", victim, err)
			}
		}
	})
	// With the leader gone, the job must keep committing.
	before, err := streamOffsetsSum(s, topics)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	during, err := streamOffsetsSum(s, topics)
	if err != nil {
		t.Fatal(err)
	}
	if during <= before {
		t.Errorf("no progress with %s killed: %d records committed before, %d after 10s", victim, before, during)
	}
	if err := ls.StartService(ctx, victim); err != nil {
		t.Fatal(err)
	}
	restarted = true

	<-produced
	high := s.waitCaughtUp(t, topics, 3*time.Minute)
	stop(t, p)
	var ends int64
	for _, h := range high {
		ends += h
	}
	want := int64(perTopic * len(topics))
	if ends != want {
		t.Errorf("the topics end at %d records, %d were produced (acks=all, idempotent): a record lost or written twice", ends, want)
	}
	rows, dead := s.checkExact(t, topics, high)
	if err := faultreport.Record(faultreport.Entry{Test: t.Name(), Fault: "a Kafka broker leading consumed partitions crashes under weir stream (cluster: 3 brokers, RF 3, min ISR 2)",
		Injected: fmt.Sprintf("kill -9 of %s (leader of %d partitions) while producing with acks=all, started again after 10 s", victim, led),
		Times:    1, Expected: want, Stored: int64(rows + dead)}); err != nil {
		t.Error(err)
	}
	t.Logf("%d rows + %d dead letters = %d produced, exactly once; %s (leader of %d partitions) killed -9 for 10 s mid-run", rows, dead, want, victim, led)
}

// busiestLeader is the broker service ("kafka<id>") that leads the most
// partitions of topics, and how many.
func (s *stack) busiestLeader(t testing.TB, topics []string) (string, int) {
	t.Helper()
	c, err := kafkaio.NewConsumer(s.cfg.Kafka, "weir-it-metadata", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	leads := map[int32]int{}
	for _, topic := range topics {
		md, err := c.GetMetadata(&topic, false, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range md.Topics[topic].Partitions {
			leads[p.Leader]++
		}
	}
	var best int32
	for id, n := range leads {
		if n > leads[best] {
			best = id
		}
	}
	if leads[best] == 0 {
		t.Fatalf("no partition leader found for %v", topics)
	}
	return fmt.Sprintf("kafka%d", best), leads[best]
}
