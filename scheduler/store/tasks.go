package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"weir/scheduler"
)

// Claim is a task instance handed to one scheduler, with its run.
type Claim struct {
	Run  Run
	Task TaskInstance
}

// Key identifies a task instance.
func (c Claim) Key() TryKey {
	return TryKey{RunPK: c.Run.PK, TaskID: c.Task.TaskID, TryNumber: c.Task.TryNumber}
}

// TryKey identifies one try of a task instance.
type TryKey struct {
	RunPK     int64
	TaskID    string
	TryNumber int
}

// Busy counts the running tasks of one DAG and pool.
type Busy struct {
	DAGID string
	Pool  string
	Count int
}

// maxCandidates bounds one claim's scan; the rest wait for the next tick.
const maxCandidates = 500

// Claim hands ready tasks to owner: queued ones, and up_for_retry ones whose
// retry time has come, of running runs. pick chooses among the candidates
// (in priority order) given what runs already, to apply parallelism,
// max_active_tasks and pool limits; the chosen ones become running with a
// lease of ttl on the database's clock (schedulers' host clocks may
// disagree; leases compare on one clock), and a try row is written. Claims are serialized by a
// global advisory lock, so limits hold across schedulers; the UPDATE is
// guarded by the state as well, so a task is never started twice.
func (s *Store) Claim(ctx context.Context, owner string, now time.Time, ttl time.Duration,
	pick func(cands []Claim, busy []Busy) []Claim) ([]Claim, error) {
	var claimed []Claim
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		claimed = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/claim', 0))`); err != nil {
			return fmt.Errorf("lock claims: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT r.dag_id, t.pool, count(*) FROM task_instances t
			JOIN dag_runs r ON r.id = t.run_pk WHERE t.state = 'running' GROUP BY r.dag_id, t.pool`)
		if err != nil {
			return fmt.Errorf("count running tasks: %w", err)
		}
		busy, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Busy, error) {
			var b Busy
			err := row.Scan(&b.DAGID, &b.Pool, &b.Count)
			return b, err
		})
		if err != nil {
			return fmt.Errorf("count running tasks: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT `+runColumns("r.")+`, `+tiColumns("t.")+`
			FROM task_instances t JOIN dag_runs r ON r.id = t.run_pk
			WHERE r.state = 'running'
			  AND (t.state = 'queued' OR (t.state = 'up_for_retry' AND t.next_attempt_at <= $1))
			ORDER BY CASE r.run_type WHEN 'manual' THEN 0 WHEN 'scheduled' THEN 1 ELSE 2 END,
			         r.logical_date, r.id, t.priority
			LIMIT $2
			FOR UPDATE OF t SKIP LOCKED`, now, maxCandidates)
		if err != nil {
			return fmt.Errorf("find ready tasks: %w", err)
		}
		cands, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Claim, error) {
			return scanClaim(row)
		})
		if err != nil {
			return fmt.Errorf("find ready tasks: %w", err)
		}
		if len(cands) == 0 {
			return nil
		}
		for _, c := range pick(cands, busy) {
			var try int
			err := tx.QueryRow(ctx, `UPDATE task_instances
				SET state = 'running', try_number = try_number + 1, lease_owner = $3,
				    lease_expires_at = clock_timestamp() + make_interval(secs => $4),
				    started_at = $5, ended_at = NULL, next_attempt_at = NULL
				WHERE run_pk = $1 AND task_id = $2 AND state IN ('queued', 'up_for_retry')
				RETURNING try_number`, c.Run.PK, c.Task.TaskID, owner, ttl.Seconds(), now).Scan(&try)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // changed since the SELECT (cleared); not ours to start
			}
			if err != nil {
				return fmt.Errorf("claim task %s of run %d: %w", c.Task.TaskID, c.Run.PK, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO task_tries (run_pk, task_id, try_number, owner, state, started_at)
				VALUES ($1, $2, $3, $4, 'running', $5)`, c.Run.PK, c.Task.TaskID, try, owner, now); err != nil {
				return fmt.Errorf("record try %d of task %s: %w", try, c.Task.TaskID, err)
			}
			c.Task.State, c.Task.TryNumber, c.Task.LeaseOwner = scheduler.StateRunning, try, owner
			c.Task.StartedAt, c.Task.LeaseExpiresAt = now, now.Add(ttl)
			claimed = append(claimed, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

func scanClaim(row pgx.Row) (Claim, error) {
	// A Claim row is a run row followed by a task row; scan both at once.
	var c Claim
	r, t := &c.Run, &c.Task
	var (
		params                      []byte
		rStarted, rEnded            *time.Time
		rState, tState              string
		next, start, end, le        *time.Time
		logical, ivs, ive, rCreated time.Time
	)
	if err := row.Scan(&r.PK, &r.DAGID, &r.RunID, &r.RunType, &logical, &ivs, &ive, &rState, &params,
		&r.BackfillID, &rCreated, &rStarted, &rEnded,
		&t.RunPK, &t.TaskID, &tState, &t.TryNumber, &t.MaxTries, &t.LostTries, &t.Priority, &t.Pool,
		&next, &start, &end, &t.LeaseOwner, &le); err != nil {
		return Claim{}, err
	}
	r.LogicalDate, r.Interval = logical.UTC(), scheduler.Interval{Start: ivs.UTC(), End: ive.UTC()}
	r.State, r.CreatedAt, r.StartedAt, r.EndedAt = scheduler.RunState(rState), rCreated.UTC(), val(rStarted), val(rEnded)
	if err := decodeParams(params, &r.Params); err != nil {
		return Claim{}, err
	}
	t.State = scheduler.State(tState)
	t.NextAttemptAt, t.StartedAt, t.EndedAt, t.LeaseExpiresAt = val(next), val(start), val(end), val(le)
	return c, nil
}

// RenewLease extends the lease of a running try owned by owner to ttl from
// now on the database's clock, and saves its log so far. ok is false when
// the try is no longer this owner's: the caller must stop it.
func (s *Store) RenewLease(ctx context.Context, owner string, k TryKey, ttl time.Duration, log string) (ok bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE task_instances SET lease_expires_at = clock_timestamp() + make_interval(secs => $5)
			WHERE run_pk = $1 AND task_id = $2 AND try_number = $3 AND lease_owner = $4 AND state = 'running'`,
			k.RunPK, k.TaskID, k.TryNumber, owner, ttl.Seconds())
		if err != nil {
			return fmt.Errorf("renew lease of %s: %w", k.TaskID, err)
		}
		if ok = tag.RowsAffected() == 1; !ok {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE task_tries SET log = $5
			WHERE run_pk = $1 AND task_id = $2 AND try_number = $3 AND owner = $4`,
			k.RunPK, k.TaskID, k.TryNumber, owner, log); err != nil {
			return fmt.Errorf("save log of %s: %w", k.TaskID, err)
		}
		return nil
	})
	return ok, err
}

// Result is the outcome of a try and the task state that follows from it.
type Result struct {
	TryState      string // success, failed, skipped
	TaskState     scheduler.State
	NextAttemptAt time.Time // for up_for_retry
	ExitCode      *int
	Error         string
	Log           string
	// GiveBack returns the try to the budget (the scheduler was stopped, not
	// the task), like a lost try.
	GiveBack bool
}

// Finish records the result of a try owned by owner. ok is false when the
// lease was lost meanwhile (the try was reaped); nothing is written then.
func (s *Store) Finish(ctx context.Context, owner string, k TryKey, res Result, now time.Time) (ok bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		extra := 0
		if res.GiveBack {
			extra = 1
		}
		tag, err := tx.Exec(ctx, `UPDATE task_instances
			SET state = $5, ended_at = $6, next_attempt_at = $7, lease_owner = NULL, lease_expires_at = NULL,
			    max_tries = max_tries + $8, lost_tries = lost_tries + $8
			WHERE run_pk = $1 AND task_id = $2 AND try_number = $3 AND lease_owner = $4 AND state = 'running'`,
			k.RunPK, k.TaskID, k.TryNumber, owner, string(res.TaskState), now, ptr(res.NextAttemptAt), extra)
		if err != nil {
			return fmt.Errorf("finish task %s: %w", k.TaskID, err)
		}
		if ok = tag.RowsAffected() == 1; !ok {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE task_tries SET state = $5, ended_at = $6, exit_code = $7, error = $8, log = $9
			WHERE run_pk = $1 AND task_id = $2 AND try_number = $3 AND owner = $4`,
			k.RunPK, k.TaskID, k.TryNumber, owner, res.TryState, now, res.ExitCode, res.Error, res.Log); err != nil {
			return fmt.Errorf("finish try %d of %s: %w", k.TryNumber, k.TaskID, err)
		}
		return nil
	})
	return ok, err
}

// MaxLostTries is how many tries a task may lose with dead schedulers before
// it fails: a task that kills its scheduler must not loop forever.
const MaxLostTries = 3

// Reap finds running tries whose lease expired on the database's clock —
// their scheduler stopped renewing — marks them failed and puts the task back in the
// queue without using up a retry (after MaxLostTries lost tries it fails).
// The dead scheduler's subprocesses die with it (parent-death signal), and a
// live scheduler that cannot renew kills its own before the lease expires,
// so the retry never overlaps the lost try.
func (s *Store) Reap(ctx context.Context, now time.Time) ([]TaskInstance, error) {
	var reaped []TaskInstance
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		reaped = nil
		rows, err := tx.Query(ctx, `SELECT `+tiCols+` FROM task_instances
			WHERE state = 'running' AND lease_expires_at < clock_timestamp() FOR UPDATE SKIP LOCKED`)
		if err != nil {
			return fmt.Errorf("find expired leases: %w", err)
		}
		expired, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TaskInstance, error) { return scanTI(row) })
		if err != nil {
			return fmt.Errorf("find expired leases: %w", err)
		}
		for _, t := range expired {
			next := scheduler.StateQueued
			if t.LostTries+1 >= MaxLostTries {
				next = scheduler.StateFailed
			}
			if _, err := tx.Exec(ctx, `UPDATE task_tries SET state = 'failed', ended_at = $4,
					error = 'lease expired: scheduler ' || owner || ' stopped heartbeating'
				WHERE run_pk = $1 AND task_id = $2 AND try_number = $3 AND state = 'running'`,
				t.RunPK, t.TaskID, t.TryNumber, now); err != nil {
				return fmt.Errorf("fail lost try of %s: %w", t.TaskID, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE task_instances SET state = $3, lost_tries = lost_tries + 1,
					max_tries = max_tries + 1, lease_owner = NULL, lease_expires_at = NULL, ended_at = $4
				WHERE run_pk = $1 AND task_id = $2`, t.RunPK, t.TaskID, string(next), now); err != nil {
				return fmt.Errorf("requeue lost task %s: %w", t.TaskID, err)
			}
			t.State = next
			reaped = append(reaped, t)
		}
		return nil
	})
	return reaped, err
}

// Heartbeat records that scheduler id is alive.
func (s *Store) Heartbeat(ctx context.Context, id, host string, pid int, started, now time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO schedulers (id, hostname, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = $5`, id, host, pid, started, now)
	if err != nil {
		return fmt.Errorf("record scheduler heartbeat: %w", err)
	}
	return nil
}

// RemoveScheduler deletes a stopped scheduler, and the entries of any other
// silent for longer than stale.
func (s *Store) RemoveScheduler(ctx context.Context, id string, now time.Time, stale time.Duration) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM schedulers WHERE id = $1 OR heartbeat_at < $2`, id, now.Add(-stale)); err != nil {
		return fmt.Errorf("remove scheduler: %w", err)
	}
	return nil
}

// SchedulerInfo is a live (or recently live) scheduler instance.
type SchedulerInfo struct {
	ID, Hostname string
	PID          int
	StartedAt    time.Time
	HeartbeatAt  time.Time
}

// Schedulers lists the scheduler instances, latest heartbeat first.
func (s *Store) Schedulers(ctx context.Context) ([]SchedulerInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, hostname, pid, started_at, heartbeat_at FROM schedulers ORDER BY heartbeat_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("list schedulers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SchedulerInfo, error) {
		var i SchedulerInfo
		err := row.Scan(&i.ID, &i.Hostname, &i.PID, &i.StartedAt, &i.HeartbeatAt)
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("list schedulers: %w", err)
	}
	return out, nil
}
