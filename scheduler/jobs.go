package scheduler

// Job is a weir subcommand a DAG task may run. The engine executes it as a
// subprocess of the weir binary: `weir <name words...> <task args...>`.
type Job struct {
	Name string // subcommand words, e.g. "batch silver"
	Doc  string
}

// DefaultJobs is the explicit list of subcommands DAG tasks may run. Adding a
// job is adding a line here; validation rejects every other name, so a typo in
// a DAG file fails `weir dags validate`, not a run at 3 a.m.
func DefaultJobs() []Job {
	return []Job{
		{Name: "init", Doc: "create the topics, lakehouse tables, scheduler store and gold views that do not exist yet"},
		{Name: "batch silver", Doc: "build silver tables from the bronze snapshots added since the last run"},
		{Name: "batch maintain", Doc: "compact small files, expire snapshots, remove orphan files"},
		{Name: "batch archive", Doc: "move partitions older than the hot window to archive tables"},
		{Name: "batch enrich", Doc: "enrich the new app.events into app.events.enriched"},
		{Name: "batch orders", Doc: "upsert gold.orders by order id and refresh the order marts"},
		{Name: "gold apply", Doc: "create or replace the gold views from sql/gold"},
		{Name: "gold refresh", Doc: "refresh the gold rollup tables incrementally"},
		{Name: "gold maintain", Doc: "compact the gold tables and expire their old snapshots and orphan files (Trino)"},
		{Name: "task sleep", Doc: "test job: sleep, print the data interval, optionally record the run"},
		{Name: "task fail", Doc: "test job: exit non-zero (until a given try), for retry tests"},
	}
}

// SkipExitCode is the exit status by which a job says "nothing to do": the
// task becomes skipped, and so do downstream tasks that only waited for it.
const SkipExitCode = 99
