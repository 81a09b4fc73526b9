// Package service is the `weir scheduler` process: it opens the scheduler's
// PostgreSQL store, builds the DAG engine and the web UI (JSON API,
// Dashboards page, /metrics, /healthz, /readyz) and runs the engine beside
// the UI's server in the one run group (endpoints.Run).
//
// It wires; scheduling lives in engine, the UI in web, the state in store.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"weir/config"
	"weir/endpoints"
	"weir/jobs/gold/dashboard"
	"weir/scheduler/engine"
	"weir/scheduler/store"
	"weir/scheduler/web"
	"weir/services/grafana"
	"weir/trino"
)

// Options configure the scheduler process. Empty DAGDir and Listen take
// the configuration's scheduler.dag_dir and scheduler.listen; zero Engine
// fields take engine.DefaultOptions.
type Options struct {
	DAGDir string
	Listen string
	// Pools are pool slots across schedulers, each "name=slots".
	Pools  []string
	Engine engine.Options
	Log    *slog.Logger
}

// Job is one scheduler process.
type Job struct {
	cfg  config.Config
	opts Options
}

// New checks opts against cfg and prepares the scheduler; Run starts it.
func New(cfg config.Config, opts Options) (*Job, error) {
	if opts.DAGDir == "" {
		opts.DAGDir = cfg.Scheduler.DAGDir
	}
	if opts.Listen == "" {
		opts.Listen = cfg.Scheduler.Listen
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	pools, err := ParsePools(opts.Pools)
	if err != nil {
		return nil, err
	}
	opts.Engine.Pools = pools
	opts.Engine.DAGDir = opts.DAGDir
	if opts.Engine.TrinoDSN, err = trino.DSN(cfg.Trino); err != nil {
		return nil, err
	}
	return &Job{cfg: cfg, opts: opts}, nil
}

// ParsePools reads "name=slots" pool sizes.
func ParsePools(specs []string) (map[string]int, error) {
	pools := map[string]int{}
	for _, p := range specs {
		name, n, ok := strings.Cut(p, "=")
		slots, err := strconv.Atoi(n)
		if !ok || err != nil || slots < 1 {
			return nil, fmt.Errorf("--pool %q: want name=slots", p)
		}
		pools[name] = slots
	}
	return pools, nil
}

// Run schedules and runs the DAGs, serving the UI on the listen address,
// until ctx ends; the engine then waits out its shutdown grace for running
// tries while the UI still answers.
func (j *Job) Run(ctx context.Context) error {
	cfg, opts := j.cfg, j.opts
	st, err := store.Open(ctx, cfg.Scheduler.Database)
	if err != nil {
		return err
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eo := opts.Engine
	eo.Registerer = reg
	e, err := engine.New(ctx, st, eo)
	if err != nil {
		return err
	}
	ui, err := web.New(e, reg, opts.Log, web.Access{
		OperatorPassword: cfg.Scheduler.OperatorPassword,
		ViewerPassword:   cfg.Scheduler.ViewerPassword,
		ReceiverPassword: cfg.Scheduler.ReceiverPassword,
		Hosts:            web.LoopbackHosts(opts.Listen),
	})
	if err != nil {
		return err
	}
	dashboards, err := dashboard.LoadFS(grafana.Dashboards())
	if err != nil {
		return err
	}
	db, err := trino.Open(cfg.Trino.Dashboard())
	if err != nil {
		return err
	}
	defer db.Close()
	ui.Mount(dashboard.NewViewer(dashboards, db, opts.Log).Register)
	return endpoints.Run(ctx, opts.Listen, ui.Handler(), e, opts.Log)
}
