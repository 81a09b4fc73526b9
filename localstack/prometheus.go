package localstack

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"weir/config"
	"weir/services/prometheus"
)

const prometheusPort = 19990

func (s *Stack) prometheusAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.port(prometheusPort)) }

func (s *Stack) prometheusBin() string {
	return filepath.Join(s.binDir(), "prometheus-"+versionTag(PrometheusModule))
}

// PrometheusURL is where the stack's Prometheus answers queries.
func (s *Stack) PrometheusURL() string { return "http://" + s.prometheusAddr() }

// shift moves addr's port by the stack's port offset, as config.StackPort
// does for the weir processes' defaults.
func (s *Stack) shift(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		panic(err) // the defaults are host:port
	}
	p, _ := strconv.Atoi(port)
	return net.JoinHostPort(host, strconv.Itoa(p+s.PortOffset))
}

// weirListens are where the weir processes serve /metrics on this stack by
// default: stream, alerts, scheduler, silver follow mode.
func (s *Stack) weirListens() (stream, alerts, scheduler, follow string) {
	return s.shift(config.StreamListen), s.shift(config.AlertsListen), fmt.Sprintf("127.0.0.1:%d", s.port(schedulerPort)), s.shift(config.FollowListen)
}

// PrometheusTargets are what the stack's Prometheus scrapes: the weir
// processes at their default addresses (they are not the stack's services;
// a target is down while its process does not run), every MinIO node (the
// archive tier's too) and Trino node (the coordinator over HTTPS as Trino user prometheus, its password
// in etc/prometheus/trino_password), Alertmanager and Prometheus itself.
func (s *Stack) PrometheusTargets() prometheus.Targets {
	stream, alerts, sched, follow := s.weirListens()
	t := prometheus.Targets{
		Stream:       []string{stream},
		Alerts:       []string{alerts},
		Scheduler:    []string{sched},
		Follow:       []string{follow},
		Alertmanager: []string{s.alertmanagerAddr()},
		Prometheus:   []string{s.prometheusAddr()},
	}
	for _, sv := range s.minio(Secrets{}) {
		t.MinIO = append(t.MinIO, sv.listens[0])
	}
	t.MinIOArchive = []string{s.minioArchive(Secrets{}).listens[0]}
	for _, n := range s.trinoNodes() {
		if n.coordinator {
			t.TrinoHTTPS = append(t.TrinoHTTPS, fmt.Sprintf("127.0.0.1:%d", n.httpsPort))
			continue
		}
		t.Trino = append(t.Trino, fmt.Sprintf("127.0.0.1:%d", n.port))
	}
	t.TrinoPasswordFile, t.TrinoCAFile = s.trinoPrometheusPasswordFile(), s.TrinoCAFile()
	return t
}

func (s *Stack) trinoPrometheusPasswordFile() string {
	return s.path("etc", "prometheus", "trino_password")
}

// writePrometheusConfig renders the configuration and rules into
// etc/prometheus with the Trino user's password beside them (0600), and
// reports whether the configuration changed.
func (s *Stack) writePrometheusConfig(sec Secrets) (bool, error) {
	if err := writeFile(s.trinoPrometheusPasswordFile(), sec["TRINO_PROMETHEUS_PASSWORD"], 0o600); err != nil {
		return false, err
	}
	return prometheus.WriteDir(s.path("etc", "prometheus"), s.PrometheusTargets(), prometheus.Options{})
}

func (s *Stack) prometheus(sec Secrets) *service {
	etc := s.path("etc", "prometheus")
	return &service{
		name:     "prometheus",
		endpoint: s.PrometheusURL(),
		listens:  []string{s.prometheusAddr()},
		argv: []string{s.prometheusBin(),
			"--config.file=" + filepath.Join(etc, "prometheus.yml"),
			"--storage.tsdb.path=" + s.path("data", "prometheus"),
			"--storage.tsdb.retention.time=7d",
			"--web.listen-address=" + s.prometheusAddr(),
			"--web.enable-lifecycle", // POST /-/reload (refreshPrometheus); loopback only
		},
		startTimeout: 60 * time.Second,
		prepare: func(ctx context.Context) error {
			_, err := s.writePrometheusConfig(sec)
			return err
		},
		healthy: func(ctx context.Context) error {
			return httpOK(ctx, s.PrometheusURL()+"/-/ready")
		},
	}
}

// refreshPrometheus brings a running Prometheus's configuration and rules
// up to date (a stack started by an older weir) and has it reload them.
func (s *Stack) refreshPrometheus(ctx context.Context, sec Secrets) error {
	changed, err := s.writePrometheusConfig(sec)
	if err != nil || !changed {
		return err
	}
	if err := postReload(ctx, s.PrometheusURL(), "prometheus"); err != nil {
		return fmt.Errorf("%w (started without --web.enable-lifecycle by an older weir? weir stack stop-service prometheus, then stack up)", err)
	}
	s.logf("prometheus configuration reloaded")
	return nil
}
