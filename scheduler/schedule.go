package scheduler

import (
	"errors"
	"time"
)

// Interval is a run's data interval, [Start, End).
type Interval struct {
	Start, End time.Time
}

// ErrManual is returned by schedule rules that need a cron schedule.
var ErrManual = errors.New("dag has no schedule (" + ManualSchedule + ")")

// maxBackfillRuns bounds one backfill so a typo in a date cannot create a
// million runs.
const maxBackfillRuns = 10000

// next returns the first schedule point strictly after t, or zero.
func (d *DAG) next(t time.Time) time.Time {
	n := d.sched.Next(t)
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// first returns the first schedule point at or after the start date.
func (d *DAG) first() time.Time { return d.next(d.StartDate.Add(-time.Nanosecond)) }

// inRange reports whether logical date l may still be scheduled (end_date is
// inclusive of the last logical date, as in Airflow).
func (d *DAG) inRange(l time.Time) bool {
	return !l.IsZero() && (d.EndDate.IsZero() || !l.After(d.EndDate))
}

// IntervalAt returns the data interval whose logical date is l, a schedule
// point.
func (d *DAG) IntervalAt(l time.Time) Interval {
	return Interval{Start: l.UTC(), End: d.next(l)}
}

// DueIntervals returns the intervals to create runs for at now, at most limit
// of them, and the cursor to store for next time (the logical date after the
// last one returned). cursor is the previously stored cursor; zero means none
// yet. An interval is due once it has ended. With catchup, every missed
// interval is due, oldest first; without, only the latest one (older ones are
// skipped for good). limit <= 0 returns nothing and keeps the cursor, so a DAG
// at max_active_runs picks up where it left off.
func (d *DAG) DueIntervals(cursor, now time.Time, limit int) ([]Interval, time.Time) {
	if d.Manual() || limit <= 0 {
		return nil, cursor
	}
	l := cursor
	if l.IsZero() || l.Before(d.StartDate) {
		l = d.first()
	}
	if !d.Catchup {
		latest, ok := d.latestDue(l, now)
		if !ok {
			return nil, l
		}
		return []Interval{d.IntervalAt(latest)}, d.next(latest)
	}
	var out []Interval
	for len(out) < limit && d.inRange(l) {
		iv := d.IntervalAt(l)
		if iv.End.IsZero() || iv.End.After(now) {
			break
		}
		out = append(out, iv)
		l = iv.End
	}
	return out, l
}

// latestDue finds the latest logical date >= from whose interval has ended by
// now. Without a "previous point" function, it scans a window back from now,
// doubling it until two schedule points fit (the last point <= now starts an
// interval still open; the one before it is the latest due).
func (d *DAG) latestDue(from, now time.Time) (time.Time, bool) {
	for window := time.Hour; ; window *= 2 {
		lo := now.Add(-window)
		if lo.Before(from) {
			lo = from
		}
		var pts []time.Time
		for p := d.next(lo.Add(-time.Nanosecond)); !p.IsZero() && !p.After(now); p = d.next(p) {
			if !d.inRange(p) {
				break
			}
			pts = append(pts, p)
		}
		// Keep only points whose interval has ended.
		for len(pts) > 0 {
			last := pts[len(pts)-1]
			if end := d.next(last); !end.IsZero() && !end.After(now) {
				return last, true
			}
			pts = pts[:len(pts)-1]
		}
		if !lo.After(from) {
			return time.Time{}, false
		}
	}
}

// ManualInterval is the data interval of a run triggered by hand at logical
// date t: the latest complete interval ending at or before t, as Airflow
// infers it. A DAG without schedule gets the empty interval [t, t).
func (d *DAG) ManualInterval(t time.Time) Interval {
	t = t.UTC()
	if d.Manual() {
		return Interval{Start: t, End: t}
	}
	// The last schedule point <= t ends the interval; the one before starts it.
	var prev, last time.Time
	for window := time.Hour; window < 200*365*24*time.Hour; window *= 2 {
		prev, last = time.Time{}, time.Time{}
		for p := d.next(t.Add(-window)); !p.IsZero() && !p.After(t); p = d.next(p) {
			prev, last = last, p
		}
		if !prev.IsZero() {
			return Interval{Start: prev, End: last}
		}
	}
	return Interval{Start: t, End: t}
}

// BackfillIntervals returns the intervals whose logical date l satisfies
// from <= l < to and that have ended by now, oldest first.
func (d *DAG) BackfillIntervals(from, to, now time.Time) ([]Interval, error) {
	if d.Manual() {
		return nil, ErrManual
	}
	if !from.Before(to) {
		return nil, errors.New("backfill range: start must be before end")
	}
	var out []Interval
	for l := d.next(from.Add(-time.Nanosecond)); !l.IsZero() && l.Before(to); l = d.next(l) {
		iv := d.IntervalAt(l)
		if iv.End.IsZero() || iv.End.After(now) {
			break
		}
		if len(out) == maxBackfillRuns {
			return nil, errors.New("backfill range: more than 10000 runs; split it")
		}
		out = append(out, iv)
	}
	if len(out) == 0 {
		return nil, errors.New("backfill range: no complete interval in it")
	}
	return out, nil
}

// Period is the time between the two schedule points after t: how often the
// DAG runs as of t (a cron schedule need not be regular). Zero for manual
// DAGs and past the end date.
func (d *DAG) Period(t time.Time) time.Duration {
	if d.Manual() {
		return 0
	}
	a := d.next(t)
	if !d.inRange(a) {
		return 0
	}
	b := d.next(a)
	if b.IsZero() {
		return 0
	}
	return b.Sub(a)
}

// NextRun returns when the next scheduled run will be created given the stored
// cursor: the end of the interval starting at the cursor. Zero for manual DAGs
// or past end_date.
func (d *DAG) NextRun(cursor, now time.Time) time.Time {
	if d.Manual() {
		return time.Time{}
	}
	l := cursor
	if l.IsZero() || l.Before(d.StartDate) {
		l = d.first()
	}
	if !d.Catchup {
		if latest, ok := d.latestDue(l, now); ok {
			return d.next(latest) // overdue: created on the next tick
		}
	}
	if !d.inRange(l) {
		return time.Time{}
	}
	return d.next(l)
}
