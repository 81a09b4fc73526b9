//go:build integration && bench

package stream_test

// TestScaleOutStream (make bench-scaleout, on the cluster profile) drains
// the same generated records with 1, 2 and 3 `weir stream` processes in one
// consumer group, each time into empty tables, and writes
// bench/results/scaleout.json: throughput, CPU, and the exactness figures
// (duplicates, missing, commit conflicts, fence drops) of each step.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"weir/internal/stacktest"
)

func TestScaleOutStream(t *testing.T) {
	total := 1_000_000
	if testing.Short() {
		total = 100_000
	}
	if n, err := strconv.Atoi(os.Getenv("WEIR_BENCH_MESSAGES")); err == nil && n > 0 {
		total = n
	}
	s := openStack(t)
	topics := s.newTopics(t, 6, "web.access", "app.events", "app.logs", "infra.metrics")
	prefix, _, _ := strings.Cut(topics[0], ".")
	produced, payloadBytes := s.produceGenerated(t, topics, total)
	high := s.highWatermarks(t, topics)
	stacktest.Weir(t)
	weir := s.weirContender(prefix)

	type step struct {
		Instances       int     `json:"instances"`
		Messages        int64   `json:"messages"`
		DrainSeconds    float64 `json:"drain_seconds"`
		MsgsPerSec      float64 `json:"msgs_per_sec"`
		MBPerSec        float64 `json:"mb_per_sec"`
		CPUSeconds      float64 `json:"cpu_seconds_all_instances"`
		CPUPer1M        float64 `json:"cpu_seconds_per_1m"`
		Rows            int     `json:"rows"`
		Duplicates      int     `json:"duplicates"`
		Missing         int     `json:"missing"`
		CommitConflicts int     `json:"commit_conflicts"`
		FenceDrops      int     `json:"fence_drops"`
		Commits         int     `json:"bronze_commits"`
		LoadAvg         string  `json:"loadavg"`
	}
	var steps []step
	for k := 1; k <= 3; k++ {
		group := fmt.Sprintf("scale-%s-%d", prefix, k)
		var ps []*stacktest.Process
		for i := range k {
			ps = append(ps, startStream(t, fmt.Sprintf("scale%d-%d", k, i), topics, group, nil, "--commit-interval", peerCommitInterval.String()))
		}
		s.waitCaughtUp(t, topics, 30*time.Minute)
		done := s.caughtUpAt(t, topics, high)
		var began time.Time
		var cpu float64
		for _, p := range ps {
			at := logTime(t, p, "partition assigned")
			if began.IsZero() || at.Before(began) {
				began = at
			}
			cpu += processCPU(t, p.Cmd.Process.Pid)
		}
		load, _ := os.ReadFile("/proc/loadavg")
		var conflicts, fences, commits int
		for _, p := range ps {
			stop(t, p)
			log, _ := os.ReadFile(p.Log)
			for _, line := range strings.Split(string(log), "\n") {
				if strings.Contains(line, "bronze commit attempt failed") && strings.Contains(line, "conflict=true") {
					conflicts++
				}
				if strings.Contains(line, "fence: dropping rows") {
					fences++
				}
				if strings.Contains(line, `msg="bronze commit"`) {
					commits++
				}
			}
		}
		// checkExact fails the test on any duplicate or missing record.
		rows, _ := s.checkExact(t, topics, high)
		drain := done.Sub(began)
		st := step{
			Instances: k, Messages: produced, DrainSeconds: drain.Seconds(),
			MsgsPerSec: float64(produced) / drain.Seconds(), MBPerSec: float64(payloadBytes) / 1e6 / drain.Seconds(),
			CPUSeconds: cpu, CPUPer1M: cpu * 1e6 / float64(produced), Rows: rows,
			CommitConflicts: conflicts, FenceDrops: fences, Commits: commits, LoadAvg: strings.TrimSpace(string(load)),
		}
		steps = append(steps, st)
		t.Logf("%d instances: %.0f msg/s, %.1f CPU s per 1M, %d commits, %d conflicts, %d fence drops", k, st.MsgsPerSec, st.CPUPer1M, commits, conflicts, fences)
		weir.cleanup(k, topics)
	}
	res := map[string]any{
		"benchmark":       "scaleout",
		"profile":         os.Getenv("WEIR_STACK_PROFILE"),
		"messages":        produced,
		"partitions":      24,
		"commit_interval": peerCommitInterval.String(),
		"records":         "the generator's mix, produced once; each step drains all of it into empty tables with a new consumer group",
		"drain_note":      "drain = the first instance's first partition assignment to the commit time of the snapshot that first records every partition's end; it includes the group's rebalances as instances join",
		"exactness_note":  "duplicates and missing from scanning every table (topic, partition, offset) against the high watermarks; conflicts and fence drops from the instances' logs",
		"steps":           steps,
		"measured_at":     time.Now().UTC().Format(time.RFC3339),
		"machine":         machine(),
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	name := "scaleout.json"
	if total != 1_000_000 {
		name = "scaleout-short.json"
	}
	if err := os.WriteFile(filepath.Join(stacktest.ModuleRoot(t), "bench", "results", name), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
}
