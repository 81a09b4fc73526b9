package localstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"weir/services/postgres"
	"weir/trino"
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
	l := s.pgLayout()
	return &service{
		name:     "postgres",
		group:    "storage",
		endpoint: fmt.Sprintf("127.0.0.1:%d", s.port(pgPort)),
		listens:  []string{fmt.Sprintf("127.0.0.1:%d", s.port(pgPort))},
		// weir.stack_dir is an inert custom setting: it puts the stack
		// directory on the command line, which is how Processes and Down
		// know the server is this stack's when its data lives elsewhere.
		argv:         []string{pgBin("postgres"), "-D", l.data, "-c", "weir.stack_dir=" + s.Dir},
		runAs:        "postgres",
		stopSignal:   syscall.SIGINT, // fast shutdown
		startTimeout: 60 * time.Second,
		prepare: func(ctx context.Context) error {
			return s.preparePostgres(ctx, l, sec["PG_PASSWORD"])
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

// pgLayout is where PostgreSQL's files are. Run by root, PostgreSQL runs
// as the postgres user, which cannot reach a stack directory in a private
// home (or any 0700 directory), and weir does not loosen the user's
// permissions to let it. The data directory, the socket directory and the
// password file for initdb then live in a directory the postgres user owns,
// ~postgres/weir-pg-<hash of the stack directory> (0700), linked from the
// stack directory so its paths still lead to them.
type pgLayout struct {
	home     string // the postgres user's directory for this stack; "" when all is in the stack directory
	data     string // PGDATA
	sock     string // unix_socket_directories
	pwfile   string // initdb's password file, removed after initdb
	dataLink string // the stack directory's names for data and sock, linked when home is set
	sockLink string
}

// pgHomePrefix names the per-stack directories under ~postgres.
const pgHomePrefix = "weir-pg-"

// pgLayoutFor places PostgreSQL's files for the stack in stackDir: under
// pgUserHome when that is set (weir runs as root), else in the stack
// directory itself.
func pgLayoutFor(stackDir, pgUserHome string) pgLayout {
	l := pgLayout{
		dataLink: filepath.Join(stackDir, "data", "postgres"),
		sockLink: filepath.Join(stackDir, "run", "pgsock"),
	}
	if pgUserHome == "" {
		l.data, l.sock, l.pwfile = l.dataLink, l.sockLink, filepath.Join(stackDir, "run", "pgpass.tmp")
		return l
	}
	sum := sha256.Sum256([]byte(stackDir))
	l.home = filepath.Join(pgUserHome, pgHomePrefix+hex.EncodeToString(sum[:6]))
	l.data = filepath.Join(l.home, "data")
	l.sock = filepath.Join(l.home, "sock")
	l.pwfile = filepath.Join(l.home, "pgpass.tmp")
	return l
}

func (s *Stack) pgLayout() pgLayout {
	if os.Geteuid() != 0 {
		return pgLayoutFor(s.Dir, "")
	}
	// A stack started by an earlier weir keeps its data directory where it is.
	if fi, err := os.Lstat(s.path("data", "postgres")); err == nil && fi.IsDir() {
		return pgLayoutFor(s.Dir, "")
	}
	u, err := user.Lookup("postgres")
	if err != nil || u.HomeDir == "" {
		// preparePostgres reports the missing user.
		return pgLayoutFor(s.Dir, "")
	}
	return pgLayoutFor(s.Dir, u.HomeDir)
}

// pgCredential is the postgres user that PostgreSQL runs as when weir runs
// as root (it refuses to run as root), or nil.
func pgCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// mkdirOwned creates dir (0700) and gives it to cred's user.
func mkdirOwned(dir string, cred *syscall.Credential) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if cred == nil {
		return nil
	}
	return os.Chown(dir, int(cred.Uid), int(cred.Gid))
}

// preparePostgres makes the directories (and, as root, the links to them)
// and initialises the data directory if it has none yet.
func (s *Stack) preparePostgres(ctx context.Context, l pgLayout, password string) error {
	cred, err := pgCredential()
	if err != nil {
		return err
	}
	if l.home != "" {
		if err := mkdirOwned(l.home, cred); err != nil {
			return err
		}
		// Tells an Up of another stack whether this directory is orphaned.
		if err := os.WriteFile(filepath.Join(l.home, "stack-dir"), []byte(s.Dir+"\n"), 0o600); err != nil {
			return err
		}
		for _, link := range [][2]string{{l.data, l.dataLink}, {l.sock, l.sockLink}} {
			if err := symlink(link[0], link[1]); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(l.data), 0o755); err != nil {
		return err
	}
	if err := mkdirOwned(l.sock, cred); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(l.data, "PG_VERSION")); err == nil {
		return nil
	}
	return s.initPostgres(ctx, l, password, cred)
}

// symlink makes link point at target, replacing a link that points
// elsewhere.
func symlink(target, link string) error {
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	os.Remove(link)
	return os.Symlink(target, link)
}

// initPostgres runs initdb into a temporary directory and renames it into
// place, so a killed initdb never leaves a half data directory that a later
// start would take for a whole one.
func (s *Stack) initPostgres(ctx context.Context, l pgLayout, password string, cred *syscall.Credential) error {
	tmp := l.data + ".init"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.WriteFile(l.pwfile, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(l.pwfile)
	if cred != nil {
		if err := os.Chown(l.pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
		// initdb, running as postgres, creates tmp in a directory it owns.
		if err := mkdirOwned(tmp, cred); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, pgBin("initdb"), "-D", tmp, "-U", PGUser, "--pwfile="+l.pwfile,
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
`, s.port(pgPort), l.sock)
	f, err := os.OpenFile(filepath.Join(tmp, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, l.data)
}

// removePGHome deletes the postgres user's directory of this stack (its
// database): what Remove does after Down.
func (s *Stack) removePGHome() error {
	l := s.pgLayout()
	if l.home == "" {
		return nil
	}
	return os.RemoveAll(l.home)
}

// pruneOrphanPGHomes removes the postgres user's weir-pg-* directories whose
// stack directory no longer exists and no process of which still runs: the
// stack was deleted without weir stack down.
func (s *Stack) pruneOrphanPGHomes() {
	l := s.pgLayout()
	if l.home == "" {
		return
	}
	homes, _ := filepath.Glob(filepath.Join(filepath.Dir(l.home), pgHomePrefix+"*"))
	for _, h := range homes {
		b, err := os.ReadFile(filepath.Join(h, "stack-dir"))
		if err != nil {
			continue
		}
		dir := strings.TrimSpace(string(b))
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if len((&Stack{Dir: dir}).Processes()) > 0 {
			continue
		}
		if err := os.RemoveAll(h); err == nil {
			s.logf("  postgres       removed %s (its stack %s is gone)", h, dir)
		}
	}
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
	if err := s.applyRoles(ctx, conn, sec); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') THEN CREATE ROLE %s LOGIN; END IF;
	END $$`, PGReader, PGReader)); err != nil {
		return fmt.Errorf("create role %s: %w", PGReader, err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD %s", PGReader, trino.String(sec["PG_READER_PASSWORD"]))); err != nil {
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

// pgRolesMarker, in the stack directory, says that the stack's PostgreSQL
// has the per-service roles of services/postgres/roles.sql: env.sh then
// carries each job's own identity, and Trino signs in as its role.
const pgRolesMarker = "pg-roles"

// pgRoles reports whether the stack's PostgreSQL has the per-service roles.
func (s *Stack) pgRoles() bool {
	_, err := os.Stat(s.path(pgRolesMarker))
	return err == nil
}

// applyRoles runs services/postgres/roles.sql, the compose stack's roles,
// databases and grants, on a new server (psql, as the superuser, with the
// passwords in its environment only). A stack created before the roles
// existed keeps its databases and the superuser for every job: it says so.
func (s *Stack) applyRoles(ctx context.Context, conn *pgx.Conn, sec Secrets) error {
	var roles, catalog bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'iceberg_owner'),
		EXISTS (SELECT 1 FROM pg_database WHERE datname = 'iceberg_catalog')`).Scan(&roles, &catalog); err != nil {
		return fmt.Errorf("look for weir's roles: %w", err)
	}
	switch {
	case roles:
		return writeFile(s.path(pgRolesMarker), "services/postgres/roles.sql applied\n", 0o644)
	case catalog:
		s.logf("  postgres       this stack predates per-service roles: every job signs in as the superuser (make down, remove %s for a new one)", s.Dir)
		return nil
	}
	env := append(os.Environ(), "PGPASSWORD="+sec["PG_PASSWORD"], "PGCONNECT_TIMEOUT=10")
	for role, name := range postgres.RolePasswordEnv {
		env = append(env, name+"="+pgRolePassword(sec, role))
	}
	cmd := exec.CommandContext(ctx, pgBin("psql"), "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "-q",
		"-h", "127.0.0.1", "-p", strconv.Itoa(s.port(pgPort)), "-U", PGUser, "-d", "postgres", "-f", "-")
	cmd.Env, cmd.Stdin = env, strings.NewReader(postgres.RolesSQL)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("run services/postgres/roles.sql: %w\n%s", err, tail(out))
	}
	return writeFile(s.path(pgRolesMarker), "services/postgres/roles.sql applied\n", 0o644)
}

// pgRolePassword is the generated password of a login role of roles.sql.
func pgRolePassword(sec Secrets, role string) string {
	if role == PGReader {
		return sec["PG_READER_PASSWORD"]
	}
	return sec[postgres.RolePasswordEnv[role]]
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
