package goldtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"weir/internal/stacktest"
)

// DemoData fills the stack's gold views the way a user does, when they are
// empty: it runs `weir demo` over 6 h of generated traffic
// (about a minute). A test that reads the demo's data calls it first, so it
// passes alone on a new stack and in any order, not only after jobs/demo.
func DemoData(t testing.TB, empty bool) {
	t.Helper()
	if !empty {
		return
	}
	bin := stacktest.Weir(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "demo", "--history", "6h", "--rate", "2", "--anomaly-every", "1h",
		"--work-dir", filepath.Join(dir, "demo"))
	cmd.Dir = stacktest.ModuleRoot(t) // the demo reads dags/ and sql/ from there
	cmd.Env = os.Environ()
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("weir demo: %v\n%s", err, out)
	}
	t.Logf("gold views were empty: filled by weir demo in %s", time.Since(start).Round(time.Second))
}
