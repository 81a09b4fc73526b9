// Package postgres holds weir's PostgreSQL roles, databases and grants
// (roles.sql), embedded, so that the native stack runs the file the compose
// stack's initdb script runs: one login role per service, none a superuser.
//
// Contract: roles.sql runs once, on a server that has none of its roles and
// databases yet, through psql (it reads the passwords with \getenv from the
// PG_* variables RolePasswordEnv names).
package postgres

import _ "embed"

// RolesSQL is roles.sql.
//
//go:embed roles.sql
var RolesSQL string

// RolePasswordEnv maps each login role of roles.sql to the environment
// variable that carries its password.
var RolePasswordEnv = map[string]string{
	"weir_init":      "PG_WEIR_INIT_PASSWORD",
	"weir_stream":    "PG_WEIR_STREAM_PASSWORD",
	"weir_batch":     "PG_WEIR_BATCH_PASSWORD",
	"weir_alerts":    "PG_WEIR_ALERTS_PASSWORD",
	"weir_scheduler": "PG_WEIR_SCHEDULER_PASSWORD",
	"trino":          "PG_TRINO_PASSWORD",
	"weir_reader":    "PG_WEIR_READER_PASSWORD",
}
