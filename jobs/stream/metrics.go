package stream

import (
	"context"
	"errors"
	"net/http"
	"net/http/pprof"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"weir/endpoints"
)

type metrics struct {
	reg            *prometheus.Registry
	consumed       *prometheus.CounterVec
	rowsCommitted  *prometheus.CounterVec
	deadLetters    *prometheus.CounterVec
	commitSeconds  *prometheus.HistogramVec
	commitRetries  *prometheus.CounterVec
	fenced         *prometheus.CounterVec
	flushSeconds   prometheus.Histogram
	freshness      prometheus.Histogram
	lag            *prometheus.GaugeVec
	bufferedBytes  prometheus.Gauge
	paused         prometheus.Gauge
	assigned       prometheus.Gauge
	rebalances     *prometheus.CounterVec
	gapRecords     *prometheus.CounterVec
	ready          atomic.Bool
	lastCommitUnix atomic.Int64
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_stream_records_consumed_total", Help: "Records read from Kafka.",
		}, []string{"topic"}),
		rowsCommitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_stream_rows_committed_total", Help: "Rows committed to bronze tables.",
		}, []string{"table"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_stream_dead_letters_total", Help: "Records routed to the dead-letter table.",
		}, []string{"topic", "reason"}),
		commitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "weir_stream_commit_seconds", Help: "Time to write and commit one bronze table snapshot.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
		}, []string{"table"}),
		commitRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_stream_commit_retries_total", Help: "Failed bronze commit attempts, by kind (conflict, unknown_outcome).",
		}, []string{"table", "kind"}),
		fenced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_stream_fenced_rows_total", Help: "Consumed rows not committed because the table already held their offsets (re-reads, stale instances).",
		}, []string{"table"}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "weir_stream_flush_seconds", Help: "Time to commit one batch to every table it covers.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
		}),
		freshness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "weir_stream_freshness_seconds", Help: "Kafka record timestamp to bronze commit, sampled per partition and commit.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "weir_stream_lag_records", Help: "High watermark minus the next offset committed to bronze.",
		}, []string{"topic", "partition"}),
		bufferedBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "weir_stream_buffered_bytes", Help: "Bytes consumed and not yet committed.",
		}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "weir_stream_paused", Help: "1 while partitions are paused by the memory budget.",
		}),
		assigned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "weir_stream_assigned_partitions", Help: "Partitions this instance owns.",
		}),
		rebalances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_stream_rebalances_total", Help: "Partition assignment changes, by kind.",
		}, []string{"kind"}),
		gapRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_stream_retention_gap_records_total", Help: "Records Kafka deleted before the job read them (retention gaps found).",
		}, []string{"topic"}),
	}
	lastCommit := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "weir_stream_last_commit_timestamp_seconds", Help: "Time of the last successful flush to bronze (the job's start until its first).",
	}, func() float64 { return float64(m.lastCommitUnix.Load()) })
	m.reg.MustRegister(lastCommit, m.consumed, m.rowsCommitted, m.deadLetters, m.commitSeconds, m.commitRetries, m.fenced,
		m.flushSeconds, m.freshness, m.lag, m.bufferedBytes, m.paused, m.assigned, m.rebalances, m.gapRecords,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the metrics and readiness endpoints and pprof.
func (m *metrics) handler() http.Handler {
	mux := http.NewServeMux()
	endpoints.Register(mux, m.reg, nil, func(context.Context) error {
		if !m.ready.Load() {
			return errors.New("partitions not assigned and resumed yet")
		}
		return nil
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
