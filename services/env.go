// Package services is weir's Docker-host deployment: the compose stack in this
// directory (compose.yaml and the configuration it mounts) and the generator
// of its env file. The contract: every ${VAR} the stack interpolates is
// produced by Generate, every secret is random per deployment and lives only
// in the git-ignored services/.env, and each service gets its own
// least-privilege credential. compose_test.go holds the stack to that.
package services

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"weir/services/trino"
)

// Secrets are the random credentials of one deployment. Each has exactly one
// holder besides the service that checks it.
var Secrets = []string{
	"MINIO_ROOT_PASSWORD",     // minio nodes and minio-init only
	"MINIO_STREAM_SECRET_KEY", // weir-stream: writes bronze
	"MINIO_BATCH_SECRET_KEY",  // weir-scheduler's batch jobs: bronze → silver/gold/archive
	"MINIO_ALERTS_SECRET_KEY", // weir-alerts: writes silver.alerts
	"MINIO_TRINO_SECRET_KEY",  // weir-trino: reads all, writes gold
	// weir-maintain: rewrites files everywhere (compaction, expiry, orphans).
	// Created by minio-init; held by weir-init, which creates every table
	// (their first metadata goes under each namespace). No long-running
	// container holds it until maintenance tasks run with their own.
	"MINIO_MAINTAIN_SECRET_KEY",
	// The archive tier's MinIO: its root (minio-archive and minio-init
	// only) and weir-tier's, the warehouse pool's sign-in to it (minio-init
	// only, which sets it on the pool's tier; the pool keeps it).
	"MINIO_ARCHIVE_ROOT_PASSWORD",
	"MINIO_TIER_SECRET_KEY",

	"POSTGRES_PASSWORD",          // the postgres superuser, init scripts only
	"PG_WEIR_INIT_PASSWORD",      // weir-init: catalog namespaces
	"PG_WEIR_STREAM_PASSWORD",    // weir-stream: catalog commits
	"PG_WEIR_BATCH_PASSWORD",     // weir-scheduler's batch jobs: catalog commits
	"PG_WEIR_ALERTS_PASSWORD",    // weir-alerts: catalog commits
	"PG_WEIR_SCHEDULER_PASSWORD", // weir-scheduler: its run store
	"PG_TRINO_PASSWORD",          // trino: catalog commits
	"PG_WEIR_READER_PASSWORD",    // trino's scheduler catalog: reads the scheduler's store

	"TRINO_SHARED_SECRET",       // coordinator ↔ worker authentication
	"TRINO_KEYSTORE_PASSWORD",   // the coordinator's TLS keystore
	"TRINO_WEIR_PASSWORD",       // Trino user weir (gold apply, SQL tasks)
	"TRINO_GRAFANA_PASSWORD",    // Trino user grafana (read-only, gold only)
	"TRINO_PROMETHEUS_PASSWORD", // Trino user prometheus (the coordinator's /metrics only)

	"SCHEDULER_OPERATOR_PASSWORD", // the scheduler UI's operator sign-in (acts)
	"SCHEDULER_VIEWER_PASSWORD",   // the scheduler UI's viewer sign-in (reads)
	"SCHEDULER_RECEIVER_PASSWORD", // Alertmanager's sign-in to the scheduler's webhook (posts notifications only)

	"GRAFANA_ADMIN_PASSWORD", // the Grafana admin login
	"GRAFANA_SECRET_KEY",     // encrypts data source secrets in Grafana's database
}

// Settings are generated once per deployment but are not secret.
const (
	MinIORootUser  = "MINIO_ROOT_USER"
	KafkaClusterID = "KAFKA_CLUSTER_ID"
)

// trinoUsers maps each Trino password variable to the variable holding its
// hash for the coordinator's password file, so the coordinator never sees a
// clear-text user password.
var trinoUsers = map[string]string{
	"TRINO_WEIR_PASSWORD":       "TRINO_WEIR_PASSWORD_HASH",
	"TRINO_GRAFANA_PASSWORD":    "TRINO_GRAFANA_PASSWORD_HASH",
	"TRINO_PROMETHEUS_PASSWORD": "TRINO_PROMETHEUS_PASSWORD_HASH",
}

// IsSetting reports whether a compose variable is a deployment setting with
// a default in the compose files (images, host ports, traffic, the host
// Prometheus configuration rendered for other host ports), which
// services/.env may set but Generate does not produce; every other variable
// is a generated value that must be present.
func IsSetting(name string) bool {
	return strings.HasSuffix(name, "_IMAGE") || name == "IMAGE_PULL_POLICY" ||
		strings.HasPrefix(name, "WEIR_PORT_") || strings.HasPrefix(name, "TRAFFIC_") ||
		name == "PROMETHEUS_HOST_CONFIG"
}

// Names lists every variable Generate produces, sorted.
func Names() []string {
	names := append([]string{MinIORootUser, KafkaClusterID}, Secrets...)
	for _, h := range trinoUsers {
		names = append(names, h)
	}
	slices.Sort(names)
	return names
}

// Generate returns a complete env: values already in existing are kept (so a
// deployment's volumes stay readable after a re-run), missing ones are drawn
// from random, and each Trino password hash is recomputed only when it does
// not match its password.
func Generate(existing map[string]string, random io.Reader) (map[string]string, error) {
	env := make(map[string]string, len(existing))
	for k, v := range existing {
		env[k] = v
	}
	if env[MinIORootUser] == "" {
		env[MinIORootUser] = "weir-root"
	}
	if env[KafkaClusterID] == "" {
		id, err := kafkaClusterID(random)
		if err != nil {
			return nil, err
		}
		env[KafkaClusterID] = id
	}
	for _, name := range Secrets {
		if env[name] != "" {
			continue
		}
		b, err := randomBytes(random, 24)
		if err != nil {
			return nil, err
		}
		// Hex: safe unquoted in URLs, env files, shell and SQL.
		env[name] = hex.EncodeToString(b)
	}
	for pass, hash := range trinoUsers {
		if trino.PasswordMatches(env[pass], env[hash]) {
			continue
		}
		h, err := trino.PasswordHash(env[pass], random)
		if err != nil {
			return nil, err
		}
		env[hash] = h
	}
	return env, nil
}

// kafkaClusterID draws 16 random bytes in unpadded URL-safe base64, Kafka's
// format, re-drawing ids that start with '-' (a command-line flag to
// kafka-storage) or '_'.
func kafkaClusterID(random io.Reader) (string, error) {
	for {
		b, err := randomBytes(random, 16)
		if err != nil {
			return "", err
		}
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' && id[0] != '_' {
			return id, nil
		}
	}
}

func randomBytes(random io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(random, b); err != nil {
		return nil, fmt.Errorf("read random bytes: %w", err)
	}
	return b, nil
}

// ReadEnvFile parses a KEY=VALUE file as WriteEnvFile writes it; a missing
// file is an empty env.
func ReadEnvFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("parse env file %s:%d: want KEY=VALUE", path, n)
		}
		env[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return env, sc.Err()
}

// WriteEnvFile writes env sorted by key, readable by its owner only, replacing
// path atomically so a crash never leaves half a file of secrets.
func WriteEnvFile(path string, env map[string]string) error {
	var buf bytes.Buffer
	buf.WriteString("# Generated by `make services_env`: secrets of this deployment. Never commit.\n")
	buf.WriteString("# Existing values are kept on re-runs; delete a line to rotate it (and the\n")
	buf.WriteString("# matching user or role in the running services).\n")
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := env[k]
		if strings.ContainsAny(v, "\n\"'$ #") {
			return fmt.Errorf("write env file: value of %s needs quoting, which this format does not do", k)
		}
		fmt.Fprintf(&buf, "%s=%s\n", k, v)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".env-*")
	if err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write env file: %w", err)
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write env file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	return nil
}

// EnsureEnvFile fills path with every variable of Names, keeping the values
// already there, and returns the names it added or (for a stale Trino
// password hash) replaced.
func EnsureEnvFile(path string) (changed []string, err error) {
	existing, err := ReadEnvFile(path)
	if err != nil {
		return nil, err
	}
	env, err := Generate(existing, rand.Reader)
	if err != nil {
		return nil, err
	}
	for _, k := range Names() {
		if existing[k] != env[k] {
			changed = append(changed, k)
		}
	}
	return changed, WriteEnvFile(path, env)
}
