//go:build integration

package dashboard

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"weir/config"
	"weir/internal/browser"
	"weir/jobs/gold/goldtest"
	"weir/services/grafana"
)

// TestDashboardsPageDrawsEveryPanel opens weir's Dashboards page in
// headless Chromium for every provisioned dashboard (the embedded JSON
// Grafana loads), over the last week of demo data and two DAG runs, and
// checks that every panel drew data: no error, no empty panel, charts with
// painted canvases, tables with rows. It saves a screenshot of each.
func TestDashboardsPageDrawsEveryPanel(t *testing.T) {
	db := openGold(t)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	goldtest.DAGRuns(t, cfg)
	ds, err := LoadFS(grafana.Dashboards())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	NewViewer(ds, db, slog.Default()).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browser.Open(t, 1600, 1200, 10*time.Minute)
	var list int
	if err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboards/"),
		chromedp.Evaluate(`document.querySelectorAll("#dashboards a").length`, &list),
	); err != nil {
		t.Fatal(err)
	}
	if list != len(ds) {
		t.Errorf("the list links %d dashboards, want %d", list, len(ds))
	}

	for _, d := range ds {
		t.Run(d.UID, func(t *testing.T) {
			// The page asks for the range the way Grafana's URLs do; a
			// second past now keeps the runs that just ended inside it.
			url := srv.URL + "/dashboards/" + d.UID + "?from=now-7d&to=" + time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
			var pending int
			if err := chromedp.Run(ctx, chromedp.Navigate(url), chromedp.WaitVisible("#panels", chromedp.ByID)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Minute)
			for {
				if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("section.panel:not([data-state])").length`, &pending)); err != nil {
					t.Fatal(err)
				}
				if pending == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d panels still drawing after 3 minutes", pending)
				}
				time.Sleep(500 * time.Millisecond)
			}
			var panels []struct {
				Title   string `json:"title"`
				Type    string `json:"type"`
				State   string `json:"state"`
				Text    string `json:"text"`
				Painted int    `json:"painted"`
				Points  int    `json:"points"`
				Rows    int    `json:"rows"`
			}
			// painted counts the pixels of the panel's canvases that are not
			// transparent, points the data points its chart was given; rows
			// the body rows of its table.
			if err := chromedp.Run(ctx, chromedp.Evaluate(`Array.from(document.querySelectorAll("section.panel")).map(function (el) {
				var painted = 0;
				el.querySelectorAll("canvas").forEach(function (c) {
					var px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
					for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
				});
				return {title: el.dataset.title, type: el.dataset.type, state: el.dataset.state,
					text: el.querySelector(".body").innerText.slice(0, 300), painted: painted,
					rows: el.querySelectorAll("tbody tr").length, points: Number(el.dataset.points || 0)};
			})`, &panels)); err != nil {
				t.Fatal(err)
			}
			if len(panels) == 0 {
				t.Fatal("no panels on the page")
			}
			for _, p := range panels {
				switch {
				case p.State != "ok":
					t.Errorf("panel %q (%s): %s: %s", p.Title, p.Type, p.State, p.Text)
				case p.Type == "timeseries" || p.Type == "barchart" || p.Type == "piechart":
					if p.Points == 0 || p.Painted < 1000 {
						t.Errorf("panel %q (%s): %d data points, %d painted pixels", p.Title, p.Type, p.Points, p.Painted)
					}
				case p.Type == "table":
					if p.Rows == 0 {
						t.Errorf("panel %q: table without rows", p.Title)
					}
				case p.Type == "stat":
					if p.Text == "" {
						t.Errorf("panel %q: stat shows nothing", p.Title)
					}
				}
			}
			var shot []byte
			if err := chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)); err != nil {
				t.Fatal(err)
			}
			browser.Save(t, "dashboard-"+d.UID+".png", shot)
		})
	}
}
