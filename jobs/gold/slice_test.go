package gold

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestParseSlice(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "15m", want: 15 * time.Minute},
		{in: "1h", want: time.Hour},
		{in: "24h", want: 24 * time.Hour},
		{in: "1m", want: time.Minute},
		{in: "7m", bad: true},   // does not divide a day
		{in: "90s", bad: true},  // not whole minutes
		{in: "30s", bad: true},  // finer than the minutes counted
		{in: "48h", bad: true},  // longer than a day
		{in: "0", bad: true},    // nothing
		{in: "soon", bad: true}, // not a duration
	} {
		got, err := parseSlice(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseSlice(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestLoadSliceDirective(t *testing.T) {
	defs, err := Load(fstest.MapFS{"rollups/r.sql": {Data: []byte("-- @key: b\n-- @time: event_ts\n-- @slice: 15m\nSELECT 1 AS b FROM silver.events")}})
	if err != nil || defs[0].Slice != 15*time.Minute {
		t.Fatalf("Load = %v, %v; want slice 15m", defs, err)
	}
	for name, text := range map[string]string{
		"bad slice":              "-- @key: b\n-- @time: event_ts\n-- @slice: 7m\nSELECT 1 FROM silver.events",
		"window past its slice":  "-- @key: b\n-- @time: event_ts\n-- @window: b, 1h\n-- @slice: 15m\nSELECT 1 FROM silver.events",
		"two slices in one line": "-- @key: b\n-- @time: event_ts\n-- @slice: 15m, 1h\nSELECT 1 FROM silver.events",
	} {
		if _, err := Load(fstest.MapFS{"rollups/r.sql": {Data: []byte(text)}}); err == nil || !strings.Contains(err.Error(), "@") {
			t.Errorf("%s: Load = %v, want an error naming the directive", name, err)
		}
	}
}

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func minute(s string) int64 { return ts(s).Unix() }

// The changed slices of a day: counted per minute, summed per slice, and
// compared with the counts the last refresh saved. A late record in an
// older slice of the day makes that slice change; slices that kept their
// count are not recomputed.
func TestChangedSlices(t *testing.T) {
	days := []string{"2026-12-05"}
	before := map[int64]int64{
		minute("2026-12-05 03:07"): 4,
		minute("2026-12-05 05:30"): 10,
		minute("2026-12-05 05:31"): 2,
		minute("2026-12-04 23:59"): 7, // another day: not this rollup's
	}
	prev := sliceCounts{"silver.events": toSlices(before, days, 15*time.Minute)}
	if got, want := prev["silver.events"], map[int64]int64{minute("2026-12-05 03:00"): 4, minute("2026-12-05 05:30"): 12}; !mapsEqual(got, want) {
		t.Fatalf("toSlices = %v, want %v", got, want)
	}
	after := map[int64]int64{
		minute("2026-12-05 03:07"): 4,
		minute("2026-12-05 03:29"): 1, // late, in an older slice
		minute("2026-12-05 05:30"): 10,
		minute("2026-12-05 05:31"): 2,
		minute("2026-12-05 05:47"): 3, // a new slice
	}
	cur := sliceCounts{"silver.events": toSlices(after, days, 15*time.Minute)}
	got := changedSlices(prev, cur)
	want := []time.Time{ts("2026-12-05 03:15"), ts("2026-12-05 05:45")}
	if !slices.Equal(got, want) {
		t.Fatalf("changedSlices = %v, want %v", got, want)
	}
	// Nothing new: nothing to do, so a repeated refresh recomputes nothing.
	if got := changedSlices(cur, cur); len(got) != 0 {
		t.Errorf("changedSlices(cur, cur) = %v, want none", got)
	}
	// No slice counts saved for the day (a build, or an older weir):
	// every slice with rows is recomputed, the whole day in effect.
	if got := changedSlices(sliceCounts{}, cur); len(got) != 4 {
		t.Errorf("changedSlices without saved slices = %v, want the 4 slices with rows", got)
	}
	// A slice whose rows all went (archived) is not a change.
	if got := changedSlices(cur, sliceCounts{"silver.events": {}}); len(got) != 0 {
		t.Errorf("changedSlices with rows gone = %v, want none", got)
	}
	// Another source of the rollup changing a slice changes it too.
	cur2 := sliceCounts{"silver.events": cur["silver.events"], "silver.logs": {minute("2026-12-05 05:30"): 1}}
	if got := changedSlices(cur, cur2); !slices.Equal(got, []time.Time{ts("2026-12-05 05:30")}) {
		t.Errorf("changedSlices with a second source = %v, want 05:30", got)
	}
}

func mapsEqual(a, b map[int64]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A window rollup recomputes the slice before each changed one (windows
// that start there read the changed slice), across midnight too, and
// reads its sources a window past each range; contiguous slices make one
// range.
func TestWindowSlices(t *testing.T) {
	changed := []time.Time{ts("2026-12-05 00:00"), ts("2026-12-05 00:15"), ts("2026-12-05 06:00")}
	got := withSlicesBefore(changed, 15*time.Minute)
	want := []time.Time{ts("2026-12-04 23:45"), ts("2026-12-05 00:00"), ts("2026-12-05 00:15"), ts("2026-12-05 05:45"), ts("2026-12-05 06:00")}
	if !slices.Equal(got, want) {
		t.Fatalf("withSlicesBefore = %v, want %v", got, want)
	}
	if days := sliceDays(got); !slices.Equal(days, []string{"2026-12-04", "2026-12-05"}) {
		t.Errorf("sliceDays = %v", days)
	}
	f := sliceFilter(`"event_ts"`, got, 15*time.Minute, time.Minute)
	wantF := `(("event_ts" >= TIMESTAMP '2026-12-04 23:45:00 UTC' AND "event_ts" < TIMESTAMP '2026-12-05 00:30:00 UTC' + INTERVAL '60' SECOND) OR ` +
		`("event_ts" >= TIMESTAMP '2026-12-05 05:45:00 UTC' AND "event_ts" < TIMESTAMP '2026-12-05 06:15:00 UTC' + INTERVAL '60' SECOND))`
	if f != wantF {
		t.Errorf("sliceFilter =\n%s\nwant\n%s", f, wantF)
	}
	// Without a window, the slices themselves.
	f = sliceFilter(`"window_start"`, got[:1], 15*time.Minute, 0)
	if wantF := `(("window_start" >= TIMESTAMP '2026-12-04 23:45:00 UTC' AND "window_start" < TIMESTAMP '2026-12-05 00:00:00 UTC'))`; f != wantF {
		t.Errorf("sliceFilter without past =\n%s\nwant\n%s", f, wantF)
	}
}

// The shipped rollups with a grain finer than a day declare a slice no
// group spans, and the window rollup's window fits in its slice.
func TestShippedSlices(t *testing.T) {
	defs, err := Definitions("")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{
		"events_15m": 15 * time.Minute, "logs_15m": 15 * time.Minute, "metrics_15m": 15 * time.Minute,
		"cdn_minute": 15 * time.Minute, "duration_hourly": time.Hour, "operation_bursts": 15 * time.Minute,
		"ingest_minute": 15 * time.Minute, "rejects_hourly": time.Hour, "access_hourly": time.Hour,
		"log_patterns_hourly": time.Hour, "buy_then_refund": 15 * time.Minute, "payment_attempts_15m": 15 * time.Minute,
		"revenue_daily": 0,
		// a day: daily groups (active_users has a 1d grain)
		"access_daily": 0, "access_endpoint_daily": 0, "access_ip_daily": 0, "active_users": 0,
	}
	for _, d := range defs {
		if d.Kind != KindRollup {
			continue
		}
		w, ok := want[d.Name]
		if !ok {
			t.Errorf("rollup %s: no slice expectation here; add one", d.Name)
			continue
		}
		if d.Slice != w {
			t.Errorf("rollup %s: slice %v, want %v", d.Name, d.Slice, w)
		}
	}
}

// A day's minutes are counted from its tail, the newest slice the last
// refresh counted that day: growth there alone keeps the slices before it,
// and growth before it (a late record) asks for the whole day.
func TestTailSlices(t *testing.T) {
	const day = "2026-12-05"
	u := func(s string) int64 { return ts(s).Unix() }
	prev := map[int64]int64{u("2026-12-05 00:00"): 10, u("2026-12-05 09:15"): 4, u("2026-12-05 09:30"): 2, u("2026-12-04 23:45"): 7}
	if got := tailStart(prev, day); got != u("2026-12-05 09:30") {
		t.Fatalf("tailStart = %v, want 09:30", time.Unix(got, 0).UTC())
	}
	if got := tailStart(nil, day); got != u("2026-12-05 00:00") {
		t.Fatalf("tailStart without slices = %v, want midnight", time.Unix(got, 0).UTC())
	}
	// From 09:30: 2 → 3 in 09:30, 5 new in 09:45; the day's count 16 → 22.
	minutes := map[int64]int64{u("2026-12-05 09:31"): 3, u("2026-12-05 09:50"): 5}
	got, ok := tailSlices(prev, 16, 22, minutes, day, u("2026-12-05 09:30"), 15*time.Minute)
	want := map[int64]int64{u("2026-12-05 00:00"): 10, u("2026-12-05 09:15"): 4, u("2026-12-05 09:30"): 3, u("2026-12-05 09:45"): 5}
	if !ok || !maps.Equal(got, want) {
		t.Fatalf("tailSlices = %v, %v; want %v", got, ok, want)
	}
	// One more record in the day than the tail holds: a late one before it.
	if _, ok := tailSlices(prev, 16, 23, minutes, day, u("2026-12-05 09:30"), 15*time.Minute); ok {
		t.Fatal("tailSlices took a day that grew before its tail")
	}
	// From midnight: every minute of the day, whatever the counts.
	all := map[int64]int64{u("2026-12-05 00:01"): 11, u("2026-12-05 09:50"): 5, u("2026-12-06 00:01"): 9}
	got, ok = tailSlices(prev, 16, 99, all, day, u("2026-12-05 00:00"), 15*time.Minute)
	if want := map[int64]int64{u("2026-12-05 00:00"): 11, u("2026-12-05 09:45"): 5}; !ok || !maps.Equal(got, want) {
		t.Fatalf("tailSlices from midnight = %v, %v; want %v", got, ok, want)
	}
}
