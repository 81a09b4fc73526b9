// Package grafana holds the provisioned Grafana dashboards, embedded, so
// that weir's own Dashboards page draws the very JSON Grafana loads (one
// source of truth).
package grafana

import (
	"embed"
	"io/fs"
)

//go:embed dashboards/*.json
var files embed.FS

// Dashboards is the dashboards directory: one JSON file per dashboard.
func Dashboards() fs.FS {
	sub, err := fs.Sub(files, "dashboards")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}
