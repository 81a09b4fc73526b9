package scheduler

import (
	"testing"
	"time"
)

func mustDAG(t *testing.T, yaml string) *DAG {
	t.Helper()
	d, err := Parse("test.yaml", []byte(yaml), DefaultJobs())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return d
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

const tasksYAML = "tasks:\n  - {id: a, job: task sleep}\n"

func TestDueIntervals(t *testing.T) {
	every5 := "id: d\nschedule: \"*/5 * * * *\"\nstart_date: 2026-01-01T10:00:00Z\n"
	cases := []struct {
		name       string
		dag        string
		cursor     string
		now        string
		limit      int
		want       []string // interval starts
		wantCursor string
	}{
		{"nothing before the first interval ends", every5 + "catchup: true\n", "", "2026-01-01T10:04:59Z", 5, nil, "2026-01-01T10:00:00Z"},
		{"first interval at its end", every5 + "catchup: true\n", "", "2026-01-01T10:05:00Z", 5, []string{"2026-01-01T10:00:00Z"}, "2026-01-01T10:05:00Z"},
		{"catchup creates every missed interval", every5 + "catchup: true\n", "", "2026-01-01T10:17:00Z", 5,
			[]string{"2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z", "2026-01-01T10:10:00Z"}, "2026-01-01T10:15:00Z"},
		{"catchup bounded by free run slots", every5 + "catchup: true\n", "", "2026-01-01T10:17:00Z", 2,
			[]string{"2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z"}, "2026-01-01T10:10:00Z"},
		{"catchup resumes from the cursor", every5 + "catchup: true\n", "2026-01-01T10:10:00Z", "2026-01-01T10:17:00Z", 5,
			[]string{"2026-01-01T10:10:00Z"}, "2026-01-01T10:15:00Z"},
		{"no free slot keeps the cursor", every5 + "catchup: true\n", "2026-01-01T10:10:00Z", "2026-01-01T10:17:00Z", 0,
			nil, "2026-01-01T10:10:00Z"},
		{"without catchup only the latest interval", every5, "", "2026-01-01T12:03:00Z", 5,
			[]string{"2026-01-01T11:55:00Z"}, "2026-01-01T12:00:00Z"},
		{"without catchup a year late", every5, "", "2027-01-01T00:01:00Z", 5,
			[]string{"2026-12-31T23:55:00Z"}, "2027-01-01T00:00:00Z"},
		{"without catchup nothing new", every5, "2026-01-01T12:00:00Z", "2026-01-01T12:03:00Z", 5, nil, "2026-01-01T12:00:00Z"},
		{"end_date stops the schedule", every5 + "catchup: true\nend_date: 2026-01-01T10:05:00Z\n", "", "2026-01-01T11:00:00Z", 10,
			[]string{"2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z"}, "2026-01-01T10:10:00Z"},
		{"start_date between points", "id: d\nschedule: \"@hourly\"\nstart_date: 2026-01-01T10:30:00Z\ncatchup: true\n", "", "2026-01-01T13:00:00Z", 10,
			[]string{"2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z"}, "2026-01-01T13:00:00Z"},
		{"daily in a time zone", "id: d\nschedule: \"0 2 * * *\"\ntimezone: Europe/Paris\nstart_date: 2026-01-01\ncatchup: true\n", "", "2026-01-03T01:00:00Z", 10,
			[]string{"2026-01-01T01:00:00Z", "2026-01-02T01:00:00Z"}, "2026-01-03T01:00:00Z"},
		{"seconds field", "id: d\nschedule: \"*/20 * * * * *\"\nstart_date: 2026-01-01T10:00:00Z\ncatchup: true\n", "", "2026-01-01T10:00:45Z", 10,
			[]string{"2026-01-01T10:00:00Z", "2026-01-01T10:00:20Z"}, "2026-01-01T10:00:40Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := mustDAG(t, c.dag+tasksYAML)
			var cursor time.Time
			if c.cursor != "" {
				cursor = ts(c.cursor)
			}
			ivs, next := d.DueIntervals(cursor, ts(c.now), c.limit)
			var got []string
			for i, iv := range ivs {
				got = append(got, iv.Start.Format(time.RFC3339))
				if i > 0 && !ivs[i-1].End.Equal(iv.Start) {
					t.Errorf("intervals not contiguous: %v then %v", ivs[i-1], iv)
				}
				if iv.End.After(ts(c.now)) {
					t.Errorf("interval %v has not ended at %s", iv, c.now)
				}
			}
			if len(got) != len(c.want) || (len(got) > 0 && !equal(got, c.want)) {
				t.Errorf("intervals %v, want %v", got, c.want)
			}
			if !next.Equal(ts(c.wantCursor)) {
				t.Errorf("cursor %s, want %s", next.Format(time.RFC3339), c.wantCursor)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCatchupWithClock drives the schedule the way the engine does: a clock
// advancing in steps, the stored cursor fed back in, one run slot.
func TestCatchupWithClock(t *testing.T) {
	d := mustDAG(t, "id: d\nschedule: \"@hourly\"\nstart_date: 2026-01-01T00:00:00Z\ncatchup: true\n"+tasksYAML)
	now := ts("2026-01-01T05:30:00Z")
	var cursor time.Time
	var starts []string
	for step := 0; step < 10; step++ {
		ivs, next := d.DueIntervals(cursor, now, 1)
		cursor = next
		for _, iv := range ivs {
			starts = append(starts, iv.Start.Format("15:04"))
		}
		now = now.Add(20 * time.Minute)
	}
	// 5 missed hours, then 08:00 is due at 07:50+... (clock ends at 08:50).
	want := []string{"00:00", "01:00", "02:00", "03:00", "04:00", "05:00", "06:00", "07:00"}
	if !equal(starts, want) {
		t.Errorf("runs %v, want %v", starts, want)
	}
}

func TestBackfillIntervals(t *testing.T) {
	d := mustDAG(t, "id: d\nschedule: \"@daily\"\nstart_date: 2026-01-01\n"+tasksYAML)
	cases := []struct {
		name, from, to, now string
		want                int
		wantErr             bool
	}{
		{"a week", "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z", "2026-02-01T00:00:00Z", 7, false},
		{"from between points", "2026-01-01T12:00:00Z", "2026-01-08T00:00:00Z", "2026-02-01T00:00:00Z", 6, false},
		{"stops at intervals still open", "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z", "2026-01-04T12:00:00Z", 3, false},
		{"before start_date is allowed", "2025-12-30T00:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", 2, false},
		{"empty range", "2026-01-02T00:00:00Z", "2026-01-02T00:00:00Z", "2026-02-01T00:00:00Z", 0, true},
		{"nothing complete", "2026-01-10T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-10T12:00:00Z", 0, true},
		{"too many", "2000-01-01T00:00:00Z", "2060-01-01T00:00:00Z", "2061-01-01T00:00:00Z", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ivs, err := d.BackfillIntervals(ts(c.from), ts(c.to), ts(c.now))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if len(ivs) != c.want {
				t.Fatalf("%d intervals, want %d", len(ivs), c.want)
			}
			for _, iv := range ivs {
				if iv.End.Sub(iv.Start) != 24*time.Hour {
					t.Errorf("interval %v is not a day", iv)
				}
			}
		})
	}
}

func TestManualInterval(t *testing.T) {
	d := mustDAG(t, "id: d\nschedule: \"0 */6 * * *\"\nstart_date: 2026-01-01\n"+tasksYAML)
	iv := d.ManualInterval(ts("2026-03-04T13:20:00Z"))
	if !iv.Start.Equal(ts("2026-03-04T06:00:00Z")) || !iv.End.Equal(ts("2026-03-04T12:00:00Z")) {
		t.Errorf("manual interval %v", iv)
	}
	m := mustDAG(t, "id: m\nschedule: \"@manual\"\nstart_date: 2026-01-01\n"+tasksYAML)
	if iv := m.ManualInterval(ts("2026-03-04T13:20:00Z")); !iv.Start.Equal(iv.End) {
		t.Errorf("manual dag interval %v, want empty", iv)
	}
	if ivs, next := m.DueIntervals(time.Time{}, ts("2030-01-01T00:00:00Z"), 5); len(ivs) != 0 || !next.IsZero() {
		t.Errorf("manual dag scheduled %v", ivs)
	}
}

func TestNextRun(t *testing.T) {
	d := mustDAG(t, "id: d\nschedule: \"*/5 * * * *\"\nstart_date: 2026-01-01T10:00:00Z\n"+tasksYAML)
	cases := []struct{ name, cursor, now, want string }{
		{"fresh dag, first interval open", "", "2026-01-01T10:02:00Z", "2026-01-01T10:05:00Z"},
		{"cursor ahead", "2026-01-01T10:05:00Z", "2026-01-01T10:07:00Z", "2026-01-01T10:10:00Z"},
		{"overdue without catchup", "2026-01-01T10:05:00Z", "2026-01-01T11:07:00Z", "2026-01-01T11:05:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cursor time.Time
			if c.cursor != "" {
				cursor = ts(c.cursor)
			}
			if got := d.NextRun(cursor, ts(c.now)); !got.Equal(ts(c.want)) {
				t.Errorf("next run %s, want %s", got.Format(time.RFC3339), c.want)
			}
		})
	}
}

func TestPeriod(t *testing.T) {
	cases := []struct {
		name, schedule, now string
		want                time.Duration
	}{
		{"every 5 minutes", `"*/5 * * * *"`, "2026-01-01T10:02:00Z", 5 * time.Minute},
		{"daily", `"15 0 * * *"`, "2026-01-01T10:02:00Z", 24 * time.Hour},
		{"weekdays, over a weekend", `"0 6 * * 1-5"`, "2026-01-01T07:00:00Z", 72 * time.Hour}, // Fri 2nd, then Mon 5th
		{"manual", `"@manual"`, "2026-01-01T10:02:00Z", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := mustDAG(t, "id: d\nschedule: "+c.schedule+"\nstart_date: 2026-01-01T00:00:00Z\n"+tasksYAML)
			if got := d.Period(ts(c.now)); got != c.want {
				t.Errorf("period %s, want %s", got, c.want)
			}
		})
	}
}
