//go:build integration

package localstack_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/minio/minio-go/v7"

	"weir/config"
	"weir/internal/stacktest"
	"weir/objectstore"
)

// TestStackFilesWithSecretsArePrivate: every file of the stack directory
// that holds one of the stack's generated secrets (env.sh, secrets.env,
// Trino's catalog files, Alertmanager's password file, and any other) is
// readable by its owner alone.
func TestStackFilesWithSecretsArePrivate(t *testing.T) {
	dir := os.Getenv("WEIR_STACK_DIR")
	if dir == "" {
		t.Skip("WEIR_STACK_DIR is not set: source the stack's env.sh")
	}
	secrets := stackSecrets(t, dir)
	var holders []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		// The services' own state (PostgreSQL keeps hashes, MinIO its
		// encrypted IAM) and the download cache are not weir's files.
		if d.IsDir() && (rel == "data" || rel == "cache") {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.Size() > 64<<20 {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // a file a service just replaced
		}
		for name, v := range secrets {
			if bytes.Contains(b, []byte(v)) {
				holders = append(holders, rel)
				if perm := fi.Mode().Perm(); perm&0o077 != 0 {
					t.Errorf("%s holds %s with mode %v, want no access for group and others (0600)", rel, name, perm)
				}
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"secrets.env", "env.sh", filepath.Join("etc", "trino", "catalog", "iceberg.properties")} {
		found := false
		for _, h := range holders {
			found = found || h == want
		}
		if !found {
			t.Errorf("%s does not hold a secret: the test looked in the wrong place (found %v)", want, holders)
		}
	}
}

// stackSecrets reads <dir>/secrets.env.
func stackSecrets(t *testing.T, dir string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "secrets.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sec := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && len(v) >= 16 {
			sec[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(sec) == 0 {
		t.Fatal("secrets.env holds no secret")
	}
	return sec
}

// TestJobIdentitiesAreLeastPrivilege: the identities env.sh gives the jobs
// (WEIR_STREAM_*, WEIR_BATCH_*, WEIR_ALERTS_*, WEIR_INIT_*; weir demo starts
// each job with its own) reach what their job needs and nothing else: the
// stream job writes bronze but not silver and drops no bucket, the batch
// jobs cannot rewrite bronze, no PostgreSQL role of a job is a superuser or
// can create roles or databases or drop the catalog's tables, and the
// dashboards' reader writes nothing.
func TestJobIdentitiesAreLeastPrivilege(t *testing.T) {
	admin, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	as := func(prefix string) config.Config {
		t.Helper()
		if os.Getenv(prefix+"S3_ACCESS_KEY") == "" {
			t.Fatalf("%sS3_ACCESS_KEY is not set: the stack's env.sh gives the jobs no identity of their own", prefix)
		}
		cfg, err := admin.ForIdentity(prefix, os.LookupEnv)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.S3.AccessKey == admin.S3.AccessKey || cfg.Catalog.URI == admin.Catalog.URI {
			t.Fatalf("identity %s signs in as the admin", prefix)
		}
		return cfg
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := stacktest.ID("")
	lake := strings.TrimPrefix(admin.Catalog.Warehouse, "s3://"+admin.S3.Bucket+"/")
	probe := func(ns string) string { return lake + "/" + ns + "/identity-probe-" + id }

	stream, batch, alerts := as("WEIR_STREAM_"), as("WEIR_BATCH_"), as("WEIR_ALERTS_")
	initCfg := as("WEIR_INIT_")

	t.Run("s3", func(t *testing.T) {
		cases := []struct {
			who     string
			cfg     config.Config
			bucket  string
			key     string
			allowed bool
		}{
			{"stream", stream, admin.S3.Bucket, probe("bronze"), true},
			{"stream", stream, admin.S3.Bucket, probe("silver"), false},
			{"stream", stream, admin.S3.ArchiveBucket, "identity-probe-" + id, false},
			{"batch", batch, admin.S3.Bucket, probe("bronze"), false},
			{"batch", batch, admin.S3.Bucket, probe("silver"), true},
			{"alerts", alerts, admin.S3.Bucket, probe("silver"), false},
			{"alerts", alerts, admin.S3.Bucket, probe("bronze"), false},
		}
		for _, tc := range cases {
			c, err := objectstore.NewS3(tc.cfg.S3)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.PutObject(ctx, tc.bucket, tc.key, strings.NewReader("probe"), 5, minio.PutObjectOptions{})
			switch {
			case tc.allowed && err != nil:
				t.Errorf("%s put %s/%s: %v, want allowed", tc.who, tc.bucket, tc.key, err)
			case !tc.allowed && !accessDenied(err):
				t.Errorf("%s put %s/%s: %v, want AccessDenied", tc.who, tc.bucket, tc.key, err)
			}
			if err == nil {
				if err := c.RemoveObject(ctx, tc.bucket, tc.key, minio.RemoveObjectOptions{}); err != nil {
					t.Errorf("%s remove its own %s/%s: %v", tc.who, tc.bucket, tc.key, err)
				}
			}
		}
		for who, cfg := range map[string]config.Config{"stream": stream, "batch": batch, "alerts": alerts, "init": initCfg} {
			c, err := objectstore.NewS3(cfg.S3)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.RemoveBucket(ctx, admin.S3.ArchiveBucket); !accessDenied(err) {
				t.Errorf("%s removes bucket %s: %v, want AccessDenied", who, admin.S3.ArchiveBucket, err)
			}
			if err := c.MakeBucket(ctx, "weir-probe-"+strings.ToLower(id), minio.MakeBucketOptions{Region: cfg.S3.Region}); !accessDenied(err) {
				t.Errorf("%s makes a bucket: %v, want AccessDenied", who, err)
			}
		}
	})

	t.Run("postgres", func(t *testing.T) {
		for who, cfg := range map[string]config.Config{"stream": stream, "batch": batch, "alerts": alerts, "init": initCfg} {
			conn, err := pgx.Connect(ctx, cfg.Catalog.URI)
			if err != nil {
				t.Fatalf("%s connects to the catalog: %v", who, err)
			}
			var tables int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM iceberg_tables").Scan(&tables); err != nil {
				t.Errorf("%s reads the catalog: %v", who, err)
			}
			for _, q := range []string{
				"CREATE ROLE weir_probe_" + strings.ToLower(id),
				"CREATE DATABASE weir_probe_" + strings.ToLower(id),
				"DROP TABLE iceberg_tables",
				"ALTER TABLE iceberg_namespace_properties ADD COLUMN probe int",
			} {
				if _, err := conn.Exec(ctx, q); !pgDenied(err) {
					t.Errorf("%s: %s: %v, want permission denied", who, q, err)
				}
			}
			conn.Close(ctx)
		}
		// The alert job's own database is its own; the scheduler's is not.
		u := strings.Replace(alerts.Catalog.URI, "/iceberg_catalog", "/weir_scheduler", 1)
		if conn, err := pgx.Connect(ctx, u); err == nil {
			conn.Close(ctx)
			t.Errorf("the alert job's role connects to the scheduler's database")
		}

		conn, err := pgx.Connect(ctx, admin.Catalog.URI)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT rolname FROM pg_roles
			WHERE rolname IN ('weir_init', 'weir_stream', 'weir_batch', 'weir_alerts', 'weir_scheduler', 'trino', 'weir_reader')
			AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls)`)
		if err != nil {
			t.Fatal(err)
		}
		powerful, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(powerful) > 0 {
			t.Errorf("roles with superuser, createrole, createdb or bypassrls: %v", powerful)
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname IN
			('weir_init', 'weir_stream', 'weir_batch', 'weir_alerts', 'weir_scheduler', 'trino', 'weir_reader')`).Scan(&n); err != nil || n != 7 {
			t.Errorf("%d of 7 service roles exist (%v)", n, err)
		}
	})

	t.Run("trino catalog", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(os.Getenv("WEIR_STACK_DIR"), "etc", "trino", "catalog", "iceberg.properties"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "iceberg.jdbc-catalog.connection-user=trino\n") {
			t.Errorf("Trino's catalog does not sign in as its role trino:\n%s", b)
		}
	})
}

func accessDenied(err error) bool {
	return err != nil && minio.ToErrorResponse(err).Code == "AccessDenied"
}

func pgDenied(err error) bool {
	var pe *pgconn.PgError
	// 42501 insufficient_privilege; 42P07 would mean the probe ran.
	return errors.As(err, &pe) && pe.Code == "42501"
}
