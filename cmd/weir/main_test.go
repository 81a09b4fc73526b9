package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasAnExample: `weir ... --help` of every command shows how
// to call it.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() == "completion" {
			return // cobra's own, documented in its Long text
		}
		if !c.Hidden && c.Name() != "help" {
			if strings.TrimSpace(c.Example) == "" {
				t.Errorf("%q has no Example", c.CommandPath())
			} else if !strings.Contains(c.Example, "weir ") {
				t.Errorf("%q: its Example calls no weir command: %q", c.CommandPath(), c.Example)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
}

// TestHelpShowsExamples: --help prints the examples, `weir task` without
// arguments prints its help, and `weir batch silver` needs no --source.
func TestHelpShowsExamples(t *testing.T) {
	for _, args := range [][]string{{"batch", "silver", "--help"}, {"task"}, {"task", "--help"}, {"dags", "pause", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs(args)
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "Examples:") {
				t.Errorf("no examples in:\n%s", out.String())
			}
		})
	}
	silverCmd, _, err := newRootCmd().Find([]string{"batch", "silver"})
	if err != nil {
		t.Fatal(err)
	}
	if f := silverCmd.Flags().Lookup("source"); f == nil || f.DefValue != "all" {
		t.Errorf("--source default %v, want all", f)
	}
}
