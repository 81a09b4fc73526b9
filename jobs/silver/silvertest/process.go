package silvertest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var weirBuild struct {
	once sync.Once
	path string
	err  error
}

// Weir returns the weir binary, built once per test binary from this
// module, for tests that run a batch job as a real process (and kill it).
func Weir(t testing.TB) string {
	t.Helper()
	weirBuild.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			weirBuild.err = err
			return
		}
		dir, err := os.MkdirTemp("", "weir-batch-it")
		if err != nil {
			weirBuild.err = err
			return
		}
		weirBuild.path = filepath.Join(dir, "weir")
		cmd := exec.Command("go", "build", "-o", weirBuild.path, "./cmd/weir")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			weirBuild.err = fmt.Errorf("build weir: %v\n%s", err, out)
		}
	})
	if weirBuild.err != nil {
		t.Fatal(weirBuild.err)
	}
	return weirBuild.path
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

// NamespaceArgs are the batch commands' flags for the env's namespaces.
func (e *Env) NamespaceArgs() []string {
	return []string{"--bronze-namespace", e.NS.Bronze, "--silver-namespace", e.NS.Silver, "--archive-namespace", e.NS.Archive}
}

// KilledBySIGKILL reports whether a process ended by SIGKILL.
func KilledBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
