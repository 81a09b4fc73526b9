package services

import _ "embed"

// TrinoAccessRules is the coordinator's file-based access control
// (trino/coordinator/rules.json): user weir reads everything and writes
// iceberg, grafana reads the gold schema, prometheus reads system
// information. Compose mounts the file; the native stack writes this copy.
//
//go:embed trino/coordinator/rules.json
var TrinoAccessRules []byte
