//go:build integration

package stream_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"weir/internal/stacktest"
	"weir/lakehouse"
)

// TestBronzeDrainExact is the bronze benchmark's exactness check
// (TestBenchBronzeMillion, 1,000,000 messages under make bench) at a
// small scale for make test: 40,000 messages produced to four topics
// before the job starts, drained by one `weir stream` process, every
// offset stored once and no dead letter.
func TestBronzeDrainExact(t *testing.T) {
	s := openStack(t)
	d := s.drainExactly(t, 40_000, drainHooks{})
	t.Logf("drained %d messages exactly once in %s", d.rows, d.drain.Round(time.Millisecond))
}

// drainHooks are what the benchmark adds to a drain: flags, topics the job
// reads besides the four drained, and what runs while it drains and once it
// has caught up (the job still running).
type drainHooks struct {
	args     []string
	also     []string
	draining func(p *stacktest.Process)
	drained  func(p *stacktest.Process, topics []string)
}

type drained struct {
	topics      []string
	perTopic    int
	drain, wall time.Duration
	cpu         time.Duration // the job's CPU time, start to stop
	rows        int
}

// drainExactly produces total ~300-byte messages to four topics (6
// partitions each) before the job starts, drains them with one `weir
// stream` process, stops it, and checks that bronze holds every offset
// below the high watermarks exactly once and no dead letter. The
// benchmark and make test run it at two scales.
func (s *stack) drainExactly(t *testing.T, total int, h drainHooks) drained {
	t.Helper()
	topics := s.newTopics(t, 6, "web.access", "app.events", "app.logs", "infra.metrics")
	perTopic := total / len(topics)
	t.Logf("producing %d messages", perTopic*len(topics))
	produceStart := time.Now()
	s.produce(t, topics, perTopic, 0)
	t.Logf("produced in %s", time.Since(produceStart).Round(time.Millisecond))

	stacktest.Weir(t) // build before the clock starts
	all := append(slices.Clone(topics), h.also...)
	start := time.Now()
	p := startStream(t, "drain", all, "drain-"+topics[0], nil, h.args...)
	p.WaitLog(t, "partition assigned", time.Minute)
	assigned := logTime(t, p, "partition assigned") // group join done: the drain starts
	if h.draining != nil {
		h.draining(p)
	}
	high := s.waitCaughtUp(t, topics, 15*time.Minute)
	done := s.caughtUpAt(t, topics, high)
	d := drained{topics: topics, perTopic: perTopic, drain: done.Sub(assigned), wall: done.Sub(start)}
	t.Logf("drained %d messages in %s (%.0f msg/s)", total, d.drain.Round(time.Millisecond), float64(total)/d.drain.Seconds())
	if h.drained != nil {
		h.drained(p, topics)
		high = s.waitCaughtUp(t, topics, 5*time.Minute)
	}
	stop(t, p)
	d.cpu = p.Cmd.ProcessState.UserTime() + p.Cmd.ProcessState.SystemTime()
	rows, dead := s.checkExact(t, topics, high)
	if dead != 0 {
		t.Fatalf("%d dead letters, want 0", dead)
	}
	d.rows = rows
	return d
}

// logTime is the time of the first job log line containing substr.
func logTime(t testing.TB, p *stacktest.Process, substr string) time.Time {
	t.Helper()
	out, _ := os.ReadFile(p.Log)
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, substr) {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatalf("log time of %q: %v", line, err)
		}
		return at
	}
	t.Fatalf("no %q in the job log", substr)
	return time.Time{}
}

// caughtUpAt is when the tables first recorded the high watermarks: the
// commit time of the oldest snapshot of each table whose offsets cover
// them, the latest over the tables.
func (s *stack) caughtUpAt(t testing.TB, topics []string, high map[lakehouse.TopicPartition]int64) time.Time {
	t.Helper()
	var latest time.Time
	for _, topic := range topics {
		tbl, err := s.lake.Catalog.LoadTable(context.Background(), lakehouse.Ident(lakehouse.BronzeTable(topic)))
		if err != nil {
			t.Fatal(err)
		}
		var at time.Time
		for snap := range lakehouse.Ancestors(tbl) {
			offs := lakehouse.ParseOffsetSummary(snap.Summary.Properties)
			covered := true
			for tp, h := range high {
				if tp.Topic == topic && offs[tp] < h {
					covered = false
				}
			}
			if !covered {
				break
			}
			at = time.UnixMilli(snap.TimestampMs)
		}
		if at.After(latest) {
			latest = at
		}
	}
	return latest
}
