package main

import (
	"os"

	"github.com/spf13/cobra"

	"weir/scheduler/probe"
)

// newTaskCmd wires `weir task sleep|fail`, the scheduler's test jobs.
func newTaskCmd(_ *globals) *cobra.Command {
	return &cobra.Command{
		Use:                "task sleep|fail [flags]",
		Short:              "Test jobs for the DAG scheduler (sleep, fail until a try, record runs)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := probe.Main(cmd.Context(), args, cmd.OutOrStdout()); code != 0 {
				os.Exit(code)
			}
			return nil
		},
	}
}
