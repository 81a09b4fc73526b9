//go:build integration

package alerts

import (
	"context"
	"fmt"
	"testing"
	"time"

	"weir/internal/stacktest"
)

// TestPruneKeepsWhatASinkStillNeeds: pruning deletes only outbox rows every
// enabled sink has delivered, and late records, older than the retention.
func TestPruneKeepsWhatASinkStillNeeds(t *testing.T) {
	cfg := loadConfig(t)
	ctx := context.Background()
	store, err := OpenStore(ctx, cfg.Scheduler.Database, runID("prune"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var ns []Notification
	for _, id := range []string{"n1", "n2", "n3"} {
		ns = append(ns, Notification{ID: id, Fingerprint: "f-" + id, Rule: "R", Status: Firing, StartsAt: time.Now().UTC()})
	}
	late := []LateRecord{{Topic: "t", Partition: 0, Offset: 1, TS: 1, Reason: TooLate}}
	if err := store.Save(ctx, map[string]int64{}, StateDelta{}, 0, ns, late); err != nil {
		t.Fatal(err)
	}
	rows, err := store.Pending(ctx, "a", 10)
	if err != nil || len(rows) != 3 {
		t.Fatalf("pending = %d rows, %v", len(rows), err)
	}
	// Sink a delivered two, sink b all three.
	if err := store.Ack(ctx, "a", rows[1].Seq); err != nil {
		t.Fatal(err)
	}
	if err := store.Ack(ctx, "b", rows[2].Seq); err != nil {
		t.Fatal(err)
	}
	// A sink without a cursor (delivered nothing) keeps everything.
	if err := store.Prune(ctx, []string{"a", "b", "c"}, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Pending(ctx, "c", 10); len(got) != 3 {
		t.Fatalf("after pruning with an idle sink: %d rows for it, want 3", len(got))
	}
	// A retention longer than the rows' age keeps everything too.
	if err := store.Prune(ctx, []string{"a", "b"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Pending(ctx, "c", 10); len(got) != 3 {
		t.Fatalf("after pruning within retention: %d rows, want 3", len(got))
	}
	time.Sleep(10 * time.Millisecond)
	if err := store.Prune(ctx, []string{"a", "b"}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Pending(ctx, "c", 10)
	if len(got) != 1 || got[0].ID != "n3" {
		t.Fatalf("after pruning: %v, want only n3 (sink a has not delivered it)", got)
	}
	if left := lateCounts(t, cfg, store.job)[TooLate]; left != 0 {
		t.Errorf("late records left after pruning: %d", left)
	}
}

// TestOpenSeesReopenedEpisode: an episode resolved and then re-opened by late
// data is open again for a sink that restarts (Alertmanager keeps hearing
// of it); one resolved after that is not.
func TestOpenSeesReopenedEpisode(t *testing.T) {
	cfg := loadConfig(t)
	ctx := context.Background()
	store, err := OpenStore(ctx, cfg.Scheduler.Database, runID("reopen"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	n := func(id, status string, ends time.Time) Notification {
		return Notification{ID: id, Fingerprint: "fp", Rule: "R", Status: status, StartsAt: start, EndsAt: ends}
	}
	save := func(ns ...Notification) int64 {
		t.Helper()
		if err := store.Save(ctx, map[string]int64{}, StateDelta{}, 0, ns, nil); err != nil {
			t.Fatal(err)
		}
		rows, err := store.Pending(ctx, "x", 100)
		if err != nil {
			t.Fatal(err)
		}
		return rows[len(rows)-1].Seq
	}
	save(n("fp/1/firing", Firing, time.Time{}), n("fp/1/resolved", Resolved, start.Add(time.Minute)))
	upTo := save(n("fp/1/firing/r1", Firing, time.Time{}))
	open, err := store.Open(ctx, upTo)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].ID != "fp/1/firing/r1" {
		t.Fatalf("open = %v, want the re-opened firing", open)
	}
	upTo = save(n("fp/1/resolved/r1", Resolved, start.Add(2*time.Minute)))
	if open, _ = store.Open(ctx, upTo); len(open) != 0 {
		t.Fatalf("open after the second resolution = %v, want none", open)
	}
}

// TestOpenStoreConcurrentFirstOpen: alert jobs opening a new database at
// the same moment all get their store (CREATE TABLE IF NOT EXISTS alone
// fails on PostgreSQL's catalog index when two sessions race on it).
func TestOpenStoreConcurrentFirstOpen(t *testing.T) {
	cfg := loadConfig(t)
	ctx := context.Background()
	for round := range 3 {
		dsn := stacktest.SchedulerDSN(t, cfg.Scheduler.Database)
		const jobs = 8
		errs := make(chan error, jobs)
		start := make(chan struct{})
		for i := range jobs {
			go func() {
				<-start
				s, err := OpenStore(ctx, dsn, runID(fmt.Sprintf("first-open-%d-%d", round, i)))
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		close(start)
		for range jobs {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
	}
}
