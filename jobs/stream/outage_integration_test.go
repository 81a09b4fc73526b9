//go:build integration

package stream_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"weir/internal/faultreport"
	"weir/internal/stacktest"
	"weir/trino"
)

// TestStreamCatalogDown stops PostgreSQL, which holds the Iceberg catalog,
// for 30 s while weir stream lands records that keep arriving. The job must
// ride it out by itself (no exit, no restart), catch up once the catalog is
// back, and hold every record exactly once.
func TestStreamCatalogDown(t *testing.T) {
	s := openStack(t)
	ls := stacktest.Stack(t)
	topics := s.newTopics(t, 4, "app.events")
	p := startStream(t, "catalog-down", topics, "it-"+topics[0], nil)
	p.WaitLog(t, "stream started", time.Minute)
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		s.produce(t, topics, 20_000, 50*time.Second)
	}()

	time.Sleep(8 * time.Second)
	ctx := context.Background()
	if err := ls.StopService(ctx, "postgres"); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = ls.StartService(context.Background(), "postgres")
			s.awaitTrinoCatalog(t)
		}
	})
	time.Sleep(30 * time.Second)
	select {
	case <-p.Done():
		out, _ := os.ReadFile(p.Log)
		t.Fatalf("weir stream exited while the catalog was down: %v\n%s", p.Err(), stacktest.Tail(string(out), 3000))
	default:
	}
	if err := ls.StartService(ctx, "postgres"); err != nil {
		t.Fatal(err)
	}
	restarted = true
	s.awaitTrinoCatalog(t)

	<-produced
	high := s.waitCaughtUp(t, topics, 3*time.Minute)
	stop(t, p)
	rows, dead := s.checkExact(t, topics, high)
	var expected int64
	for _, h := range high {
		expected += h
	}
	fault := "the catalog (PostgreSQL) down for 30 s under weir stream"
	if profile := os.Getenv("WEIR_STACK_PROFILE"); profile == "cluster" {
		fault += " (cluster profile)"
	}
	if err := faultreport.Record(faultreport.Entry{Test: t.Name(), Fault: fault,
		Injected: "localstack StopService postgres while producing, StartService after 30 s", Times: 1,
		Expected: expected, Stored: int64(rows + dead)}); err != nil {
		t.Error(err)
	}
	t.Logf("%d rows, exactly once; the job rode out a 30 s catalog outage", rows)
}

// awaitTrinoCatalog waits until Trino reads the Iceberg catalog again: the
// first queries after the catalog's database restarted fail inside Trino
// ("Cannot check and eventually update SQL schema") until its JDBC
// connections are renewed, and the next test must not meet that.
func (s *stack) awaitTrinoCatalog(t testing.TB) {
	t.Helper()
	db, err := trino.Open(s.cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var last error
	stacktest.Eventually(t, 2*time.Minute, time.Second, func() (bool, error) {
		var n int64
		last = db.QueryRow("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'bronze'").Scan(&n)
		return last == nil, nil
	}, func() string {
		return fmt.Sprintf("Trino does not read the catalog 2 min after PostgreSQL restarted: %v", last)
	})
}
