package localstack

import (
	"context"
	"fmt"
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
	conf := s.path("etc", "alertmanager.yml")
	return &service{
		name:     "alertmanager",
		endpoint: "http://" + s.alertmanagerAddr(),
		listens:  []string{s.alertmanagerAddr()},
		argv: []string{s.alertmanagerBin(),
			"--config.file=" + conf,
			"--storage.path=" + s.path("data", "alertmanager"),
			"--web.listen-address=" + s.alertmanagerAddr(),
			"--cluster.listen-address=", // no gossip: one instance
		},
		startTimeout: 30 * time.Second,
		prepare: func(ctx context.Context) error {
			pw, hook := s.path("etc", "scheduler-receiver-password"), s.path("etc", "alertmanager-webhook-url")
			body, err := alertmanager.Render(alertmanager.Settings{
				Origin:       "For the native stack in " + s.Dir + " (written by weir stack up).",
				URLFile:      hook,
				PasswordFile: pw,
				GroupWait:    time.Second, GroupInterval: 5 * time.Second, RepeatInterval: time.Hour,
			})
			if err != nil {
				return err
			}
			if err := writeFile(pw, sec["SCHEDULER_RECEIVER_PASSWORD"], 0o600); err != nil {
				return fmt.Errorf("write receiver password: %w", err)
			}
			url := alertmanager.WebhookURL(fmt.Sprintf("127.0.0.1:%d", s.port(schedulerPort)))
			if err := writeFile(hook, url, 0o644); err != nil {
				return fmt.Errorf("write webhook url: %w", err)
			}
			return writeFile(conf, string(body), 0o644)
		},
		healthy: func(ctx context.Context) error {
			return httpOK(ctx, "http://"+s.alertmanagerAddr()+"/-/ready")
		},
	}
}
