//go:build integration

package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/scheduler/store"
	"weir/services/alertmanager"
	"weir/wait"
)

// stackFixture serves the UI where the stack's Alertmanager posts its
// webhook (scheduler.listen) with the stack's generated sign-ins.
func stackFixture(t *testing.T) (*uiFixture, config.Config) {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	access := Access{OperatorPassword: cfg.Scheduler.OperatorPassword, ViewerPassword: cfg.Scheduler.ViewerPassword,
		ReceiverPassword: cfg.Scheduler.ReceiverPassword, Hosts: LoopbackHosts(cfg.Scheduler.Listen)}
	if access.ReceiverPassword == "" {
		t.Fatal("WEIR_SCHEDULER_RECEIVER_PASSWORD is not set: restart the stack (make down; make up) so env.sh has it")
	}
	return newFixtureOn(t, nil, cfg.Scheduler.Listen, access), cfg
}

// as returns the fixture's base URL signed in as user.
func (f *uiFixture) as(user, pass string) string {
	u, _ := url.Parse(f.srv.URL)
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u.String()
}

// postAlerts posts alerts to the stack's Alertmanager (API v2).
func postAlerts(t *testing.T, cfg config.Config, alerts ...map[string]any) {
	t.Helper()
	body, _ := json.Marshal(alerts)
	resp, err := http.Post(strings.TrimSuffix(cfg.Alertmanager.URL, "/")+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("post alerts to Alertmanager: %s %s", resp.Status, msg)
	}
}

// notificationsOf lists the stored notifications with an alert labelled
// test_run=run, oldest first.
func notificationsOf(t *testing.T, base, run string) []store.Notification {
	t.Helper()
	var list NotificationList
	if code := getJSON(t, base+"/api/v1/notifications", &list); code != http.StatusOK {
		t.Fatalf("GET /api/v1/notifications: %d", code)
	}
	var out []store.Notification
	for i := len(list.Notifications) - 1; i >= 0; i-- {
		n := list.Notifications[i]
		for _, a := range n.Alerts {
			if a.Labels["test_run"] == run {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// TestAlertmanagerWebhook: alerts posted to the stack's real Alertmanager
// (the shipped routing tree, rendered with the native stack's timers) reach
// the scheduler's webhook exactly once each, routed by source and severity,
// and so do their resolutions.
func TestAlertmanagerWebhook(t *testing.T) {
	f, cfg := stackFixture(t)
	viewer := f.as(UserViewer, cfg.Scheduler.ViewerPassword)
	run := rand.Text()
	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	pipeline := map[string]string{"alertname": "WeirWebhookTestPipeline", "source": "pipeline", "severity": "critical", "component": "stream", "test_run": run}
	business := map[string]string{"alertname": "weir_webhook_test_business", "severity": "warning", "kind": "test", "test_run": run}
	postAlerts(t, cfg,
		map[string]any{"labels": pipeline, "annotations": map[string]string{"summary": "stream job down"}, "startsAt": start},
		map[string]any{"labels": business, "startsAt": start})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// want: receiver → status the notification must have.
	await := func(want map[string]string) []store.Notification {
		t.Helper()
		var got []store.Notification
		err := wait.Until(ctx, 200*time.Millisecond, func(context.Context) error {
			got = notificationsOf(t, viewer, run)
			seen := map[string]bool{}
			for _, n := range got {
				if want[n.Receiver] == n.Status {
					seen[n.Receiver] = true
				}
			}
			if len(seen) < len(want) {
				return fmt.Errorf("%d of %d notifications: %+v", len(seen), len(want), got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	firing := await(map[string]string{"pipeline-critical": "firing", "business": "firing"})
	for _, n := range firing {
		if len(n.Alerts) != 1 || n.Alerts[0].Status != "firing" || !n.Alerts[0].StartsAt.Equal(start) {
			t.Errorf("firing notification %+v", n)
		}
		if n.Receiver == "pipeline-critical" && (n.GroupLabels["component"] != "stream" || n.Alerts[0].Annotations["summary"] != "stream job down") {
			t.Errorf("pipeline notification %+v", n)
		}
		if n.Receiver == "business" && n.GroupLabels["kind"] != "test" {
			t.Errorf("business notification grouped by %v, want alertname and kind", n.GroupLabels)
		}
	}

	end := time.Now().UTC().Truncate(time.Millisecond)
	postAlerts(t, cfg,
		map[string]any{"labels": pipeline, "startsAt": start, "endsAt": end},
		map[string]any{"labels": business, "startsAt": start, "endsAt": end})
	await(map[string]string{"pipeline-critical": "resolved", "business": "resolved"})
	// One more group interval (5 s on the native stack): nothing else comes.
	time.Sleep(6 * time.Second)
	all := notificationsOf(t, viewer, run)
	count := map[string]int{}
	for _, n := range all {
		count[n.Receiver+" "+n.Status]++
		if n.Status == "resolved" && !n.Alerts[0].EndsAt.Equal(end) {
			t.Errorf("resolution ends at %s, want %s", n.Alerts[0].EndsAt, end)
		}
	}
	for _, k := range []string{"pipeline-critical firing", "pipeline-critical resolved", "business firing", "business resolved"} {
		if count[k] != 1 {
			t.Errorf("%s: %d notifications, want exactly 1 (all: %v)", k, count[k], count)
		}
	}
	if len(all) != 4 {
		t.Errorf("%d notifications, want 4: %+v", len(all), all)
	}

	// The Notifications page shows them to a viewer.
	resp, err := http.Get(viewer + "/notifications")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "WeirWebhookTestPipeline") || !strings.Contains(string(page), "resolved") {
		t.Errorf("GET /notifications: %d\n%s", resp.StatusCode, page)
	}
}

// testNotifications are the stored notifications of alertA, newest first:
// the stack's Alertmanager may deliver other tests' alerts meanwhile.
func testNotifications(t *testing.T, st *store.Store) []store.Notification {
	t.Helper()
	all, err := st.Notifications(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Notification
	for _, n := range all {
		if n.Alerts[0].Fingerprint == "a1b2c3d4e5f60718" {
			out = append(out, n)
		}
	}
	return out
}

// TestWebhookDeliveredTwice: Alertmanager's retry of a delivery is counted,
// not stored again; a changed group is a new notification.
func TestWebhookDeliveredTwice(t *testing.T) {
	f, cfg := stackFixture(t)
	receiver := f.as(UserReceiver, cfg.Scheduler.ReceiverPassword)
	post := func(body string) map[string]any {
		t.Helper()
		resp, err := http.Post(receiver+alertmanager.WebhookPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST webhook: %s %v", resp.Status, out)
		}
		return out
	}
	first := post(amBody("firing", alertA))
	again := post(amBody("firing", alertA))
	resolved := post(amBody("resolved", alertAResolved))
	if first["stored"] != true || again["stored"] != false || again["id"] != first["id"] || resolved["stored"] != true {
		t.Fatalf("first %v, again %v, resolved %v", first, again, resolved)
	}
	ns := testNotifications(t, f.st)
	if len(ns) != 2 || ns[0].Status != "resolved" || ns[1].Deliveries != 2 || ns[0].Deliveries != 1 {
		t.Fatalf("stored %+v", ns)
	}
	// At least: the stack's Alertmanager may deliver other tests' alerts too.
	if stored, dup := notifiedMetric(t, f, "stored"), notifiedMetric(t, f, "duplicate"); stored < 2 || dup < 1 {
		t.Errorf("metrics: %v stored, %v duplicate; want ≥ 2, ≥ 1", stored, dup)
	}
}

// notifiedMetric reads weir_scheduler_notifications_received_total{outcome}
// from the fixture's /metrics.
func notifiedMetric(t *testing.T, f *uiFixture, outcome string) float64 {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	prefix := `weir_scheduler_notifications_received_total{outcome="` + outcome + `"} `
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /metrics", strings.TrimSpace(prefix))
	return 0
}

// TestWebhookAccess: the webhook takes the receiver's sign-in only, and
// that sign-in reads nothing.
func TestWebhookAccess(t *testing.T) {
	f, cfg := stackFixture(t)
	sc := cfg.Scheduler
	body := amBody("firing", alertA)
	for _, c := range []struct {
		name, method, path, user, pass, body string
		want                                 int
	}{
		{"no sign-in", "POST", alertmanager.WebhookPath, "", "", body, http.StatusUnauthorized},
		{"wrong password", "POST", alertmanager.WebhookPath, UserReceiver, sc.ViewerPassword, body, http.StatusUnauthorized},
		{"operator", "POST", alertmanager.WebhookPath, UserOperator, sc.OperatorPassword, body, http.StatusForbidden},
		{"viewer", "POST", alertmanager.WebhookPath, UserViewer, sc.ViewerPassword, body, http.StatusForbidden},
		{"receiver reads the DAG list", "GET", "/", UserReceiver, sc.ReceiverPassword, "", http.StatusForbidden},
		{"receiver reads notifications", "GET", "/api/v1/notifications", UserReceiver, sc.ReceiverPassword, "", http.StatusForbidden},
		{"receiver reads the page", "GET", "/notifications", UserReceiver, sc.ReceiverPassword, "", http.StatusForbidden},
		{"receiver reads dashboards", "GET", "/dashboards/", UserReceiver, sc.ReceiverPassword, "", http.StatusForbidden},
		{"receiver triggers", "POST", "/api/v1/dags/hello/runs", UserReceiver, sc.ReceiverPassword, "{}", http.StatusForbidden},
		{"receiver GETs the webhook", "GET", alertmanager.WebhookPath, UserReceiver, sc.ReceiverPassword, "", http.StatusMethodNotAllowed},
		{"receiver posts garbage", "POST", alertmanager.WebhookPath, UserReceiver, sc.ReceiverPassword, `{"version":"4"}`, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, f.srv.URL+c.path, strings.NewReader(c.body))
			if c.user != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("%s %s as %q: %d, want %d", c.method, c.path, c.user, resp.StatusCode, c.want)
			}
		})
	}
	if ns := testNotifications(t, f.st); len(ns) != 0 {
		t.Errorf("refused requests stored %d notifications", len(ns))
	}
	if n := notifiedMetric(t, f, "refused"); n != 1 {
		t.Errorf("metrics: %v refused, want 1 (the bad body; sign-in failures never reach the webhook)", n)
	}
}
