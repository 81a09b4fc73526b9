package localstack

import (
	"context"
	"fmt"
	"time"
)

func (s *Stack) alertmanagerAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.port(19903)) }

func (s *Stack) alertmanager() *service {
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
			// Alerts are kept and shown by the API; nothing is sent onward
			// from the local stack.
			return writeFile(conf, joinLines(
				"route:",
				"  receiver: weir-local",
				"  group_by: [alertname, rule]",
				"  group_wait: 1s",
				"  group_interval: 5s",
				"  repeat_interval: 1h",
				"receivers:",
				"  - name: weir-local",
			), 0o644)
		},
		healthy: func(ctx context.Context) error {
			return httpOK(ctx, "http://"+s.alertmanagerAddr()+"/-/ready")
		},
	}
}
