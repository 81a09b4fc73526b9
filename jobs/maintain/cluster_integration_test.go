//go:build integration && cluster

package maintain_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"weir/internal/faultreport"
	"weir/internal/stacktest"
	"weir/jobs/stream"
)

// TestClusterMinIONodeKilled is the compaction soak on the cluster profile
// (4 MinIO nodes, 2 drives each, one erasure-coded pool) with a MinIO node
// killed -9 while the real `weir stream` lands records and `weir batch
// maintain` compacts in a loop; it starts again 20 s later. Neither job is
// restarted: the stream must keep committing through the outage, a
// compaction must commit during it, and the soak's checks hold after it
// (bronze = produced, each offset once, no dead letters; silver and rejects
// = the generator's summary). The node killed is not the one the jobs
// address (minio1): the outage is of a node of the pool, not of the
// endpoint. Run it with the cluster stack up (make test-cluster).
func TestClusterMinIONodeKilled(t *testing.T) {
	if os.Getenv("WEIR_STACK_PROFILE") != "cluster" {
		t.Skip("needs the cluster profile: make test-cluster")
	}
	ls := stacktest.Stack(t)
	const victim = "minio3"
	const downFor = 20 * time.Second
	var killedAt, restartedAt time.Time
	var streamedDuring int64
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := ls.StartService(context.Background(), victim); err != nil {
				t.Errorf("restart %s: %v", victim, err)
			}
		}
	})
	res, cs := compactionUnderStream(t, soakOptions{total: 20_000, produceFor: 30 * time.Second, during: func(s *soak, cs *compactStats) {
		ctx := context.Background()
		time.Sleep(10 * time.Second)
		before := offsetsSum(t, s)
		if err := ls.KillService(ctx, victim); err != nil {
			t.Error(err)
			return
		}
		killedAt = time.Now()
		time.Sleep(downFor)
		streamedDuring = offsetsSum(t, s) - before
		restartedAt = time.Now()
		if err := ls.StartService(ctx, victim); err != nil {
			t.Error(err)
			return
		}
		restarted = true
	}})
	if killedAt.IsZero() || restartedAt.IsZero() {
		t.Fatal("the fault was not injected")
	}
	if streamedDuring <= 0 {
		t.Errorf("weir stream committed nothing in the %s %s was down", downFor, victim)
	}
	if cs.failed != 0 {
		t.Errorf("%d compaction runs failed", cs.failed)
	}
	if n := cs.committedWithin(killedAt, restartedAt); n == 0 {
		t.Errorf("no compaction committed a rewrite while %s was down", victim)
	}
	bronze := res["bronze"].(map[string]any)
	silver := res["silver"].(map[string]any)
	var silverRows, silverWant int64
	for _, v := range silver["tables"].(map[string]any) {
		silverRows += v.(map[string]int64)["rows"]
		silverWant += v.(map[string]int64)["expected"]
	}
	injected := fmt.Sprintf("kill -9 of %s (of 4 nodes) while weir stream commits and weir batch maintain compacts in a loop; started again after %s", victim, downFor)
	for _, e := range []faultreport.Entry{
		{Fault: "a MinIO node crashes under weir stream and compaction (cluster: 4 nodes, erasure-coded): bronze",
			Expected: bronze["produced"].(int64), Stored: bronze["rows"].(int64) + bronze["dead_letters"].(int64),
			Duplicates: bronze["duplicate_offsets"].(int64), Missing: bronze["missing_offsets"].(int64)},
		{Fault: "a MinIO node crashes under weir stream and compaction (cluster: 4 nodes, erasure-coded): silver + rejects after silver runs",
			Expected: silverWant + silver["invalid"].(int64), Stored: silverRows + silver["rejects"].(int64), Duplicates: silver["coordinates_twice"].(int64)},
	} {
		e.Test, e.Injected, e.Times = t.Name(), injected, 1
		if err := faultreport.Record(e); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%s down %s: stream committed %d records meanwhile, bronze %v rows, silver %d rows + %v rejects",
		victim, restartedAt.Sub(killedAt).Round(time.Second), streamedDuring, bronze["rows"], silverRows, silver["rejects"])
}

func offsetsSum(t testing.TB, s *soak) int64 {
	offs, err := stream.Offsets(context.Background(), s.lake, s.topics)
	if err != nil {
		t.Errorf("offsets: %v", err)
		return 0
	}
	var n int64
	for _, o := range offs {
		n += o
	}
	return n
}
