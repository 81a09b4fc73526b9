//go:build integration

package engine

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"weir/scheduler"
)

// TestLeaseRenewalHungIsBounded: the try's row is locked by another
// connection, so the scheduler's lease renewal hangs (as on a connection
// that stopped answering). Each renewal pass is bounded by the renewal
// interval, and the try must be stopped before the lease it holds runs
// out, when another scheduler may reap it and start the task again.
// Without the bound the renewal waits for the lock forever and the try
// runs on; deciding before the hung call ended stopped it a third of the
// TTL after the lease ran out.
func TestLeaseRenewalHungIsBounded(t *testing.T) {
	dsn := testDSN(t)
	st := openStore(t, dsn)
	rec := filepath.Join(t.TempDir(), "records.jsonl")
	dir := writeDAGs(t, map[string]string{"long.yaml": fmt.Sprintf(`
id: long
schedule: "@manual"
start_date: 2026-01-01
tasks:
  - {id: long, job: task sleep, args: ["--duration=60s", "--record=%s"]}
`, rec)})
	logs := &stoppedAt{}
	const ttl = 3 * time.Second
	e := newEngine(t, st, dir, Options{LeaseTTL: ttl, KillGrace: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	runEngine(t, e)
	ctx := context.Background()
	r, err := Trigger(ctx, st, e.DAG("long"), nil, time.Time{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "task started", 15*time.Second, func() bool { return len(startsOf(readRecords(t, rec), "long")) == 1 })
	run, err := st.Run(ctx, "long", r.RunID)
	if err != nil {
		t.Fatal(err)
	}
	// Let one renewal through, then hold the row.
	time.Sleep(ttl / 2)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) // before the engine stops: its last writes need the row
	var expires time.Time
	if err := tx.QueryRow(ctx, `SELECT lease_expires_at FROM task_instances WHERE run_pk = $1 AND task_id = 'long' FOR UPDATE`, run.PK).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	locked := time.Now()
	waitFor(t, "the try stopped for a lease it cannot renew", 3*ttl, func() bool { return !logs.at().IsZero() })
	stopped := logs.at()
	t.Logf("row locked %s before the lease ran out; try stopped %s after the lock, %s before the lease ran out",
		expires.Sub(locked).Round(time.Millisecond), stopped.Sub(locked).Round(time.Millisecond), expires.Sub(stopped).Round(time.Millisecond))
	if !stopped.Before(expires) {
		t.Errorf("the try was stopped at %s, %s after its lease ran out (%s)", stopped.Format(time.StampMilli), stopped.Sub(expires), expires.Format(time.StampMilli))
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Released, the try ends failed (lease lost) and is tried again.
	waitFor(t, "the try ended", 15*time.Second, func() bool {
		tries, err := st.Tries(ctx, run.PK, "long")
		return err == nil && len(tries) > 0 && tries[0].State != "" && tries[0].State != string(scheduler.StateRunning)
	})
}

// stoppedAt is a log sink that notes when the scheduler stopped a try for
// a lease it could not renew.
type stoppedAt struct {
	mu   sync.Mutex
	when time.Time
}

func (s *stoppedAt) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.when.IsZero() && strings.Contains(string(p), "cannot renew lease; stopping try") {
		s.when = time.Now()
	}
	return len(p), nil
}

func (s *stoppedAt) at() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.when
}
