package prometheus

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var everyTarget = Targets{
	Stream: []string{"s:1"}, Alerts: []string{"a:1"}, Scheduler: []string{"c:1"}, MinIO: []string{"m:1"}, MinIOArchive: []string{"ma:1"}, Follow: []string{"f:1"},
	Trino: []string{"t:1"}, Alertmanager: []string{"am:1"}, Prometheus: []string{"p:1"},
	TrinoHTTPS: []string{"tc:1"}, TrinoPasswordFile: "/pw", TrinoCAFile: "/ca.crt",
}

// TestRulesNameRenderedJobs: a rule selecting a scrape job names one that
// Config renders, so a renamed job cannot silence a rule.
func TestRulesNameRenderedJobs(t *testing.T) {
	conf, err := Config(everyTarget, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var c config
	if err := yaml.Unmarshal(conf, &c); err != nil {
		t.Fatal(err)
	}
	jobs := map[string]bool{}
	for _, sc := range c.ScrapeConfigs {
		jobs[sc.JobName] = true
	}
	jobRE := regexp.MustCompile(`job="([^"]+)"`)
	n := 0
	err = fs.WalkDir(Rules(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Rules(), path)
		if err != nil {
			return err
		}
		for _, m := range jobRE.FindAllStringSubmatch(string(b), -1) {
			n++
			if !jobs[m[1]] {
				t.Errorf("%s selects job %q, which Config does not render", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no rule selects a job")
	}
}

func TestConfig(t *testing.T) {
	conf, err := Config(everyTarget, Options{ScrapeInterval: time.Second, ExternalLabels: map[string]string{"run": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"scrape_interval: 1s", "run: x", "- rules/*.yml", "targets: ['am:1']",
		"metrics_path: /minio/v2/metrics/cluster", "X-Trino-User:", "- prometheus",
		"job_name: trino-coordinator", "scheme: https", "username: prometheus", "password_file: /pw", "ca_file: /ca.crt",
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if _, err := Config(Targets{}, Options{}); err == nil {
		t.Error("a config without targets: no error")
	}
	if _, err := Config(Targets{TrinoHTTPS: []string{"tc:1"}}, Options{}); err == nil {
		t.Error("Trino over HTTPS without a password file: no error")
	}
}
