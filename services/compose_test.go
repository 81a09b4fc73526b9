package services

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"weir/config"
	"weir/jobs/gold/dashboard"
	"weir/jobs/setup"
	"weir/objectstore"
	"weir/services/alertmanager"
)

// stack is one compose file loaded with a throwaway env, as `docker compose
// config` would resolve it.
type stack struct {
	file    string
	project *types.Project
	env     map[string]string
}

// composeFiles lists every compose file of services/.
func composeFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("compose*.y*ml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no compose file in services/")
	}
	return files
}

// hostOverride is the host-networking override file; the others are stacks
// of their own.
const hostOverride = "compose.host.yaml"

// composeStacks lists the ways the files are loaded: each stack alone, and
// compose.yaml with the host-networking override, as make loads them.
func composeStacks(t *testing.T) [][]string {
	var out [][]string
	for _, f := range composeFiles(t) {
		if f != hostOverride {
			out = append(out, []string{f})
		}
	}
	return append(out, []string{"compose.yaml", hostOverride})
}

func loadCompose(t *testing.T, file string, env map[string]string) (*types.Project, error) {
	return loadComposeFiles(t, []string{file}, env)
}

func loadComposeFiles(t *testing.T, files []string, env map[string]string) (*types.Project, error) {
	t.Helper()
	envFile := filepath.Join(t.TempDir(), ".env")
	if err := WriteEnvFile(envFile, env); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// No WithOsEnv: the result must not depend on the caller's environment.
	opts, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(wd),
		// Grafana and Prometheus are in profiles (make enables them).
		cli.WithProfiles([]string{"grafana", "prometheus"}),
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
	)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

func loadStacks(t *testing.T) []stack {
	t.Helper()
	env, err := Generate(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var out []stack
	for _, f := range composeFiles(t) {
		if f == hostOverride {
			continue
		}
		p, err := loadCompose(t, f, env)
		if err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
		out = append(out, stack{file: f, project: p, env: env})
	}
	return out
}

func envOf(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

func imageRepo(image string) string {
	repo, _, _ := strings.Cut(image, ":")
	return repo
}

// mountOf returns the mount of s at target, if any.
func mountOf(s types.ServiceConfig, target string) (types.ServiceVolumeConfig, bool) {
	for _, v := range s.Volumes {
		if v.Target == target {
			return v, true
		}
	}
	return types.ServiceVolumeConfig{}, false
}

// bindsFile reports whether s bind-mounts the file (or directory) rel of services/.
func bindsFile(t *testing.T, s types.ServiceConfig, rel string) bool {
	abs, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && filepath.Clean(v.Source) == abs {
			return true
		}
	}
	return false
}

func readProperties(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	props := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not key=value", path, line)
		}
		props[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return props
}

// oneShot reports whether s runs to completion instead of staying up.
func oneShot(s types.ServiceConfig) bool { return s.Restart == "no" }

func TestComposeTopology(t *testing.T) {
	for _, st := range loadStacks(t) {
		p := st.project
		t.Run(st.file, func(t *testing.T) {
			t.Run("kafka: 3 KRaft brokers, RF 3, min ISR 2, no unclean election", func(t *testing.T) {
				var brokers []types.ServiceConfig
				for _, s := range p.Services {
					if strings.Contains(envOf(s, "KAFKA_PROCESS_ROLES"), "broker") {
						brokers = append(brokers, s)
					}
				}
				if len(brokers) != 3 {
					t.Fatalf("want 3 brokers, got %d", len(brokers))
				}
				ids := map[string]bool{}
				for _, b := range brokers {
					if repo, tag, _ := strings.Cut(b.Image, ":"); repo != "apache/kafka" || !strings.HasPrefix(tag, "4.") {
						t.Errorf("%s: image %s, want apache/kafka:4.x", b.Name, b.Image)
					}
					for k, want := range map[string]string{
						"KAFKA_DEFAULT_REPLICATION_FACTOR":               "3",
						"KAFKA_MIN_INSYNC_REPLICAS":                      "2",
						"KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE":           "false",
						"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":         "3",
						"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "3",
						"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":            "2",
						"CLUSTER_ID":                                     st.env[KafkaClusterID],
					} {
						if got := envOf(b, k); got != want {
							t.Errorf("%s: %s=%q, want %q", b.Name, k, got, want)
						}
					}
					id := envOf(b, "KAFKA_NODE_ID")
					ids[id] = true
					voter := fmt.Sprintf("%s@%s:9093", id, b.Hostname)
					if !slices.Contains(strings.Split(envOf(b, "KAFKA_CONTROLLER_QUORUM_VOTERS"), ","), voter) {
						t.Errorf("%s: quorum voters %q lack %s", b.Name, envOf(b, "KAFKA_CONTROLLER_QUORUM_VOTERS"), voter)
					}
					if m, ok := mountOf(b, envOf(b, "KAFKA_LOG_DIRS")); !ok || m.Type != types.VolumeTypeVolume {
						t.Errorf("%s: log dir %s is not on a named volume", b.Name, envOf(b, "KAFKA_LOG_DIRS"))
					}
				}
				if len(ids) != 3 {
					t.Errorf("node ids not distinct: %v", ids)
				}
				// weir-init creates the topics with the brokers' defaults
				// (RF 3, min ISR 2 above) once every broker is healthy.
				for _, b := range brokers {
					if dep, ok := p.Services["weir-init"].DependsOn[b.Name]; !ok || dep.Condition != types.ServiceConditionHealthy {
						t.Errorf("weir-init does not wait for %s to be healthy", b.Name)
					}
				}
			})

			t.Run("minio: 4 nodes in one erasure-coded pool", func(t *testing.T) {
				var nodes []types.ServiceConfig
				for _, s := range p.Services {
					// minio-archive, the archive tier, is a deployment of its own.
					if imageRepo(s.Image) == "minio/minio" && len(s.Command) > 0 && s.Command[0] == "server" && s.Name != "minio-archive" {
						nodes = append(nodes, s)
					}
				}
				if len(nodes) != 4 {
					t.Fatalf("want 4 MinIO nodes, got %d", len(nodes))
				}
				pool := regexp.MustCompile(`^http://(\w+)\{1\.\.\.(\d+)\}/(\w+)\{1\.\.\.(\d+)\}$`)
				for _, n := range nodes {
					if !slices.Equal(n.Command, nodes[0].Command) {
						t.Errorf("%s: command %v differs from %s's %v", n.Name, n.Command, nodes[0].Name, nodes[0].Command)
					}
					var m []string
					for _, arg := range n.Command {
						if m = pool.FindStringSubmatch(arg); m != nil {
							break
						}
					}
					if m == nil {
						t.Fatalf("%s: no http://host{1...N}/drive{1...M} pool in %v", n.Name, n.Command)
					}
					if m[2] != "4" {
						t.Errorf("%s: pool spans %s hosts, want 4", n.Name, m[2])
					}
					if want := m[1]; !strings.HasPrefix(n.Hostname, want) {
						t.Errorf("%s: hostname %q is not one of the pool's %s{1...4}", n.Name, n.Hostname, want)
					}
					drives := 0
					for _, v := range n.Volumes {
						if strings.HasPrefix(v.Target, "/"+m[3]) && v.Type == types.VolumeTypeVolume {
							drives++
						}
					}
					if want := m[4]; fmt.Sprint(drives) != want {
						t.Errorf("%s: %d drives on named volumes, want %s", n.Name, drives, want)
					}
					if net := n.Networks["default"]; net == nil || !slices.Contains(net.Aliases, "minio") {
						t.Errorf("%s: not reachable under the shared alias minio", n.Name)
					}
				}
			})

			t.Run("minio-archive: the archive tier, a MinIO of its own with parity EC:1", func(t *testing.T) {
				a, ok := p.Services["minio-archive"]
				if !ok || imageRepo(a.Image) != "minio/minio" {
					t.Fatal("no minio-archive service")
				}
				if got := envOf(a, "MINIO_STORAGE_CLASS_STANDARD"); got != "EC:1" {
					t.Errorf("minio-archive: standard storage class %q, want EC:1", got)
				}
				drives := 0
				for _, v := range a.Volumes {
					if v.Type == types.VolumeTypeVolume && strings.HasPrefix(v.Source, "minio-archive-") {
						drives++
					}
				}
				if drives != 4 || !slices.Contains(a.Command, "/data{1...4}") {
					t.Errorf("minio-archive: %d drives of its own on named volumes, command %v; want 4", drives, a.Command)
				}
				mi := p.Services["minio-init"]
				if envOf(mi, "WEIR_S3_ARCHIVE_TIER_ENDPOINT") != "minio-archive:9000" || envOf(mi, "MINIO_ARCHIVE_ROOT_USER") != envOf(a, "MINIO_ROOT_USER") {
					t.Errorf("minio-init does not put the archive bucket on minio-archive (its endpoint and root user)")
				}
				if _, ok := mi.DependsOn["minio-archive"]; !ok {
					t.Error("minio-init does not wait for minio-archive")
				}
			})

			t.Run("postgres: catalog and scheduler databases, roles, volume", func(t *testing.T) {
				pg, ok := p.Services["postgres"]
				if !ok || imageRepo(pg.Image) != "postgres" {
					t.Fatal("no postgres service")
				}
				if m, ok := mountOf(pg, "/var/lib/postgresql/data"); !ok || m.Type != types.VolumeTypeVolume {
					t.Error("postgres data is not on a named volume")
				}
				if !bindsFile(t, pg, "postgres/initdb") || !bindsFile(t, pg, "postgres/roles.sql") {
					t.Error("postgres does not mount initdb/ and roles.sql")
				}
				sql, err := os.ReadFile("postgres/roles.sql")
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"CREATE DATABASE iceberg_catalog", "CREATE DATABASE weir_scheduler", "CREATE DATABASE weir_alerts",
					"CREATE TABLE iceberg_tables", "iceberg_type", "CREATE TABLE iceberg_namespace_properties"} {
					if !strings.Contains(string(sql), want) {
						t.Errorf("roles.sql: missing %q", want)
					}
				}
				checkReaderRole(t, string(sql))
			})

			t.Run("trino: coordinator, 2+ workers, JDBC catalog V1 on MinIO", func(t *testing.T) {
				var coordinators, workers []string
				for _, s := range p.Services {
					switch {
					case bindsFile(t, s, "trino/coordinator/config.properties"):
						coordinators = append(coordinators, s.Name)
					case bindsFile(t, s, "trino/worker/config.properties"):
						workers = append(workers, s.Name)
					default:
						continue
					}
					if s.Image != "trinodb/trino:476" {
						t.Errorf("%s: image %s, want trinodb/trino:476", s.Name, s.Image)
					}
					if !bindsFile(t, s, "trino/catalog") {
						t.Errorf("%s: does not mount the catalog directory", s.Name)
					}
					// The catalog's file system cache lives under the data directory.
					if m, ok := mountOf(s, "/data/trino"); !ok || m.Type != types.VolumeTypeVolume {
						t.Errorf("%s: data directory /data/trino (file system cache) is not on a named volume", s.Name)
					}
				}
				if len(coordinators) != 1 || len(workers) < 2 {
					t.Fatalf("want 1 coordinator and ≥2 workers, got %v and %v", coordinators, workers)
				}
				if c := readProperties(t, "trino/coordinator/config.properties"); c["coordinator"] != "true" || c["node-scheduler.include-coordinator"] != "false" {
					t.Errorf("coordinator config: coordinator=%s include-coordinator=%s", c["coordinator"], c["node-scheduler.include-coordinator"])
				}
				if w := readProperties(t, "trino/worker/config.properties"); w["coordinator"] != "false" {
					t.Errorf("worker config: coordinator=%s", w["coordinator"])
				}
				cat := readProperties(t, "trino/catalog/iceberg.properties")
				for k, want := range map[string]string{
					"connector.name":                             "iceberg",
					"iceberg.catalog.type":                       "jdbc",
					"iceberg.jdbc-catalog.driver-class":          "org.postgresql.Driver",
					"iceberg.jdbc-catalog.connection-url":        "jdbc:postgresql://${ENV:TRINO_PG_ADDR}/iceberg_catalog",
					"iceberg.jdbc-catalog.connection-user":       "trino",
					"iceberg.jdbc-catalog.connection-password":   "${ENV:PG_TRINO_PASSWORD}",
					"iceberg.jdbc-catalog.catalog-name":          "weir",
					"iceberg.jdbc-catalog.default-warehouse-dir": "s3://weir-lake/warehouse",
					"iceberg.jdbc-catalog.schema-version":        "V1",
					"fs.native-s3.enabled":                       "true",
					"s3.endpoint":                                "${ENV:TRINO_S3_ENDPOINT}",
					"s3.path-style-access":                       "true",
					"s3.region":                                  "us-east-1",
					"s3.aws-access-key":                          "weir-trino",
					"s3.aws-secret-key":                          "${ENV:MINIO_TRINO_SECRET_KEY}",
					"fs.cache.enabled":                           "true",
					"fs.cache.directories":                       "/data/trino/fs-cache",
				} {
					if cat[k] != want {
						t.Errorf("iceberg.properties: %s=%q, want %q", k, cat[k], want)
					}
				}
				// The scheduler's run history for the pipeline-health views:
				// the same catalog name as the native stack's, as the role
				// that may only read it.
				sched := readProperties(t, "trino/catalog/scheduler.properties")
				want := map[string]string{
					"connector.name":      "postgresql",
					"connection-url":      "jdbc:postgresql://${ENV:TRINO_PG_ADDR}/weir_scheduler",
					"connection-user":     "weir_reader",
					"connection-password": "${ENV:PG_WEIR_READER_PASSWORD}",
				}
				for k, v := range want {
					if sched[k] != v {
						t.Errorf("scheduler.properties: %s=%q, want %q", k, sched[k], v)
					}
				}
				for k := range sched {
					if _, ok := want[k]; !ok {
						t.Errorf("scheduler.properties: unexpected %s", k)
					}
				}
				catalogs, err := filepath.Glob("trino/catalog/*.properties")
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range catalogs {
					catalogs[i] = strings.TrimSuffix(filepath.Base(c), ".properties")
				}
				if !slices.Equal(catalogs, []string{"iceberg", "scheduler"}) {
					t.Errorf("trino catalogs %v, want [iceberg scheduler]", catalogs)
				}
			})

			t.Run("grafana: trino-datasource plugin, provisioned, read-only user", func(t *testing.T) {
				g, ok := p.Services["grafana"]
				if !ok || imageRepo(g.Image) != "grafana/grafana" {
					t.Fatal("no grafana service")
				}
				if !strings.Contains(envOf(g, "GF_INSTALL_PLUGINS"), "trino-datasource") {
					t.Errorf("GF_INSTALL_PLUGINS=%q lacks trino-datasource", envOf(g, "GF_INSTALL_PLUGINS"))
				}
				if m, ok := mountOf(g, "/etc/grafana/provisioning"); !ok || !bindsFile(t, g, "grafana/provisioning") || !m.ReadOnly {
					t.Error("provisioning directory not mounted read-only at /etc/grafana/provisioning")
				}
				checkGrafanaProvisioning(t, g)
				checkTrinoRules(t)
			})

			t.Run("alertmanager and weir services", func(t *testing.T) {
				am, ok := p.Services["alertmanager"]
				if !ok || imageRepo(am.Image) != "prom/alertmanager" {
					t.Fatal("no alertmanager service")
				}
				// make build_images builds the weir image (docker/build.sh,
				// or docker/weir.Dockerfile); compose never pulls it.
				init, ok := p.Services["weir-init"]
				if !ok || init.Image != "weir:local" || init.PullPolicy != types.PullPolicyNever {
					t.Fatalf("weir-init: image %q pull policy %q, want weir:local, never", init.Image, init.PullPolicy)
				}
				for _, name := range []string{"weir-init", "weir-stream", "weir-alerts", "weir-scheduler", "weir-follow"} {
					s, ok := p.Services[name]
					if !ok {
						t.Errorf("no %s service", name)
						continue
					}
					if s.Image != init.Image {
						t.Errorf("%s: image %s, want the weir image %s", name, s.Image, init.Image)
					}
					// The container's WEIR_* variables must make a valid config.
					cfg := config.Default()
					err := cfg.ApplyEnv(func(k string) (string, bool) {
						v, ok := s.Environment[k]
						if !ok || v == nil {
							return "", false
						}
						return *v, true
					})
					if err == nil {
						err = cfg.Validate()
					}
					if err != nil {
						t.Errorf("%s: config from environment: %v", name, err)
					}
					if strings.Contains(cfg.Catalog.URI, "127.0.0.1") || strings.Contains(cfg.S3.Endpoint, "127.0.0.1") {
						t.Errorf("%s: still points at the native stack (%s, %s)", name, cfg.Catalog.URI, cfg.S3.Endpoint)
					}
				}
				if got := envOf(p.Services["weir-alerts"], "WEIR_ALERTMANAGER_URL"); got != "http://alertmanager:9093" {
					t.Errorf("weir-alerts: WEIR_ALERTMANAGER_URL=%q", got)
				}
				if got := envOf(p.Services["weir-scheduler"], "WEIR_TRINO_URL"); !strings.HasPrefix(got, "https://weir:") {
					t.Errorf("weir-scheduler: WEIR_TRINO_URL is not https as user weir")
				}
			})

			t.Run("health checks, one-shots, start order", func(t *testing.T) {
				adopted := map[string]bool{}
				for _, s := range p.Services {
					for dep, d := range s.DependsOn {
						target := p.Services[dep]
						switch {
						case oneShot(target) && d.Condition != types.ServiceConditionCompletedSuccessfully:
							t.Errorf("%s → %s: one-shot dependency with condition %q", s.Name, dep, d.Condition)
						case !oneShot(target) && d.Condition != types.ServiceConditionHealthy:
							t.Errorf("%s → %s: condition %q, want service_healthy", s.Name, dep, d.Condition)
						}
						if oneShot(target) && !oneShot(s) {
							adopted[dep] = true
						}
					}
				}
				for _, s := range p.Services {
					if oneShot(s) {
						// `up --wait` returns 0 only if a long-running
						// service waits for each one-shot directly.
						if !adopted[s.Name] {
							t.Errorf("%s: one-shot that no long-running service depends on", s.Name)
						}
						continue
					}
					if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
						t.Errorf("%s: no health check", s.Name)
					}
				}
			})

			t.Run("named volumes for state, loopback-only ports, pinned images", func(t *testing.T) {
				stateful := regexp.MustCompile(`^(kafka\d|minio\d|postgres|grafana|alertmanager)$`)
				for _, s := range p.Services {
					if stateful.MatchString(s.Name) && !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
						return v.Type == types.VolumeTypeVolume && p.Volumes[v.Source].Name != ""
					}) {
						t.Errorf("%s: stateful without a named volume", s.Name)
					}
					for _, port := range s.Ports {
						if port.HostIP != "127.0.0.1" {
							t.Errorf("%s: port %s published on %q, want 127.0.0.1", s.Name, port.Published, port.HostIP)
						}
					}
					if _, tag, ok := strings.Cut(s.Image, ":"); !ok || tag == "" || tag == "latest" {
						t.Errorf("%s: image %q is not pinned", s.Name, s.Image)
					}
				}
			})

			t.Run("one credential per service", func(t *testing.T) {
				checkCredentialHolders(t, p, st.env)
				checkMinIOPolicies(t)
			})
		})
	}
}

// checkCredentialHolders finds which services receive each secret (by value,
// after interpolation) and compares with the one intended holder.
func checkCredentialHolders(t *testing.T, p *types.Project, env map[string]string) {
	t.Helper()
	minio := []string{"minio1", "minio2", "minio3", "minio4", "minio-init"}
	trinoNodes := []string{"trino-coordinator", "trino-worker1", "trino-worker2"}
	want := map[string][]string{
		"MINIO_ROOT_PASSWORD":         minio,
		"MINIO_ARCHIVE_ROOT_PASSWORD": {"minio-archive", "minio-init"},
		"MINIO_TIER_SECRET_KEY":       {"minio-init"},
		"MINIO_STREAM_SECRET_KEY":     {"minio-init", "weir-stream"},
		"MINIO_BATCH_SECRET_KEY":      {"minio-init", "weir-scheduler", "weir-gold-init", "weir-follow"},
		"MINIO_ALERTS_SECRET_KEY":     {"minio-init", "weir-alerts"},
		"MINIO_TRINO_SECRET_KEY":      append([]string{"minio-init"}, trinoNodes...),
		"MINIO_MAINTAIN_SECRET_KEY":   {"minio-init", "weir-init", "weir-scheduler"},
		"POSTGRES_PASSWORD":           {"postgres"},
		"PG_WEIR_INIT_PASSWORD":       {"postgres", "weir-init"},
		"PG_WEIR_STREAM_PASSWORD":     {"postgres", "weir-stream"},
		"PG_WEIR_BATCH_PASSWORD":      {"postgres", "weir-scheduler", "weir-gold-init", "weir-follow"},
		"PG_WEIR_ALERTS_PASSWORD":     {"postgres", "weir-alerts"},
		"PG_WEIR_SCHEDULER_PASSWORD":  {"postgres", "weir-scheduler", "weir-init", "weir-gold-init"},
		"PG_TRINO_PASSWORD":           append([]string{"postgres"}, trinoNodes...),
		"PG_WEIR_READER_PASSWORD":     append([]string{"postgres"}, trinoNodes...),
		"TRINO_SHARED_SECRET":         trinoNodes,
		"TRINO_KEYSTORE_PASSWORD":     {"trino-secrets", "trino-coordinator"},
		"TRINO_WEIR_PASSWORD":         {"weir-scheduler", "weir-gold-init", "weir-follow"},
		"TRINO_WEIR_PASSWORD_HASH":    {"trino-secrets"},
		"TRINO_GRAFANA_PASSWORD":      {"grafana", "weir-scheduler"},
		"TRINO_GRAFANA_PASSWORD_HASH": {"trino-secrets"},
		// prometheus only, as a compose secret (not in its environment)
		"TRINO_PROMETHEUS_PASSWORD":      nil,
		"TRINO_PROMETHEUS_PASSWORD_HASH": {"trino-secrets"},
		"GRAFANA_ADMIN_PASSWORD":         {"grafana"},
		"SCHEDULER_OPERATOR_PASSWORD":    {"weir-scheduler"},
		"SCHEDULER_VIEWER_PASSWORD":      {"weir-scheduler"},
		// and alertmanager, as a compose secret (not in its environment)
		"SCHEDULER_RECEIVER_PASSWORD": {"weir-scheduler"},
		"GRAFANA_SECRET_KEY":          {"grafana"},
	}
	for name := range env {
		if _, ok := want[name]; !ok && name != MinIORootUser && name != KafkaClusterID {
			t.Errorf("%s: generated but no intended holder listed in this test", name)
		}
	}
	for name, holders := range want {
		var got []string
		for _, s := range p.Services {
			for _, v := range s.Environment {
				if v != nil && strings.Contains(*v, env[name]) {
					got = append(got, s.Name)
					break
				}
			}
		}
		slices.Sort(got)
		holders = slices.Clone(holders)
		slices.Sort(holders)
		if !slices.Equal(got, holders) {
			t.Errorf("%s: held by %v, want %v", name, got, holders)
		}
	}
	// Distinct identities per weir service.
	keys, users := map[string]string{}, map[string]string{}
	for _, name := range []string{"weir-stream", "weir-alerts", "weir-scheduler"} {
		s := p.Services[name]
		if other, dup := keys[envOf(s, "WEIR_S3_ACCESS_KEY")]; dup {
			t.Errorf("%s and %s share a MinIO user", name, other)
		}
		keys[envOf(s, "WEIR_S3_ACCESS_KEY")] = name
		cfg := config.Default()
		cfg.Catalog.URI = envOf(s, "WEIR_CATALOG_URI")
		u := strings.SplitN(strings.TrimPrefix(cfg.Catalog.URI, "postgres://"), ":", 2)[0]
		if other, dup := users[u]; dup {
			t.Errorf("%s and %s share the PostgreSQL role %s", name, other, u)
		}
		users[u] = name
		if _, err := os.Stat(filepath.Join("minio/policies", envOf(s, "WEIR_S3_ACCESS_KEY")+".json")); err != nil {
			t.Errorf("%s: no policy for its MinIO user: %v", name, err)
		}
	}
	// Silver follow mode runs the scheduler's batch jobs (silver, gold
	// refresh) and nothing else: it signs in exactly as they do (MinIO
	// weir-batch, catalog role weir_batch, Trino user weir), never as the
	// maintenance identity or an administrator.
	follow, sched := p.Services["weir-follow"], p.Services["weir-scheduler"]
	for _, k := range []string{"WEIR_S3_ACCESS_KEY", "WEIR_S3_SECRET_KEY", "WEIR_CATALOG_URI", "WEIR_TRINO_URL"} {
		if envOf(follow, k) == "" || envOf(follow, k) != envOf(sched, k) {
			t.Errorf("weir-follow: %s is not the scheduler's batch identity", k)
		}
	}
	for k := range follow.Environment {
		if strings.HasPrefix(k, "WEIR_MAINTAIN_") || strings.HasPrefix(k, "MINIO_") || k == "WEIR_SCHEDULER_DATABASE" {
			t.Errorf("weir-follow: holds %s, which follow mode does not use", k)
		}
	}
}

var update = flag.Bool("update", false, "rewrite minio/policies/*.json from objectstore.ServiceUsers")

// servicePolicies renders objectstore.ServiceUsers for the compose stack's
// buckets, resources sorted so the files are stable.
func servicePolicies(t *testing.T) map[string][]byte {
	t.Helper()
	cfg := config.Default()
	out := map[string][]byte{}
	for _, u := range objectstore.ServiceUsers(cfg.S3, cfg.Catalog.Warehouse, nil) {
		var doc map[string]any
		if err := json.Unmarshal(u.Policy(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, st := range doc["Statement"].([]any) {
			res := st.(map[string]any)["Resource"].([]any)
			slices.SortFunc(res, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		}
		pretty, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out[u.AccessKey] = append(pretty, '\n')
	}
	return out
}

// TestMinIOPoliciesMatchLakehouse keeps minio/policies/*.json, the readable
// form of what minio-init (weir init --storage) applies, identical to
// objectstore.ServiceUsers (one definition, in Go, the native stack's too).
func TestMinIOPoliciesMatchLakehouse(t *testing.T) {
	want := servicePolicies(t)
	files, err := filepath.Glob("minio/policies/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := want[strings.TrimSuffix(filepath.Base(f), ".json")]; !ok {
			t.Errorf("%s: no such lakehouse service user", f)
		}
	}
	for user, doc := range want {
		path := filepath.Join("minio/policies", user+".json")
		if *update {
			if err := os.WriteFile(path, doc, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (go test ./services -update)", user, err)
			continue
		}
		if !bytes.Equal(got, doc) {
			t.Errorf("%s differs from objectstore.ServiceUsers (go test ./services -update)", path)
		}
		// minio-init (weir init --storage) creates every user from the
		// secret in its environment.
		env, ok := setup.StorageUserEnv[user]
		if !ok {
			t.Errorf("%s: weir init --storage has no secret variable for it", user)
		}
		for _, st := range loadStacks(t) {
			mi := st.project.Services["minio-init"]
			if !slices.Contains(mi.Command, "--storage") {
				t.Errorf("%s: minio-init does not run weir init --storage", st.file)
			}
			if envOf(mi, env) != st.env[env] || st.env[env] == "" {
				t.Errorf("%s: minio-init lacks %s, the secret of %s", st.file, env, user)
			}
		}
	}
}

type policy struct {
	Statement []struct {
		Effect   string
		Action   []string
		Resource []string
	}
}

// checkMinIOPolicies asserts what each service's MinIO user may write and read.
func checkMinIOPolicies(t *testing.T) {
	t.Helper()
	writes := func(a string) bool {
		return a == "s3:PutObject" || a == "s3:DeleteObject" || a == "s3:*" || a == "s3:AbortMultipartUpload"
	}
	const lake, archive = "arn:aws:s3:::weir-lake/", "arn:aws:s3:::weir-archive/"
	for _, tc := range []struct {
		user     string
		mayWrite []string // resource prefixes
		mustRead []string // resource prefixes
	}{
		{"weir-stream", []string{lake + "warehouse/bronze"}, nil},
		{"weir-alerts", []string{lake + "warehouse/silver/alerts"}, nil},
		{"weir-batch", []string{lake + "warehouse/silver", lake + "warehouse/gold", archive}, []string{lake + "warehouse/bronze"}},
		{"weir-trino", []string{lake + "warehouse/gold"}, []string{lake, archive}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("minio/policies", tc.user+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var pol policy
			if err := json.Unmarshal(raw, &pol); err != nil {
				t.Fatal(err)
			}
			var read, written []string
			for _, st := range pol.Statement {
				if st.Effect != "Allow" {
					continue
				}
				for _, a := range st.Action {
					for _, r := range st.Resource {
						if a == "s3:GetObject" {
							read = append(read, r)
						}
						if !writes(a) {
							continue
						}
						written = append(written, r)
						if !slices.ContainsFunc(tc.mayWrite, func(p string) bool { return strings.HasPrefix(r, p) }) {
							t.Errorf("may %s %s, outside %v", a, r, tc.mayWrite)
						}
					}
				}
			}
			covered := func(have []string, p string) bool {
				return slices.ContainsFunc(have, func(r string) bool { return strings.HasPrefix(p, strings.TrimSuffix(r, "*")) })
			}
			for _, p := range tc.mustRead {
				if !covered(read, p) {
					t.Errorf("cannot read %s (reads %v)", p, read)
				}
			}
			for _, p := range tc.mayWrite {
				if !covered(written, p) {
					t.Errorf("cannot write %s (writes %v)", p, written)
				}
			}
		})
	}
}

func checkGrafanaProvisioning(t *testing.T, g types.ServiceConfig) {
	t.Helper()
	var ds struct {
		Datasources []struct {
			UID            string            `yaml:"uid"`
			Type           string            `yaml:"type"`
			URL            string            `yaml:"url"`
			BasicAuth      bool              `yaml:"basicAuth"`
			BasicAuthUser  string            `yaml:"basicAuthUser"`
			JSONData       map[string]any    `yaml:"jsonData"`
			SecureJSONData map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, "grafana/provisioning/datasources/trino.yaml", &ds)
	if len(ds.Datasources) != 1 {
		t.Fatalf("want one data source, got %d", len(ds.Datasources))
	}
	d := ds.Datasources[0]
	if d.Type != "trino-datasource" || !d.BasicAuth || d.BasicAuthUser != "grafana" || !strings.HasPrefix(d.URL, "https://trino-coordinator:") {
		t.Errorf("data source: type=%s basicAuth=%v user=%s url=%s", d.Type, d.BasicAuth, d.BasicAuthUser, d.URL)
	}
	if d.SecureJSONData["basicAuthPassword"] != "$__env{TRINO_GRAFANA_PASSWORD}" {
		t.Errorf("basicAuthPassword must come from the environment, got %q", d.SecureJSONData["basicAuthPassword"])
	}
	if ca := d.SecureJSONData["tlsCACert"]; d.JSONData["tlsAuthWithCACert"] != true || !strings.HasPrefix(ca, "$__file{") {
		t.Errorf("TLS not verified against the coordinator certificate (tlsCACert=%q)", ca)
	} else if caDir := filepath.Dir(strings.TrimSuffix(strings.TrimPrefix(ca, "$__file{"), "}")); !slices.ContainsFunc(g.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Target == caDir && v.Type == types.VolumeTypeVolume
	}) {
		t.Errorf("grafana does not mount the CA directory %s", caDir)
	}

	var prov grafanaProviders
	readYAML(t, "grafana/provisioning/dashboards/weir.yaml", &prov)
	if len(prov.Providers) == 0 {
		t.Fatal("no dashboard provider")
	}
	for _, pr := range prov.Providers {
		if m, ok := mountOf(g, pr.Options.Path); !ok || !bindsFile(t, g, "grafana/dashboards") {
			t.Errorf("dashboard path %s is not the mounted grafana/dashboards (%+v)", pr.Options.Path, m)
		}
	}
	// The dashboards' references to data sources: the check the
	// dashboard package runs on them, against the uid provisioned here.
	dashboards, err := dashboard.Load("grafana/dashboards")
	if err != nil {
		t.Fatal(err)
	}
	if err := dashboard.Validate(dashboards, []string{d.UID}); err != nil {
		t.Errorf("provisioned dashboards against data source %q: %v", d.UID, err)
	}
}

// checkReaderRole asserts that roles.sql gives weir_reader, the role of
// Trino's scheduler catalog, a login and read access to the scheduler's
// tables in weir_scheduler, and nothing more: every statement naming the
// role must be one of these.
func checkReaderRole(t *testing.T, rolesSQL string) {
	t.Helper()
	allowed := []struct {
		db   string // database the statement must run in ("" any)
		stmt *regexp.Regexp
	}{
		{"", regexp.MustCompile(`^CREATE ROLE weir_reader LOGIN PASSWORD :'weir_reader_password'$`)},
		{"", regexp.MustCompile(`^ALTER ROLE weir_reader SET default_transaction_read_only = on$`)},
		{"", regexp.MustCompile(`^GRANT CONNECT ON DATABASE weir_scheduler TO weir_reader$`)},
		{"weir_scheduler", regexp.MustCompile(`^GRANT USAGE ON SCHEMA public TO weir_reader$`)},
		{"weir_scheduler", regexp.MustCompile(`^ALTER DEFAULT PRIVILEGES FOR ROLE weir_scheduler IN SCHEMA public GRANT SELECT ON TABLES TO weir_reader$`)},
	}
	seen := make([]bool, len(allowed))
	db := "postgres"
	var stmt strings.Builder
	for _, line := range strings.Split(rolesSQL, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, `\connect `); ok {
			db = strings.TrimSpace(rest)
			continue
		}
		if strings.HasPrefix(line, `\getenv `) {
			continue
		}
		stmt.WriteString(" " + line)
		if !strings.HasSuffix(line, ";") {
			continue
		}
		s := strings.Join(strings.Fields(strings.TrimSuffix(stmt.String(), ";")), " ")
		stmt.Reset()
		if !strings.Contains(s, "weir_reader") {
			continue
		}
		ok := false
		for i, a := range allowed {
			if a.stmt.MatchString(s) && (a.db == "" || a.db == db) {
				seen[i], ok = true, true
			}
		}
		if !ok {
			t.Errorf("roles.sql (in %s): %q grants weir_reader more than reading the scheduler's tables", db, s)
		}
	}
	for i, a := range allowed {
		if !seen[i] {
			t.Errorf("roles.sql: no statement matching %s", a.stmt)
		}
	}
	// The password comes from the environment, never a command line.
	if !strings.Contains(rolesSQL, `\getenv weir_reader_password PG_WEIR_READER_PASSWORD`) {
		t.Error("roles.sql does not read weir_reader_password from PG_WEIR_READER_PASSWORD")
	}
	script, err := os.ReadFile("postgres/initdb/10-weir-roles.sh")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(script), "PASSWORD") {
		t.Error("10-weir-roles.sh puts a password on psql's command line")
	}
}

// checkTrinoRules asserts that Trino user grafana can SELECT gold and
// nothing else, and that user weir, who owns the gold views, may only read
// the scheduler catalog (SELECT with GRANT_SELECT, which a SECURITY DEFINER
// view over it needs).
func checkTrinoRules(t *testing.T) {
	t.Helper()
	var rules struct {
		Catalogs []struct {
			User    string `json:"user"`
			Catalog string `json:"catalog"`
			Allow   string `json:"allow"`
		} `json:"catalogs"`
		Tables []struct {
			User       string   `json:"user"`
			Catalog    string   `json:"catalog"`
			Schema     string   `json:"schema"`
			Table      string   `json:"table"`
			Privileges []string `json:"privileges"`
		} `json:"tables"`
	}
	raw, err := os.ReadFile("trino/coordinator/rules.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	// File-based access control uses the first rule that matches the user.
	matches := func(pattern, s string) bool {
		return pattern == "" || regexp.MustCompile("^(?:"+pattern+")$").MatchString(s)
	}
	for _, c := range rules.Catalogs {
		if matches(c.User, "grafana") {
			if c.Catalog != "iceberg" || c.Allow != "read-only" {
				t.Errorf("first catalog rule for grafana: %+v, want iceberg read-only", c)
			}
			break
		}
	}
	for _, tb := range rules.Tables {
		if !matches(tb.User, "grafana") {
			continue
		}
		if tb.Catalog != "iceberg" || tb.Schema != "gold" || !slices.Equal(tb.Privileges, []string{"SELECT"}) {
			t.Errorf("first table rule for grafana: %+v, want SELECT on iceberg.gold only", tb)
		}
		break
	}
	catalogAccess := func(user, catalog string) string {
		for _, c := range rules.Catalogs {
			if matches(c.User, user) && matches(c.Catalog, catalog) {
				return c.Allow
			}
		}
		return "none"
	}
	tablePrivileges := func(user, catalog, schema, table string) []string {
		for _, tb := range rules.Tables {
			if matches(tb.User, user) && matches(tb.Catalog, catalog) && matches(tb.Schema, schema) && matches(tb.Table, table) {
				return tb.Privileges
			}
		}
		return nil
	}
	// weir's catalog access to the scheduler is "all" and its table rules
	// keep it to reading: a catalog "read-only" also refuses the view
	// owner's GRANT_SELECT, so the gold views over the run history failed
	// for grafana (TestTrinoAuthentication runs every panel as grafana). The
	// connector's PostgreSQL role is read-only besides.
	for _, tc := range []struct{ user, allow string }{{"weir", "all"}, {"grafana", "none"}} {
		if got := catalogAccess(tc.user, "scheduler"); got != tc.allow {
			t.Errorf("catalog scheduler: %s has %q, want %q", tc.user, got, tc.allow)
		}
	}
	for _, table := range []string{"dag_runs", "task_instances", "task_tries"} {
		if got := tablePrivileges("weir", "scheduler", "public", table); !slices.Equal(got, []string{"SELECT", "GRANT_SELECT"}) {
			t.Errorf("scheduler.public.%s: weir may %v, want [SELECT GRANT_SELECT]", table, got)
		}
	}
	if got := tablePrivileges("weir", "scheduler", "other", "t"); len(got) != 0 {
		t.Errorf("scheduler outside public: weir may %v, want nothing", got)
	}
}

// grafanaProviders is a Grafana dashboard provisioning file.
type grafanaProviders struct {
	Providers []struct {
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestComposeRequiresEveryVariable(t *testing.T) {
	full, err := Generate(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range composeStacks(t) {
		for _, name := range []string{"POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "TRINO_GRAFANA_PASSWORD", KafkaClusterID} {
			t.Run(strings.Join(files, "+")+"/without "+name, func(t *testing.T) {
				env := maps(full)
				delete(env, name)
				_, err := loadComposeFiles(t, files, env)
				if err == nil || !strings.Contains(err.Error(), name) {
					t.Fatalf("loading without %s: err=%v, want an error naming it", name, err)
				}
			})
		}
	}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// composeVar matches ${NAME...} interpolations (not $${...} escapes).
var composeVar = regexp.MustCompile(`(^|[^$])\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}`)

// withoutComments drops YAML comment lines, which may show ${VAR} syntax.
func withoutComments(yamlText string) string {
	var b strings.Builder
	for _, line := range strings.Split(yamlText, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestEveryVariableIsGenerated(t *testing.T) {
	generated := Names()
	for _, f := range composeFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found := composeVar.FindAllStringSubmatch(withoutComments(string(raw)), -1)
		if len(found) == 0 {
			t.Fatalf("%s: no variables at all", f)
		}
		for _, m := range found {
			name, mod := m[2], m[3]
			if IsSetting(name) {
				if !strings.HasPrefix(mod, ":-") {
					t.Errorf("%s: setting ${%s%s} needs a default (${%s:-...})", f, name, mod, name)
				}
				continue
			}
			if !slices.Contains(generated, name) {
				t.Errorf("%s: ${%s} is not produced by the env generator", f, name)
			}
			if !strings.HasPrefix(mod, ":?") {
				t.Errorf("%s: ${%s%s} must fail when unset (${%s:?...})", f, name, mod, name)
			}
		}
	}
}

// containerVar matches what the mounted configuration reads from the
// container environment: Trino's ${ENV:X}, Grafana's $__env{X}, and
// upper-case $X / ${X} in shell scripts.
var (
	trinoEnv   = regexp.MustCompile(`\$\{ENV:([A-Za-z0-9_]+)\}`)
	grafanaEnv = regexp.MustCompile(`\$__env\{([A-Za-z0-9_]+)\}`)
	shellEnv   = regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]+)`)
	// Set by the images themselves.
	imageEnv = []string{"POSTGRES_USER", "JAVA_HOME"}
)

func TestMountedConfigFindsItsEnvironment(t *testing.T) {
	env, err := Generate(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range composeStacks(t) {
		p, err := loadComposeFiles(t, files, env)
		if err != nil {
			t.Fatalf("load %v: %v", files, err)
		}
		st := stack{file: strings.Join(files, "+"), project: p, env: env}
		for _, s := range st.project.Services {
			for _, v := range s.Volumes {
				if v.Type != types.VolumeTypeBind {
					continue
				}
				err := filepath.WalkDir(v.Source, func(path string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					raw, err := os.ReadFile(path)
					if err != nil {
						return err
					}
					var refs [][]string
					refs = append(refs, trinoEnv.FindAllStringSubmatch(string(raw), -1)...)
					refs = append(refs, grafanaEnv.FindAllStringSubmatch(string(raw), -1)...)
					if strings.HasSuffix(path, ".sh") {
						refs = append(refs, shellEnv.FindAllStringSubmatch(string(raw), -1)...)
					}
					for _, m := range refs {
						if _, ok := s.Environment[m[1]]; !ok && !slices.Contains(imageEnv, m[1]) {
							t.Errorf("%s: %s reads %s, which the service's environment lacks", s.Name, path, m[1])
						}
					}
					return nil
				})
				if err != nil {
					t.Errorf("%s: walk %s: %v", s.Name, v.Source, err)
				}
			}
		}
	}
}

// TestDockerfileSources checks that everything the weir image copies from
// the build context exists and is not excluded by its .dockerignore.
func TestDockerfileSources(t *testing.T) {
	raw, err := os.ReadFile("../docker/weir.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile("../docker/weir.Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]bool{}
	for _, l := range strings.Split(string(ignore), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ignored[l] = true
		}
	}
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || f[0] != "COPY" || strings.HasPrefix(f[1], "--") {
			continue
		}
		for _, src := range f[1 : len(f)-1] {
			if src == "." {
				continue
			}
			if _, err := os.Stat(filepath.Join("..", src)); err != nil {
				t.Errorf("COPY %s: %v", src, err)
			}
			if ignored[src] {
				t.Errorf("COPY %s: excluded by the .dockerignore", src)
			}
		}
	}
}

// TestAlertmanagerReachesTheScheduler: in each network mode, the mounted
// Alertmanager configuration is the shipped rendering, and the files it
// names hold the scheduler's webhook URL (a compose config) and the
// scheduler's receiver password (a compose secret from the env file).
func TestAlertmanagerReachesTheScheduler(t *testing.T) {
	env, err := Generate(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range composeStacks(t) {
		t.Run(strings.Join(files, "+"), func(t *testing.T) {
			p, err := loadComposeFiles(t, files, env)
			if err != nil {
				t.Fatal(err)
			}
			am, sched := p.Services["alertmanager"], p.Services["weir-scheduler"]
			if m, ok := mountOf(am, "/etc/alertmanager/alertmanager.yml"); !ok || !m.ReadOnly || !bindsFile(t, am, "alertmanager/alertmanager.yml") {
				t.Error("alertmanager: services/alertmanager/alertmanager.yml not mounted read-only")
			}
			if got := envOf(sched, "WEIR_SCHEDULER_RECEIVER_PASSWORD"); got != env["SCHEDULER_RECEIVER_PASSWORD"] {
				t.Error("weir-scheduler: WEIR_SCHEDULER_RECEIVER_PASSWORD is not the generated receiver password")
			}
			// The scheduler as Alertmanager reaches it: by service name on
			// the compose network, at its own address on the host's.
			addr := envOf(sched, "WEIR_SCHEDULER_LISTEN")
			if host, port, ok := strings.Cut(addr, ":"); ok && host == "0.0.0.0" {
				addr = "weir-scheduler:" + port
			}
			var urlFile, passwordFile string
			for _, c := range am.Configs {
				if cfg := p.Configs[c.Source]; cfg.Content != "" {
					if cfg.Content != alertmanager.WebhookURL(addr) {
						t.Errorf("config %s: %q, want %q", c.Source, cfg.Content, alertmanager.WebhookURL(addr))
					}
					urlFile = c.Target
				}
			}
			for _, s := range am.Secrets {
				target := s.Target
				if target == "" {
					target = "/run/secrets/" + s.Source
				}
				if sec := p.Secrets[s.Source]; sec.Environment == "SCHEDULER_RECEIVER_PASSWORD" {
					passwordFile = target
					// What docker compose writes into the file.
					if sec.Content != env["SCHEDULER_RECEIVER_PASSWORD"] {
						t.Errorf("secret %s does not resolve to the env file's receiver password", s.Source)
					}
				}
			}
			if urlFile != alertmanager.Compose.URLFile || passwordFile != alertmanager.Compose.PasswordFile {
				t.Errorf("alertmanager: webhook url in %q, password in %q; the rendering reads %q and %q",
					urlFile, passwordFile, alertmanager.Compose.URLFile, alertmanager.Compose.PasswordFile)
			}
		})
	}
}
