// Package scheduler is the model of weir's Airflow-style DAGs: the YAML file
// format, its strict parsing and validation, the registry of weir jobs a task
// may run, and the pure scheduling rules the engine applies — data intervals
// from a cron schedule, catchup, backfill ranges, retry backoff and the
// propagation of task states along dependencies.
//
// Contract: everything here is deterministic and side-effect free except
// LoadDir, which reads files. Time is always passed in (no time.Now), so the
// rules are unit-tested with an injected clock. Persistence lives in
// scheduler/store, execution in scheduler/engine, the web UI in scheduler/web.
//
// A DAG run covers the data interval [logical date, next schedule point). It
// is created once that interval has ended, as in Airflow: the run for
// 10:00–10:05 starts at 10:05 and is told WEIR_DATA_INTERVAL_START=10:00.
package scheduler
