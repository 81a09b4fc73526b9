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
	"strings"
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
	as         string // --as: a deployment identity of env.sh
}

// load returns the validated configuration: file (if any), then WEIR_* env.
func (g *globals) load() (config.Config, error) {
	return config.Load(g.configPath)
}

// applyIdentity makes the WEIR_<NAME>_* variables of identity name (the
// native stack's env.sh has a least-privilege set per job) this process's
// WEIR_* ones (config.IdentityEnv), so the command and every process it
// starts (the scheduler's tasks) sign in as that identity. An identity with
// no variable set is an error, not the admin identity in silence.
func applyIdentity(name string) error {
	prefix := "WEIR_" + strings.ToUpper(name) + "_"
	set := false
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, prefix) && v != "" {
			set = true
		}
	}
	if !set {
		return fmt.Errorf("--as %s: no %s* variable is set (source the env.sh of a stack with per-service identities)", name, prefix)
	}
	for _, kv := range config.IdentityEnv(os.Environ(), prefix) {
		k, v, _ := strings.Cut(kv, "=")
		if os.Getenv(k) != v {
			if err := os.Setenv(k, v); err != nil {
				return err
			}
		}
	}
	return nil
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
			if g.as != "" {
				return applyIdentity(g.as)
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("WEIR_CONFIG"), "YAML config file (defaults: the native local stack; WEIR_* env overrides)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.as, "as", os.Getenv("WEIR_AS"),
		"sign in as a deployment identity (env.sh's init, stream, batch, maintain, alerts): its WEIR_<IDENTITY>_* variables replace WEIR_*, for weir and the processes it starts")

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
