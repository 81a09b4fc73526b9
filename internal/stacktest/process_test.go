package stacktest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A child started by Start logs to its file, is signalled as a group,
// stops cleanly on SIGTERM when it handles it, and ends by SIGKILL on Kill.
func TestProcess(t *testing.T) {
	script := `trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done`
	p := Start(t, exec.Command("sh", "-c", script), filepath.Join(t.TempDir(), "sh.log"))
	p.WaitLog(t, "ready", 10*time.Second)
	p.Stop(t, 10*time.Second)
	if p.Err() != nil || !strings.Contains(p.Output(), "bye") {
		t.Fatalf("stop: err %v, log %q", p.Err(), p.Output())
	}

	q := Start(t, exec.Command("sh", "-c", `trap '' TERM; echo ready; while :; do sleep 0.05; done`), filepath.Join(t.TempDir(), "q.log"))
	q.WaitLog(t, "ready", 10*time.Second)
	if err := q.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	q.Kill()
	if !KilledBySIGKILL(q.Err()) {
		t.Fatalf("kill: %v, want SIGKILL", q.Err())
	}
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, 10*time.Second, time.Millisecond, func() (bool, error) { n++; return n == 3, nil },
		func() string { return "never" })
	if n != 3 {
		t.Fatalf("checked %d times, want 3", n)
	}
}

func TestID(t *testing.T) {
	a, b := ID("it"), ID("it")
	if a == b || a[:2] != "it" {
		t.Fatalf("ID: %q, %q", a, b)
	}
}
