package services

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"weir/services/prometheus"
)

var updatePrometheus = flag.Bool("update-prometheus", false, "rewrite services/prometheus/prometheus*.yml from PrometheusTargets")

// TestPrometheusConfigFiles: the compose stack's Prometheus configurations
// are what prometheus.Config renders from PrometheusTargets (go test
// ./services -run TestPrometheusConfigFiles -update-prometheus rewrites
// them), and every target is a service of the compose files listening on
// that port.
func TestPrometheusConfigFiles(t *testing.T) {
	env, err := Generate(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file  string
		host  bool
		files []string
	}{
		{"prometheus.yml", false, []string{"compose.yaml"}},
		{"prometheus.host.yml", true, []string{"compose.yaml", hostOverride}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			targets := PrometheusTargets(tc.host, nil)
			want, err := prometheus.Config(targets, prometheus.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want = append([]byte(prometheusHeader), want...)
			path := filepath.Join("prometheus", tc.file)
			if *updatePrometheus {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is not what PrometheusTargets renders; run go test ./services -run TestPrometheusConfigFiles -update-prometheus", path)
			}
			p, err := loadComposeFiles(t, tc.files, env)
			if err != nil {
				t.Fatal(err)
			}
			all := [][]string{targets.Stream, targets.Alerts, targets.Scheduler, targets.Follow, targets.MinIO, targets.Trino, targets.TrinoHTTPS, targets.Alertmanager}
			for _, group := range all {
				for _, target := range group {
					if !servedBy(p, target, tc.host) {
						t.Errorf("%s: no service of %v listens on %s", tc.file, tc.files, target)
					}
				}
			}
		})
	}
}

const prometheusHeader = `# Generated from services.PrometheusTargets by prometheus.Config (the native
# stack's configuration comes from the same function); do not edit:
# go test ./services -run TestPrometheusConfigFiles -update-prometheus
`

// servedBy reports whether a service of p listens on target: on the compose
// network, a service of that name whose configuration names the port; on
// the host network, any service whose configuration names it.
func servedBy(p *types.Project, target string, host bool) bool {
	name, port, err := net.SplitHostPort(target)
	if err != nil {
		return false
	}
	for _, s := range p.Services {
		if !host && s.Name != name {
			continue
		}
		text := strings.Join(s.Command, " ") + " " + strings.Join(s.Entrypoint, " ")
		for k, v := range s.Environment {
			if v != nil {
				text += " " + k + "=" + *v
			}
		}
		if s.HealthCheck != nil {
			text += " " + strings.Join(s.HealthCheck.Test, " ")
		}
		for _, pc := range s.Ports {
			text += fmt.Sprintf(" %d", pc.Target)
		}
		if strings.Contains(text, ":"+port) || strings.Contains(text, "="+port) || strings.Contains(text, " "+port) {
			return true
		}
	}
	return false
}

// TestGrafanaOpsProvisioning: Grafana gets the operations dashboard from the
// mounted grafana/ops, and a Prometheus data source (the uid its panels
// name) at the compose stack's Prometheus.
func TestGrafanaOpsProvisioning(t *testing.T) {
	env, err := Generate(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadCompose(t, "compose.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	g, err := p.GetService("grafana")
	if err != nil {
		t.Fatal(err)
	}
	var prov grafanaProviders
	readYAML(t, "grafana/provisioning/dashboards/ops.yaml", &prov)
	if len(prov.Providers) != 1 {
		t.Fatalf("want one ops provider, got %d", len(prov.Providers))
	}
	if m, ok := mountOf(g, prov.Providers[0].Options.Path); !ok || !bindsFile(t, g, "grafana/ops") || !m.ReadOnly {
		t.Errorf("ops dashboard path %s is not grafana/ops mounted read-only", prov.Providers[0].Options.Path)
	}
	var ds struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	readYAML(t, "grafana/provisioning/datasources/prometheus.yaml", &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].UID != "weir-prometheus" || ds.Datasources[0].Type != "prometheus" {
		t.Fatalf("prometheus data source: %+v", ds.Datasources)
	}
	prom, err := p.GetService("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://prometheus:9090"; ds.Datasources[0].URL != want || !slices.Contains(prom.Command, "--web.listen-address=:9090") {
		t.Errorf("data source url %s, prometheus command %v: want %s", ds.Datasources[0].URL, prom.Command, want)
	}
	raw, err := os.ReadFile("grafana/ops/ops.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"uid": "weir-prometheus"`) || strings.Contains(string(raw), "weir-trino") {
		t.Error("ops.json must query the weir-prometheus data source only")
	}
}

// TestEnsureHostPrometheusConfig: a deployment on other WEIR_PORT_*
// values (in services/.env or the environment) gets a configuration
// scraping those ports, named in PROMETHEUS_HOST_CONFIG; one on the
// default ports, or with a configuration of its own, is left alone.
func TestEnsureHostPrometheusConfig(t *testing.T) {
	noEnv := func(string) string { return "" }
	t.Run("default ports", func(t *testing.T) {
		envFile := filepath.Join(t.TempDir(), ".env")
		if err := WriteEnvFile(envFile, map[string]string{"TRAFFIC_REPLICAS": "1"}); err != nil {
			t.Fatal(err)
		}
		prom, err := EnsureHostPrometheusConfig(envFile, noEnv)
		if err != nil || prom != "" {
			t.Fatalf("got %q, %v; want nothing rendered", prom, err)
		}
	})
	t.Run("ports in the env file and the environment", func(t *testing.T) {
		envFile := filepath.Join(t.TempDir(), ".env")
		if err := WriteEnvFile(envFile, map[string]string{"WEIR_PORT_STREAM": "12464"}); err != nil {
			t.Fatal(err)
		}
		getenv := func(k string) string {
			if k == "WEIR_PORT_MINIO3" {
				return "12020"
			}
			return ""
		}
		for range 2 { // a re-run renders the same and keeps the setting
			prom, err := EnsureHostPrometheusConfig(envFile, getenv)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(filepath.Dir(envFile), HostPrometheusConfigFile); prom != want {
				t.Fatalf("rendered %q, want %q", prom, want)
			}
			env, err := ReadEnvFile(envFile)
			if err != nil {
				t.Fatal(err)
			}
			if env["PROMETHEUS_HOST_CONFIG"] != prom || env["WEIR_PORT_STREAM"] != "12464" {
				t.Fatalf("env file after rendering: %v", env)
			}
			raw, err := os.ReadFile(prom)
			if err != nil {
				t.Fatal(err)
			}
			want := PrometheusTargets(true, map[string]string{"WEIR_PORT_STREAM": "12464", "WEIR_PORT_MINIO3": "12020"})
			for _, addr := range append(want.Stream, want.MinIO...) {
				if !strings.Contains(string(raw), "'"+addr+"'") {
					t.Errorf("rendered configuration lacks target %s:\n%s", addr, raw)
				}
			}
		}
		// Back on the default ports: the rendered file and its setting go.
		if err := WriteEnvFile(envFile, map[string]string{"PROMETHEUS_HOST_CONFIG": filepath.Join(filepath.Dir(envFile), HostPrometheusConfigFile)}); err != nil {
			t.Fatal(err)
		}
		if prom, err := EnsureHostPrometheusConfig(envFile, noEnv); err != nil || prom != "" {
			t.Fatalf("default ports again: %q, %v", prom, err)
		}
		if env, _ := ReadEnvFile(envFile); env["PROMETHEUS_HOST_CONFIG"] != "" {
			t.Errorf("PROMETHEUS_HOST_CONFIG still %q on the default ports", env["PROMETHEUS_HOST_CONFIG"])
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(envFile), HostPrometheusConfigFile)); !os.IsNotExist(err) {
			t.Errorf("rendered configuration left behind: %v", err)
		}
	})
	t.Run("a configuration of the user's own", func(t *testing.T) {
		envFile := filepath.Join(t.TempDir(), ".env")
		env := map[string]string{"WEIR_PORT_STREAM": "12464", "PROMETHEUS_HOST_CONFIG": "/etc/mine.yml"}
		if err := WriteEnvFile(envFile, env); err != nil {
			t.Fatal(err)
		}
		prom, err := EnsureHostPrometheusConfig(envFile, noEnv)
		if err != nil || prom != "" {
			t.Fatalf("got %q, %v; want the user's configuration kept", prom, err)
		}
		if got, _ := ReadEnvFile(envFile); got["PROMETHEUS_HOST_CONFIG"] != "/etc/mine.yml" {
			t.Fatalf("PROMETHEUS_HOST_CONFIG = %q", got["PROMETHEUS_HOST_CONFIG"])
		}
	})
}
