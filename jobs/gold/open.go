package gold

import (
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"

	_ "github.com/trinodb/trino-go-client/trino" // registers the "trino" driver

	"weir/config"
	goldsql "weir/sql/gold"
)

// OpenTrino returns a trino-go-client pool for cfg with the session catalog
// set to cfg.Catalog.
func OpenTrino(cfg config.Trino) (*sql.DB, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse trino url: %w", err)
	}
	q := u.Query()
	q.Set("catalog", cfg.Catalog)
	u.RawQuery = q.Encode()
	db, err := sql.Open("trino", u.String())
	if err != nil {
		return nil, fmt.Errorf("open trino: %w", err)
	}
	return db, nil
}

// Definitions loads the SQL from dir, or the copy embedded in the binary
// when dir is empty.
func Definitions(dir string) ([]*Definition, error) {
	var fsys fs.FS = goldsql.FS
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	return Load(fsys)
}
