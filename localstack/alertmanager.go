package localstack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"weir/services/alertmanager"
)

func (s *Stack) alertmanagerAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.port(19903)) }

// alertmanager runs weir's one Alertmanager configuration
// (services/alertmanager) with the webhook on this stack's scheduler port,
// whose receiver password it reads from a private file. Its timers are short
// so tests see a notification and its resolution within seconds; the tree
// and receivers are the shipped ones.
func (s *Stack) alertmanager(sec Secrets) *service {
	return &service{
		name:     "alertmanager",
		endpoint: "http://" + s.alertmanagerAddr(),
		listens:  []string{s.alertmanagerAddr()},
		argv: []string{s.alertmanagerBin(),
			"--config.file=" + s.path("etc", "alertmanager.yml"),
			"--storage.path=" + s.path("data", "alertmanager"),
			"--web.listen-address=" + s.alertmanagerAddr(),
			"--cluster.listen-address=", // no gossip: one instance
		},
		startTimeout: 30 * time.Second,
		prepare: func(ctx context.Context) error {
			_, err := s.writeAlertmanagerConfig(sec)
			return err
		},
		healthy: func(ctx context.Context) error {
			return httpOK(ctx, "http://"+s.alertmanagerAddr()+"/-/ready")
		},
	}
}

// writeAlertmanagerConfig writes Alertmanager's configuration and the files
// it names, and reports whether any of them changed.
func (s *Stack) writeAlertmanagerConfig(sec Secrets) (changed bool, err error) {
	pw, hook := s.path("etc", "scheduler-receiver-password"), s.path("etc", "alertmanager-webhook-url")
	body, err := alertmanager.Render(alertmanager.Settings{
		Origin:       "For the native stack in " + s.Dir + " (written by weir stack up).",
		URLFile:      hook,
		PasswordFile: pw,
		GroupWait:    time.Second, GroupInterval: 5 * time.Second, RepeatInterval: time.Hour,
	})
	if err != nil {
		return false, err
	}
	for _, f := range []struct {
		path, content string
		perm          os.FileMode
	}{
		{pw, sec["SCHEDULER_RECEIVER_PASSWORD"], 0o600},
		{hook, alertmanager.WebhookURL(fmt.Sprintf("127.0.0.1:%d", s.port(schedulerPort))), 0o644},
		{s.path("etc", "alertmanager.yml"), string(body), 0o644},
	} {
		if old, err := os.ReadFile(f.path); err == nil && string(old) == f.content {
			continue
		}
		if err := writeFile(f.path, f.content, f.perm); err != nil {
			return false, fmt.Errorf("write alertmanager config: %w", err)
		}
		changed = true
	}
	return changed, nil
}

// refreshAlertmanager brings a running Alertmanager's configuration up to
// date (a stack started before weir's webhook existed, or a new secret):
// it rewrites the files and asks Alertmanager to reload them.
func (s *Stack) refreshAlertmanager(ctx context.Context, sec Secrets) error {
	changed, err := s.writeAlertmanagerConfig(sec)
	if err != nil || !changed {
		return err
	}
	if err := postReload(ctx, "http://"+s.alertmanagerAddr(), "alertmanager"); err != nil {
		return err
	}
	s.logf("alertmanager configuration reloaded")
	return nil
}

// postReload asks a Prometheus-family server at base (Alertmanager,
// Prometheus) to reload its configuration: POST /-/reload.
func postReload(ctx context.Context, base, what string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/-/reload", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reload %s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("reload %s: %s %s", what, resp.Status, msg)
	}
	return nil
}
