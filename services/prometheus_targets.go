package services

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"weir/services/prometheus"
)

// PrometheusTargets are the compose stack's scrape targets: service names
// and container ports on the compose network, or, with hostNetwork
// (compose.host.yaml), the host ports every container listens on there:
// the WEIR_PORT_* value in env when it has one, else compose.host.yaml's
// default. Rendered by prometheus.Config into
// services/prometheus/prometheus.yml and prometheus.host.yml (the
// defaults; TestPrometheusConfigFiles checks the files and every target
// against the compose files); a host deployment on other ports renders its
// own (WriteHostPrometheusConfig).
//
// Trino: the workers over HTTP; the coordinator, which serves clients over
// HTTPS with a password, as Trino user prometheus (TRINO_PROMETHEUS_PASSWORD,
// the compose secret trino_prometheus_password) trusting the stack's CA.
func PrometheusTargets(hostNetwork bool, env map[string]string) prometheus.Targets {
	if hostNetwork {
		port := func(name string, def int) []string {
			if v := env[name]; v != "" {
				return []string{"127.0.0.1:" + v}
			}
			return hostPorts(def)
		}
		all := func(ts ...[]string) []string {
			var out []string
			for _, t := range ts {
				out = append(out, t...)
			}
			return out
		}
		return prometheus.Targets{
			Stream:       port("WEIR_PORT_STREAM", 11464),
			Alerts:       port("WEIR_PORT_ALERTS", 11711),
			Scheduler:    port("WEIR_PORT_SCHEDULER", 11700),
			Follow:       port("WEIR_PORT_FOLLOW", 11465),
			MinIO:        all(port("WEIR_PORT_MINIO1", 11000), port("WEIR_PORT_MINIO2", 11010), port("WEIR_PORT_MINIO3", 11020), port("WEIR_PORT_MINIO4", 11030)),
			MinIOArchive: port("WEIR_PORT_MINIO_ARCHIVE", 11050),
			Trino:        all(port("WEIR_PORT_TRINO_WORKER1", 11081), port("WEIR_PORT_TRINO_WORKER2", 11082)),
			TrinoHTTPS:   port("WEIR_PORT_TRINO_HTTPS", 11443),
			Alertmanager: port("WEIR_PORT_ALERTMANAGER", 11903),
			Prometheus:   port("WEIR_PORT_PROMETHEUS", 11990),

			TrinoPasswordFile: trinoPasswordFile,
			TrinoCAFile:       trinoCAFile,
		}
	}
	return prometheus.Targets{
		Stream:       []string{"weir-stream:9464"},
		Alerts:       []string{"weir-alerts:18711"},
		Scheduler:    []string{"weir-scheduler:8700"},
		Follow:       []string{"weir-follow:9465"},
		MinIO:        []string{"minio1:9000", "minio2:9000", "minio3:9000", "minio4:9000"},
		MinIOArchive: []string{"minio-archive:9000"},
		Trino:        []string{"trino-worker1:8080", "trino-worker2:8080"},
		TrinoHTTPS:   []string{"trino-coordinator:8443"},
		Alertmanager: []string{"alertmanager:9093"},
		Prometheus:   []string{"localhost:9090"},

		TrinoPasswordFile: trinoPasswordFile,
		TrinoCAFile:       trinoCAFile,
	}
}

// Where the compose Prometheus finds the Trino user's password (the compose
// secret) and the coordinator's certificate (the trino-ca volume).
const (
	trinoPasswordFile = "/run/secrets/trino_prometheus_password"
	trinoCAFile       = "/etc/weir/trino-ca/trino.crt"
)

// WriteHostPrometheusConfig renders the host-network Prometheus
// configuration for the ports in env to path; compose.host.yaml mounts the
// file PROMETHEUS_HOST_CONFIG names (default: the committed one, for the
// default ports).
func WriteHostPrometheusConfig(path string, env map[string]string) error {
	raw, err := prometheus.Config(PrometheusTargets(true, env), prometheus.Options{})
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

func hostPorts(ports ...int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	return out
}

// HostPrometheusConfigFile is where EnsureHostPrometheusConfig renders a
// host deployment's own Prometheus configuration, next to its env file
// (git-ignored: it follows the deployment's settings).
const HostPrometheusConfigFile = ".prometheus.host.yml"

// EnsureHostPrometheusConfig keeps a host-network deployment's Prometheus
// on its ports: when the env file at envPath or the environment (which
// compose reads first) sets any WEIR_PORT_*, it renders the configuration
// for those ports beside the env file and names it in the env file's
// PROMETHEUS_HOST_CONFIG; otherwise the committed prometheus.host.yml, for
// the default ports, serves (a configuration rendered before is removed). A PROMETHEUS_HOST_CONFIG
// of the user's own (another file) is left alone. It returns the file it
// rendered, or "".
func EnsureHostPrometheusConfig(envPath string, getenv func(string) string) (string, error) {
	env, err := ReadEnvFile(envPath)
	if err != nil {
		return "", err
	}
	dir, err := filepath.Abs(filepath.Dir(envPath))
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, HostPrometheusConfigFile)
	if own := env["PROMETHEUS_HOST_CONFIG"]; own != "" && own != path {
		return "", nil
	}
	ports := map[string]string{}
	for k, v := range env {
		if strings.HasPrefix(k, "WEIR_PORT_") {
			ports[k] = v
		}
	}
	for _, k := range hostPortSettings {
		if v := getenv(k); v != "" {
			ports[k] = v
		}
	}
	if len(ports) == 0 {
		if env["PROMETHEUS_HOST_CONFIG"] == "" {
			return "", nil
		}
		// Back on the default ports: the committed configuration serves.
		delete(env, "PROMETHEUS_HOST_CONFIG")
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return "", err
		}
		return "", WriteEnvFile(envPath, env)
	}
	if err := WriteHostPrometheusConfig(path, ports); err != nil {
		return "", err
	}
	if env["PROMETHEUS_HOST_CONFIG"] != path {
		env["PROMETHEUS_HOST_CONFIG"] = path
		if err := WriteEnvFile(envPath, env); err != nil {
			return "", err
		}
	}
	return path, nil
}

// hostPortSettings are the WEIR_PORT_* settings PrometheusTargets reads.
var hostPortSettings = []string{
	"WEIR_PORT_STREAM", "WEIR_PORT_ALERTS", "WEIR_PORT_SCHEDULER", "WEIR_PORT_FOLLOW",
	"WEIR_PORT_MINIO1", "WEIR_PORT_MINIO2", "WEIR_PORT_MINIO3", "WEIR_PORT_MINIO4", "WEIR_PORT_MINIO_ARCHIVE",
	"WEIR_PORT_TRINO_WORKER1", "WEIR_PORT_TRINO_WORKER2", "WEIR_PORT_TRINO_HTTPS", "WEIR_PORT_ALERTMANAGER", "WEIR_PORT_PROMETHEUS",
}
