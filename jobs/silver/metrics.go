package silver

import "github.com/prometheus/client_golang/prometheus"

// Metrics are a run's results as counters, by input (the bronze source):
// what `weir batch silver` leaves for the scheduler that ran it
// (engine.TaskMetricsEnv), which serves them summed over runs (the
// reject-rate rule reads them).
func Metrics(res []Result) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	newCounters(reg).add(res)
	return reg
}

// counters are the results counters of Metrics; a Follower keeps one set
// for its whole life, so /metrics serves them summed over its runs.
type counters struct {
	bronze, rows, rejects, dups *prometheus.CounterVec
}

func newCounters(reg prometheus.Registerer) *counters {
	vec := func(name, help string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"input"})
		reg.MustRegister(v)
		return v
	}
	return &counters{
		bronze:  vec("weir_silver_bronze_rows_total", "Bronze rows silver runs read."),
		rows:    vec("weir_silver_rows_total", "Rows silver runs added to the typed tables."),
		rejects: vec("weir_silver_rejects_total", "Rows silver runs sent to silver.rejects."),
		dups:    vec("weir_silver_duplicates_total", "Rows silver runs dropped as duplicates."),
	}
}

func (c *counters) add(res []Result) {
	for _, r := range res {
		c.bronze.WithLabelValues(r.Source).Add(float64(r.BronzeRows))
		c.rows.WithLabelValues(r.Source).Add(float64(r.Rows))
		c.rejects.WithLabelValues(r.Source).Add(float64(r.Rejects))
		c.dups.WithLabelValues(r.Source).Add(float64(r.Duplicates))
	}
}
