// Package prometheus is weir's Prometheus setup, shared by the native stack
// (localstack) and the compose stack (services/prometheus/*.yml, generated):
// the scrape configuration, rendered from one stack's addresses by Config,
// and the pipeline-health rule files (rules/*.yml), embedded (Rules) and
// unit-tested with promtool (testdata/*_test.yml, make test-rules).
//
// The contract: every job a rule names is a job Config renders, and both
// stacks load the same rule files next to the configuration (rule_files is
// relative to it).
package prometheus

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed rules/*.yml
var rules embed.FS

// Rules is the rules directory: the rule files Prometheus loads.
func Rules() fs.FS {
	sub, err := fs.Sub(rules, "rules")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// RulesDir is where the configuration expects the rule files, relative to
// its own file.
const RulesDir = "rules"

// Job names: the rules and the ops dashboard select series by them.
const (
	JobStream    = "weir-stream"
	JobAlerts    = "weir-alerts"
	JobScheduler = "weir-scheduler"
	// JobFollow is silver follow mode (weir batch silver --follow): the
	// silver runs and the gold refresh in one long-running process.
	JobFollow = "weir-silver-follow"
	JobMinIO  = "minio"
	// JobMinIOArchive is the archive tier's MinIO, a deployment of its
	// own (config.ArchiveTier).
	JobMinIOArchive = "minio-archive"
	JobTrino        = "trino"
	// JobTrinoCoordinator is a coordinator that serves clients over HTTPS
	// with a password (Targets.TrinoHTTPS).
	JobTrinoCoordinator = "trino-coordinator"
	JobAlertmanager     = "alertmanager"
	JobPrometheus       = "prometheus"
)

// Targets are one stack's addresses (host:port), by what runs there. Kafka
// has none: its brokers expose metrics over JMX only (Prometheus would need
// the JMX exporter, a Java agent jar, in every broker); consumer lag is
// measured by the stream job instead (weir_stream_lag_records).
type Targets struct {
	// The weir processes' /metrics. Batch jobs have no target of their
	// own: they are children of the scheduler, which reports their tries,
	// durations and last successes (weir_scheduler_*).
	Stream, Alerts, Scheduler []string
	// Follow is silver follow mode's /metrics (JobFollow).
	Follow []string
	// MinIO nodes: /minio/v2/metrics/cluster, which needs
	// MINIO_PROMETHEUS_AUTH_TYPE=public on the nodes (both stacks set it;
	// MinIO listens on loopback or the compose network only).
	MinIO []string
	// MinIOArchive: the archive tier's MinIO nodes, the same path and
	// setting.
	MinIOArchive []string
	// Trino nodes: /metrics (OpenMetrics, built into the server), asked
	// as Trino user TrinoUser.
	Trino []string
	// TrinoHTTPS are coordinators that serve clients over HTTPS with a
	// password (the compose stack's): scraped as TrinoUser with basic
	// auth, the password read from TrinoPasswordFile and the server's
	// certificate checked against TrinoCAFile.
	TrinoHTTPS                     []string
	TrinoPasswordFile, TrinoCAFile string
	Alertmanager                   []string
	Prometheus                     []string
}

// trinoScrapeInterval is how often Trino's nodes are scraped (at least).
const trinoScrapeInterval = 30 * time.Second

// TrinoUser is the user Prometheus names to Trino's /metrics
// (X-Trino-User), so the scrapes show up as its own in Trino's logs.
const TrinoUser = "prometheus"

// Options are the settings that differ between a stack and a test.
type Options struct {
	ScrapeInterval     time.Duration // default 15s
	EvaluationInterval time.Duration // default 15s
	// ExternalLabels are attached to every alert sent (a test marks its
	// own alerts with one).
	ExternalLabels map[string]string
}

type config struct {
	Global        global         `yaml:"global"`
	RuleFiles     []string       `yaml:"rule_files"`
	Alerting      *alerting      `yaml:"alerting,omitempty"`
	ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
}

type global struct {
	ScrapeInterval     string            `yaml:"scrape_interval"`
	EvaluationInterval string            `yaml:"evaluation_interval"`
	ExternalLabels     map[string]string `yaml:"external_labels,omitempty"`
}

type alerting struct {
	Alertmanagers []alertmanagerConfig `yaml:"alertmanagers"`
}

type alertmanagerConfig struct {
	StaticConfigs []staticConfig `yaml:"static_configs"`
}

type staticConfig struct {
	Targets []string `yaml:"targets,flow"`
}

type scrapeConfig struct {
	JobName        string                         `yaml:"job_name"`
	ScrapeInterval string                         `yaml:"scrape_interval,omitempty"`
	MetricsPath    string                         `yaml:"metrics_path,omitempty"`
	Scheme         string                         `yaml:"scheme,omitempty"`
	BasicAuth      *basicAuth                     `yaml:"basic_auth,omitempty"`
	TLSConfig      *tlsConfig                     `yaml:"tls_config,omitempty"`
	HTTPHeaders    map[string]map[string][]string `yaml:"http_headers,omitempty"`
	StaticConfigs  []staticConfig                 `yaml:"static_configs"`
}

type basicAuth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

type tlsConfig struct {
	CAFile string `yaml:"ca_file"`
}

// Config renders prometheus.yml for a stack: a scrape job per kind of
// target present, the rule files under RulesDir, and alerts to the stack's
// Alertmanager.
func Config(t Targets, o Options) ([]byte, error) {
	if o.ScrapeInterval == 0 {
		o.ScrapeInterval = 15 * time.Second
	}
	if o.EvaluationInterval == 0 {
		o.EvaluationInterval = 15 * time.Second
	}
	c := config{
		Global: global{
			ScrapeInterval:     o.ScrapeInterval.String(),
			EvaluationInterval: o.EvaluationInterval.String(),
			ExternalLabels:     o.ExternalLabels,
		},
		RuleFiles: []string{RulesDir + "/*.yml"},
	}
	if len(t.Alertmanager) > 0 {
		c.Alerting = &alerting{Alertmanagers: []alertmanagerConfig{{StaticConfigs: []staticConfig{{Targets: t.Alertmanager}}}}}
	}
	add := func(job, path string, targets []string, headers map[string][]string) *scrapeConfig {
		if len(targets) == 0 {
			return nil
		}
		sc := scrapeConfig{JobName: job, MetricsPath: path, StaticConfigs: []staticConfig{{Targets: targets}}}
		if headers != nil {
			sc.HTTPHeaders = map[string]map[string][]string{}
			keys := make([]string, 0, len(headers))
			for k := range headers {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				sc.HTTPHeaders[k] = map[string][]string{"values": headers[k]}
			}
		}
		c.ScrapeConfigs = append(c.ScrapeConfigs, sc)
		return &c.ScrapeConfigs[len(c.ScrapeConfigs)-1]
	}
	add(JobStream, "", t.Stream, nil)
	add(JobAlerts, "", t.Alerts, nil)
	add(JobScheduler, "", t.Scheduler, nil)
	add(JobFollow, "", t.Follow, nil)
	add(JobMinIO, "/minio/v2/metrics/cluster", t.MinIO, nil)
	add(JobMinIOArchive, "/minio/v2/metrics/cluster", t.MinIOArchive, nil)
	// Trino serves ~11,000 series (its JMX beans) per node, built on each
	// scrape: less often than the rest, unless the stack's own interval is
	// longer.
	if sc := add(JobTrino, "", t.Trino, map[string][]string{"X-Trino-User": {TrinoUser}}); sc != nil && o.ScrapeInterval < trinoScrapeInterval {
		sc.ScrapeInterval = trinoScrapeInterval.String()
	}
	if sc := add(JobTrinoCoordinator, "", t.TrinoHTTPS, nil); sc != nil {
		if t.TrinoPasswordFile == "" || t.TrinoCAFile == "" {
			return nil, fmt.Errorf("prometheus config: Trino over HTTPS needs a password file and a CA file")
		}
		sc.Scheme = "https"
		sc.BasicAuth = &basicAuth{Username: TrinoUser, PasswordFile: t.TrinoPasswordFile}
		sc.TLSConfig = &tlsConfig{CAFile: t.TrinoCAFile}
		if o.ScrapeInterval < trinoScrapeInterval {
			sc.ScrapeInterval = trinoScrapeInterval.String()
		}
	}
	add(JobAlertmanager, "", t.Alertmanager, nil)
	add(JobPrometheus, "", t.Prometheus, nil)
	if len(c.ScrapeConfigs) == 0 {
		return nil, fmt.Errorf("prometheus config: no targets")
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("render prometheus config: %w", err)
	}
	return b, nil
}

// WriteDir writes prometheus.yml for targets into dir, and the rule files
// next to it (under RulesDir, replacing what was there): what a Prometheus
// started with --config.file=dir/prometheus.yml loads. It reports whether
// anything changed (a running Prometheus then needs a reload).
func WriteDir(dir string, t Targets, o Options) (changed bool, err error) {
	conf, err := Config(t, o)
	if err != nil {
		return false, err
	}
	want := map[string][]byte{"prometheus.yml": conf}
	err = fs.WalkDir(Rules(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Rules(), path)
		want[filepath.Join(RulesDir, path)] = b
		return err
	})
	if err != nil {
		return false, fmt.Errorf("read prometheus rules: %w", err)
	}
	have, _ := filepath.Glob(filepath.Join(dir, RulesDir, "*"))
	for _, f := range have {
		if rel, _ := filepath.Rel(dir, f); want[rel] == nil {
			if err := os.Remove(f); err != nil {
				return false, err
			}
			changed = true
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, RulesDir), 0o755); err != nil {
		return false, err
	}
	for rel, b := range want {
		path := filepath.Join(dir, rel)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
			continue
		}
		// Prometheus may be reading the old file: replace it in one step.
		if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
			return false, err
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			return false, err
		}
		changed = true
	}
	return changed, nil
}
