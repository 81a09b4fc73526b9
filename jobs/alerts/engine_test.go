package alerts

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"weir/jobs/alerts/rules"
	"weir/jobs/alerts/window"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli()

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestEngine(t *testing.T, yml string) (*Engine, *clock) {
	t.Helper()
	f, err := rules.Parse([]byte(yml))
	if err != nil {
		t.Fatalf("parse rules: %v", err)
	}
	c := &clock{t: time.UnixMilli(t0).Add(time.Hour)}
	return NewEngine(f, c.now), c
}

// feed processes records (at offsets counting up) then advances.
func feed(e *Engine, topic string, recs ...rec) {
	for i, r := range recs {
		e.Process(Record{Topic: topic, Partition: r.part, Offset: int64(i), TS: t0 + r.at.Milliseconds(), Fields: r.f})
	}
	e.Advance()
}

type rec struct {
	at   time.Duration
	part int32
	f    rules.Map
}

func at(d time.Duration, kv ...string) rec {
	m := rules.Map{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return rec{at: d, f: m}
}

// summary renders notifications as "status labels start[-end]" lines.
func summary(ns []Notification, keys ...string) []string {
	var out []string
	for _, n := range ns {
		var ls []string
		for _, k := range keys {
			ls = append(ls, k+"="+n.Labels[k])
		}
		s := fmt.Sprintf("%s %s %s +%s", n.Status, n.Rule, strings.Join(ls, ","), time.Duration(n.StartsAt.UnixMilli()-t0)*time.Millisecond)
		if !n.EndsAt.IsZero() {
			s += fmt.Sprintf("..+%s", time.Duration(n.EndsAt.UnixMilli()-t0)*time.Millisecond)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("notifications:\ngot:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const countRule = `
settings: {out_of_orderness: 1s, allowed_lateness: 30s}
rules:
  - name: Failures
    source: t
    filter: [{field: status, eq: failed}]
    group_by: [provider]
    window: {size: 10s}
    conditions: [{aggregate: count, op: ">=", value: 3}]
`

func TestTumblingFireAndResolve(t *testing.T) {
	e, _ := newTestEngine(t, countRule)
	var recs []rec
	for _, s := range []int{1, 2, 3, 12, 13, 14, 15} { // two windows over the threshold
		recs = append(recs, at(time.Duration(s)*time.Second, "status", "failed", "provider", "p1"))
	}
	recs = append(recs, at(4*time.Second, "status", "ok", "provider", "p1"))
	recs = append(recs, at(5*time.Second, "status", "failed", "provider", "p2"))
	feed(e, "t", recs...)
	// Watermark = 15s − 1s: only [0,10) closed.
	ns, _ := e.Drain()
	equal(t, summary(ns, "provider"), []string{"firing Failures provider=p1 +10s"})

	feed(e, "t", at(31*time.Second, "status", "ok")) // closes [10,20) true and [20,30) false
	ns, _ = e.Drain()
	equal(t, summary(ns, "provider"), []string{"resolved Failures provider=p1 +10s..+30s"})
}

func TestSlidingWindowAndFor(t *testing.T) {
	e, _ := newTestEngine(t, `
settings: {out_of_orderness: 0s, allowed_lateness: 1m}
rules:
  - name: Busy
    source: t
    group_by: [user_id]
    window: {size: 30s, slide: 10s}
    for: 10s
    conditions: [{aggregate: count, op: ">", value: 5}]
`)
	var recs []rec
	for s := 0; s < 40; s += 4 { // 10 records, 2.5 per 10s
		recs = append(recs, at(time.Duration(s)*time.Second, "user_id", "u"))
	}
	recs = append(recs, at(90*time.Second, "user_id", "other"))
	feed(e, "t", recs...)
	ns, _ := e.Drain()
	// Windows ending 30s (8 records), 40s (7), 50s (2): true, true, false →
	// pending at 30s, firing at 40s (for 10s), resolved at 50s.
	equal(t, summary(ns, "user_id"), []string{
		"firing Busy user_id=u +30s",
		"resolved Busy user_id=u +30s..+50s",
	})
}

func TestLateRecordRefiresWithinLateness(t *testing.T) {
	e, _ := newTestEngine(t, countRule)
	feed(e, "t",
		at(1*time.Second, "status", "failed", "provider", "p1"),
		at(2*time.Second, "status", "failed", "provider", "p1"),
		at(25*time.Second, "status", "ok"),
	)
	ns, _ := e.Drain()
	equal(t, summary(ns, "provider"), nil)

	// A late failure for [0,10): within 30s of lateness, the window re-fires
	// and, the next window being quiet, resolves at its end.
	feed(e, "t", at(3*time.Second, "status", "failed", "provider", "p1"))
	ns, late := e.Drain()
	if len(late) != 0 {
		t.Fatalf("late records: %v", late)
	}
	equal(t, summary(ns, "provider"), []string{
		"firing Failures provider=p1 +10s",
		"resolved Failures provider=p1 +10s..+20s",
	})
	if e.Stats().Late != 1 {
		t.Fatalf("late = %d, want 1", e.Stats().Late)
	}
}

// TestLateRecordsReopenResolvedAlert: an alert resolved because the next
// window was quiet fires again when late records fill that window, and
// resolves where the data now ends; each notification is new (own ID), so
// every sink hears of the re-opening.
func TestLateRecordsReopenResolvedAlert(t *testing.T) {
	e, _ := newTestEngine(t, countRule)
	feed(e, "t",
		at(1*time.Second, "status", "failed", "provider", "p1"),
		at(2*time.Second, "status", "failed", "provider", "p1"),
		at(3*time.Second, "status", "failed", "provider", "p1"),
		at(25*time.Second, "status", "ok"),
	)
	ns, _ := e.Drain()
	equal(t, summary(ns, "provider"), []string{
		"firing Failures provider=p1 +10s",
		"resolved Failures provider=p1 +10s..+20s",
	})
	first := map[string]bool{}
	for _, n := range ns {
		first[n.ID] = true
	}
	feed(e, "t",
		at(12*time.Second, "status", "failed", "provider", "p1"),
		at(13*time.Second, "status", "failed", "provider", "p1"),
		at(14*time.Second, "status", "failed", "provider", "p1"),
		at(40*time.Second, "status", "ok"), // closes [20s,30s)
	)
	ns, late := e.Drain()
	if len(late) != 0 {
		t.Fatalf("late records: %v", late)
	}
	equal(t, summary(ns, "provider"), []string{
		"firing Failures provider=p1 +10s",
		"resolved Failures provider=p1 +10s..+30s",
	})
	for _, n := range ns {
		if first[n.ID] {
			t.Errorf("notification %s reuses an ID already sent", n.ID)
		}
	}
}

func TestLateRecordRetractsFiring(t *testing.T) {
	e, _ := newTestEngine(t, `
settings: {out_of_orderness: 0s, allowed_lateness: 1m}
rules:
  - name: ErrorRatio
    source: t
    group_by: [service]
    window: {size: 10s}
    conditions:
      - {aggregate: ratio, where: [{field: level, eq: error}], op: ">", value: 0.5}
`)
	feed(e, "t",
		at(1*time.Second, "service", "a", "level", "error"),
		at(2*time.Second, "service", "a", "level", "error"),
		at(3*time.Second, "service", "a", "level", "info"),
		at(15*time.Second, "service", "b", "level", "info"),
	)
	ns, _ := e.Drain()
	equal(t, summary(ns, "service"), []string{"firing ErrorRatio service=a +10s"})
	// Two late info lines bring [0,10) to 2/5: the alert is resolved.
	feed(e, "t", at(4*time.Second, "service", "a", "level", "info"), at(5*time.Second, "service", "a", "level", "info"))
	ns, _ = e.Drain()
	equal(t, summary(ns, "service"), []string{"resolved ErrorRatio service=a +10s..+20s"})
}

func TestTooLateCountedNotDropped(t *testing.T) {
	e, _ := newTestEngine(t, countRule)
	feed(e, "t", at(100*time.Second, "status", "ok"))
	feed(e, "t", at(10*time.Second, "status", "failed", "provider", "p1")) // wm 99s − 30s > 10s
	_, late := e.Drain()
	if len(late) != 1 || late[0].Reason != TooLate || late[0].Watermark != t0+99_000 {
		t.Fatalf("late = %+v, want one too_late at watermark +99s", late)
	}
	if e.Stats().TooLate != 1 || e.Stats().Records != 1 {
		t.Fatalf("stats = %+v", e.Stats())
	}
}

func TestFutureRecordsDoNotMoveWatermark(t *testing.T) {
	e, c := newTestEngine(t, countRule)
	future := c.t.Add(time.Hour).UnixMilli() - t0
	feed(e, "t", at(time.Duration(future)*time.Millisecond, "status", "failed"), at(5*time.Second, "status", "ok"))
	_, late := e.Drain()
	if len(late) != 1 || late[0].Reason != Future {
		t.Fatalf("late = %+v, want one future record", late)
	}
	if got := e.Watermark(); got != t0+4000 {
		t.Fatalf("watermark = %d, want %d", got-t0, 4000)
	}
}

func TestPercentileAndDistinct(t *testing.T) {
	e, _ := newTestEngine(t, `
settings: {out_of_orderness: 0s}
rules:
  - name: Slow
    source: t
    group_by: [service]
    window: {size: 10s}
    conditions: [{aggregate: percentile, field: duration_ms, q: 0.95, op: ">", value: 500}]
  - name: ManyUsers
    source: t
    group_by: [provider]
    window: {size: 10s}
    conditions:
      - {aggregate: count_distinct, field: user_id, op: ">=", value: 3}
      - {name: failures, aggregate: count, op: ">=", value: 4}
`)
	var recs []rec
	for i := 0; i < 100; i++ {
		d := "100"
		if i >= 90 {
			d = "900" // p95 = 900
		}
		recs = append(recs, at(time.Duration(i)*50*time.Millisecond, "service", "s", "duration_ms", d, "provider", "x", "user_id", fmt.Sprint("u", i%3)))
	}
	recs = append(recs, at(10*time.Second, "service", "t", "duration_ms", "1"))
	feed(e, "t", recs...)
	ns, _ := e.Drain()
	equal(t, summary(ns, "service", "provider"), []string{
		"firing ManyUsers service=,provider=x +10s",
		"firing Slow service=s,provider= +10s",
	})
	for _, n := range ns {
		if n.Rule == "Slow" && (n.Values["percentile"] < 880 || n.Values["percentile"] > 920) {
			t.Fatalf("p95 = %v, want ≈900", n.Values["percentile"])
		}
		if n.Rule == "ManyUsers" && (n.Values["count_distinct"] != 3 || n.Values["failures"] != 100) {
			t.Fatalf("values = %v", n.Values)
		}
	}
}

func TestBaseline(t *testing.T) {
	e, _ := newTestEngine(t, `
settings: {out_of_orderness: 0s}
rules:
  - name: Spike
    source: t
    group_by: [service]
    window: {size: 10s}
    conditions:
      - {aggregate: count, op: ">", baseline: {factor: 3, windows: 3}}
      - {name: volume, aggregate: count, op: ">=", value: 5}
`)
	feed(e, "t", perWindow(2, 2, 2, 2, 10, 2)...) // 10 > 3×2
	ns, _ := e.Drain()
	equal(t, summary(ns, "service"), []string{
		"firing Spike service=s +50s",
		"resolved Spike service=s +50s..+1m0s",
	})
}

// perWindow returns counts[w] records of service s in each 10 s window w,
// then one at +70s that closes them all.
func perWindow(counts ...int) []rec {
	var recs []rec
	for w, n := range counts {
		for i := 0; i < n; i++ {
			recs = append(recs, at(time.Duration(w)*10*time.Second+time.Duration(i)*5*time.Second/time.Duration(n), "service", "s"))
		}
	}
	return append(recs, at(70*time.Second, "service", "s"))
}

// TestBaselineMedian: one outlier window (below the firing threshold, so
// not excluded) among the trailing ones lifts a mean baseline past the
// spike (no alert) but not a median one.
func TestBaselineMedian(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want []string
	}{
		{"mean", nil},
		{"median", []string{"firing Spike service=s +1m10s", "resolved Spike service=s +1m10s..+1m20s"}},
	} {
		t.Run(tc.stat, func(t *testing.T) {
			e, _ := newTestEngine(t, `
settings: {out_of_orderness: 0s}
rules:
  - name: Spike
    source: t
    group_by: [service]
    window: {size: 10s}
    conditions:
      - {aggregate: count, op: ">", baseline: {factor: 3, windows: 3, stat: `+tc.stat+`}}
`)
			feed(e, "t", series(2, 2, 2, 2, 5, 2, 7, 2)...) // an outlier window, then the spike
			ns, _ := e.Drain()
			// mean of (2, 5, 2) = 3, 3×3 > 7; median 2, 3×2 < 7.
			equal(t, summary(ns, "service"), tc.want)
		})
	}
}

func TestSequence(t *testing.T) {
	yml := `
settings: {out_of_orderness: 0s, allowed_lateness: 1m}
rules:
  - name: BuyThenRefund
    source: t
    group_by: [user_id]
    sequence:
      first: [{field: type, eq: buy}]
      then: [{field: type, eq: refund}]
      within: 10m
      hold: 5m
`
	tests := []struct {
		name string
		recs []rec
		want []string
	}{
		{"in order", []rec{at(0, "user_id", "u", "type", "buy"), at(time.Minute, "user_id", "u", "type", "refund")},
			[]string{"firing BuyThenRefund user_id=u +0s..+6m0s"}},
		{"refund arrives first", []rec{at(time.Minute, "user_id", "u", "type", "refund"), at(0, "user_id", "u", "type", "buy")},
			[]string{"firing BuyThenRefund user_id=u +0s..+6m0s"}},
		{"too far apart", []rec{at(0, "user_id", "u", "type", "buy"), at(11*time.Minute, "user_id", "u", "type", "refund")}, nil},
		{"other user", []rec{at(0, "user_id", "u", "type", "buy"), at(time.Minute, "user_id", "v", "type", "refund")}, nil},
		{"refund before buy", []rec{at(0, "user_id", "u", "type", "refund"), at(time.Minute, "user_id", "u", "type", "buy")}, nil},
		// The second pair extends the episode of the first (a revision of the
		// same start), not a second alert.
		{"two pairs", []rec{at(0, "user_id", "u", "type", "buy"), at(time.Minute, "user_id", "u", "type", "buy"),
			at(2*time.Minute, "user_id", "u", "type", "refund"), at(3*time.Minute, "user_id", "u", "type", "refund")},
			[]string{"firing BuyThenRefund user_id=u +1m0s..+7m0s", "firing BuyThenRefund user_id=u +1m0s..+8m0s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newTestEngine(t, yml)
			feed(e, "t", tc.recs...)
			ns, _ := e.Drain()
			equal(t, summary(ns, "user_id"), tc.want)
		})
	}
}

func TestSnapshotRestoreContinues(t *testing.T) {
	// One engine fed everything must emit what two engines emit when the
	// first is checkpointed halfway and the second restored from it.
	var recs []rec
	for s := 0; s < 60; s++ {
		if s%10 < 5 || s >= 40 {
			recs = append(recs, at(time.Duration(s)*time.Second, "status", "failed", "provider", "p"))
		}
	}
	whole, _ := newTestEngine(t, countRule)
	feed(whole, "t", recs...)
	want, _ := whole.Drain()

	a, _ := newTestEngine(t, countRule)
	feed(a, "t", recs[:15]...)
	got, _ := a.Drain()
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newTestEngine(t, countRule)
	if err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	feed(b, "t", recs[15:]...)
	more, _ := b.Drain()
	got = append(got, more...)
	equal(t, summary(got, "provider"), summary(want, "provider"))
	if len(want) == 0 {
		t.Fatal("scenario produced no alerts")
	}
}

func TestIdlePartitionDoesNotStall(t *testing.T) {
	e, c := newTestEngine(t, countRule)
	p1 := window.Partition{Topic: "t", Partition: 1}
	e.Register(p1)
	e.Unread(p1, true) // the broker holds records of partition 1 not read yet
	recs := []rec{at(1*time.Second, "status", "failed", "provider", "p"), at(2*time.Second, "status", "failed", "provider", "p"),
		at(3*time.Second, "status", "failed", "provider", "p"), at(20*time.Second, "status", "ok")}
	feed(e, "t", recs...)
	if e.Watermark() != window.None {
		t.Fatalf("watermark moved while partition 1 had unread records")
	}
	e.Unread(p1, false)            // partition 1 turned out empty
	c.t = c.t.Add(6 * time.Second) // partition 1 idle; so is 0, all idle → max
	e.Advance()
	ns, _ := e.Drain()
	equal(t, summary(ns, "provider"), []string{"firing Failures provider=p +10s"})
}

// TestNextDataAfterCatchUp: both partitions were read to their end; then the
// next minutes of data arrive on both, and the job happens to read
// partition 0's share first. Partition 1's records are on time unless it
// really was idle (nothing unread, silent for the idle timeout of 5 s).
func TestNextDataAfterCatchUp(t *testing.T) {
	p0, p1 := window.Partition{Topic: "t", Partition: 0}, window.Partition{Topic: "t", Partition: 1}
	tests := []struct {
		name    string
		pause   time.Duration // wall time between the two deliveries
		unread  bool          // the broker reports partition 1's new records before the advance
		tooLate int           // partition 1's records older than the watermark − 30 s
	}{
		{"just caught up", 2 * time.Second, false, 0},
		{"long pause, broker shows the backlog", time.Hour, true, 0},
		{"long pause, nothing unread: idle, released", time.Hour, false, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, countRule) // out_of_orderness 1s, allowed_lateness 30s
			minutes := func(part int32, from, to time.Duration) []rec {
				var out []rec
				for d := from; d < to; d += time.Minute {
					r := at(d, "status", "ok")
					r.part = part
					out = append(out, r)
				}
				return out
			}
			feed(e, "t", append(minutes(0, 0, 5*time.Minute), minutes(1, 0, 5*time.Minute)...)...)
			e.Unread(p0, false) // both read to their end
			e.Unread(p1, false)
			c.t = c.t.Add(tc.pause)
			e.Unread(p0, true)
			e.Unread(p1, tc.unread)
			feed(e, "t", minutes(0, 5*time.Minute, 10*time.Minute)...) // advances after partition 0's share
			feed(e, "t", minutes(1, 5*time.Minute, 10*time.Minute)...)
			_, late := e.Drain()
			if len(late) != tc.tooLate {
				t.Fatalf("%d records not evaluated (%+v), want %d", len(late), late, tc.tooLate)
			}
			if got, want := e.Watermark(), t0+9*time.Minute.Milliseconds()-1000; got != want {
				t.Fatalf("watermark +%dms, want +%dms", got-t0, want-t0)
			}
		})
	}
}

func TestMaxGroupsBoundsState(t *testing.T) {
	e, _ := newTestEngine(t, strings.Replace(countRule, "allowed_lateness: 30s", "allowed_lateness: 30s, max_groups: 10", 1))
	var recs []rec
	for i := 0; i < 100; i++ {
		recs = append(recs, at(time.Second, "status", "failed", "provider", fmt.Sprint(i)))
	}
	feed(e, "t", recs...)
	if e.Stats().GroupsDropped != 90 {
		t.Fatalf("dropped = %d, want 90", e.Stats().GroupsDropped)
	}
	if e.StateSize() > 20 {
		t.Fatalf("state size %d", e.StateSize())
	}
}
