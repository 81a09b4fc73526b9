//go:build integration

package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the system browser (Debian package chromium). Without
// one the test is skipped, unless WEIR_REQUIRE_BROWSER=1 (CI) makes it fail.
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("WEIR_REQUIRE_BROWSER") == "1" {
		t.Fatal("no chromium on PATH (apt-get install -y chromium)")
	}
	t.Skip("no chromium on PATH; set WEIR_REQUIRE_BROWSER=1 to fail instead")
	return ""
}

// artifactDir is where screenshots go: $WEIR_TEST_ARTIFACTS, else
// scheduler/testdata/artifacts (git-ignored).
func artifactDir(t *testing.T) string {
	dir := os.Getenv("WEIR_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserTriggerAndWatchRun opens the UI in headless Chromium, clicks
// Trigger on the DAG list, watches the run turn green in the grid, opens a
// task's log, and saves screenshots of both pages.
func TestBrowserTriggerAndWatchRun(t *testing.T) {
	chrome := findChromium(t)
	f := newFixture(t, map[string]string{"hello.yaml": helloDAG})
	artifacts := artifactDir(t)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	var banner string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(f.url+"/"),
		chromedp.WaitVisible("#trigger-hello", chromedp.ByID),
		chromedp.Click("#trigger-hello", chromedp.ByID),
		chromedp.WaitVisible("#banner", chromedp.ByID),
		chromedp.Text("#banner", &banner, chromedp.ByID),
	); err != nil {
		t.Fatalf("trigger from the DAG list: %v", err)
	}
	if !strings.HasPrefix(banner, "triggered manual__") {
		t.Fatalf("banner %q", banner)
	}
	runID := strings.TrimPrefix(banner, "triggered ")

	// Reload the DAG page until the run's cell in the grid is green.
	deadline := time.Now().Add(30 * time.Second)
	sel := `.run-state[data-run="` + runID + `"]`
	for {
		var state string
		var ok bool
		if err := chromedp.Run(ctx,
			chromedp.Navigate(f.url+"/dags/hello"),
			chromedp.WaitVisible("#grid", chromedp.ByID),
			chromedp.AttributeValue(sel, "data-state", &state, &ok, chromedp.ByQuery),
		); err != nil {
			t.Fatalf("open the grid: %v", err)
		}
		if state == "success" {
			break
		}
		if state == "failed" || time.Now().After(deadline) {
			t.Fatalf("run %s is %q", runID, state)
		}
		time.Sleep(300 * time.Millisecond)
	}
	var grid []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&grid, 100)); err != nil {
		t.Fatal(err)
	}
	save(t, filepath.Join(artifacts, "scheduler-grid.png"), grid)

	var log, taskState string
	var page []byte
	if err := chromedp.Run(ctx,
		chromedp.Click(`a.cell[data-task="greet"][data-run="`+runID+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#log", chromedp.ByID),
		chromedp.Text("#log", &log, chromedp.ByID),
		chromedp.Text("#task-state", &taskState, chromedp.ByID),
		chromedp.FullScreenshot(&page, 100),
	); err != nil {
		t.Fatalf("open the task log: %v", err)
	}
	save(t, filepath.Join(artifacts, "scheduler-task-log.png"), page)
	if taskState != "success" || !strings.Contains(log, "hello nobody") || !strings.Contains(log, "done") {
		t.Errorf("task %s, log:\n%s", taskState, log)
	}
}

func save(t *testing.T, path string, png []byte) {
	t.Helper()
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}
