package main

import (
	"bytes"
	"os"
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

// TestAsIdentity: --as batch replaces WEIR_* by env.sh's WEIR_BATCH_* for
// the process (and so for what it starts); an identity without variables
// is refused.
func TestAsIdentity(t *testing.T) {
	// Hermetic: the environment's WEIR_* (an env.sh under make
	// test-integration) emptied, so only these identities exist; t.Setenv
	// restores every variable applyIdentity may change.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "WEIR_") {
			t.Setenv(k, "")
		}
	}
	t.Setenv("WEIR_S3_ACCESS_KEY", "weir-admin")
	t.Setenv("WEIR_CATALOG_URI", "postgres://weir:admin@127.0.0.1:15432/iceberg_catalog")
	t.Setenv("WEIR_BATCH_S3_ACCESS_KEY", "weir-batch")
	t.Setenv("WEIR_BATCH_CATALOG_URI", "postgres://weir_batch:b@127.0.0.1:15432/iceberg_catalog")
	t.Setenv("WEIR_STREAM_S3_ACCESS_KEY", "weir-stream")
	root := newRootCmd()
	root.SetArgs([]string{"--as", "batch", "gold", "list"}) // needs no service
	root.SetOut(&bytes.Buffer{})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	cfg, err := (&globals{}).load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.S3.AccessKey != "weir-batch" || !strings.HasPrefix(cfg.Catalog.URI, "postgres://weir_batch:") {
		t.Errorf("--as batch: S3 access key %q, catalog %q; want the batch identity's", cfg.S3.AccessKey, cfg.Catalog.URI)
	}
	if err := applyIdentity("maintain"); err == nil || !strings.Contains(err.Error(), "WEIR_MAINTAIN_") {
		t.Errorf("--as maintain without WEIR_MAINTAIN_*: %v, want an error naming them", err)
	}
}
