package gold

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// sliceCounts is the number of records per slice of a day (start, Unix
// seconds) of each source table.
type sliceCounts map[string]map[int64]int64

// slice is the span a refresh recomputes at least: @slice, else a day.
func (d *Definition) slice() time.Duration {
	if d.Slice == 0 {
		return 24 * time.Hour
	}
	return d.Slice
}

// parseSlice checks an @slice value: whole minutes that divide a day, so
// slices are aligned to UTC midnight and made of the minutes Refresh counts.
func parseSlice(v string) (time.Duration, error) {
	size, err := time.ParseDuration(v)
	if err != nil || size < time.Minute || size > 24*time.Hour || size%time.Minute != 0 || (24*time.Hour)%size != 0 {
		return 0, fmt.Errorf("duration %q: want whole minutes that divide a day (1m to 24h)", v)
	}
	return size, nil
}

// toSlices sums per-minute counts (minute start → records) into slices of
// size, keeping only the minutes of days.
func toSlices(minutes map[int64]int64, days []string, size time.Duration) map[int64]int64 {
	in := map[string]bool{}
	for _, d := range days {
		in[d] = true
	}
	step := int64(size / time.Second)
	out := map[int64]int64{}
	for m, n := range minutes {
		if !in[time.Unix(m, 0).UTC().Format(time.DateOnly)] {
			continue
		}
		out[m-m%step] += n
	}
	return out
}

// changedSlices lists, sorted, the slices whose count in any source differs
// from prev (a slice prev never counted differs). Slices absent from cur
// are not changes: recomputing them would find no rows, and a MERGE
// removes no group.
func changedSlices(prev, cur sliceCounts) []time.Time {
	set := map[int64]bool{}
	for src, counts := range cur {
		for s, n := range counts {
			if prev[src][s] != n {
				set[s] = true
			}
		}
	}
	out := make([]time.Time, 0, len(set))
	for _, s := range slices.Sorted(maps.Keys(set)) {
		out = append(out, time.Unix(s, 0).UTC())
	}
	return out
}

// withSlicesBefore adds to starts the slice before each: the windows of a
// window rollup (no longer than a slice) that start late in that slice
// read the changed one's rows.
func withSlicesBefore(starts []time.Time, size time.Duration) []time.Time {
	set := map[int64]bool{}
	for _, s := range starts {
		set[s.Unix()] = true
		set[s.Add(-size).Unix()] = true
	}
	out := make([]time.Time, 0, len(set))
	for _, s := range slices.Sorted(maps.Keys(set)) {
		out = append(out, time.Unix(s, 0).UTC())
	}
	return out
}

// sliceDays lists, sorted, the UTC days the slices lie in.
func sliceDays(starts []time.Time) []string {
	set := map[string]bool{}
	for _, s := range starts {
		set[s.UTC().Format(time.DateOnly)] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// sliceFilter is a predicate selecting the slices (sorted starts, each
// size long), as few ranges as they allow, each extended by past after its
// end.
func sliceFilter(col string, starts []time.Time, size, past time.Duration) string {
	var ranges []string
	for i := 0; i < len(starts); {
		start := starts[i]
		end := start.Add(size)
		j := i + 1
		for ; j < len(starts) && starts[j].Equal(end); j++ {
			end = end.Add(size)
		}
		upper := timestampLiteral(end)
		if past > 0 {
			upper = fmt.Sprintf("%s + INTERVAL '%d' SECOND", upper, int64(past.Round(time.Second)/time.Second))
		}
		ranges = append(ranges, fmt.Sprintf("(%s >= %s AND %s < %s)", col, timestampLiteral(start), col, upper))
		i = j
	}
	return "(" + strings.Join(ranges, " OR ") + ")"
}

// timestampLiteral is t as a Trino timestamp with time zone literal (UTC,
// whole seconds).
func timestampLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05") + " UTC'"
}
