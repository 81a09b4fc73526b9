package localstack

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"weir/config"
	"weir/lakehouse"
	"weir/objectstore"
	"weir/trino"
	"weir/wait"
)

// Config returns the weir configuration pointing at this stack, with admin
// credentials.
func (s *Stack) Config(sec Secrets) (config.Config, error) {
	cfg := config.Default()
	if err := cfg.ApplyEnv(s.envLookup(sec)); err != nil {
		return config.Config{}, err
	}
	return cfg, cfg.Validate()
}

// envLookup looks a variable up in Env, as os.LookupEnv does in a shell
// that sourced env.sh.
func (s *Stack) envLookup(sec Secrets) func(string) (string, bool) {
	env := map[string]string{}
	for _, kv := range s.Env(sec) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// IdentityConfig is the weir configuration of this stack (what `weir`
// reads from env.sh) as one job identity (prefix WEIR_INIT_, WEIR_STREAM_,
// ...; see Env), or as the admin when the stack has none.
func (s *Stack) IdentityConfig(prefix string) (config.Config, error) {
	sec, err := s.loadSecrets()
	if err != nil {
		return config.Config{}, err
	}
	cfg, err := s.Config(sec)
	if err != nil {
		return config.Config{}, err
	}
	return cfg.ForIdentity(prefix, s.envLookup(sec))
}

// serviceSecrets maps each lakehouse service user to its generated secret.
func serviceSecrets(sec Secrets) map[string]string {
	return map[string]string{
		"weir-stream":   sec["S3_STREAM_SECRET"],
		"weir-batch":    sec["S3_BATCH_SECRET"],
		"weir-maintain": sec["S3_MAINTAIN_SECRET"],
		"weir-trino":    sec["S3_TRINO_SECRET"],
		"weir-alerts":   sec["S3_ALERTS_SECRET"],
	}
}

// bootstrapStorage prepares PostgreSQL and MinIO before anything reads them:
// databases, buckets, service users, and the catalog's namespaces (which also
// creates the V1 JDBC catalog tables Trino shares).
func (s *Stack) bootstrapStorage(ctx context.Context, sec Secrets) error {
	cfg, err := s.Config(sec)
	if err != nil {
		return err
	}
	if err := s.createDatabases(ctx, sec); err != nil {
		return err
	}
	// The buckets and the services' MinIO users and policies, as
	// weir init --storage makes them for compose and Helm. A distributed
	// MinIO that just reported write quorum can still stall its first
	// requests while peers finish connecting: EnsureStorage bounds each try.
	users := objectstore.ServiceUsers(cfg.S3, cfg.Catalog.Warehouse, serviceSecrets(sec))
	tier := objectstore.TierAccess{AdminAccessKey: ArchiveRootUser, AdminSecretKey: sec["MINIO_ARCHIVE_ROOT_PASSWORD"], UserSecretKey: sec["S3_TIER_SECRET"]}
	if err := objectstore.EnsureStorage(ctx, cfg.S3, users, tier, 4*time.Minute); err != nil {
		return err
	}
	lh, err := lakehouse.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer lh.Close()
	return lh.EnsureNamespaces(ctx)
}

// bootstrapServices checks that Trino sees the catalog and, in the cluster
// profile, that every worker has joined.
func (s *Stack) bootstrapServices(ctx context.Context, sec Secrets) error {
	return s.waitTrino(ctx, sec)
}

// WaitTrino waits (90 s at most) until every Trino node of the profile is
// active and the coordinator sees the catalog's namespaces: after a
// coordinator restart, the workers announce themselves again.
func (s *Stack) WaitTrino(ctx context.Context) error {
	sec, err := s.loadSecrets()
	if err != nil {
		return err
	}
	return s.waitTrino(ctx, sec)
}

func (s *Stack) waitTrino(ctx context.Context, sec Secrets) error {
	db, err := trino.Open(config.Trino{URL: s.trinoURL(sec, "weir"), Catalog: "iceberg"})
	if err != nil {
		return err
	}
	defer db.Close()
	want := len(s.trinoNodes())
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := wait.Until(wctx, time.Second, func(ctx context.Context) error { return trinoReady(ctx, db, want) }); err != nil {
		return fmt.Errorf("trino not ready: %w", err)
	}
	return nil
}

func trinoReady(ctx context.Context, db *sql.DB, nodes int) error {
	var active int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'").Scan(&active); err != nil {
		return err
	}
	if active < nodes {
		return fmt.Errorf("%d of %d trino nodes active", active, nodes)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM iceberg.information_schema.schemata WHERE schema_name IN ('bronze', 'silver', 'gold', 'archive')").Scan(&n); err != nil {
		return err
	}
	if n != len(lakehouse.Namespaces) {
		return fmt.Errorf("trino sees %d of %d weir schemas", n, len(lakehouse.Namespaces))
	}
	return nil
}
