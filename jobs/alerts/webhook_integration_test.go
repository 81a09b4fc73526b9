//go:build integration

package alerts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"weir/events"
	"weir/scheduler/engine"
	"weir/scheduler/store"
	"weir/scheduler/web"
	"weir/wait"
)

// TestAlertsReachTheWebhook: a real alert job over live traffic raises an
// alert, the stack's Alertmanager (weir's routing tree) routes it to the
// business receiver, and the scheduler's webhook — the scheduler's web
// server on the stack's scheduler.listen, its store on the stack's scheduler
// database — stores its firing and its resolution once each.
func TestAlertsReachTheWebhook(t *testing.T) {
	cfg := loadConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if cfg.Scheduler.ReceiverPassword == "" {
		t.Fatal("WEIR_SCHEDULER_RECEIVER_PASSWORD is not set: make up (then source .stack/env.sh again)")
	}
	st, err := store.Open(ctx, cfg.Scheduler.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := engine.New(ctx, st, engine.Options{DAGDir: t.TempDir(), ManualOnly: true, Registerer: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ui, err := web.New(e, reg, log, web.Access{OperatorPassword: cfg.Scheduler.OperatorPassword, ViewerPassword: cfg.Scheduler.ViewerPassword,
		ReceiverPassword: cfg.Scheduler.ReceiverPassword, Hosts: web.LoopbackHosts(cfg.Scheduler.Listen)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Scheduler.Listen)
	if err != nil {
		t.Fatalf("listen on scheduler.listen %s (is a weir scheduler or demo running on this stack?): %v", cfg.Scheduler.Listen, err)
	}
	srv := &http.Server{Handler: ui.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	run := runID("hook")
	prefix, p := startProbe(t, cfg, run, "WebhookProbe", "5s")

	// Page views keep the watermark moving; one burst of failed payments
	// makes one window of one provider fire, and the next windows resolve it.
	provider := "hook-" + run
	traffic, stopTraffic := context.WithCancel(ctx)
	sent := make(chan struct{})
	defer func() { stopTraffic(); <-sent }() // before the producer closes
	go func() {
		defer close(sent)
		for n := 0; traffic.Err() == nil; n++ {
			now := time.Now().UTC()
			e := events.AppEvent{EventID: fmt.Sprint("pv", n), ActionID: "a", TS: now, Service: "web", Host: "h", UserID: fmt.Sprint("u", n%97), Type: events.TypePageView, Status: events.StatusOK}
			_ = p.Produce(traffic, prefix+events.TopicAppEvents, []byte(e.UserID), e.AppendJSON(nil))
			if n == 20 {
				for j := 0; j < 6; j++ {
					e := events.AppEvent{EventID: fmt.Sprint(provider, j), ActionID: "a", TS: now, Service: "payments", Host: "h", UserID: fmt.Sprint("u", j),
						Type: events.TypePaymentAttempt, Provider: provider, Attempt: 1, Status: events.StatusFailed}
					_ = p.Produce(traffic, prefix+events.TopicAppEvents, []byte(provider), e.AppendJSON(nil))
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	ours := func() ([]store.Notification, error) {
		all, err := st.Notifications(ctx, 0, 200)
		var out []store.Notification
		for _, n := range all {
			if n.CommonLabels["run"] == run {
				out = append(out, n)
			}
		}
		return out, err
	}
	var got []store.Notification
	err = wait.Until(ctx, 250*time.Millisecond, func(context.Context) error {
		if got, err = ours(); err != nil {
			return wait.Stop(err)
		}
		for _, n := range got {
			if n.Status == "resolved" {
				return nil
			}
		}
		return errors.New("no resolution at the webhook yet")
	})
	if err != nil {
		t.Fatalf("%v (notifications so far: %+v)", err, got)
	}
	// One more group interval of the native stack: nothing else arrives.
	time.Sleep(6 * time.Second)
	if got, err = ours(); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, n := range got {
		count[n.Status]++
		a := n.Alerts[0]
		if n.Receiver != "business" || len(n.Alerts) != 1 || a.Labels["alertname"] != "WebhookProbe" || a.Labels["provider"] != provider {
			t.Errorf("notification %+v, want one WebhookProbe alert of %s on receiver business", n, provider)
		}
	}
	if count["firing"] != 1 || count["resolved"] != 1 {
		t.Errorf("notifications by status %v, want one firing and one resolved: %+v", count, got)
	}
}
