//go:build integration && cluster

package stream_test

import (
	"context"
	"os"
	"testing"
	"time"

	"weir/localstack"
)

// TestClusterStreamBrokerDown runs weir stream on the cluster profile (3
// brokers, RF 3, min ISR 2) and stops one broker in the middle of the run,
// then starts it again: ingestion goes on and every record lands once.
// Run it with the cluster stack up (make test-cluster).
func TestClusterStreamBrokerDown(t *testing.T) {
	if os.Getenv("WEIR_STACK_PROFILE") != "cluster" {
		t.Skip("needs the cluster profile: make test-cluster")
	}
	s := openStack(t)
	ls, err := localstack.FromEnv(os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	topics := s.newTopics(t, 6, "app.events", "web.access")
	group := "it-" + topics[0]

	p := startStream(t, "cluster", topics, group, nil)
	waitForLog(t, p, "stream started", time.Minute)
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		s.produce(t, topics, 30_000, 25*time.Second)
	}()

	time.Sleep(6 * time.Second)
	ctx := context.Background()
	if err := ls.StopService(ctx, "kafka2"); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := ls.StartService(context.Background(), "kafka2"); err != nil {
				t.Errorf("restart kafka2: %v", err)
			}
		}
	})
	// With the broker down, the job must keep committing.
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
		t.Errorf("no progress with a broker down: %d records committed before, %d after 10s", before, during)
	}
	if err := ls.StartService(ctx, "kafka2"); err != nil {
		t.Fatal(err)
	}
	restarted = true

	<-produced
	high := s.waitCaughtUp(t, topics, 3*time.Minute)
	p.stop(t)
	rows, _ := s.checkExact(t, topics, high)
	t.Logf("%d rows, exactly once, one broker stopped for 10s mid-run", rows)
}
