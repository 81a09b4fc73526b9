package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"weir/scheduler"
	"weir/scheduler/web"
	"weir/wait"
)

// DAGRun is a run the demo triggered through the scheduler, as the
// scheduler recorded it when the run finished.
type DAGRun struct {
	DAGID string
	Run   web.RunView
	// Tasks are the run's task instances in the DAG's topological order.
	Tasks []TaskRun
}

// TaskRun is one task instance of a DAGRun (its latest try).
type TaskRun struct {
	ID                 string
	State              scheduler.State
	Try                int
	StartedAt, EndedAt time.Time
}

// Duration is the latest try's run time, zero if it did not run.
func (t TaskRun) Duration() time.Duration {
	if t.StartedAt.IsZero() || t.EndedAt.IsZero() {
		return 0
	}
	return t.EndedAt.Sub(t.StartedAt)
}

// Runs returns the DAG runs the demo triggered, in order.
func (d *Demo) Runs() []DAGRun { return d.runs }

// apiTask is a task of GET /api/v1/dags/{dag}/runs/{run}.
type apiTask struct {
	State     scheduler.State `json:"state"`
	TryNumber int             `json:"try_number"`
	MaxTries  int             `json:"max_tries"`
	StartedAt time.Time       `json:"started_at"`
	EndedAt   time.Time       `json:"ended_at"`
}

// apiRun is the body of GET /api/v1/dags/{dag}/runs/{run}.
type apiRun struct {
	Run   web.RunView        `json:"run"`
	Tasks map[string]apiTask `json:"tasks"`
}

// startScheduler starts `weir scheduler --manual-only` on the configured
// address and waits until it answers /healthz. The DAGs' cron schedules are
// off in it, so only the runs the demo triggers run: a silver_build interval
// falling due mid-demo (every 5 minutes) or the daily maintenance and
// archive DAGs do not start next to the demo's own runs.
func (d *Demo) startScheduler(ctx context.Context) (*background, error) {
	ln, err := net.Listen("tcp", d.opts.SchedulerListen)
	if err != nil {
		return nil, fmt.Errorf("scheduler address %s is in use (a scheduler still running, e.g. from demo --keep-scheduler?): stop it first: %w",
			d.opts.SchedulerListen, err)
	}
	ln.Close()
	dags, err := filepath.Abs(d.opts.DAGDir)
	if err != nil {
		return nil, fmt.Errorf("resolve dag dir: %w", err)
	}
	b, err := d.spawn(ctx, "scheduler", d.opts.KeepScheduler, "scheduler", "--manual-only", "--dags", dags, "--listen", d.opts.SchedulerListen)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, d.schedulerURL()+"/healthz", 60*time.Second, b); err != nil {
		_ = b.stop()
		return nil, fmt.Errorf("scheduler not ready: %w", err)
	}
	return b, nil
}

func (d *Demo) schedulerURL() string { return "http://" + d.opts.SchedulerListen }

// runDAG triggers a manual run of a DAG through the scheduler's API and
// follows it to the end, printing each task as it finishes and every failed
// try with the tail of its log. A failed run is an error carrying the logs
// of its failed tasks.
func (d *Demo) runDAG(ctx context.Context, id string, sched *background) (DAGRun, error) {
	order, err := d.taskOrder(id)
	if err != nil {
		return DAGRun{}, err
	}
	var queued web.RunView
	if err := d.api(ctx, http.MethodPost, "/api/v1/dags/"+url.PathEscape(id)+"/runs", &queued); err != nil {
		return DAGRun{}, fmt.Errorf("trigger %s: %w", id, err)
	}
	d.printf("  run %s triggered\n", queued.RunID)
	runPath := "/api/v1/dags/" + url.PathEscape(id) + "/runs/" + url.PathEscape(queued.RunID)
	printed := map[string]bool{}
	shownTries := map[string]int{} // task → tries up to this one checked for failures
	var out DAGRun
	err = wait.Until(ctx, time.Second, func(ctx context.Context) error {
		var r apiRun
		if err := d.api(ctx, http.MethodGet, runPath, &r); err != nil {
			out = DAGRun{}
			return wait.Stop(fmt.Errorf("follow run %s: %w", queued.RunID, err))
		}
		out = DAGRun{DAGID: id, Run: r.Run}
		for _, tid := range order {
			t := r.Tasks[tid]
			tr := TaskRun{ID: tid, State: t.State, Try: t.TryNumber, StartedAt: t.StartedAt, EndedAt: t.EndedAt}
			out.Tasks = append(out.Tasks, tr)
			// Tries before the current one ended without success; so did
			// the current one when it waits for a retry. (A final failure
			// is reported with the run.)
			ended := t.TryNumber - 1
			if t.State == scheduler.StateUpForRetry {
				ended = t.TryNumber
			}
			if ended > shownTries[tid] {
				d.printRetriedTries(ctx, runPath, tid, shownTries[tid], ended, t.MaxTries)
				shownTries[tid] = ended
			}
			if t.State.Terminal() && !printed[tid] {
				printed[tid] = true
				d.printf("  · %-22s %-8s %s%s\n", tid, t.State, tr.Duration().Round(time.Millisecond), tryNote(t.TryNumber))
			}
		}
		switch scheduler.RunState(r.Run.State) {
		case scheduler.RunSuccess:
			d.printf("  run %s: success in %s (scheduler's records)\n", r.Run.RunID, r.Run.EndedAt.Sub(r.Run.StartedAt).Round(time.Millisecond))
			d.runs = append(d.runs, out)
			return nil
		case scheduler.RunFailed:
			d.runs = append(d.runs, out)
			var logs []string
			for _, t := range out.Tasks {
				if t.State == scheduler.StateFailed {
					logs = append(logs, fmt.Sprintf("task %s, try %d:\n%s", t.ID, t.Try, indent(d.tryLog(ctx, runPath, t.ID, t.Try), "  ")))
				}
			}
			return wait.Stop(fmt.Errorf("run %s failed (weir dags logs %s %s TASK)\n%s", r.Run.RunID, id, r.Run.RunID, strings.Join(logs, "")))
		}
		if sched.exited() {
			return wait.Stop(fmt.Errorf("scheduler exited during run %s: %s", queued.RunID, sched.tail()))
		}
		return fmt.Errorf("run %s is %s", queued.RunID, r.Run.State)
	})
	if err != nil && ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, err
}

// printRetriedTries prints the failed tries after and up to until of a task
// the scheduler retries, each with its error and log tail.
func (d *Demo) printRetriedTries(ctx context.Context, runPath, task string, after, until, maxTries int) {
	tries, err := d.tries(ctx, runPath, task)
	if err != nil {
		d.printf("  ! %s: %v\n", task, err)
		return
	}
	for _, t := range tries {
		if t.Try > after && t.Try <= until && t.State != "success" {
			d.printf("  ! %s try %d/%d %s; the scheduler retries it\n%s", task, t.Try, maxTries, t.State, indent(formatTry(t), "      "))
		}
	}
}

// tryLog is the error and log tail of a task's try, as the scheduler
// captured it.
func (d *Demo) tryLog(ctx context.Context, runPath, task string, try int) string {
	tries, err := d.tries(ctx, runPath, task)
	if err != nil {
		return fmt.Sprintf("(no log: %v)\n", err)
	}
	for _, t := range tries {
		if t.Try == try {
			return formatTry(t)
		}
	}
	return fmt.Sprintf("(try %d not recorded)\n", try)
}

// tries are a task's tries with their logs.
func (d *Demo) tries(ctx context.Context, runPath, task string) ([]web.TryView, error) {
	var tl web.TaskLog
	if err := d.api(ctx, http.MethodGet, runPath+"/tasks/"+url.PathEscape(task), &tl); err != nil {
		return nil, fmt.Errorf("read log: %w", err)
	}
	return tl.Tries, nil
}

// formatTry is a try's error and the last 20 lines of its log.
func formatTry(t web.TryView) string {
	var b strings.Builder
	if t.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", t.Error)
	}
	lines := strings.Split(strings.TrimRight(t.Log, "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	b.WriteString(strings.Join(lines, "\n"))
	b.WriteString("\n")
	return b.String()
}

// taskOrder is the DAG's task ids in topological order, from the DAG file
// the scheduler loads too.
func (d *Demo) taskOrder(id string) ([]string, error) {
	dags, bad, err := scheduler.LoadDir(d.opts.DAGDir, scheduler.DefaultJobs())
	if err != nil {
		return nil, err
	}
	for _, dag := range dags {
		if dag.ID == id {
			var out []string
			for _, t := range dag.TopoOrder() {
				out = append(out, t.ID)
			}
			return out, nil
		}
	}
	for _, f := range bad {
		d.printf("  warning: %v\n", f)
	}
	return nil, fmt.Errorf("dag %s: not found in %s", id, d.opts.DAGDir)
}

// api calls the scheduler's JSON API and decodes the answer into out.
func (d *Demo) api(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, d.schedulerURL()+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(web.UserOperator, d.opts.SchedulerOperatorPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

func tryNote(try int) string {
	if try > 1 {
		return fmt.Sprintf(" (try %d)", try)
	}
	return ""
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}
