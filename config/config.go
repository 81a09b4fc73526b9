// Package config is weir's one configuration loader: a typed struct with
// defaults that point at the native local stack, strict YAML parsing (unknown
// keys are errors), WEIR_* environment overrides, and Validate, which names the
// offending field. Every subcommand gets its connection settings from here.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"weir/events"
)

// Config holds the addresses and credentials of every service weir talks to.
type Config struct {
	Kafka        Kafka        `yaml:"kafka"`
	S3           S3           `yaml:"s3"`
	Catalog      Catalog      `yaml:"catalog"`
	Trino        Trino        `yaml:"trino"`
	Alertmanager Alertmanager `yaml:"alertmanager"`
	Prometheus   Prometheus   `yaml:"prometheus"`
	Scheduler    Scheduler    `yaml:"scheduler"`
	// Promote makes fields that silver keeps in a table's extra column
	// (fields a JSON source's model does not know) typed columns of their
	// own, per source: app_events, app_logs, infra_metrics. The silver
	// table's schema evolves (Iceberg schema evolution) on the next silver
	// run; rows written before read null, and extra keeps the field too.
	Promote map[string][]Promoted `yaml:"promote"`
	// AccessLogFormats declares, by topic, the line format of access logs
	// that are not in the default format (Combined Log Format, optionally
	// followed by request time and cache status). The silver job and the
	// alert job read the topic's lines with it.
	AccessLogFormats map[string]AccessLogFormat `yaml:"access_log_formats"`
}

// AccessLogFormat is one declared access-log format: exactly one of an
// nginx log_format string (or "combined"), an Apache LogFormat string (or
// "common", "combined"), or the names of tab-separated fields. Variables
// without a typed column land in silver.access_logs.extra
// (events.AccessFormat).
type AccessLogFormat struct {
	Nginx  string   `yaml:"nginx"`
	Apache string   `yaml:"apache"`
	TSV    []string `yaml:"tsv"`
}

// Compile compiles the declaration.
func (f AccessLogFormat) Compile() (*events.AccessFormat, error) {
	af, key, err := f.compile()
	if err != nil && key != "" {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return af, err
}

// compile also returns the key whose value did not compile.
func (f AccessLogFormat) compile() (*events.AccessFormat, string, error) {
	set := 0
	for _, ok := range []bool{f.Nginx != "", f.Apache != "", len(f.TSV) > 0} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, "", errors.New("want exactly one of nginx, apache or tsv")
	}
	var af *events.AccessFormat
	var err error
	key := "nginx"
	switch {
	case f.Nginx != "":
		af, err = events.CompileNginx(f.Nginx)
	case f.Apache != "":
		key = "apache"
		af, err = events.CompileApache(f.Apache)
	default:
		key = "tsv"
		af, err = events.CompileTSV(f.TSV)
	}
	if err != nil {
		return nil, key, err
	}
	return af, "", nil
}

// AccessFormats compiles the declared access-log formats by topic.
func (c Config) AccessFormats() (events.AccessFormats, error) {
	out := events.AccessFormats{}
	topics := make([]string, 0, len(c.AccessLogFormats))
	for t := range c.AccessLogFormats {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, topic := range topics {
		// Only web.access (and a prefixed copy of it, staging.web.access)
		// carries access-log lines into bronze.web_access and the alert
		// rules; a format for another topic would never be read.
		if topic != events.TopicWebAccess && !strings.HasSuffix(topic, "."+events.TopicWebAccess) {
			return nil, fmt.Errorf("access_log_formats[%q]: not an access-log topic: want %s or a prefixed copy of it (staging.%s)", topic, events.TopicWebAccess, events.TopicWebAccess)
		}
		af, key, err := c.AccessLogFormats[topic].compile()
		switch {
		case err != nil && key != "":
			return nil, fmt.Errorf("access_log_formats[%q].%s: %w", topic, key, err)
		case err != nil:
			return nil, fmt.Errorf("access_log_formats[%q]: %w", topic, err)
		}
		out[topic] = af
	}
	return out, nil
}

// Promoted is one field promoted to a typed silver column of the same name.
type Promoted struct {
	Field string `yaml:"field"` // the JSON field; lower case letters, digits, _
	Type  string `yaml:"type"`  // one of PromotedTypes
}

// PromoteSources are the sources whose fields may be promoted (the JSON
// topics; silver's source names).
var PromoteSources = []string{"app_events", "app_logs", "infra_metrics"}

// PromotedTypes are the column types a promoted field may take: Iceberg's
// string, long, double, boolean and timestamp (RFC 3339 text).
var PromotedTypes = []string{"string", "long", "double", "boolean", "timestamp"}

// Kafka is the broker list shared by producers and consumers.
type Kafka struct {
	Brokers []string `yaml:"brokers"`
}

// S3 is the MinIO (or any S3) endpoint holding the warehouse and the archive tier.
type S3 struct {
	Endpoint      string `yaml:"endpoint"` // host:port, no scheme
	Region        string `yaml:"region"`
	AccessKey     string `yaml:"access_key"`
	SecretKey     string `yaml:"secret_key"`
	UseSSL        bool   `yaml:"use_ssl"`
	Bucket        string `yaml:"bucket"`
	ArchiveBucket string `yaml:"archive_bucket"`
	// ArchiveTier, when its endpoint is set, is where the archive bucket's
	// objects are stored.
	ArchiveTier ArchiveTier `yaml:"archive_tier"`
}

// ArchiveTier is a second MinIO deployment, on drives (and erasure-coding
// parity) of its own, that the warehouse MinIO moves every object of the
// archive bucket to as soon as it is written: MinIO object tiering, a
// lifecycle transition with no delay (objectstore.EnsureArchiveTier). The
// keys do not change and reads still go to s3.endpoint, which fetches a
// moved object from the tier, so Trino and the Iceberg writers keep one S3
// endpoint. Credentials are not configuration: weir init --storage reads
// them from its environment.
type ArchiveTier struct {
	// Name is the tier's name on the warehouse MinIO, which reports it as a
	// moved object's storage class: upper case letters, digits, _ and -.
	Name string `yaml:"name"`
	// Endpoint is the tier's host:port as the warehouse MinIO (and weir
	// init) reach it; empty: no tier, the archive bucket stays on the
	// warehouse MinIO.
	Endpoint string `yaml:"endpoint"`
	UseSSL   bool   `yaml:"use_ssl"`
	// Bucket is the tier's bucket on that MinIO.
	Bucket string `yaml:"bucket"`
}

// Catalog is the Iceberg JDBC catalog on PostgreSQL.
type Catalog struct {
	Name      string `yaml:"name"`
	URI       string `yaml:"uri"` // postgres://user:pass@host:port/db
	Warehouse string `yaml:"warehouse"`
}

// Trino is the query engine the gold layer and the dashboards use.
type Trino struct {
	// URL is http://user@host:port, or, for a coordinator that
	// authenticates, https://user:password@host:port with SSLCertPath=<CA
	// file> when its certificate is not in the system's pool.
	URL     string `yaml:"url"`
	Catalog string `yaml:"catalog"`
	// DashboardURL, when set, is the read-only user the Dashboards page
	// reads as (URL otherwise).
	DashboardURL string `yaml:"dashboard_url"`
}

// Dashboard is the connection the Dashboards page reads with.
func (t Trino) Dashboard() Trino {
	if t.DashboardURL != "" {
		t.URL = t.DashboardURL
	}
	return t
}

// Alertmanager receives alerts from the alert job.
type Alertmanager struct {
	URL string `yaml:"url"`
}

// Prometheus scrapes the weir processes and the stack's services; the ops
// dashboard's panels query it.
type Prometheus struct {
	URL string `yaml:"url"`
}

// Default listen addresses of the weir processes' /metrics endpoints on the
// native stack (the scheduler's is scheduler.listen). The stack's Prometheus
// scrapes them there, shifted like every port by WEIR_STACK_PORT_OFFSET
// (StackPort).
const (
	StreamListen = "127.0.0.1:9464"
	AlertsListen = "127.0.0.1:18711"
	// FollowListen is silver follow mode's (weir batch silver --follow).
	FollowListen = "127.0.0.1:9465"
)

// Scheduler is the DAG scheduler's store and web address.
type Scheduler struct {
	Database string `yaml:"database"` // postgres://...
	Listen   string `yaml:"listen"`
	DAGDir   string `yaml:"dag_dir"`
	// The UI's two sign-ins (HTTP basic auth): "operator" acts, "viewer"
	// reads. The scheduler does not start without both.
	OperatorPassword string `yaml:"operator_password"`
	ViewerPassword   string `yaml:"viewer_password"`
	// ReceiverPassword is Alertmanager's sign-in ("receiver"), which may
	// only POST its webhook; empty: the webhook refuses every request.
	ReceiverPassword string `yaml:"receiver_password"`
}

// Default returns the configuration of the native local stack (single profile).
func Default() Config {
	return Config{
		Kafka: Kafka{Brokers: []string{"127.0.0.1:19092"}},
		S3: S3{
			Endpoint:      "127.0.0.1:19000",
			Region:        "us-east-1",
			Bucket:        "weir-lake",
			ArchiveBucket: "weir-archive",
			ArchiveTier:   ArchiveTier{Name: "ARCHIVE", Bucket: "weir-archive-tier"},
		},
		Catalog: Catalog{
			Name:      "weir",
			URI:       "postgres://weir@127.0.0.1:15432/iceberg_catalog?sslmode=disable",
			Warehouse: "s3://weir-lake/warehouse",
		},
		Trino:        Trino{URL: "http://weir@127.0.0.1:18080", Catalog: "iceberg"},
		Alertmanager: Alertmanager{URL: "http://127.0.0.1:19903"},
		Prometheus:   Prometheus{URL: "http://127.0.0.1:19990"},
		Scheduler: Scheduler{
			Database: "postgres://weir@127.0.0.1:15432/weir_scheduler?sslmode=disable",
			Listen:   "127.0.0.1:18700",
			DAGDir:   "dags",
		},
	}
}

// Load reads path (if not empty) over the defaults, strictly, then applies
// environment overrides and validates the result.
func Load(path string) (Config, error) {
	cfg := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		if err := Parse(raw, &cfg); err != nil {
			return Config{}, fmt.Errorf("parse config %s: %w", path, err)
		}
	}
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ForIdentity returns c with the variables of one deployment identity
// applied on top: <prefix><NAME> overrides WEIR_<NAME> (e.g.
// WEIR_MAINTAIN_S3_ACCESS_KEY for WEIR_S3_ACCESS_KEY with prefix
// "WEIR_MAINTAIN_"), read through lookup (os.LookupEnv in weir). Without
// such variables it is c.
func (c Config) ForIdentity(prefix string, lookup func(string) (string, bool)) (Config, error) {
	err := c.ApplyEnv(func(name string) (string, bool) {
		return lookup(prefix + strings.TrimPrefix(name, "WEIR_"))
	})
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// IdentityEnv is ForIdentity for a process weir starts: environ (as
// os.Environ gives it) with each WEIR_<NAME> that configures weir replaced
// by <prefix><NAME> where that is set and not empty. The native stack's
// env.sh carries one such set per job identity (WEIR_STREAM_, WEIR_BATCH_,
// ...), and weir demo starts each job with its own.
func IdentityEnv(environ []string, prefix string) []string {
	var c Config
	names := map[string]bool{"WEIR_KAFKA_BROKERS": true}
	for name := range c.envVars() {
		names[name] = true
	}
	for name := range c.boolEnvVars() {
		names[name] = true
	}
	over := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, prefix); ok && v != "" && names["WEIR_"+name] {
			over["WEIR_"+name] = v
		}
	}
	out := make([]string, 0, len(environ)+len(over))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := over[k]; !ok {
			out = append(out, kv)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(over)) {
		out = append(out, name+"="+over[name])
	}
	return out
}

// Parse decodes YAML into cfg, rejecting unknown keys.
func Parse(raw []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// envVars maps each WEIR_* variable to the field it overrides.
func (c *Config) envVars() map[string]*string {
	return map[string]*string{
		"WEIR_S3_ENDPOINT":                 &c.S3.Endpoint,
		"WEIR_S3_REGION":                   &c.S3.Region,
		"WEIR_S3_ACCESS_KEY":               &c.S3.AccessKey,
		"WEIR_S3_SECRET_KEY":               &c.S3.SecretKey,
		"WEIR_S3_BUCKET":                   &c.S3.Bucket,
		"WEIR_S3_ARCHIVE_BUCKET":           &c.S3.ArchiveBucket,
		"WEIR_S3_ARCHIVE_TIER_NAME":        &c.S3.ArchiveTier.Name,
		"WEIR_S3_ARCHIVE_TIER_ENDPOINT":    &c.S3.ArchiveTier.Endpoint,
		"WEIR_S3_ARCHIVE_TIER_BUCKET":      &c.S3.ArchiveTier.Bucket,
		"WEIR_CATALOG_NAME":                &c.Catalog.Name,
		"WEIR_CATALOG_URI":                 &c.Catalog.URI,
		"WEIR_CATALOG_WAREHOUSE":           &c.Catalog.Warehouse,
		"WEIR_TRINO_URL":                   &c.Trino.URL,
		"WEIR_TRINO_CATALOG":               &c.Trino.Catalog,
		"WEIR_TRINO_DASHBOARD_URL":         &c.Trino.DashboardURL,
		"WEIR_ALERTMANAGER_URL":            &c.Alertmanager.URL,
		"WEIR_PROMETHEUS_URL":              &c.Prometheus.URL,
		"WEIR_SCHEDULER_DATABASE":          &c.Scheduler.Database,
		"WEIR_SCHEDULER_LISTEN":            &c.Scheduler.Listen,
		"WEIR_SCHEDULER_DAG_DIR":           &c.Scheduler.DAGDir,
		"WEIR_SCHEDULER_OPERATOR_PASSWORD": &c.Scheduler.OperatorPassword,
		"WEIR_SCHEDULER_VIEWER_PASSWORD":   &c.Scheduler.ViewerPassword,
		"WEIR_SCHEDULER_RECEIVER_PASSWORD": &c.Scheduler.ReceiverPassword,
	}
}

// boolEnvVars maps each boolean WEIR_* variable to the field it overrides.
func (c *Config) boolEnvVars() map[string]*bool {
	return map[string]*bool{
		"WEIR_S3_USE_SSL":              &c.S3.UseSSL,
		"WEIR_S3_ARCHIVE_TIER_USE_SSL": &c.S3.ArchiveTier.UseSSL,
	}
}

// ApplyEnv overrides fields from WEIR_* variables found by lookup; an empty
// variable counts as unset.
// WEIR_KAFKA_BROKERS is a comma-separated list; WEIR_S3_USE_SSL and
// WEIR_S3_ARCHIVE_TIER_USE_SSL are true/false (or 1/0).
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	for name, field := range c.envVars() {
		if v, ok := lookup(name); ok && v != "" {
			*field = v
		}
	}
	if v, ok := lookup("WEIR_KAFKA_BROKERS"); ok && v != "" {
		c.Kafka.Brokers = splitList(v)
	}
	// Sorted, so that of two bad values the same one is reported every time.
	bools := c.boolEnvVars()
	for _, name := range slices.Sorted(maps.Keys(bools)) {
		v, ok := lookup(name)
		if !ok || v == "" {
			continue
		}
		switch v {
		case "true", "1":
			*bools[name] = true
		case "false", "0":
			*bools[name] = false
		default:
			return fmt.Errorf("%s: want true or false, got %q", name, v)
		}
	}
	return nil
}

// Validate reports the first invalid field by its YAML path.
func (c Config) Validate() error {
	if len(c.Kafka.Brokers) == 0 {
		return errors.New("kafka.brokers: at least one broker is required")
	}
	for i, b := range c.Kafka.Brokers {
		if !strings.Contains(b, ":") {
			return fmt.Errorf("kafka.brokers[%d]: %q is not host:port", i, b)
		}
	}
	if c.S3.Endpoint == "" || strings.Contains(c.S3.Endpoint, "://") {
		return fmt.Errorf("s3.endpoint: want host:port without scheme, got %q", c.S3.Endpoint)
	}
	if c.S3.Bucket == "" {
		return errors.New("s3.bucket: required")
	}
	if c.S3.ArchiveBucket == "" {
		return errors.New("s3.archive_bucket: required")
	}
	if err := c.S3.ArchiveTier.validate(); err != nil {
		return err
	}
	if c.Catalog.Name == "" {
		return errors.New("catalog.name: required")
	}
	if err := checkURL(c.Catalog.URI, "postgres", "postgresql"); err != nil {
		return fmt.Errorf("catalog.uri: %w", err)
	}
	if !strings.HasPrefix(c.Catalog.Warehouse, "s3://") {
		return fmt.Errorf("catalog.warehouse: want s3://bucket/path, got %q", c.Catalog.Warehouse)
	}
	if err := checkURL(c.Trino.URL, "http", "https"); err != nil {
		return fmt.Errorf("trino.url: %w", err)
	}
	if c.Trino.DashboardURL != "" {
		if err := checkURL(c.Trino.DashboardURL, "http", "https"); err != nil {
			return fmt.Errorf("trino.dashboard_url: %w", err)
		}
	}
	if c.Trino.Catalog == "" {
		return errors.New("trino.catalog: required")
	}
	if err := checkURL(c.Alertmanager.URL, "http", "https"); err != nil {
		return fmt.Errorf("alertmanager.url: %w", err)
	}
	if err := checkURL(c.Prometheus.URL, "http", "https"); err != nil {
		return fmt.Errorf("prometheus.url: %w", err)
	}
	if err := checkURL(c.Scheduler.Database, "postgres", "postgresql"); err != nil {
		return fmt.Errorf("scheduler.database: %w", err)
	}
	if !strings.Contains(c.Scheduler.Listen, ":") {
		return fmt.Errorf("scheduler.listen: %q is not host:port", c.Scheduler.Listen)
	}
	if _, err := c.AccessFormats(); err != nil {
		return err
	}
	return c.validatePromote()
}

func (t ArchiveTier) validate() error {
	if t.Endpoint == "" {
		return nil
	}
	if strings.Contains(t.Endpoint, "://") || !strings.Contains(t.Endpoint, ":") {
		return fmt.Errorf("s3.archive_tier.endpoint: want host:port without scheme, got %q", t.Endpoint)
	}
	if t.Name == "" || strings.Trim(t.Name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return fmt.Errorf("s3.archive_tier.name: want upper case letters, digits, _ and -, got %q", t.Name)
	}
	if t.Name == "STANDARD" || t.Name == "REDUCED_REDUNDANCY" {
		return fmt.Errorf("s3.archive_tier.name: %s is one of MinIO's own storage classes", t.Name)
	}
	if t.Bucket == "" {
		return errors.New("s3.archive_tier.bucket: required with an endpoint")
	}
	return nil
}

func (c Config) validatePromote() error {
	for source, fields := range c.Promote {
		if !slices.Contains(PromoteSources, source) {
			return fmt.Errorf("promote.%s: unknown source, want one of %s", source, strings.Join(PromoteSources, ", "))
		}
		seen := map[string]bool{}
		for i, f := range fields {
			switch {
			case !columnName(f.Field):
				return fmt.Errorf("promote.%s[%d].field: %q is not a column name (lower case letters, digits and _, starting with a letter, at most 64)", source, i, f.Field)
			case seen[f.Field]:
				return fmt.Errorf("promote.%s[%d].field: %q promoted twice", source, i, f.Field)
			case !slices.Contains(PromotedTypes, f.Type):
				return fmt.Errorf("promote.%s[%d].type: %q, want one of %s", source, i, f.Type, strings.Join(PromotedTypes, ", "))
			}
			seen[f.Field] = true
		}
	}
	return nil
}

// columnName reports whether s is a plain lower-case SQL column name, the
// same in Iceberg, Trino and JSON.
func columnName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	for _, s := range schemes {
		if u.Scheme == s && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("want a %s URL with a host, got %q", strings.Join(schemes, " or "), redact(raw))
}

// redact hides a password in a URL so errors can be logged.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
