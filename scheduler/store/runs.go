package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"weir/scheduler"
)

// CreateRun inserts a queued run (a manual trigger) and returns it as stored.
func (s *Store) CreateRun(ctx context.Context, r Run, now time.Time) (Run, error) {
	created, err := insertRun(ctx, s.pool, r, now)
	if err != nil {
		return Run{}, err
	}
	if !created {
		return Run{}, fmt.Errorf("create run %s/%s: a run with this id or logical date exists", r.DAGID, r.RunID)
	}
	return s.Run(ctx, r.DAGID, r.RunID)
}

// Run returns one run by DAG and run id.
func (s *Store) Run(ctx context.Context, dagID, runID string) (Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT `+runCols+` FROM dag_runs WHERE dag_id = $1 AND run_id = $2`, dagID, runID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, fmt.Errorf("run %s/%s: %w", dagID, runID, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("read run %s/%s: %w", dagID, runID, err)
	}
	return r, nil
}

// Runs returns the latest limit runs of a DAG, newest first.
func (s *Store) Runs(ctx context.Context, dagID string, limit int) ([]Run, error) {
	return s.RunsBefore(ctx, dagID, 0, limit)
}

// RunsBefore pages Runs: the runs that come after run pk before (0: from
// the newest) in the same order, newest logical date first.
func (s *Store) RunsBefore(ctx context.Context, dagID string, before int64, limit int) ([]Run, error) {
	runs, err := collectRuns(s.pool.Query(ctx, `SELECT `+runCols+` FROM dag_runs WHERE dag_id = $1
		AND ($2 = 0 OR (logical_date, id) < (SELECT logical_date, id FROM dag_runs WHERE id = $2))
		ORDER BY logical_date DESC, id DESC LIMIT $3`, dagID, before, limit))
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", dagID, err)
	}
	return runs, nil
}

// LatestRuns returns the most recently created run of every DAG.
func (s *Store) LatestRuns(ctx context.Context) (map[string]Run, error) {
	runs, err := collectRuns(s.pool.Query(ctx, `SELECT DISTINCT ON (dag_id) `+runCols+` FROM dag_runs ORDER BY dag_id, id DESC`))
	if err != nil {
		return nil, fmt.Errorf("list latest runs: %w", err)
	}
	out := map[string]Run{}
	for _, r := range runs {
		out[r.DAGID] = r
	}
	return out, nil
}

// TaskInstances returns the task instances of the given runs, by run and task.
func (s *Store) TaskInstances(ctx context.Context, runPKs []int64) (map[int64]map[string]TaskInstance, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tiCols+` FROM task_instances WHERE run_pk = ANY($1)`, runPKs)
	if err != nil {
		return nil, fmt.Errorf("list task instances: %w", err)
	}
	tis, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TaskInstance, error) { return scanTI(row) })
	if err != nil {
		return nil, fmt.Errorf("list task instances: %w", err)
	}
	out := map[int64]map[string]TaskInstance{}
	for _, t := range tis {
		if out[t.RunPK] == nil {
			out[t.RunPK] = map[string]TaskInstance{}
		}
		out[t.RunPK][t.TaskID] = t
	}
	return out, nil
}

// Tries returns every try of a task instance, oldest first, with logs.
func (s *Store) Tries(ctx context.Context, runPK int64, taskID string) ([]Try, error) {
	rows, err := s.pool.Query(ctx, `SELECT run_pk, task_id, try_number, owner, state, started_at, ended_at, exit_code, error, log
		FROM task_tries WHERE run_pk = $1 AND task_id = $2 ORDER BY try_number`, runPK, taskID)
	if err != nil {
		return nil, fmt.Errorf("list tries of %s: %w", taskID, err)
	}
	tries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Try, error) {
		var t Try
		var ended *time.Time
		err := row.Scan(&t.RunPK, &t.TaskID, &t.TryNumber, &t.Owner, &t.State, &t.StartedAt, &ended, &t.ExitCode, &t.Error, &t.Log)
		t.StartedAt, t.EndedAt = t.StartedAt.UTC(), val(ended)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tries of %s: %w", taskID, err)
	}
	return tries, nil
}

// LiveTaskCounts counts queued, running and up_for_retry task instances per
// DAG and state (for metrics).
func (s *Store) LiveTaskCounts(ctx context.Context) (map[string]map[scheduler.State]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.dag_id, t.state, count(*) FROM task_instances t JOIN dag_runs r ON r.id = t.run_pk
		WHERE t.state IN ('queued', 'running', 'up_for_retry') GROUP BY r.dag_id, t.state`)
	if err != nil {
		return nil, fmt.Errorf("count live tasks: %w", err)
	}
	defer rows.Close()
	out := map[string]map[scheduler.State]int{}
	for rows.Next() {
		var dag, st string
		var n int
		if err := rows.Scan(&dag, &st, &n); err != nil {
			return nil, fmt.Errorf("count live tasks: %w", err)
		}
		if out[dag] == nil {
			out[dag] = map[scheduler.State]int{}
		}
		out[dag][scheduler.State(st)] = n
	}
	return out, rows.Err()
}

// resetTasks puts task instances of a run back to waiting with a fresh
// budget of tries (budget[task] = retries+1). Running ones are refused:
// clearing must not start a second copy of a live try.
func resetTasks(ctx context.Context, tx pgx.Tx, runPK int64, budget map[string]int) error {
	ids := make([]string, 0, len(budget))
	for id := range budget {
		ids = append(ids, id)
	}
	var running []string
	rows, err := tx.Query(ctx, `SELECT task_id FROM task_instances WHERE run_pk = $1 AND task_id = ANY($2) AND state = 'running'
		FOR UPDATE`, runPK, ids)
	if err != nil {
		return fmt.Errorf("check running tasks: %w", err)
	}
	running, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("check running tasks: %w", err)
	}
	if len(running) > 0 {
		return fmt.Errorf("clear %v: %w", running, ErrTaskRunning)
	}
	for id, n := range budget {
		if _, err := tx.Exec(ctx, `UPDATE task_instances SET state = 'none', max_tries = try_number + $3,
				next_attempt_at = NULL, started_at = NULL, ended_at = NULL
			WHERE run_pk = $1 AND task_id = $2`, runPK, id, n); err != nil {
			return fmt.Errorf("clear task %s: %w", id, err)
		}
	}
	// A finished run goes back to the queue (and through max_active_runs);
	// a running one simply picks the cleared tasks up.
	if _, err := tx.Exec(ctx, `UPDATE dag_runs SET state = 'queued', ended_at = NULL
		WHERE id = $1 AND state IN ('success', 'failed')`, runPK); err != nil {
		return fmt.Errorf("requeue run %d: %w", runPK, err)
	}
	return nil
}

// ClearTasks resets the given tasks of a run (budget: task id → tries to
// grant) so they run again; the caller includes downstream tasks. It fails
// with ErrTaskRunning if one of them is running.
func (s *Store) ClearTasks(ctx context.Context, dagID, runID string, budget map[string]int) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var pk int64
		err := tx.QueryRow(ctx, `SELECT id FROM dag_runs WHERE dag_id = $1 AND run_id = $2 FOR UPDATE`, dagID, runID).Scan(&pk)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("run %s/%s: %w", dagID, runID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read run %s/%s: %w", dagID, runID, err)
		}
		return resetTasks(ctx, tx, pk, budget)
	})
}

// Reprocess modes of a backfill, for intervals that already have a run.
const (
	ReprocessNone   = "none"   // keep existing runs
	ReprocessFailed = "failed" // re-run failed ones
	ReprocessAll    = "all"    // re-run every finished one
)

// Backfill is a backfill request and its progress.
type Backfill struct {
	ID        int64
	DAGID     string
	From, To  time.Time
	Reprocess string
	Total     int
	CreatedAt time.Time
	// Progress, counted over the runs attached to the backfill.
	Queued, Running, Success, Failed int
}

// Done reports whether every run of the backfill has finished.
func (b Backfill) Done() bool { return b.Success+b.Failed >= b.Total }

// CreateBackfill queues one backfill run per interval. An interval that
// already has a (scheduled or backfill) run keeps it, or re-runs it when
// reprocess says so; queued or running ones are left alone. Total counts the
// runs the backfill will wait for.
func (s *Store) CreateBackfill(ctx context.Context, b Backfill, runs []Run, budget map[string]int, now time.Time) (Backfill, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO backfills (dag_id, from_date, to_date, reprocess, total, created_at)
			VALUES ($1, $2, $3, $4, 0, $5) RETURNING id`, b.DAGID, b.From, b.To, b.Reprocess, now).Scan(&b.ID); err != nil {
			return fmt.Errorf("create backfill: %w", err)
		}
		b.Total, b.CreatedAt = 0, now
		for _, r := range runs {
			r.BackfillID = b.ID
			created, err := insertRun(ctx, tx, r, now)
			if err != nil {
				return err
			}
			if created {
				b.Total++
				continue
			}
			var pk int64
			var state string
			err = tx.QueryRow(ctx, `SELECT id, state FROM dag_runs WHERE dag_id = $1 AND logical_date = $2 AND run_type <> 'manual'
				FOR UPDATE`, r.DAGID, r.LogicalDate).Scan(&pk, &state)
			if err != nil {
				return fmt.Errorf("read existing run at %s: %w", r.LogicalDate, err)
			}
			rerun := (b.Reprocess == ReprocessFailed && state == string(scheduler.RunFailed)) ||
				(b.Reprocess == ReprocessAll && (state == string(scheduler.RunFailed) || state == string(scheduler.RunSuccess)))
			if !rerun {
				continue
			}
			if err := resetTasks(ctx, tx, pk, budget); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE dag_runs SET backfill_id = $2 WHERE id = $1`, pk, b.ID); err != nil {
				return fmt.Errorf("attach run %d to backfill: %w", pk, err)
			}
			b.Total++
		}
		if _, err := tx.Exec(ctx, `UPDATE backfills SET total = $2 WHERE id = $1`, b.ID, b.Total); err != nil {
			return fmt.Errorf("record backfill size: %w", err)
		}
		return nil
	})
	if err != nil {
		return Backfill{}, err
	}
	return b, nil
}

const backfillQuery = `SELECT b.id, b.dag_id, b.from_date, b.to_date, b.reprocess, b.total, b.created_at,
		count(r.id) FILTER (WHERE r.state = 'queued'), count(r.id) FILTER (WHERE r.state = 'running'),
		count(r.id) FILTER (WHERE r.state = 'success'), count(r.id) FILTER (WHERE r.state = 'failed')
	FROM backfills b LEFT JOIN dag_runs r ON r.backfill_id = b.id`

func scanBackfill(row pgx.CollectableRow) (Backfill, error) {
	var b Backfill
	err := row.Scan(&b.ID, &b.DAGID, &b.From, &b.To, &b.Reprocess, &b.Total, &b.CreatedAt,
		&b.Queued, &b.Running, &b.Success, &b.Failed)
	b.From, b.To, b.CreatedAt = b.From.UTC(), b.To.UTC(), b.CreatedAt.UTC()
	return b, err
}

// BackfillProgress returns a backfill with its current progress.
func (s *Store) BackfillProgress(ctx context.Context, id int64) (Backfill, error) {
	rows, err := s.pool.Query(ctx, backfillQuery+` WHERE b.id = $1 GROUP BY b.id`, id)
	if err != nil {
		return Backfill{}, fmt.Errorf("read backfill %d: %w", id, err)
	}
	b, err := pgx.CollectExactlyOneRow(rows, scanBackfill)
	if errors.Is(err, pgx.ErrNoRows) {
		return Backfill{}, fmt.Errorf("backfill %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Backfill{}, fmt.Errorf("read backfill %d: %w", id, err)
	}
	return b, nil
}

// Backfills returns a DAG's latest backfills with their progress.
func (s *Store) Backfills(ctx context.Context, dagID string, limit int) ([]Backfill, error) {
	rows, err := s.pool.Query(ctx, backfillQuery+` WHERE b.dag_id = $1 GROUP BY b.id ORDER BY b.id DESC LIMIT $2`, dagID, limit)
	if err != nil {
		return nil, fmt.Errorf("list backfills of %s: %w", dagID, err)
	}
	out, err := pgx.CollectRows(rows, scanBackfill)
	if err != nil {
		return nil, fmt.Errorf("list backfills of %s: %w", dagID, err)
	}
	return out, nil
}

// TaskOutcome is when one task of one DAG last ended in success and in
// failure, across all runs and schedulers (zero: never).
type TaskOutcome struct {
	DAGID, TaskID          string
	LastSuccess, LastFails time.Time
}

// TaskOutcomes lists the last success and failure of every task that ever
// finished (for metrics: freshness and failing tasks survive restarts).
func (s *Store) TaskOutcomes(ctx context.Context) ([]TaskOutcome, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.dag_id, t.task_id,
			max(t.ended_at) FILTER (WHERE t.state = 'success'), max(t.ended_at) FILTER (WHERE t.state = 'failed')
		FROM task_instances t JOIN dag_runs r ON r.id = t.run_pk
		WHERE t.state IN ('success', 'failed') GROUP BY r.dag_id, t.task_id`)
	if err != nil {
		return nil, fmt.Errorf("task outcomes: %w", err)
	}
	defer rows.Close()
	var out []TaskOutcome
	for rows.Next() {
		var o TaskOutcome
		var ok, failed *time.Time
		if err := rows.Scan(&o.DAGID, &o.TaskID, &ok, &failed); err != nil {
			return nil, fmt.Errorf("task outcomes: %w", err)
		}
		o.LastSuccess, o.LastFails = val(ok), val(failed)
		out = append(out, o)
	}
	return out, rows.Err()
}
