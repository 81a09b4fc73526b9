// Package lakehouse opens weir's Iceberg catalog (the JDBC catalog schema on
// PostgreSQL, shared with Trino) and its S3 FileIO on MinIO, and prepares the
// namespaces, buckets and service credentials every job relies on. Jobs never
// build catalog or S3 properties themselves: they call Open.
//
// Every table change goes through Commit (commit.go): a fresh transaction per
// attempt, the commit id in the snapshot summary ("weir.commit-id"), explicit
// retries on conflicts, and an unknown outcome resolved by looking for the
// commit id in the reloaded table.
//
// Bronze snapshot summaries (bronze.go) record Kafka positions: for every
// partition the table has ever covered, "weir.offset.<topic>.<partition>" =
// the next offset to read (the topic may contain dots; the partition follows
// the last one). Every bronze commit carries the complete map, so the newest
// snapshot with such keys holds the table's position; RecordedOffsets reads
// it. Snapshot expiry must always keep that snapshot.
package lakehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	icebergio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // registers the s3:// FileIO
	"github.com/apache/iceberg-go/table"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"weir/config"
)

// The medallion namespaces.
const (
	Bronze  = "bronze"
	Silver  = "silver"
	Gold    = "gold"
	Archive = "archive"
)

// Namespaces lists every namespace EnsureNamespaces creates.
var Namespaces = []string{Bronze, Silver, Gold, Archive}

// Lakehouse is an open catalog plus the configuration it was opened with.
type Lakehouse struct {
	Catalog *sqlcat.Catalog
	// Hook, when set, is called at the fault points of every commit
	// (PointCommitBuilt, PointMetadataWritten, PointCommitted); fault
	// tests SIGKILL the process there. Set it before the first commit.
	Hook func(point string)
	cfg  config.Config
	db   *sql.DB
	s3   s3Client
}

// Properties returns the FileIO properties for MinIO (path-style S3).
func Properties(s3 config.S3) iceberg.Properties {
	scheme := "http"
	if s3.UseSSL {
		scheme = "https"
	}
	return iceberg.Properties{
		icebergio.S3EndpointURL:     scheme + "://" + s3.Endpoint,
		icebergio.S3Region:          s3.Region,
		icebergio.S3AccessKeyID:     s3.AccessKey,
		icebergio.S3SecretAccessKey: s3.SecretKey,
		"warehouse":                 "",
	}
}

// Open connects to the catalog database and returns the Iceberg catalog using
// the V1 JDBC schema (the one that stores views, which Trino needs).
func Open(ctx context.Context, cfg config.Config) (*Lakehouse, error) {
	db, err := sql.Open("pgx", cfg.Catalog.URI)
	if err != nil {
		return nil, fmt.Errorf("open catalog database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("reach catalog database: %w", err)
	}
	props := Properties(cfg.S3)
	props["warehouse"] = cfg.Catalog.Warehouse
	props[sqlcat.SchemaVersionKey] = sqlcat.SchemaVersionV1
	cat, err := sqlcat.NewCatalog(cfg.Catalog.Name, db, sqlcat.Postgres, props)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open iceberg catalog %s: %w", cfg.Catalog.Name, err)
	}
	return &Lakehouse{Catalog: cat, cfg: cfg, db: db}, nil
}

// Config returns the configuration the lakehouse was opened with.
func (l *Lakehouse) Config() config.Config { return l.cfg }

// Close releases the catalog's database pool.
func (l *Lakehouse) Close() error {
	return l.db.Close()
}

// EnsureNamespaces creates the medallion namespaces that do not exist yet.
func (l *Lakehouse) EnsureNamespaces(ctx context.Context) error {
	return l.EnsureNamespace(ctx, Namespaces...)
}

// EnsureNamespace creates each namespace of names that does not exist yet
// (tests use namespaces of their own).
func (l *Lakehouse) EnsureNamespace(ctx context.Context, names ...string) error {
	for _, ns := range names {
		err := l.Catalog.CreateNamespace(ctx, table.Identifier{ns}, nil)
		if err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return fmt.Errorf("create namespace %s: %w", ns, err)
		}
	}
	return nil
}

// Ident turns "bronze.app_events" into an Iceberg identifier.
func Ident(name string) table.Identifier {
	return table.Identifier(strings.Split(name, "."))
}

// TableLocation is where a table of namespace ns lives: the archive
// namespace on the archive bucket (its own tier), everything else in the
// warehouse.
func (l *Lakehouse) TableLocation(ns, name string) string {
	if ns == Archive {
		return fmt.Sprintf("s3://%s/archive/%s", l.cfg.S3.ArchiveBucket, name)
	}
	return fmt.Sprintf("%s/%s/%s", strings.TrimSuffix(l.cfg.Catalog.Warehouse, "/"), ns, name)
}
