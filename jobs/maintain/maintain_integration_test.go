//go:build integration

package maintain_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"weir/jobs/generate"
	"weir/jobs/maintain"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// Against the local stack (source .stack/env.sh first):
//
//	go test -tags integration ./jobs/maintain

// TestCompactExpireWhileAppending: bronze receives small commits while
// compaction, manifest rewrite and expiry run in a loop; silver built
// along the way ends exact, bronze holds every record once, the stream
// offsets survive expiry, and the file count drops.
func TestCompactExpireWhileAppending(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	end := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(t, end.Add(-20*time.Minute), end, 10, generate.FaultRates{Duplicate: 0.02, Malformed: 0.01})

	const commits = 24
	step := len(recs)/commits + 1
	// A few commits first, so compaction has work from the start.
	loaded := 0
	for ; loaded < 6*step; loaded += step {
		env.LoadBronze(t, recs[loaded:min(loaded+step, len(recs))], time.Now())
	}
	sj := silver.New(env.Lake, silver.Config{Namespaces: env.NS})
	if _, err := sj.Run(ctx, silver.SourceAll); err != nil {
		t.Fatal(err)
	}
	filesBefore := env.Files(t, env.NS.Table(lakehouse.BronzeAppEvents))

	mcfg := maintain.Config{Namespaces: env.NS, MinInputFiles: 2, RetainLast: 1, SnapshotWindow: time.Millisecond,
		MaxManifests: 2, Ops: []string{maintain.OpCompact, maintain.OpManifests, maintain.OpExpire}}
	mj := maintain.New(env.Lake, mcfg) // size-tiered, like the hourly run
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	rounds := 0
	var compactions [][2]time.Time // rounds that rewrote files: start, end
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			reps, err := mj.Run(ctx)
			if err != nil {
				t.Errorf("maintenance: %v", err)
				return
			}
			rounds++
			for _, r := range reps {
				if r.RewrittenFiles > 0 {
					compactions = append(compactions, [2]time.Time{start, time.Now()})
					break
				}
			}
		}
	}()
	var appends [][2]time.Time
	for ; loaded < len(recs); loaded += step {
		start := time.Now()
		env.LoadBronze(t, recs[loaded:min(loaded+step, len(recs))], time.Now())
		appends = append(appends, [2]time.Time{start, time.Now()})
		if loaded%(4*step) == 0 {
			if _, err := sj.Run(ctx, silver.SourceAll); err != nil {
				t.Errorf("silver during maintenance: %v", err)
			}
		}
	}
	close(stop)
	wg.Wait()
	// The point of the test: appends committed while a compaction that
	// rewrote files ran.
	overlapped := 0
	for _, a := range appends {
		for _, c := range compactions {
			if a[0].Before(c[1]) && c[0].Before(a[1]) {
				overlapped++
				break
			}
		}
	}
	t.Logf("%d maintenance rounds while loading, %d of them compacted; %d of %d appends overlapped a compaction", rounds, len(compactions), overlapped, len(appends))
	if overlapped == 0 {
		t.Errorf("no append overlapped a compaction (%d compacting rounds, %d appends): the test did not test concurrency", len(compactions), len(appends))
	}
	if _, err := sj.Run(ctx, silver.SourceAll); err != nil {
		t.Fatal(err)
	}

	for topic, ts := range sum.Topics {
		name := env.NS.Table(lakehouse.BronzeTable(topic))
		if topic == "dims.items" || topic == "dims.providers" {
			continue
		}
		if got := env.Count(t, name); got != ts.Produced {
			t.Errorf("%s: %d rows, produced %d", name, got, ts.Produced)
		}
	}
	if got, want := env.Count(t, env.NS.Table(lakehouse.SilverEvents)), sum.Topics["app.events"].SilverRows; got != want {
		t.Errorf("silver.events: %d rows, want %d", got, want)
	}
	if got, want := env.Count(t, env.NS.Table(lakehouse.SilverLogs)), sum.Topics["app.logs"].SilverRows; got != want {
		t.Errorf("silver.logs: %d rows, want %d", got, want)
	}

	// One more pass, full like the daily run, compacts what the tiered
	// loop left and the last commits added.
	mcfg.Full = true
	if _, err := maintain.New(env.Lake, mcfg).Run(ctx); err != nil {
		t.Fatal(err)
	}
	name := env.NS.Table(lakehouse.BronzeAppEvents)
	tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err != nil {
		t.Fatal(err)
	}
	var produced int64
	offsets := lakehouse.RecordedOffsets(tbl)
	for _, next := range offsets {
		produced += next
	}
	if want := sum.Topics["app.events"].Produced; produced != want {
		t.Errorf("recorded offsets of %s sum to %d after expiry, want %d (%v)", name, produced, want, offsets)
	}
	if after := env.Files(t, name); after >= filesBefore || after > 3 {
		t.Errorf("%s: %d data files after compaction (%d before the loop)", name, after, filesBefore)
	}
	if n := len(tbl.Metadata().Snapshots()); n > 5 {
		t.Errorf("%s keeps %d snapshots after expiry", name, n)
	}
}

// TestProtectedDepth: the newest snapshot with each offset key bounds
// expiry, and so do consumer positions.
func TestProtectedDepth(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	end := time.Now().UTC().Add(-3 * time.Hour)
	recs, _ := silvertest.Generate(t, end.Add(-5*time.Minute), end, 5, generate.FaultRates{})
	for i := 0; i < 4; i++ {
		env.LoadBronze(t, recs[i*len(recs)/4:(i+1)*len(recs)/4], time.Now())
	}
	name := env.NS.Table(lakehouse.BronzeAppEvents)
	tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err != nil {
		t.Fatal(err)
	}
	snaps := []int64{}
	for s := range lakehouse.Ancestors(tbl) {
		snaps = append(snaps, s.SnapshotID)
	}
	for _, tc := range []struct {
		name      string
		consumers []int64
		want      int
	}{
		{"offsets only", nil, 1},
		{"consumer at the oldest", []int64{snaps[len(snaps)-1]}, len(snaps)},
		{"consumer in the middle", []int64{snaps[1]}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := maintain.ProtectedDepth(tbl, tc.consumers); got != tc.want {
				t.Errorf("ProtectedDepth = %d, want %d", got, tc.want)
			}
		})
	}
}
