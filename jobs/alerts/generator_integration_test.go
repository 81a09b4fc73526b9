//go:build integration

package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"weir/config"
	"weir/events"
	"weir/internal/stacktest"
	"weir/jobs/generate"
	"weir/kafkaio"
)

// TestGeneratorGroundTruth scores the shipped rules against the traffic
// generator's own ground truth: a day of history (ending now, so the
// generator's future-dated faults are in the future for the job too) with
// every anomaly kind twice and the default producer faults, written to
// Kafka topics of the run's own prefix; the alert job reads them until
// caught up, delivering to Alertmanager and a prefixed alerts topic, and
// the notifications it stored are compared with the ground truth.
//
//	source .stack/env.sh
//	go test -tags integration -run TestGeneratorGroundTruth -v ./jobs/alerts
func TestGeneratorGroundTruth(t *testing.T) {
	const seed = 7
	cfg := loadConfig(t)
	run := runID("gen")
	prefix := run + "."
	ctx := context.Background()

	end := time.Now().UTC().Truncate(time.Minute)
	start := end.Add(-24 * time.Hour)
	gcfg := generatorConfig(seed, start, end.Sub(start))
	gen, err := generate.New(gcfg)
	if err != nil {
		t.Fatal(err)
	}
	ensureSourceTopics(t, cfg, prefix)
	producer, err := kafkaio.NewProducer(cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	var truthLines bytes.Buffer
	began := time.Now()
	sum, err := gen.Run(ctx, generate.PrefixSink{Sink: producer, Prefix: prefix}, &truthLines)
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := producer.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	genSeconds := time.Since(began).Seconds()
	truths, err := readTruth(&truthLines)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, a := range truths {
		kinds[a.Kind]++
	}
	if len(kinds) != len(generate.AnomalyKinds) {
		t.Fatalf("ground truth has kinds %v, want all of %v", kinds, generate.AnomalyKinds)
	}
	t.Logf("generated %d records, %d anomalies in %.1fs", sum.Records, len(truths), genSeconds)

	sinks := []string{SinkAlertmanager, SinkKafka}
	began = time.Now()
	stop := startJob(t, cfg, Options{Rules: shippedRules(t, run), Job: run, TopicPrefix: prefix, Sinks: sinks, AlertsTopic: prefix + "alerts"})
	// Caught up: the checkpoint holds every record (the out-of-order copies
	// come last), the watermark is within seconds of the last record, and
	// every sink delivered the whole outbox.
	waitConsumed(t, cfg, run, prefix, []string{events.TopicAppEvents, events.TopicAppLogs, events.TopicWebAccess}, 3*time.Minute)
	waitCaughtUp(t, cfg, run, end.Add(-30*time.Second).UnixMilli(), sinks, time.Minute)
	catchUp := time.Since(began).Seconds()
	stop()

	ns := outbox(t, cfg, run)
	incidents, eps := afterWarmUp(truths, Episodes(ns), start.Add(warmUp), end)
	res := ScoreEpisodes(incidents, eps, 2*time.Minute, end)
	res.log(t, start)
	if q := res.Overall; q.Recall < 0.9 || q.Precision < 0.9 || q.MaxEpisodes > 1 {
		t.Errorf("through Kafka and the job: %s (want recall and precision ≥ 0.9, one episode per incident)", q)
	}

	// Every record the job did not evaluate is one of the generator's
	// faults in the topics the rules read: each invalid and future-dated
	// record, and out-of-order records. Not every out-of-order record is too
	// late: the watermark is the minimum over partitions, and while the job
	// catches up one partition can be hours of event time behind another,
	// so a record an hour late on a fast partition may still be on time.
	want := map[string]int{}
	for _, topic := range []string{events.TopicAppEvents, events.TopicAppLogs, events.TopicWebAccess} {
		ts := sum.Topics[topic]
		if ts == nil {
			continue
		}
		want[Invalid] += int(ts.Invalid)
		want[TooLate] += int(ts.Faults[generate.FaultOutOfOrder])
		want[Future] += int(ts.Future) // the same max_future as silver's quarantine
	}
	late := lateCounts(t, cfg, run)
	for _, reason := range []string{Invalid, Future} {
		if late[reason] != want[reason] {
			t.Errorf("late records %s = %d, generator faults say %d", reason, late[reason], want[reason])
		}
	}
	if late[TooLate] > want[TooLate] {
		t.Errorf("late records %s = %d, more than the %d out-of-order records generated", TooLate, late[TooLate], want[TooLate])
	}

	falseAlerts := []map[string]any{}
	for _, n := range res.False {
		falseAlerts = append(falseAlerts, map[string]any{"rule": n.Rule, "labels": n.Labels, "start": n.Start, "end": n.End, "values": n.Values})
	}
	rulesFired := map[string]int{}
	for _, n := range ns {
		if n.Status == Firing {
			rulesFired[n.Rule]++
		}
	}
	writeResults(t, "generator_ground_truth", map[string]any{
		"what":              "jobs/generate (package API) → Kafka (own topic prefix) → alert job with rules/alerts.yaml → outbox, scored against the generator's ground truth",
		"seed":              seed,
		"start":             start,
		"end":               end,
		"rate":              gcfg.Rate,
		"anomaly_every":     gcfg.AnomalyEvery.String(),
		"fault_rates":       gcfg.Faults,
		"records":           sum.Records,
		"anomalies":         len(truths),
		"anomalies_by_kind": kinds,
		"episodes":          res.Overall.Episodes,
		"alerts_by_rule":    rulesFired,
		"overall":           res.Overall,
		"by_kind":           res.ByKind,
		"matching":          "jobs/alerts ScoreEpisodes: an episode matches an incident of the same kind whose labels agree with it (generator operation = alert type) and whose span widened by 2m meets the episode's; an episode matching none is explained when it has the time of an incident and the kind and labels of one of the effects the ground truth lists for it; precision = (matched + explained) / episodes; incidents in the first 90 minutes (baseline warm-up) left out",
		"missed":            append([]truth{}, res.Missed...),
		"false_alerts":      falseAlerts,
		"late_records":      late,
		"generator_faults":  want,
		"generate_seconds":  genSeconds,
		"catch_up_seconds":  catchUp,
		"notifications":     len(ns),
		"measured_at":       time.Now().UTC(),
	})
}

// waitConsumed waits until the job's checkpointed offsets reach the end of
// every partition of the prefixed topics.
func waitConsumed(t *testing.T, cfg config.Config, job, prefix string, topics []string, timeout time.Duration) {
	t.Helper()
	names := make([]string, len(topics))
	for i, topic := range topics {
		names[i] = prefix + topic
	}
	_, high := stacktest.Watermarks(t, cfg.Kafka, names)
	ends := map[string]int64{}
	for tp, h := range high {
		ends[tpKey(strings.TrimPrefix(tp.Topic, prefix), tp.Partition)] = h
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cfg.Scheduler.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var got map[string]int64
	stacktest.Eventually(t, timeout, 250*time.Millisecond, func() (bool, error) {
		var raw []byte
		if err := conn.QueryRow(ctx, `SELECT offsets FROM alerts_checkpoint WHERE job = $1`, job).Scan(&raw); err != nil {
			return false, nil
		}
		got = map[string]int64{}
		if err := json.Unmarshal(raw, &got); err != nil {
			return false, err
		}
		for k, high := range ends {
			if high > 0 && got[k] < high {
				return false, nil
			}
		}
		return true, nil
	}, func() string {
		return fmt.Sprintf("job %s has not consumed its topics after %s: checkpoint offsets %v, ends %v", job, timeout, got, ends)
	})
}
