// Command weir is the one binary of the weir lakehouse pipeline. This package
// only parses flags and configuration and wires packages together; the logic
// lives in the packages it calls.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"weir/config"
	"weir/internal/killpoint"
	"weir/lakehouse"
)

// globals are the flags every subcommand shares.
type globals struct {
	configPath string
	logLevel   string
}

// load returns the validated configuration: file (if any), then WEIR_* env.
func (g *globals) load() (config.Config, error) {
	return config.Load(g.configPath)
}

// openLake opens the lakehouse with the fault tests' kill hook
// (WEIR_KILL_POINT; nil in production) on its commits.
func openLake(ctx context.Context, cfg config.Config) (*lakehouse.Lakehouse, error) {
	lake, err := lakehouse.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	lake.Hook = killpoint.FromEnv()
	return lake, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "weir:", err)
		os.Exit(1)
	}
}

// newRootCmd builds the whole command tree; every subcommand lives in a
// file of its own.
func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "weir",
		Short:         "weir: Kafka → bronze → silver → gold lakehouse on Iceberg, MinIO and Trino",
		SilenceUsage:  true,
		SilenceErrors: true,
		Example: `  weir stack up && source .stack/env.sh
  weir demo
  weir batch silver && weir gold refresh`,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})))
			return nil
		},
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("WEIR_CONFIG"), "YAML config file (defaults: the native local stack; WEIR_* env overrides)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "debug, info, warn or error")

	root.AddCommand(
		newStackCmd(g),
		newStreamCmd(g),
		newAlertsCmd(g),
		newInitCmd(g),
		newGenerateCmd(g),
		newProduceCmd(g),
		newSchedulerCmd(g),
		newDagsCmd(g),
		newTaskCmd(g),
		newGoldCmd(g),
		newBatchCmd(g),
		newLoadCmd(g),
		newDemoCmd(g),
	)
	return root
}
