//go:build integration

package maintain_test

import (
	"context"
	"testing"
	"time"

	"weir/events"
	"weir/jobs/generate"
	"weir/jobs/maintain"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// TestBronzeRetention: bronze rows past the retention window go once
// silver has consumed them, and only then: rows silver has not read yet
// and rows of recent days stay. Silver built afterwards is still exact,
// and a later run takes the rest once consumed.
func TestBronzeRetention(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	old := time.Now().UTC().AddDate(0, 0, -40)
	recs, sum := silvertest.Generate(t, old.Add(-20*time.Minute), old, 10, generate.FaultRates{Duplicate: 0.02, Malformed: 0.01})
	third := len(recs) / 3
	consumed, unread, recent := recs[:third], recs[third:2*third], recs[2*third:]
	appEvents := func(rs []silvertest.Record) (n int64) {
		for _, r := range rs {
			if r.Topic == events.TopicAppEvents {
				n++
			}
		}
		return n
	}
	sj := silver.New(env.Lake, silver.Config{Namespaces: env.NS})
	env.LoadBronze(t, consumed, old)
	if _, err := sj.Run(ctx, silver.SourceAll); err != nil {
		t.Fatal(err)
	}
	env.LoadBronze(t, unread, old)
	env.LoadBronze(t, recent, time.Now())
	name := env.NS.Table(lakehouse.BronzeAppEvents)
	retain := func(want int64) {
		t.Helper()
		before := env.Count(t, name)
		reps, err := maintain.New(env.Lake, maintain.Config{Namespaces: env.NS, Ops: []string{maintain.OpRetain}}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got int64 = -1
		for _, r := range reps {
			if r.Table == name {
				got = r.RetentionDeletedRows
			}
		}
		if got != want {
			t.Errorf("retention deleted %d rows of %s, want %d", got, name, want)
		}
		if after := env.Count(t, name); after != before-want {
			t.Errorf("%s: %d rows after retention, want %d", name, after, before-want)
		}
	}
	retain(appEvents(consumed))

	if _, err := sj.Run(ctx, silver.SourceAll); err != nil {
		t.Fatal(err)
	}
	if got, want := env.Count(t, env.NS.Table(lakehouse.SilverEvents)), sum.Topics[events.TopicAppEvents].SilverRows; got != want {
		t.Errorf("silver.events: %d rows after retention, want %d", got, want)
	}
	if got, want := env.Count(t, env.NS.Table(lakehouse.SilverLogs)), sum.Topics[events.TopicAppLogs].SilverRows; got != want {
		t.Errorf("silver.logs: %d rows after retention, want %d", got, want)
	}
	// Now silver has read the old rows loaded after its first run.
	retain(appEvents(unread))
}
