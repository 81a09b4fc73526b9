package silver

import "github.com/prometheus/client_golang/prometheus"

// Metrics are a run's results as counters, by input (the bronze source):
// what `weir batch silver` leaves for the scheduler that ran it
// (engine.TaskMetricsEnv), which serves them summed over runs (the
// reject-rate rule reads them).
func Metrics(res []Result) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	vec := func(name, help string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"input"})
		reg.MustRegister(v)
		return v
	}
	bronze := vec("weir_silver_bronze_rows_total", "Bronze rows silver runs read.")
	rows := vec("weir_silver_rows_total", "Rows silver runs added to the typed tables.")
	rejects := vec("weir_silver_rejects_total", "Rows silver runs sent to silver.rejects.")
	dups := vec("weir_silver_duplicates_total", "Rows silver runs dropped as duplicates.")
	for _, r := range res {
		bronze.WithLabelValues(r.Source).Add(float64(r.BronzeRows))
		rows.WithLabelValues(r.Source).Add(float64(r.Rows))
		rejects.WithLabelValues(r.Source).Add(float64(r.Rejects))
		dups.WithLabelValues(r.Source).Add(float64(r.Duplicates))
	}
	return reg
}
