package trino

import (
	"context"
	"database/sql"
)

// Querier runs a query: *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Scanner reads the current row (*sql.Rows).
type Scanner interface {
	Scan(dest ...any) error
}

// Each runs query and calls fn for every row of its result, then closes
// the rows; the first error (of the query, a Scan, fn, or the end of the
// result) is returned. A transient error (Retryable) before the first row
// runs the query again.
func Each(ctx context.Context, db Querier, query string, fn func(Scanner) error) error {
	return Retry(ctx, func() error {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		seen := false
		for rows.Next() {
			seen = true
			if err := fn(rows); err != nil {
				rows.Close()
				return permanent(err)
			}
		}
		err = Close(rows)
		if seen {
			err = permanent(err)
		}
		return err
	})
}

// Exec runs one statement and drains its result (Trino runs a statement to
// its end only while the client reads it).
func Exec(ctx context.Context, db Querier, stmt string) error {
	return Each(ctx, db, stmt, func(Scanner) error { return nil })
}

// Strings returns the first column of every row of query; NULLs are left
// out.
func Strings(ctx context.Context, db Querier, query string) ([]string, error) {
	var out []string
	err := Each(ctx, db, query, func(r Scanner) error {
		var s sql.NullString
		if err := r.Scan(&s); err != nil {
			return err
		}
		if s.Valid {
			out = append(out, s.String)
		}
		return nil
	})
	return out, err
}

// Values drains rows, scanning every column of each row into an any and
// calling fn with them (the slice is reused between rows); rows is closed.
func Values(rows *sql.Rows, fn func(vals []any) error) error {
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return err
		}
		if err := fn(vals); err != nil {
			rows.Close()
			return err
		}
	}
	return Close(rows)
}

// Close closes rows and returns the error that ended the iteration, or
// else Close's.
func Close(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// permanentError stops Retry: rows were already handed to the caller.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}
