package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"weir/internal/benchreport"
	"weir/jobs/gold"
	"weir/jobs/setup"
	"weir/localstack"
)

// stackFlags locate the native stack: WEIR_STACK_DIR (default ./.stack) and
// WEIR_CACHE_DIR (default <stack dir>/cache).
type stackFlags struct {
	dir, cache, profile string
}

func (f *stackFlags) open(profile string) (*localstack.Stack, error) {
	p, err := localstack.ParseProfile(profile)
	if err != nil {
		return nil, err
	}
	return localstack.New(f.dir, f.cache, p, os.Stderr)
}

func newStackCmd(g *globals) *cobra.Command {
	f := &stackFlags{}
	cmd := &cobra.Command{
		Use:   "stack",
		Short: "run the native local stack (Kafka, MinIO, PostgreSQL, Trino, Alertmanager, Prometheus)",
		Example: `  weir stack up
  source .stack/env.sh
  weir stack status
  weir stack down`,
	}
	cmd.PersistentFlags().StringVar(&f.dir, "dir", envOr("WEIR_STACK_DIR", ".stack"), "stack directory (data, logs, pid files, secrets)")
	cmd.PersistentFlags().StringVar(&f.cache, "cache", os.Getenv("WEIR_CACHE_DIR"), "download and build cache (default <dir>/cache)")
	cmd.PersistentFlags().StringVar(&f.profile, "profile", envOr("WEIR_STACK_PROFILE", "single"), "single or cluster")

	var skipInit bool
	up := &cobra.Command{
		Use:   "up",
		Short: "install what is missing, start every service, wait until healthy, bootstrap, weir init",
		Long: `up installs what is missing into the cache, starts every service of the
profile that is not running, waits until each is healthy, bootstraps
databases, buckets and service users, and then runs weir init (topics,
lakehouse tables, scheduler store, gold views), so a new stack is ready to
query. It is idempotent.`,
		Example: `  weir stack up
  WEIR_STACK_DIR=/tmp/s2 WEIR_STACK_PORT_OFFSET=2500 weir stack up --profile cluster`,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := f.open(f.profile)
			if err != nil {
				return err
			}
			if err := s.Up(c.Context()); err != nil {
				return err
			}
			if skipInit {
				return nil
			}
			// As weir init's own identity, as compose's init service runs.
			cfg, err := s.IdentityConfig("WEIR_INIT_")
			if err != nil {
				return err
			}
			results, err := setup.Run(c.Context(), cfg, setup.Options{})
			if err != nil {
				return fmt.Errorf("weir init on the new stack: %w", err)
			}
			fmt.Fprintln(os.Stderr, "weir init:", gold.SummaryLine(results))
			return nil
		},
	}
	up.Flags().BoolVar(&skipInit, "skip-init", false, "start the services only; do not run weir init")
	var remove bool
	down := &cobra.Command{
		Use:   "down",
		Short: "stop every process the stack started",
		Example: `  weir stack down
  weir stack down --remove   # and delete the stack directory`,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := f.open("single")
			if err != nil {
				return err
			}
			if remove {
				return s.Remove(c.Context())
			}
			return s.Down(c.Context())
		},
	}
	down.Flags().BoolVar(&remove, "remove", false, "also delete the stack directory and its data (as root, PostgreSQL's in ~postgres too)")
	cmd.AddCommand(up, down, newStackSoakCmd(f), newStackArtifactsCmd(f), &cobra.Command{
		Use:     "status",
		Short:   "show each service, its pid, endpoint, health and log file",
		Example: `  weir stack status`,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := f.open("single")
			if err != nil {
				return err
			}
			return s.Status(c.Context(), os.Stdout)
		},
	}, &cobra.Command{
		Use:     "logs",
		Short:   "list the services' log files",
		Example: `  weir stack logs | xargs tail -n 20`,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := f.open("single")
			if err != nil {
				return err
			}
			files, err := s.Logs()
			for _, l := range files {
				fmt.Println(l)
			}
			return err
		},
	}, &cobra.Command{
		Use:     "env",
		Short:   "print export lines pointing weir at the running stack",
		Example: `  eval "$(weir stack env)"`,
		RunE: func(c *cobra.Command, _ []string) error {
			b, err := os.ReadFile(filepath.Join(f.dir, "env.sh"))
			if err != nil {
				return fmt.Errorf("stack is not up (no env.sh in %s): %w", f.dir, err)
			}
			_, err = os.Stdout.Write(b)
			return err
		},
	}, &cobra.Command{
		Use:     "stop-service NAME",
		Short:   "stop one service (fault drills: kafka2, minio3, ...)",
		Example: `  weir stack stop-service kafka2 --profile cluster`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := f.open(f.profile)
			if err != nil {
				return err
			}
			return s.StopService(c.Context(), args[0])
		},
	}, &cobra.Command{
		Use:     "start-service NAME",
		Short:   "start one service again and wait until it is healthy",
		Example: `  weir stack start-service kafka2 --profile cluster`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := f.open(f.profile)
			if err != nil {
				return err
			}
			return s.StartService(c.Context(), args[0])
		},
	})
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// newStackSoakCmd wires localstack.Soak: up/down cycles of fresh stacks.
func newStackSoakCmd(f *stackFlags) *cobra.Command {
	var cycles, fromOffset int
	var out string
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "bring fresh private stacks up and down N times; write start-up figures",
		Long: `soak runs N consecutive cycles, each in a new private stack directory (0700
under a 0700 parent) on the first free port offset at or above --from-offset:
stack up (without weir init), every service healthy, stack down and remove,
no process, port, directory or PostgreSQL home left. It writes the cycles,
failures and up/down times to --out and fails if any cycle failed.`,
		Example: `  weir stack soak --cycles 20 --out bench/results/stack-soak.json   # make soak-stack`,
		RunE: func(c *cobra.Command, _ []string) error {
			cache := f.cache
			if cache == "" {
				cache = localstack.SharedCache(".")
			}
			write := func(r localstack.SoakResult) error {
				return benchreport.WriteJSON(out, struct {
					localstack.SoakResult
					MeasuredAt time.Time      `json:"measured_at"`
					Machine    map[string]any `json:"machine"`
					Note       string         `json:"note"`
				}{r, time.Now().UTC(), benchreport.ThisMachine(),
					"single profile, warm download cache, no weir init; up is weir's Up call (install check, starts, health waits, bootstrap), down is stop plus removal"})
			}
			res, err := localstack.Soak(c.Context(), cycles, cache, fromOffset, os.Stderr, write)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "soak: %d cycles, %d failed; up p50 %.1f s, p95 %.1f s, first %.1f s; down p50 %.1f s; %s\n",
				res.Cycles, res.Failures, res.UpP50, res.UpP95, res.UpFirst, res.DownP50, out)
			if res.Failures > 0 {
				return fmt.Errorf("%d of %d soak cycles failed", res.Failures, res.Cycles)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&cycles, "cycles", 20, "up/down cycles")
	cmd.Flags().IntVar(&fromOffset, "from-offset", localstack.FreshOffsetFrom, "lowest port offset to use (offsets that put a port in the ephemeral range are skipped)")
	cmd.Flags().StringVar(&out, "out", "bench/results/stack-soak.json", "results file")
	return cmd
}

// newStackArtifactsCmd prints where the stack's programs are, installing
// what is missing: make build_images packages these into images.
func newStackArtifactsCmd(f *stackFlags) *cobra.Command {
	var withPromtool bool
	cmd := &cobra.Command{
		Use:   "artifacts",
		Short: "install the stack's programs into the cache and print their paths (KEY=path lines)",
		Example: `  weir stack artifacts
  eval "$(weir stack artifacts --promtool)"`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := f.open(f.profile)
			if err != nil {
				return err
			}
			a, err := s.Install(c.Context(), withPromtool)
			if err != nil {
				return err
			}
			fmt.Printf("KAFKA_LIBS=%s\nTRINO_HOME=%s\nJAVA_HOME=%s\nMINIO_BIN=%s\nALERTMANAGER_BIN=%s\nPROMETHEUS_BIN=%s\nPROMTOOL_BIN=%s\n",
				a.KafkaLibs, a.TrinoHome, a.JavaHome, a.MinIO, a.Alertmanager, a.Prometheus, a.Promtool)
			return nil
		},
	}
	cmd.Flags().BoolVar(&withPromtool, "promtool", false, "build promtool too (go install; make test-rules)")
	return cmd
}
