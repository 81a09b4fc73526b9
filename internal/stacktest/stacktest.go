// Package stacktest is the one harness of weir's integration tests on the
// local stack: the weir binary built once per test process, a namespace and
// topic prefix of each test's own, the stack's environment and handles
// (config, localstack.FromEnv, a fresh scheduler schema), weir processes
// started and stopped through package proc, and the common waits
// (wait.Until) and Kafka accounting. Nothing here is a fake: it talks to
// the running stack. Production code never imports it.
package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"weir/config"
	"weir/localstack"
	"weir/wait"
)

// Main runs the package's tests and removes what the harness left (the
// weir binary it built): call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that does more: it returns m.Run's code after
// removing the harness's files.
func Run(m *testing.M) int {
	code := m.Run()
	cleanupBuild()
	return code
}

// ModuleRoot is the directory of weir's go.mod, found above the working
// directory (a test runs in its package's directory).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ExportEnv sets the stack's variables (.stack/env.sh) in this process
// unless the caller sourced them: config.Load and the weir processes a test
// starts read them.
func ExportEnv(t testing.TB) {
	t.Helper()
	if err := localstack.ExportEnv(); err != nil {
		t.Fatal(err)
	}
}

// Config is weir's configuration for the stack of the environment.
func Config(t testing.TB) config.Config {
	t.Helper()
	ExportEnv(t)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg
}

// Stack is the local stack the environment points at (localstack.FromEnv),
// for tests that stop and start its services.
func Stack(t testing.TB) *localstack.Stack {
	t.Helper()
	ExportEnv(t)
	st, err := localstack.FromEnv(os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// ID is a name no other test run uses: prefix, the time of day in seconds
// and eight random hex digits ("t" when prefix is empty). It is a valid
// Kafka topic part, Iceberg namespace part and SQL identifier.
func ID(prefix string) string {
	if prefix == "" {
		prefix = "t"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s%d%s", prefix, time.Now().Unix()%1_000_000, hex.EncodeToString(b))
}

// Namespace is a namespace prefix of the test's own: namespaces named
// <Namespace>_bronze, … do not meet another test's.
func Namespace(t testing.TB) string { return ID("t") }

// TopicPrefix is a topic prefix of the test's own (weir.test.<id>.): the
// weir jobs' --topic-prefix, so a running pipeline is not disturbed.
func TopicPrefix(t testing.TB) string { return "weir.test." + ID("") + "." }

// SchedulerDSN creates a fresh schema in the stack's scheduler database and
// returns a DSN whose search_path selects it; the schema is dropped after
// the test (kept when WEIR_TEST_KEEP_SCHEMA is set).
func SchedulerDSN(t testing.TB, database string) string {
	t.Helper()
	ctx := context.Background()
	u, err := url.Parse(database)
	if err != nil {
		t.Fatalf("scheduler database: %v", err)
	}
	conn, err := pgx.Connect(ctx, database)
	if err != nil {
		t.Fatalf("connect to the scheduler database %s (is the local stack up?): %v", u.Redacted(), err)
	}
	schema := "test_" + ID("")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if os.Getenv("WEIR_TEST_KEEP_SCHEMA") == "" {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		}
		_ = conn.Close(context.Background())
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Eventually calls check at once and then every interval until it reports
// done; it fails the test when check returns an error, and with the message
// what() returns when timeout passes first.
func Eventually(t testing.TB, timeout, interval time.Duration, check func() (bool, error), what func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	errNotYet := errors.New("not yet")
	err := wait.Until(ctx, interval, func(context.Context) error {
		done, err := check()
		switch {
		case err != nil:
			return wait.Stop(err)
		case !done:
			return errNotYet
		}
		return nil
	})
	switch {
	case err == nil:
	case errors.Is(err, errNotYet):
		t.Fatal(what())
	default:
		t.Fatal(err)
	}
}

// FreeAddr is a loopback address nothing listens on (at the moment), for a
// server a test starts.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
