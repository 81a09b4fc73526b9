// Package grafana holds the provisioned Grafana dashboards, embedded, so
// that weir's own Dashboards page draws the very JSON Grafana loads (one
// source of truth): the business dashboards over Trino (Dashboards) and
// the operations dashboard over Prometheus (Ops), whose queries
// services/prometheus's TestStackPrometheus runs.
package grafana

import (
	"embed"
	"io/fs"
)

//go:embed dashboards/*.json ops/*.json
var files embed.FS

// Dashboards is the dashboards directory: one JSON file per dashboard.
func Dashboards() fs.FS {
	sub, err := fs.Sub(files, "dashboards")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// Ops is the operations dashboards directory: PromQL panels over the
// stack's Prometheus (data source uid weir-prometheus), provisioned into
// Grafana beside the business dashboards.
func Ops() fs.FS {
	sub, err := fs.Sub(files, "ops")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}
