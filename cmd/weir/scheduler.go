package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"weir/jobs/gold/dashboard"
	"weir/scheduler/engine"
	"weir/scheduler/store"
	"weir/scheduler/web"
	"weir/services/grafana"
	"weir/trino"
)

// newSchedulerCmd wires `weir scheduler`: the DAG engine and its web UI.
func newSchedulerCmd(g *globals) *cobra.Command {
	var (
		dagDir, listen string
		opts           engine.Options
		pools          []string
	)
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the DAG scheduler and its web UI, JSON API and /metrics",
		Example: `  weir scheduler
  # run only what is triggered by hand (no cron)
  weir scheduler --manual-only --listen 127.0.0.1:8080`,
		Long: `Runs the DAGs in the DAG directory on their schedules, with run history and
task logs in PostgreSQL (scheduler.database). Several schedulers may share one
database. The web UI, the JSON API (/api/v1), /metrics and /healthz are served
on scheduler.listen.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if dagDir == "" {
				dagDir = cfg.Scheduler.DAGDir
			}
			if listen == "" {
				listen = cfg.Scheduler.Listen
			}
			opts.Pools = map[string]int{}
			for _, p := range pools {
				name, n, ok := strings.Cut(p, "=")
				slots, err := strconv.Atoi(n)
				if !ok || err != nil || slots < 1 {
					return fmt.Errorf("--pool %q: want name=slots", p)
				}
				opts.Pools[name] = slots
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, cfg.Scheduler.Database)
			if err != nil {
				return err
			}
			defer st.Close()
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			opts.DAGDir, opts.Registerer = dagDir, reg
			if opts.TrinoDSN, err = trino.DSN(cfg.Trino); err != nil {
				return err
			}
			e, err := engine.New(ctx, st, opts)
			if err != nil {
				return err
			}
			ui, err := web.New(e, reg, slog.Default(), web.Access{
				OperatorPassword: cfg.Scheduler.OperatorPassword,
				ViewerPassword:   cfg.Scheduler.ViewerPassword,
				ReceiverPassword: cfg.Scheduler.ReceiverPassword,
				Hosts:            web.LoopbackHosts(listen),
			})
			if err != nil {
				return err
			}
			dashboards, err := dashboard.LoadFS(grafana.Dashboards())
			if err != nil {
				return err
			}
			db, err := trino.Open(cfg.Trino)
			if err != nil {
				return err
			}
			defer db.Close()
			ui.Mount(dashboard.NewViewer(dashboards, db, slog.Default()).Register)
			srv := &http.Server{Addr: listen, Handler: ui.Handler(), ReadHeaderTimeout: 10 * time.Second}
			grp, gctx := errgroup.WithContext(ctx)
			grp.Go(func() error { return e.Run(gctx) })
			grp.Go(func() error {
				slog.Info("web ui listening", "addr", listen)
				if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
					return fmt.Errorf("serve web ui: %w", err)
				}
				return nil
			})
			grp.Go(func() error {
				<-gctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				return srv.Shutdown(sctx)
			})
			return grp.Wait()
		},
	}
	f := cmd.Flags()
	f.StringVar(&dagDir, "dags", "", "DAG directory (default scheduler.dag_dir)")
	f.StringVar(&listen, "listen", "", "web UI address (default scheduler.listen)")
	f.IntVar(&opts.Parallelism, "parallelism", 8, "tries running at once in this scheduler")
	f.StringArrayVar(&pools, "pool", nil, "pool slots across schedulers, name=slots (repeatable)")
	f.DurationVar(&opts.Tick, "tick", time.Second, "pause between scheduling passes")
	f.DurationVar(&opts.LeaseTTL, "lease-ttl", 30*time.Second, "a try is retried elsewhere this long after its scheduler went silent")
	f.DurationVar(&opts.ShutdownGrace, "shutdown-grace", 30*time.Second, "on SIGTERM, wait this long for running tries before handing them back")
	f.StringVar(&opts.ID, "id", "", "scheduler id (default host-pid-random)")
	f.BoolVar(&opts.ManualOnly, "manual-only", false, "create no scheduled runs (cron off): run only triggered runs and backfills")
	return cmd
}
