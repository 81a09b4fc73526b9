// Package store persists the scheduler's state in PostgreSQL: DAGs and their
// schedule cursors, runs, task instances, every try with its captured log,
// backfills and live schedulers. Its schema is created and upgraded by the
// SQL files in migrations/, applied on Open under an advisory lock.
//
// Contract for concurrent schedulers on one database:
//   - per-DAG bookkeeping (creating runs, starting them, propagating task
//     states) runs in WithDAGLock, a transaction holding a per-DAG advisory
//     lock, so max_active_runs holds across instances;
//   - a task is started only through Claim, which moves it to running with a
//     lease under a global advisory lock and a state-guarded UPDATE, so two
//     instances never start the same try;
//   - results are written only by the lease owner (Finish, RenewLease check
//     the owner and try number); Reap hands expired leases back to the queue.
//
// Advisory lock keys include current_schema(), so tests may share a database
// with one schema each (search_path in the DSN).
package store

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"weir/scheduler"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Errors callers test for.
var (
	ErrNotFound    = errors.New("not found")
	ErrTaskRunning = errors.New("task is running")
)

// Store is the scheduler's PostgreSQL store.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to dsn and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open scheduler database: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the connections.
func (s *Store) Close() { s.pool.Close() }

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/migrate', 0))`); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var applied int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		for _, name := range names {
			base := strings.TrimPrefix(name, "migrations/")
			version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migration %s: name must start with a number", base)
			}
			if version <= applied {
				continue
			}
			body, err := migrations.ReadFile(name)
			if err != nil {
				return fmt.Errorf("read migration %s: %w", base, err)
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("apply migration %s: %w", base, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, version, base); err != nil {
				return fmt.Errorf("record migration %s: %w", base, err)
			}
		}
		return nil
	})
}

// DAGRow is what the store keeps about a DAG besides its file.
type DAGRow struct {
	ID, File, Description, Schedule string
	Paused                          bool
	NextLogicalDate                 time.Time // schedule cursor; zero: none yet
}

// Run is a DAG run.
type Run struct {
	PK          int64
	DAGID       string
	RunID       string
	RunType     string
	LogicalDate time.Time
	Interval    scheduler.Interval
	State       scheduler.RunState
	Params      map[string]string
	BackfillID  int64 // 0: none
	CreatedAt   time.Time
	StartedAt   time.Time
	EndedAt     time.Time
}

// Run types.
const (
	RunScheduled = "scheduled"
	RunManual    = "manual"
	RunBackfill  = "backfill"
)

// TaskInstance is one task of one run.
type TaskInstance struct {
	RunPK          int64
	TaskID         string
	State          scheduler.State
	TryNumber      int
	MaxTries       int
	LostTries      int
	Priority       int
	Pool           string
	NextAttemptAt  time.Time
	StartedAt      time.Time
	EndedAt        time.Time
	LeaseOwner     string
	LeaseExpiresAt time.Time
}

// Try is one execution of a task instance, with its captured output.
type Try struct {
	RunPK     int64
	TaskID    string
	TryNumber int
	Owner     string
	State     string
	StartedAt time.Time
	EndedAt   time.Time
	ExitCode  *int
	Error     string
	Log       string
}

// NewTask is a task instance to create when a run starts.
type NewTask struct {
	TaskID   string
	MaxTries int
	Priority int
	Pool     string
}

// runColumns lists the columns scanRun reads, each prefixed by p (a table alias).
func runColumns(p string) string {
	return fmt.Sprintf(`%[1]sid, %[1]sdag_id, %[1]srun_id, %[1]srun_type, %[1]slogical_date, %[1]sinterval_start,
		%[1]sinterval_end, %[1]sstate, %[1]sparams, coalesce(%[1]sbackfill_id, 0), %[1]screated_at, %[1]sstarted_at,
		%[1]sended_at`, p)
}

var runCols = runColumns("")

func scanRun(row pgx.Row) (Run, error) {
	var (
		r                 Run
		params            []byte
		started, ended    *time.Time
		state             string
		logical, ivs, ive time.Time
		created           time.Time
	)
	if err := row.Scan(&r.PK, &r.DAGID, &r.RunID, &r.RunType, &logical, &ivs, &ive, &state, &params,
		&r.BackfillID, &created, &started, &ended); err != nil {
		return Run{}, err
	}
	r.LogicalDate, r.Interval = logical.UTC(), scheduler.Interval{Start: ivs.UTC(), End: ive.UTC()}
	r.State, r.CreatedAt, r.StartedAt, r.EndedAt = scheduler.RunState(state), created.UTC(), val(started), val(ended)
	if err := decodeParams(params, &r.Params); err != nil {
		return Run{}, err
	}
	return r, nil
}

func decodeParams(raw []byte, dst *map[string]string) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("decode run params: %w", err)
	}
	return nil
}

func collectRuns(rows pgx.Rows, err error) ([]Run, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// tiColumns lists the columns scanTI reads, each prefixed by p.
func tiColumns(p string) string {
	return fmt.Sprintf(`%[1]srun_pk, %[1]stask_id, %[1]sstate, %[1]stry_number, %[1]smax_tries, %[1]slost_tries,
		%[1]spriority, %[1]spool, %[1]snext_attempt_at, %[1]sstarted_at, %[1]sended_at, coalesce(%[1]slease_owner, ''),
		%[1]slease_expires_at`, p)
}

var tiCols = tiColumns("")

func scanTI(row pgx.Row) (TaskInstance, error) {
	var (
		t                    TaskInstance
		state                string
		next, start, end, le *time.Time
	)
	if err := row.Scan(&t.RunPK, &t.TaskID, &state, &t.TryNumber, &t.MaxTries, &t.LostTries, &t.Priority, &t.Pool,
		&next, &start, &end, &t.LeaseOwner, &le); err != nil {
		return TaskInstance{}, err
	}
	t.State = scheduler.State(state)
	t.NextAttemptAt, t.StartedAt, t.EndedAt, t.LeaseExpiresAt = val(next), val(start), val(end), val(le)
	return t, nil
}

func val(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func ptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// UpsertDAG records a loaded DAG, keeping its paused flag and cursor.
func (s *Store) UpsertDAG(ctx context.Context, d DAGRow, now time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO dags (dag_id, file, description, schedule, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (dag_id) DO UPDATE SET file = $2, description = $3, schedule = $4, updated_at = $5`,
		d.ID, d.File, d.Description, d.Schedule, now)
	if err != nil {
		return fmt.Errorf("upsert dag %s: %w", d.ID, err)
	}
	return nil
}

// DAGRows returns every DAG the store knows, by id.
func (s *Store) DAGRows(ctx context.Context) (map[string]DAGRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT dag_id, file, description, schedule, paused, next_logical_date FROM dags`)
	if err != nil {
		return nil, fmt.Errorf("list dags: %w", err)
	}
	defer rows.Close()
	out := map[string]DAGRow{}
	for rows.Next() {
		var d DAGRow
		var next *time.Time
		if err := rows.Scan(&d.ID, &d.File, &d.Description, &d.Schedule, &d.Paused, &next); err != nil {
			return nil, fmt.Errorf("list dags: %w", err)
		}
		d.NextLogicalDate = val(next)
		out[d.ID] = d
	}
	return out, rows.Err()
}

// SetPaused pauses or unpauses the scheduling of a DAG (manual triggers and
// backfills still run).
func (s *Store) SetPaused(ctx context.Context, dagID string, paused bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE dags SET paused = $2 WHERE dag_id = $1`, dagID, paused)
	if err != nil {
		return fmt.Errorf("pause dag %s: %w", dagID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pause dag %s: %w", dagID, ErrNotFound)
	}
	return nil
}

// DAGTx is a transaction holding a DAG's advisory lock.
type DAGTx struct {
	tx    pgx.Tx
	dagID string
}

// WithDAGLock runs fn in a transaction holding dagID's advisory lock. When
// another scheduler holds it, fn is not run and locked is false: that
// scheduler is doing the same bookkeeping right now.
func (s *Store) WithDAGLock(ctx context.Context, dagID string, fn func(*DAGTx) error) (locked bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended(current_schema() || '/dag/' || $1, 0))`,
			dagID).Scan(&locked); err != nil {
			return fmt.Errorf("lock dag %s: %w", dagID, err)
		}
		if !locked {
			return nil
		}
		return fn(&DAGTx{tx: tx, dagID: dagID})
	})
	return locked, err
}

// Cursor returns the DAG's schedule cursor and paused flag.
func (t *DAGTx) Cursor(ctx context.Context) (time.Time, bool, error) {
	var next *time.Time
	var paused bool
	err := t.tx.QueryRow(ctx, `SELECT next_logical_date, paused FROM dags WHERE dag_id = $1`, t.dagID).Scan(&next, &paused)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read cursor of %s: %w", t.dagID, err)
	}
	return val(next), paused, nil
}

// SetCursor stores the schedule cursor.
func (t *DAGTx) SetCursor(ctx context.Context, next time.Time) error {
	if _, err := t.tx.Exec(ctx, `UPDATE dags SET next_logical_date = $2 WHERE dag_id = $1`, t.dagID, ptr(next)); err != nil {
		return fmt.Errorf("store cursor of %s: %w", t.dagID, err)
	}
	return nil
}

// CountRuns counts the DAG's runs in the given states, of the given types
// (all types when none given).
func (t *DAGTx) CountRuns(ctx context.Context, states []scheduler.RunState, types ...string) (int, error) {
	st := make([]string, len(states))
	for i, s := range states {
		st[i] = string(s)
	}
	var n int
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM dag_runs WHERE dag_id = $1 AND state = ANY($2)
		AND (cardinality($3::text[]) = 0 OR run_type = ANY($3))`, t.dagID, st, types).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count runs of %s: %w", t.dagID, err)
	}
	return n, nil
}

// InsertRun creates a queued run; created is false when a run with the same
// run id or (non-manual) logical date already exists.
func (t *DAGTx) InsertRun(ctx context.Context, r Run, now time.Time) (bool, error) {
	return insertRun(ctx, t.tx, r, now)
}

// querier is what pgx.Tx and *pgxpool.Pool have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func insertRun(ctx context.Context, q querier, r Run, now time.Time) (bool, error) {
	params, err := json.Marshal(nonNil(r.Params))
	if err != nil {
		return false, fmt.Errorf("encode run params: %w", err)
	}
	var backfill *int64
	if r.BackfillID != 0 {
		backfill = &r.BackfillID
	}
	tag, err := q.Exec(ctx, `INSERT INTO dag_runs (dag_id, run_id, run_type, logical_date, interval_start, interval_end,
			state, params, backfill_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9)
		ON CONFLICT DO NOTHING`,
		r.DAGID, r.RunID, r.RunType, r.LogicalDate, r.Interval.Start, r.Interval.End, params, backfill, now)
	if err != nil {
		return false, fmt.Errorf("insert run %s/%s: %w", r.DAGID, r.RunID, err)
	}
	return tag.RowsAffected() == 1, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// QueuedRuns returns up to limit queued runs in start order: manual first,
// then scheduled, then backfill, oldest logical date first.
func (t *DAGTx) QueuedRuns(ctx context.Context, limit int) ([]Run, error) {
	if limit <= 0 {
		return nil, nil
	}
	runs, err := collectRuns(t.tx.Query(ctx, `SELECT `+runCols+` FROM dag_runs WHERE dag_id = $1 AND state = 'queued'
		ORDER BY CASE run_type WHEN 'manual' THEN 0 WHEN 'scheduled' THEN 1 ELSE 2 END, logical_date, id LIMIT $2`,
		t.dagID, limit))
	if err != nil {
		return nil, fmt.Errorf("list queued runs of %s: %w", t.dagID, err)
	}
	return runs, nil
}

// StartRun marks a run running and creates its missing task instances (a
// cleared run keeps the ones it has). A run never starts before it was
// created: a manual trigger can insert it after the engine read its clock
// for the tick that starts it.
func (t *DAGTx) StartRun(ctx context.Context, pk int64, tasks []NewTask, now time.Time) error {
	if _, err := t.tx.Exec(ctx, `UPDATE dag_runs SET state = 'running', started_at = coalesce(started_at, greatest($2, created_at)), ended_at = NULL
		WHERE id = $1`, pk, now); err != nil {
		return fmt.Errorf("start run %d: %w", pk, err)
	}
	for _, nt := range tasks {
		if _, err := t.tx.Exec(ctx, `INSERT INTO task_instances (run_pk, task_id, state, max_tries, priority, pool)
			VALUES ($1, $2, 'none', $3, $4, $5) ON CONFLICT DO NOTHING`, pk, nt.TaskID, nt.MaxTries, nt.Priority, nt.Pool); err != nil {
			return fmt.Errorf("create task %s of run %d: %w", nt.TaskID, pk, err)
		}
	}
	return nil
}

// RunningRuns returns the DAG's running runs.
func (t *DAGTx) RunningRuns(ctx context.Context) ([]Run, error) {
	runs, err := collectRuns(t.tx.Query(ctx, `SELECT `+runCols+` FROM dag_runs WHERE dag_id = $1 AND state = 'running'
		ORDER BY logical_date, id`, t.dagID))
	if err != nil {
		return nil, fmt.Errorf("list running runs of %s: %w", t.dagID, err)
	}
	return runs, nil
}

// TaskStates returns the state of every task instance of a run.
func (t *DAGTx) TaskStates(ctx context.Context, pk int64) (map[string]scheduler.State, error) {
	rows, err := t.tx.Query(ctx, `SELECT task_id, state FROM task_instances WHERE run_pk = $1`, pk)
	if err != nil {
		return nil, fmt.Errorf("read task states of run %d: %w", pk, err)
	}
	defer rows.Close()
	out := map[string]scheduler.State{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, fmt.Errorf("read task states of run %d: %w", pk, err)
		}
		out[id] = scheduler.State(st)
	}
	return out, rows.Err()
}

// ResolveTasks moves waiting (none) tasks to the given states. Tasks that are
// no longer waiting — another path changed them — are left alone.
func (t *DAGTx) ResolveTasks(ctx context.Context, pk int64, changes map[string]scheduler.State, now time.Time) error {
	for id, st := range changes {
		ended := ptr(now)
		if st == scheduler.StateQueued {
			ended = nil
		}
		if _, err := t.tx.Exec(ctx, `UPDATE task_instances SET state = $3, ended_at = $4
			WHERE run_pk = $1 AND task_id = $2 AND state = 'none'`, pk, id, string(st), ended); err != nil {
			return fmt.Errorf("set task %s of run %d to %s: %w", id, pk, st, err)
		}
	}
	return nil
}

// FinishRun sets a run's final state.
func (t *DAGTx) FinishRun(ctx context.Context, pk int64, st scheduler.RunState, now time.Time) error {
	if _, err := t.tx.Exec(ctx, `UPDATE dag_runs SET state = $2, ended_at = $3 WHERE id = $1`, pk, string(st), now); err != nil {
		return fmt.Errorf("finish run %d: %w", pk, err)
	}
	return nil
}
