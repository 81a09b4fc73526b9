//go:build integration

package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"weir/internal/browser"
)

// TestBrowserTriggerAndWatchRun opens the UI in headless Chromium, clicks
// Trigger on the DAG list, watches the run turn green in the grid, opens a
// task's log, and saves screenshots of both pages.
func TestBrowserTriggerAndWatchRun(t *testing.T) {
	f := newFixture(t, map[string]string{"hello.yaml": helloDAG})
	ctx := browser.Open(t, 1280, 900, 90*time.Second)

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
	browser.Save(t, "scheduler-grid.png", grid)

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
	browser.Save(t, "scheduler-task-log.png", page)
	if taskState != "success" || !strings.Contains(log, "hello nobody") || !strings.Contains(log, "done") {
		t.Errorf("task %s, log:\n%s", taskState, log)
	}
}
