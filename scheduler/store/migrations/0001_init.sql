-- Scheduler store, version 1. Times are timestamptz, written in UTC.

CREATE TABLE dags (
    dag_id            text PRIMARY KEY,
    file              text NOT NULL,
    description       text NOT NULL DEFAULT '',
    schedule          text NOT NULL,
    paused            boolean NOT NULL DEFAULT false,
    -- Logical date of the next scheduled run to create (the schedule cursor).
    next_logical_date timestamptz,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE backfills (
    id         bigserial PRIMARY KEY,
    dag_id     text NOT NULL,
    from_date  timestamptz NOT NULL,
    to_date    timestamptz NOT NULL,
    reprocess  text NOT NULL CHECK (reprocess IN ('none', 'failed', 'all')),
    total      integer NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE dag_runs (
    id             bigserial PRIMARY KEY,
    dag_id         text NOT NULL,
    run_id         text NOT NULL,
    run_type       text NOT NULL CHECK (run_type IN ('scheduled', 'manual', 'backfill')),
    logical_date   timestamptz NOT NULL,
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    state          text NOT NULL CHECK (state IN ('queued', 'running', 'success', 'failed')),
    params         jsonb NOT NULL DEFAULT '{}',
    backfill_id    bigint REFERENCES backfills (id),
    created_at     timestamptz NOT NULL,
    started_at     timestamptz,
    ended_at       timestamptz,
    UNIQUE (dag_id, run_id)
);
-- One scheduled or backfill run per logical date, whoever creates it first.
CREATE UNIQUE INDEX dag_runs_logical_date ON dag_runs (dag_id, logical_date) WHERE run_type <> 'manual';
CREATE INDEX dag_runs_active ON dag_runs (dag_id, state) WHERE state IN ('queued', 'running');
CREATE INDEX dag_runs_recent ON dag_runs (dag_id, logical_date DESC);
CREATE INDEX dag_runs_backfill ON dag_runs (backfill_id) WHERE backfill_id IS NOT NULL;

CREATE TABLE task_instances (
    run_pk           bigint NOT NULL REFERENCES dag_runs (id) ON DELETE CASCADE,
    task_id          text NOT NULL,
    state            text NOT NULL CHECK (state IN ('none', 'queued', 'running', 'success', 'failed',
                                                    'up_for_retry', 'upstream_failed', 'skipped')),
    try_number       integer NOT NULL DEFAULT 0,
    -- Tries allowed in total; clearing a task grants retries+1 more.
    max_tries        integer NOT NULL,
    -- Tries lost with a dead scheduler; they do not use up retries.
    lost_tries       integer NOT NULL DEFAULT 0,
    priority         integer NOT NULL DEFAULT 0,
    pool             text NOT NULL DEFAULT '',
    next_attempt_at  timestamptz,
    started_at       timestamptz,
    ended_at         timestamptz,
    lease_owner      text,
    lease_expires_at timestamptz,
    PRIMARY KEY (run_pk, task_id)
);
CREATE INDEX task_instances_live ON task_instances (state) WHERE state IN ('queued', 'up_for_retry', 'running');

CREATE TABLE task_tries (
    run_pk     bigint NOT NULL,
    task_id    text NOT NULL,
    try_number integer NOT NULL,
    owner      text NOT NULL,
    state      text NOT NULL CHECK (state IN ('running', 'success', 'failed', 'skipped')),
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    exit_code  integer,
    error      text NOT NULL DEFAULT '',
    log        text NOT NULL DEFAULT '',
    PRIMARY KEY (run_pk, task_id, try_number),
    FOREIGN KEY (run_pk, task_id) REFERENCES task_instances (run_pk, task_id) ON DELETE CASCADE
);

CREATE TABLE schedulers (
    id           text PRIMARY KEY,
    hostname     text NOT NULL,
    pid          integer NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);
