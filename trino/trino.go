// Package trino is weir's one way to talk to Trino: the connection built
// from config.Trino (DSN, Open), quoting of identifiers and literals, the
// SQL lexer (tokens, statement splitting), helpers that drain result rows,
// and retry of the errors Trino reports as transient.
//
// It holds no knowledge of weir's tables or views (that is lakehouse and
// jobs/gold) and no PostgreSQL access (pgx is used directly for that).
package trino

import (
	"database/sql"
	"fmt"
	"net/url"

	_ "github.com/trinodb/trino-go-client/trino" // registers the "trino" database/sql driver

	"weir/config"
)

// DSN returns the trino-go-client DSN for cfg: cfg.URL (http://user@host:port)
// with the session catalog set to cfg.Catalog; other query parameters of
// cfg.URL are kept.
func DSN(cfg config.Trino) (string, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return "", fmt.Errorf("parse trino url: %w", err)
	}
	q := u.Query()
	q.Set("catalog", cfg.Catalog)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Open returns a connection pool to the Trino of cfg (see DSN).
func Open(cfg config.Trino) (*sql.DB, error) {
	dsn, err := DSN(cfg)
	if err != nil {
		return nil, err
	}
	return OpenDSN(dsn)
}

// OpenDSN returns a connection pool for a DSN made by DSN.
func OpenDSN(dsn string) (*sql.DB, error) {
	db, err := sql.Open("trino", dsn)
	if err != nil {
		return nil, fmt.Errorf("open trino: %w", err)
	}
	return db, nil
}
