package localstack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestInitPostgresAtomic: a half data directory left by a killed initdb is
// thrown away, and the data directory appears only whole. As root the
// files go to a stand-in for the postgres user's home, owned by postgres.
func TestInitPostgresAtomic(t *testing.T) {
	if _, err := exec.LookPath(pgBin("initdb")); err != nil {
		t.Fatalf("no PostgreSQL binaries (%s): the stack needs them; .ci/run installs them", pgBin("initdb"))
	}
	s := testStack(t)
	pgUserHome := ""
	if os.Geteuid() == 0 {
		// t.TempDir is private; the postgres user must reach the home.
		base, err := os.MkdirTemp("", "weir-pghome-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(base) })
		if err := os.Chmod(base, 0o711); err != nil {
			t.Fatal(err)
		}
		pgUserHome = base
	}
	l := pgLayoutFor(s.Dir, pgUserHome)
	half := l.data + ".init"
	if err := os.MkdirAll(half, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(half, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.preparePostgres(context.Background(), l, "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Errorf("%s still there after init: %v", half, err)
	}
	if _, err := os.Stat(l.pwfile); !os.IsNotExist(err) {
		t.Errorf("password file %s left after init", l.pwfile)
	}
	for _, f := range []string{"PG_VERSION", "global/pg_control", "postgresql.conf"} {
		if _, err := os.Stat(filepath.Join(l.dataLink, f)); err != nil {
			t.Errorf("data directory, through the stack's path: %v", err)
		}
	}
	fi, err := os.Stat(l.data)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, want 0700", fi.Mode().Perm())
	}
	if cred, _ := pgCredential(); cred != nil {
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != cred.Uid {
			t.Errorf("data directory owned by uid %d, want postgres (%d)", st.Uid, cred.Uid)
		}
	}
}
