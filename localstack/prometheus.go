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
// default: stream, alerts, scheduler.
func (s *Stack) weirListens() (stream, alerts, scheduler string) {
	return s.shift(config.StreamListen), s.shift(config.AlertsListen), fmt.Sprintf("127.0.0.1:%d", s.port(schedulerPort))
}

// PrometheusTargets are what the stack's Prometheus scrapes: the weir
// processes at their default addresses (they are not the stack's services;
// a target is down while its process does not run), every MinIO and Trino
// node, Alertmanager and Prometheus itself.
func (s *Stack) PrometheusTargets() prometheus.Targets {
	stream, alerts, sched := s.weirListens()
	t := prometheus.Targets{
		Stream:       []string{stream},
		Alerts:       []string{alerts},
		Scheduler:    []string{sched},
		Alertmanager: []string{s.alertmanagerAddr()},
		Prometheus:   []string{s.prometheusAddr()},
	}
	for _, sv := range s.minio(Secrets{}) {
		t.MinIO = append(t.MinIO, sv.listens[0])
	}
	for _, n := range s.trinoNodes() {
		t.Trino = append(t.Trino, fmt.Sprintf("127.0.0.1:%d", n.port))
	}
	return t
}

func (s *Stack) prometheus() *service {
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
		},
		startTimeout: 60 * time.Second,
		prepare: func(ctx context.Context) error {
			return prometheus.WriteDir(etc, s.PrometheusTargets(), prometheus.Options{})
		},
		healthy: func(ctx context.Context) error {
			return httpOK(ctx, s.PrometheusURL()+"/-/ready")
		},
	}
}
