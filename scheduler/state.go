package scheduler

import "time"

// State is the state of a task instance.
type State string

// Task states, as in Airflow. none: waiting for upstreams; queued: ready to be
// claimed; up_for_retry: failed, claimable again after its retry delay.
const (
	StateNone           State = "none"
	StateQueued         State = "queued"
	StateRunning        State = "running"
	StateSuccess        State = "success"
	StateFailed         State = "failed"
	StateUpForRetry     State = "up_for_retry"
	StateUpstreamFailed State = "upstream_failed"
	StateSkipped        State = "skipped"
)

// Terminal reports whether s is final for the current run of the task.
func (s State) Terminal() bool {
	switch s {
	case StateSuccess, StateFailed, StateUpstreamFailed, StateSkipped:
		return true
	}
	return false
}

// RunState is the state of a DAG run.
type RunState string

// Run states: queued runs wait for a max_active_runs slot.
const (
	RunQueued  RunState = "queued"
	RunRunning RunState = "running"
	RunSuccess RunState = "success"
	RunFailed  RunState = "failed"
)

// Resolve applies the all_success trigger rule to the tasks of one run that
// are waiting (state none, or missing from states) and returns their new
// states; tasks that must keep waiting are left out. A failed upstream makes
// a task upstream_failed; an upstream skipped (with the others succeeded)
// skips it; all upstreams succeeded queue it. Tasks are visited in
// topological order, so a failure propagates through the whole subgraph in
// one call.
func (d *DAG) Resolve(states map[string]State) map[string]State {
	cur := make(map[string]State, len(d.Tasks))
	for _, t := range d.Tasks {
		cur[t.ID] = StateNone
		if s, ok := states[t.ID]; ok {
			cur[t.ID] = s
		}
	}
	changes := map[string]State{}
	for _, t := range d.order {
		if cur[t.ID] != StateNone {
			continue
		}
		failed, skipped, waiting := false, false, false
		for _, up := range t.DependsOn {
			switch cur[up] {
			case StateFailed, StateUpstreamFailed:
				failed = true
			case StateSkipped:
				skipped = true
			case StateSuccess:
			default:
				waiting = true
			}
		}
		var next State
		switch {
		case failed:
			next = StateUpstreamFailed
		case waiting:
			continue
		case skipped:
			next = StateSkipped
		default:
			next = StateQueued
		}
		cur[t.ID] = next
		changes[t.ID] = next
	}
	return changes
}

// Outcome returns the state of a run whose tasks are in states, and whether
// the run is finished: failed if any task failed (or could not run because
// of it), success when all succeeded or were skipped.
func (d *DAG) Outcome(states map[string]State) (RunState, bool) {
	failed := false
	for _, t := range d.Tasks {
		s, ok := states[t.ID]
		if !ok || !s.Terminal() {
			return RunRunning, false
		}
		if s == StateFailed || s == StateUpstreamFailed {
			failed = true
		}
	}
	if failed {
		return RunFailed, true
	}
	return RunSuccess, true
}

// WithDownstream returns ids and every task downstream of them, in
// topological order.
func (d *DAG) WithDownstream(ids []string) []string {
	mark := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if mark[id] {
			return
		}
		mark[id] = true
		if t := d.byID[id]; t != nil {
			for _, down := range t.Downstream {
				visit(down)
			}
		}
	}
	for _, id := range ids {
		visit(id)
	}
	var out []string
	for _, t := range d.order {
		if mark[t.ID] {
			out = append(out, t.ID)
		}
	}
	return out
}

// BackoffAfter is how long to wait before the next try after the n-th failed
// try of the current budget (n >= 1): retry_delay, doubled per failure when
// retry_exponential_backoff is set, capped at max_retry_delay.
func (t *Task) BackoffAfter(n int) time.Duration {
	d := t.RetryDelay
	if t.ExponentialBackoff {
		for i := 1; i < n && d < t.MaxRetryDelay; i++ {
			d *= 2
		}
	}
	if d > t.MaxRetryDelay {
		d = t.MaxRetryDelay
	}
	return d
}
