package services

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
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
			targets := PrometheusTargets(tc.host)
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
			all := [][]string{targets.Stream, targets.Alerts, targets.Scheduler, targets.MinIO, targets.Trino, targets.Alertmanager}
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
