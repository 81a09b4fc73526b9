package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const pgPort = 15432

// pgBin finds the machine's PostgreSQL server binaries.
func pgBin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	return name
}

func (s *Stack) postgres(sec Secrets) *service {
	data := s.path("data", "postgres")
	sock := s.path("run", "pgsock")
	return &service{
		name:         "postgres",
		group:        "storage",
		endpoint:     fmt.Sprintf("127.0.0.1:%d", s.port(pgPort)),
		listens:      []string{fmt.Sprintf("127.0.0.1:%d", s.port(pgPort))},
		argv:         []string{pgBin("postgres"), "-D", data},
		runAs:        "postgres",
		stopSignal:   syscall.SIGINT, // fast shutdown
		startTimeout: 60 * time.Second,
		prepare: func(ctx context.Context) error {
			if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err == nil {
				return nil
			}
			return s.initPostgres(ctx, data, sock, sec["PG_PASSWORD"])
		},
		healthy: func(ctx context.Context) error {
			conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", PGUser, sec["PG_PASSWORD"], s.port(pgPort)))
			if err != nil {
				return err
			}
			return conn.Close(ctx)
		},
	}
}

func (s *Stack) initPostgres(ctx context.Context, data, sock, password string) error {
	for _, d := range []string{data, sock} {
		// Parents stay traversable for the postgres user.
		if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	pwfile := s.path("run", "pgpass.tmp")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: the data belongs to "postgres".
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{data, sock, pwfile} {
			if err := os.Chown(p, uid, gid); err != nil {
				return err
			}
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	cmd := exec.CommandContext(ctx, pgBin("initdb"), "-D", data, "-U", PGUser, "--pwfile="+pwfile,
		"--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-locale")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, tail(out))
	}
	conf := fmt.Sprintf(`
# weir local stack
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
max_connections = 300
shared_buffers = 256MB
logging_collector = off
log_min_messages = warning
`, s.port(pgPort), sock)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(conf)
	return err
}

// pgDatabases are created by the bootstrap: the Iceberg JDBC catalog and
// the scheduler's store.
var pgDatabases = []string{"iceberg_catalog", "weir_scheduler"}

func (s *Stack) createDatabases(ctx context.Context, sec Secrets) error {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", PGUser, sec["PG_PASSWORD"], s.port(pgPort)))
	if err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') THEN CREATE ROLE %s LOGIN; END IF;
	END $$`, PGReader, PGReader)); err != nil {
		return fmt.Errorf("create role %s: %w", PGReader, err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD %s", PGReader, quoteLiteral(sec["PG_READER_PASSWORD"]))); err != nil {
		return fmt.Errorf("set %s password: %w", PGReader, err)
	}
	for _, db := range pgDatabases {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
				return fmt.Errorf("create database %s: %w", db, err)
			}
		}
	}
	return s.grantReader(ctx, sec)
}

// PGReader is the read-only role Trino's "scheduler" catalog logs in as.
const PGReader = "weir_reader"

// grantReader lets PGReader read the scheduler's tables, present and future.
func (s *Stack) grantReader(ctx context.Context, sec Secrets) error {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/weir_scheduler?sslmode=disable", PGUser, sec["PG_PASSWORD"], s.port(pgPort)))
	if err != nil {
		return fmt.Errorf("connect weir_scheduler: %w", err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"GRANT CONNECT ON DATABASE weir_scheduler TO " + PGReader,
		"GRANT USAGE ON SCHEMA public TO " + PGReader,
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + PGReader,
		"ALTER DEFAULT PRIVILEGES FOR ROLE " + PGUser + " IN SCHEMA public GRANT SELECT ON TABLES TO " + PGReader,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
