package scheduler

import (
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	// a -> b -> d, a -> c -> d, e independent
	d := mustDAG(t, `id: d
schedule: "@daily"
start_date: 2026-01-01
tasks:
  - {id: a, job: task sleep}
  - {id: b, job: task sleep, depends_on: [a]}
  - {id: c, job: task sleep, depends_on: [a]}
  - {id: d, job: task sleep, depends_on: [b, c]}
  - {id: e, job: task sleep}
`)
	S := func(kv ...string) map[string]State {
		m := map[string]State{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = State(kv[i+1])
		}
		return m
	}
	cases := []struct {
		name    string
		states  map[string]State
		want    map[string]State
		outcome RunState
	}{
		{"fresh run queues the roots", S(), S("a", "queued", "e", "queued"), RunRunning},
		{"success queues the children", S("a", "success", "e", "running"), S("b", "queued", "c", "queued"), RunRunning},
		{"join waits for both", S("a", "success", "b", "success", "c", "running", "e", "success"), S(), RunRunning},
		{"join runs after both", S("a", "success", "b", "success", "c", "success", "e", "success"), S("d", "queued"), RunRunning},
		{"failure propagates through the subgraph", S("a", "failed", "e", "success"),
			S("b", "upstream_failed", "c", "upstream_failed", "d", "upstream_failed"), RunFailed},
		{"up_for_retry is not a failure", S("a", "up_for_retry", "e", "success"), S(), RunRunning},
		{"one failed branch fails the join", S("a", "success", "b", "failed", "c", "running", "e", "success"), S("d", "upstream_failed"), RunRunning},
		{"skip propagates", S("a", "skipped", "e", "success"), S("b", "skipped", "c", "skipped", "d", "skipped"), RunSuccess},
		{"failure wins over skip", S("a", "success", "b", "skipped", "c", "failed", "e", "success"), S("d", "upstream_failed"), RunFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := d.Resolve(c.states)
			if len(got) != len(c.want) {
				t.Fatalf("changes %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s: %s, want %s", k, got[k], v)
				}
			}
			after := map[string]State{}
			for k, v := range c.states {
				after[k] = v
			}
			for k, v := range got {
				after[k] = v
			}
			if out, _ := d.Outcome(after); out != c.outcome {
				t.Errorf("outcome %s, want %s", out, c.outcome)
			}
		})
	}
	if got := d.WithDownstream([]string{"b"}); !equal(got, []string{"b", "d"}) {
		t.Errorf("downstream of b: %v", got)
	}
	if got := d.WithDownstream([]string{"a"}); !equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("downstream of a: %v", got)
	}
}

func TestBackoffAfter(t *testing.T) {
	cases := []struct {
		name string
		task Task
		want []time.Duration // after failure 1, 2, 3, ...
	}{
		{"constant", Task{RetryDelay: 10 * time.Second, MaxRetryDelay: time.Hour},
			[]time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"exponential", Task{RetryDelay: 10 * time.Second, MaxRetryDelay: time.Hour, ExponentialBackoff: true},
			[]time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}},
		{"exponential capped", Task{RetryDelay: 10 * time.Second, MaxRetryDelay: 30 * time.Second, ExponentialBackoff: true},
			[]time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"huge n does not overflow", Task{RetryDelay: time.Second, MaxRetryDelay: time.Minute, ExponentialBackoff: true},
			nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i, w := range c.want {
				if got := c.task.BackoffAfter(i + 1); got != w {
					t.Errorf("after failure %d: %s, want %s", i+1, got, w)
				}
			}
			if got := c.task.BackoffAfter(1000); got > c.task.MaxRetryDelay || got <= 0 {
				t.Errorf("after 1000 failures: %s", got)
			}
		})
	}
}
