package services

import (
	"fmt"

	"weir/services/prometheus"
)

// PrometheusTargets are the compose stack's scrape targets: service names
// and container ports on the compose network, or, with hostNetwork (compose.host.yaml), the default
// host ports every container listens on there. Rendered by
// prometheus.Config into services/prometheus/prometheus.yml and
// prometheus.host.yml (TestPrometheusConfigFiles checks the files and
// every target against the compose files).
//
// Trino: the workers only. The coordinator serves clients over HTTPS with
// a password; its /metrics would need a Trino user and secret for
// Prometheus, which the stack does not have yet.
func PrometheusTargets(hostNetwork bool) prometheus.Targets {
	if hostNetwork {
		return prometheus.Targets{
			Stream:       []string{"127.0.0.1:11464"},
			Alerts:       []string{"127.0.0.1:11711"},
			Scheduler:    []string{"127.0.0.1:11700"},
			MinIO:        hostPorts(11000, 11010, 11020, 11030),
			Trino:        hostPorts(11081, 11082),
			Alertmanager: []string{"127.0.0.1:11903"},
			Prometheus:   []string{"127.0.0.1:11990"},
		}
	}
	return prometheus.Targets{
		Stream:       []string{"weir-stream:9464"},
		Alerts:       []string{"weir-alerts:18711"},
		Scheduler:    []string{"weir-scheduler:8700"},
		MinIO:        []string{"minio1:9000", "minio2:9000", "minio3:9000", "minio4:9000"},
		Trino:        []string{"trino-worker1:8080", "trino-worker2:8080"},
		Alertmanager: []string{"alertmanager:9093"},
		Prometheus:   []string{"localhost:9090"},
	}
}

func hostPorts(ports ...int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	return out
}
