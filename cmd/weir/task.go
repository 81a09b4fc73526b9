package main

import (
	"os"

	"github.com/spf13/cobra"

	"weir/scheduler/probe"
)

// newTaskCmd wires `weir task sleep|fail`, the scheduler's test jobs.
func newTaskCmd(_ *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "task sleep|fail [flags]",
		Short: "Test jobs for the DAG scheduler (sleep, fail until a try, record runs)",
		Example: `  weir task sleep --duration 5s --message hello
  # fail until the third try, as a DAG task with retries
  weir task fail --until-try 3`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Flags are the task's own, so cobra sees no --help.
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
				return cmd.Help()
			}
			if code := probe.Main(cmd.Context(), args, cmd.OutOrStdout()); code != 0 {
				os.Exit(code)
			}
			return nil
		},
	}
}
