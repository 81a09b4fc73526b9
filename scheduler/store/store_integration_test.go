//go:build integration

package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"weir/internal/stacktest"
	"weir/scheduler"
)

// testDSN returns a DSN on a fresh schema of the stack's scheduler database.
func testDSN(t *testing.T) string {
	t.Helper()
	return stacktest.SchedulerDSN(t, stacktest.Config(t).Scheduler.Database)
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := testDSN(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(context.Background(), dsn)
			if err == nil {
				st.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// seedRun creates a running run with n queued tasks.
func seedRun(t *testing.T, st *Store, dag string, n int, now time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	if err := st.UpsertDAG(ctx, DAGRow{ID: dag, File: "x.yaml", Schedule: "@manual"}, now); err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRun(ctx, Run{DAGID: dag, RunID: "manual__1", RunType: RunManual, LogicalDate: now,
		Interval: scheduler.Interval{Start: now, End: now}}, now)
	if err != nil {
		t.Fatal(err)
	}
	var tasks []NewTask
	changes := map[string]scheduler.State{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("t%03d", i)
		tasks = append(tasks, NewTask{TaskID: id, MaxTries: 1, Priority: i})
		changes[id] = scheduler.StateQueued
	}
	if _, err := st.WithDAGLock(ctx, dag, func(tx *DAGTx) error {
		if err := tx.StartRun(ctx, r.PK, tasks, now); err != nil {
			return err
		}
		return tx.ResolveTasks(ctx, r.PK, changes, now)
	}); err != nil {
		t.Fatal(err)
	}
	return r.PK
}

// TestClaimNeverHandsATaskTwice has two stores (two connection pools, as
// two schedulers) claim concurrently from many goroutines.
func TestClaimNeverHandsATaskTwice(t *testing.T) {
	dsn := testDSN(t)
	now := time.Now().UTC()
	a, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const n = 200
	seedRun(t, a, "race", n, now)

	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		st := a
		if i%2 == 1 {
			st = b
		}
		owner := fmt.Sprintf("owner-%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				claims, err := st.Claim(context.Background(), owner, now, time.Minute, func(c []Claim, _ []Busy) []Claim {
					if len(c) > 3 {
						c = c[:3]
					}
					return c
				})
				if err != nil {
					t.Error(err)
					return
				}
				if len(claims) == 0 {
					return
				}
				mu.Lock()
				for _, c := range claims {
					got[c.Task.TaskID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("%d tasks claimed, want %d", len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("%s claimed %d times", id, k)
		}
	}
}

// TestLeaseExpiryHandsTheTryBack checks the reaper and the owner checks: an
// expired try is failed and re-queued without using a retry, and its old
// owner can neither renew nor record a result any more.
func TestLeaseExpiryHandsTheTryBack(t *testing.T) {
	st, err := Open(context.Background(), testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pk := seedRun(t, st, "lease", 1, now)
	all := func(c []Claim, _ []Busy) []Claim { return c }

	// Leases run on the database's clock, whatever now the callers pass.
	claims, err := st.Claim(ctx, "dead", now, time.Second, all)
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim: %v %v", claims, err)
	}
	old := claims[0].Key()
	if ok, err := st.RenewLease(ctx, "dead", old, 3*time.Second, "partial log"); !ok || err != nil {
		t.Fatalf("renew by the owner: %v %v", ok, err)
	}
	time.Sleep(1500 * time.Millisecond) // past the claim's lease, not the renewal's
	if reaped, _ := st.Reap(ctx, now.Add(time.Hour)); len(reaped) != 0 {
		t.Fatalf("reaped a renewed lease: %+v", reaped)
	}
	time.Sleep(2 * time.Second)
	reaped, err := st.Reap(ctx, now.Add(41*time.Second))
	if err != nil || len(reaped) != 1 || reaped[0].State != scheduler.StateQueued {
		t.Fatalf("reap: %+v %v", reaped, err)
	}
	if ok, _ := st.RenewLease(ctx, "dead", old, time.Hour, "x"); ok {
		t.Error("old owner renewed a reaped lease")
	}
	claims, err = st.Claim(ctx, "alive", now.Add(42*time.Second), 30*time.Second, all)
	if err != nil || len(claims) != 1 || claims[0].Task.TryNumber != 2 {
		t.Fatalf("reclaim: %+v %v", claims, err)
	}
	if ok, _ := st.Finish(ctx, "dead", old, Result{TryState: "success", TaskState: scheduler.StateSuccess}, now.Add(43*time.Second)); ok {
		t.Error("old owner recorded a result")
	}
	if ok, err := st.Finish(ctx, "alive", claims[0].Key(), Result{TryState: "success", TaskState: scheduler.StateSuccess, Log: "ok"},
		now.Add(44*time.Second)); !ok || err != nil {
		t.Fatalf("finish by the new owner: %v %v", ok, err)
	}
	tries, _ := st.Tries(ctx, pk, "t000")
	if len(tries) != 2 || tries[0].State != "failed" || tries[0].Log != "partial log" || tries[1].State != "success" {
		t.Errorf("tries %+v", tries)
	}
	tis, _ := st.TaskInstances(ctx, []int64{pk})
	if ti := tis[pk]["t000"]; ti.State != scheduler.StateSuccess || ti.MaxTries != 2 || ti.LostTries != 1 {
		t.Errorf("task %+v", ti)
	}
}
