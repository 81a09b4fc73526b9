package localstack

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Secrets are generated once per stack directory with random values and kept
// in <dir>/secrets.env (mode 0600, git-ignored with the directory).
type Secrets map[string]string

// Keys every stack has. Service S3 users are created by objectstore.EnsureServiceUsers.
var secretKeys = []string{
	"MINIO_ROOT_PASSWORD",
	"MINIO_ARCHIVE_ROOT_PASSWORD",
	"S3_TIER_SECRET",
	"PG_PASSWORD",
	"PG_READER_PASSWORD",
	// The login roles of services/postgres/roles.sql (postgres.RolePasswordEnv;
	// weir_reader's is PG_READER_PASSWORD).
	"PG_WEIR_INIT_PASSWORD",
	"PG_WEIR_STREAM_PASSWORD",
	"PG_WEIR_BATCH_PASSWORD",
	"PG_WEIR_ALERTS_PASSWORD",
	"PG_WEIR_SCHEDULER_PASSWORD",
	"PG_TRINO_PASSWORD",
	"S3_STREAM_SECRET",
	"S3_BATCH_SECRET",
	"S3_MAINTAIN_SECRET",
	"S3_TRINO_SECRET",
	"S3_ALERTS_SECRET",
	"SCHEDULER_OPERATOR_PASSWORD",
	"SCHEDULER_VIEWER_PASSWORD",
	"SCHEDULER_RECEIVER_PASSWORD",
	// Trino's users (trinoUsers) and the nodes' shared secret.
	"TRINO_WEIR_PASSWORD",
	"TRINO_GRAFANA_PASSWORD",
	"TRINO_PROMETHEUS_PASSWORD",
	"TRINO_SHARED_SECRET",
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

func (s *Stack) loadSecrets() (Secrets, error) {
	f, err := os.Open(s.path("secrets.env"))
	if err != nil {
		return nil, fmt.Errorf("read stack secrets: %w", err)
	}
	defer f.Close()
	sec := Secrets{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			sec[k] = v
		}
	}
	return sec, sc.Err()
}

// secrets loads the stack's secrets, generating any that are missing.
func (s *Stack) secrets() (Secrets, error) {
	sec, err := s.loadSecrets()
	if err != nil {
		sec = Secrets{}
	}
	changed := false
	for _, k := range secretKeys {
		if sec[k] == "" {
			sec[k] = randomHex(20)
			changed = true
		}
	}
	if !changed {
		return sec, nil
	}
	keys := make([]string, 0, len(sec))
	for k := range sec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, sec[k])
	}
	// Atomic, and 0600 even over a file that existed with another mode.
	if err := writeFileAtomic(s.path("secrets.env"), b.String(), 0o600); err != nil {
		return nil, fmt.Errorf("write stack secrets: %w", err)
	}
	return sec, nil
}

// MinIORootUser is the admin user of the local MinIO.
const MinIORootUser = "weir-admin"

// ArchiveRootUser is the admin user of the archive tier's MinIO.
const ArchiveRootUser = "weir-archive-admin"

// PGUser is the superuser of the local PostgreSQL.
const PGUser = "weir"

// schedulerPort is where `weir scheduler` serves its UI on this stack (the
// config's default, shifted by the port offset).
const schedulerPort = 18700

// Env returns the WEIR_* variables that point weir (and the tests) at this
// stack. WEIR_S3_* and WEIR_CATALOG_URI are the stack's admin identity (the
// tests make and drop namespaces and tables of their own); each job's own
// least-privilege identity is a set of WEIR_<JOB>_<NAME> variables
// (config.IdentityEnv), present once PostgreSQL has the per-service roles.
func (s *Stack) Env(sec Secrets) []string {
	var brokers []string
	for _, n := range s.kafkaNodes() {
		brokers = append(brokers, fmt.Sprintf("127.0.0.1:%d", n.port))
	}
	pg := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d", PGUser, sec["PG_PASSWORD"], s.port(pgPort))
	schedulerDB := pg + "/weir_scheduler?sslmode=disable"
	var identities []string
	if s.pgRoles() {
		pgAs := func(role, db string) string {
			return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", role, pgRolePassword(sec, role), s.port(pgPort), db)
		}
		// The scheduler's store belongs to its role, which owns the
		// database (tests make their schemas in it): what the superuser
		// created there, the scheduler could not use.
		schedulerDB = pgAs("weir_scheduler", "weir_scheduler")
		s3 := serviceSecrets(sec)
		identities = []string{
			// weir init: writes every namespace's first metadata.
			"WEIR_INIT_S3_ACCESS_KEY=weir-maintain",
			"WEIR_INIT_S3_SECRET_KEY=" + s3["weir-maintain"],
			"WEIR_INIT_CATALOG_URI=" + pgAs("weir_init", "iceberg_catalog"),
			"WEIR_STREAM_S3_ACCESS_KEY=weir-stream",
			"WEIR_STREAM_S3_SECRET_KEY=" + s3["weir-stream"],
			"WEIR_STREAM_CATALOG_URI=" + pgAs("weir_stream", "iceberg_catalog"),
			// The scheduler and the batch jobs it starts; its maintenance
			// jobs switch to WEIR_MAINTAIN_* themselves.
			"WEIR_BATCH_S3_ACCESS_KEY=weir-batch",
			"WEIR_BATCH_S3_SECRET_KEY=" + s3["weir-batch"],
			"WEIR_BATCH_CATALOG_URI=" + pgAs("weir_batch", "iceberg_catalog"),
			"WEIR_MAINTAIN_S3_ACCESS_KEY=weir-maintain",
			"WEIR_MAINTAIN_S3_SECRET_KEY=" + s3["weir-maintain"],
			"WEIR_ALERTS_S3_ACCESS_KEY=weir-alerts",
			"WEIR_ALERTS_S3_SECRET_KEY=" + s3["weir-alerts"],
			"WEIR_ALERTS_CATALOG_URI=" + pgAs("weir_alerts", "iceberg_catalog"),
			"WEIR_ALERTS_SCHEDULER_DATABASE=" + pgAs("weir_alerts", "weir_alerts"),
		}
	}
	return append([]string{
		"WEIR_STACK_DIR=" + s.Dir,
		"WEIR_CACHE_DIR=" + s.Cache,
		"WEIR_STACK_PROFILE=" + string(s.Profile),
		"WEIR_KAFKA_BROKERS=" + strings.Join(brokers, ","),
		fmt.Sprintf("WEIR_S3_ENDPOINT=127.0.0.1:%d", s.port(minioPort)),
		fmt.Sprintf("WEIR_STACK_PORT_OFFSET=%d", s.PortOffset),
		"WEIR_S3_ACCESS_KEY=" + MinIORootUser,
		"WEIR_S3_SECRET_KEY=" + sec["MINIO_ROOT_PASSWORD"],
		// The archive tier, and its admin for tests (weir init --storage's
		// variables): the jobs never sign in to it.
		fmt.Sprintf("WEIR_S3_ARCHIVE_TIER_ENDPOINT=127.0.0.1:%d", s.port(archiveMinIOPort)),
		"WEIR_S3_ARCHIVE_TIER_NAME=" + ArchiveTierName,
		"WEIR_S3_ARCHIVE_TIER_BUCKET=" + archiveTierBucket,
		"MINIO_ARCHIVE_ROOT_USER=" + ArchiveRootUser,
		"MINIO_ARCHIVE_ROOT_PASSWORD=" + sec["MINIO_ARCHIVE_ROOT_PASSWORD"],
		"WEIR_CATALOG_URI=" + pg + "/iceberg_catalog?sslmode=disable",
		"WEIR_SCHEDULER_DATABASE=" + schedulerDB,
		"WEIR_TRINO_URL=" + s.trinoURL(sec, "weir"),
		// The Dashboards page reads as Trino's read-only user.
		"WEIR_TRINO_DASHBOARD_URL=" + s.trinoURL(sec, "grafana"),
		"WEIR_ALERTMANAGER_URL=http://" + s.alertmanagerAddr(),
		"WEIR_PROMETHEUS_URL=" + s.PrometheusURL(),
		// The scheduler's UI follows the stack's ports, so two stacks'
		// schedulers (and demos) never collide.
		fmt.Sprintf("WEIR_SCHEDULER_LISTEN=127.0.0.1:%d", s.port(schedulerPort)),
		"WEIR_SCHEDULER_OPERATOR_PASSWORD=" + sec["SCHEDULER_OPERATOR_PASSWORD"],
		"WEIR_SCHEDULER_VIEWER_PASSWORD=" + sec["SCHEDULER_VIEWER_PASSWORD"],
		// Alertmanager's webhook signs in with it (etc/alertmanager.yml).
		"WEIR_SCHEDULER_RECEIVER_PASSWORD=" + sec["SCHEDULER_RECEIVER_PASSWORD"],
	}, identities...)
}

func (s *Stack) writeEnv(sec Secrets) error {
	var b strings.Builder
	b.WriteString("# generated by weir stack up; source it to point weir at the local stack\n")
	for _, kv := range s.Env(sec) {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s='%s'\n", k, v)
	}
	return writeFileAtomic(s.path("env.sh"), b.String(), 0o600)
}

// ExportEnv sets the variables of the nearest .stack/env.sh above the
// working directory in this process, unless WEIR_KAFKA_BROKERS is already
// set (the caller sourced it). Tests and subprocesses they start use it.
func ExportEnv() error {
	if os.Getenv("WEIR_KAFKA_BROKERS") != "" {
		return nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	for ; ; dir = filepath.Dir(dir) {
		b, err := os.ReadFile(filepath.Join(dir, ".stack", "env.sh"))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export "); ok {
					k, v, _ := strings.Cut(kv, "=")
					os.Setenv(k, strings.Trim(v, `'"`))
				}
			}
			return nil
		}
		if filepath.Dir(dir) == dir {
			return fmt.Errorf("local stack not running: no .stack/env.sh above the working directory (make up)")
		}
	}
}
