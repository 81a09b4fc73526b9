package engine

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the engine's Prometheus series, all prefixed weir_scheduler_.
type metrics struct {
	heartbeat    prometheus.Gauge
	dagsLoaded   prometheus.Gauge
	dagErrors    prometheus.Gauge
	runsCreated  *prometheus.CounterVec
	runsFinished *prometheus.CounterVec
	tries        *prometheus.CounterVec
	tryDuration  *prometheus.HistogramVec
	tasks        *prometheus.GaugeVec
	running      prometheus.Gauge
	reaped       prometheus.Counter
	tick         prometheus.Histogram
	tickErrors   prometheus.Counter
	lastSuccess  *prometheus.GaugeVec
	lastFailure  *prometheus.GaugeVec
	period       *prometheus.GaugeVec
	jobs         *taskCounters
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	jobs := newTaskCounters()
	reg.MustRegister(jobs)
	return &metrics{
		jobs: jobs,
		lastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{Name: "weir_scheduler_task_last_success_timestamp_seconds",
			Help: "When a task last ended in success, any run, any scheduler (from the store; absent: never)."}, []string{"dag", "task"}),
		lastFailure: f.NewGaugeVec(prometheus.GaugeOpts{Name: "weir_scheduler_task_last_failure_timestamp_seconds",
			Help: "When a task last ended failed, its retries used up (from the store; absent: never)."}, []string{"dag", "task"}),
		period: f.NewGaugeVec(prometheus.GaugeOpts{Name: "weir_scheduler_dag_schedule_period_seconds",
			Help: "Time between the DAG's next two scheduled runs; absent for manual and paused DAGs and on a --manual-only scheduler."}, []string{"dag"}),
		heartbeat: f.NewGauge(prometheus.GaugeOpts{Name: "weir_scheduler_heartbeat_timestamp_seconds",
			Help: "Time of the scheduler's last completed tick."}),
		dagsLoaded: f.NewGauge(prometheus.GaugeOpts{Name: "weir_scheduler_dags_loaded",
			Help: "DAG files loaded and valid."}),
		dagErrors: f.NewGauge(prometheus.GaugeOpts{Name: "weir_scheduler_dag_file_errors",
			Help: "DAG files rejected at the last load."}),
		runsCreated: f.NewCounterVec(prometheus.CounterOpts{Name: "weir_scheduler_runs_created_total",
			Help: "DAG runs created by this scheduler."}, []string{"dag", "run_type"}),
		runsFinished: f.NewCounterVec(prometheus.CounterOpts{Name: "weir_scheduler_runs_finished_total",
			Help: "DAG runs finished, by final state."}, []string{"dag", "state"}),
		tries: f.NewCounterVec(prometheus.CounterOpts{Name: "weir_scheduler_task_tries_total",
			Help: "Task tries run by this scheduler, by result (success, skipped, up_for_retry, failed, interrupted, lease_lost)."},
			[]string{"dag", "task", "result"}),
		tryDuration: f.NewHistogramVec(prometheus.HistogramOpts{Name: "weir_scheduler_task_duration_seconds",
			Help:    "Duration of task tries.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 12)}, []string{"dag", "task"}),
		tasks: f.NewGaugeVec(prometheus.GaugeOpts{Name: "weir_scheduler_tasks",
			Help: "Task instances queued, running or up for retry, across all schedulers."}, []string{"dag", "state"}),
		running: f.NewGauge(prometheus.GaugeOpts{Name: "weir_scheduler_running_tries",
			Help: "Tries running in this scheduler."}),
		reaped: f.NewCounter(prometheus.CounterOpts{Name: "weir_scheduler_leases_reaped_total",
			Help: "Running tries taken back from schedulers that stopped heartbeating."}),
		tick: f.NewHistogram(prometheus.HistogramOpts{Name: "weir_scheduler_tick_duration_seconds",
			Help: "Duration of one scheduling pass.", Buckets: prometheus.DefBuckets}),
		tickErrors: f.NewCounter(prometheus.CounterOpts{Name: "weir_scheduler_tick_errors_total",
			Help: "Scheduling passes that hit an error (retried on the next tick)."}),
	}
}
