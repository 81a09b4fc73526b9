package main

import "github.com/spf13/cobra"

// newStackCmd is filled in by the localstack work.
func newStackCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "stack", Short: "run the native local stack (Kafka, MinIO, PostgreSQL, Trino, Alertmanager)"}
}
