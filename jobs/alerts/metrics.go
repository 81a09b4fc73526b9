package alerts

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the job's Prometheus series (weir_alerts_*).
type metrics struct {
	records      *prometheus.CounterVec // by topic
	invalid      *prometheus.CounterVec // by topic
	notEvaluated *prometheus.CounterVec // by reason: too_late, future
	lateAccepted prometheus.Counter
	refires      prometheus.Counter
	dropped      *prometheus.CounterVec // by rule
	notified     *prometheus.CounterVec // by rule, status
	delivered    *prometheus.CounterVec // by sink
	sinkErrors   *prometheus.CounterVec // by sink
	deliveryLag  *prometheus.HistogramVec
	stateSize    prometheus.Gauge
	stateBytes   prometheus.Gauge
	watermark    prometheus.Gauge
	batchSeconds prometheus.Histogram
	checkpoints  prometheus.Counter
	// checkpointBytes counts the state bytes checkpoints wrote: only the
	// parts that changed (weir_alerts_state_bytes is the whole state).
	checkpointBytes prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		records:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_alerts_records_total", Help: "Records evaluated, by topic."}, []string{"topic"}),
		invalid:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_alerts_invalid_records_total", Help: "Records that could not be decoded, by topic."}, []string{"topic"}),
		notEvaluated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_alerts_late_records_total", Help: "Records not evaluated (beyond allowed lateness, or from the future), by reason; each is in alerts_late_records."}, []string{"reason"}),
		lateAccepted: prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_alerts_late_accepted_total", Help: "Records behind the watermark but within allowed lateness."}),
		refires:      prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_alerts_window_refires_total", Help: "Closed windows whose result late records changed."}),
		dropped:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_alerts_groups_dropped_total", Help: "Records of new groups refused because a rule reached max_groups, by rule (each episode also raises the AlertRuleGroupLimit alert)."}, []string{"rule"}),
		notified:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_alerts_notifications_total", Help: "Alert notifications produced, by rule and status."}, []string{"rule", "status"}),
		delivered:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_alerts_delivered_total", Help: "Notifications delivered, by sink."}, []string{"sink"}),
		sinkErrors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_alerts_sink_errors_total", Help: "Failed delivery attempts, by sink."}, []string{"sink"}),
		deliveryLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "weir_alerts_delivery_lag_seconds", Help: "Wall time from a firing window's end (event time) to delivery.",
			Buckets: []float64{0.5, 1, 2, 3, 5, 10, 30, 60, 300}}, []string{"sink"}),
		stateSize:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_alerts_state_entries", Help: "Live window/sequence state entries (bounded by max_groups)."}),
		stateBytes:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_alerts_state_bytes", Help: "Size of the whole state at the last checkpoint."}),
		watermark:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_alerts_watermark_seconds", Help: "Event-time watermark (Unix seconds)."}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "weir_alerts_batch_seconds", Help: "Time to evaluate and checkpoint one micro-batch."}),
		checkpoints:  prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_alerts_checkpoints_total", Help: "Checkpoints stored."}),
		checkpointBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_alerts_checkpoint_written_bytes_total",
			Help: "State bytes written by checkpoints: the parts that changed since the last one."}),
	}
	reg.MustRegister(m.records, m.invalid, m.notEvaluated, m.lateAccepted, m.refires, m.dropped, m.notified,
		m.delivered, m.sinkErrors, m.deliveryLag, m.stateSize, m.stateBytes, m.watermark, m.batchSeconds, m.checkpoints, m.checkpointBytes)
	return m
}
