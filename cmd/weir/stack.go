package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

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
		Short: "run the native local stack (Kafka, MinIO, PostgreSQL, Trino, Alertmanager)",
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
			cfg, err := s.WeirConfig()
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
	cmd.AddCommand(up, &cobra.Command{
		Use:     "down",
		Short:   "stop every process the stack started",
		Example: `  weir stack down`,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := f.open("single")
			if err != nil {
				return err
			}
			return s.Down(c.Context())
		},
	}, &cobra.Command{
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
