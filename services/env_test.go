package services

import (
	"bytes"
	"crypto/rand"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"weir/services/trino"
)

func TestGenerate(t *testing.T) {
	first, err := Generate(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hex48 := regexp.MustCompile(`^[0-9a-f]{48}$`)
	t.Run("complete and random", func(t *testing.T) {
		for _, name := range Names() {
			if first[name] == "" {
				t.Errorf("%s: empty", name)
			}
		}
		for _, name := range Secrets {
			if !hex48.MatchString(first[name]) {
				t.Errorf("%s: %q is not 24 random bytes in hex", name, first[name])
			}
		}
		if id := first[KafkaClusterID]; !regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{21}$`).MatchString(id) {
			t.Errorf("kafka cluster id %q: want 22 chars of URL-safe base64 not starting with - or _", id)
		}
		second, err := Generate(nil, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range Secrets {
			if first[name] == second[name] {
				t.Errorf("%s: same value in two deployments", name)
			}
		}
	})
	t.Run("keeps existing values", func(t *testing.T) {
		again, err := Generate(first, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range Names() {
			if again[name] != first[name] {
				t.Errorf("%s: changed on re-run", name)
			}
		}
	})
	t.Run("fills a missing value and rehashes a changed password", func(t *testing.T) {
		partial := maps(first)
		delete(partial, "PG_TRINO_PASSWORD")
		partial["TRINO_GRAFANA_PASSWORD"] = "0123456789abcdef"
		got, err := Generate(partial, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if got["PG_TRINO_PASSWORD"] == "" {
			t.Error("PG_TRINO_PASSWORD not filled in")
		}
		if got["TRINO_GRAFANA_PASSWORD_HASH"] == first["TRINO_GRAFANA_PASSWORD_HASH"] {
			t.Error("grafana hash kept although its password changed")
		}
		if got["TRINO_WEIR_PASSWORD_HASH"] != first["TRINO_WEIR_PASSWORD_HASH"] {
			t.Error("weir hash recomputed although its password did not change")
		}
	})
	t.Run("trino hashes verify", func(t *testing.T) {
		for pass, hash := range trinoUsers {
			if !trino.PasswordMatches(first[pass], first[hash]) {
				t.Errorf("%s does not match %s", hash, pass)
			}
			if trino.PasswordMatches(first[pass]+"x", first[hash]) {
				t.Errorf("%s matches a wrong password", hash)
			}
		}
	})
}

func TestEnvFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	changed, err := EnsureEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != len(Names()) {
		t.Errorf("first run wrote %d variables, want %d", len(changed), len(Names()))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	before, err := ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err = EnsureEnvFile(path); err != nil || len(changed) != 0 {
		t.Errorf("second run changed %v (err %v), want nothing", changed, err)
	}
	after, err := ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed", k)
		}
	}
	if err := WriteEnvFile(path, map[string]string{"X": "a b"}); err == nil {
		t.Error("a value needing quotes was written unquoted")
	}
}

// leaks finds assignments of a literal to a secret-looking key
// (`password: x`, `SECRET_KEY=x`, `"token": "x"`, SQL `PASSWORD 'x'`) and
// long random-looking tokens. References are fine: ${VAR}, ${ENV:VAR},
// $__env{VAR}, $__file{path}, $VAR, psql :'var', keytool :env.
var (
	secretKey = regexp.MustCompile(`(?i)(^|[^$\w{/.-])([A-Za-z0-9_.-]*(?:password|passwd|secret|token|private[_-]?key)[A-Za-z0-9_.-]*)["']?(\s*[:=]\s*|\s+)(.*)$`)
	reference = regexp.MustCompile(`^["']?(\$\{|\$__env\{|\$__file\{|\$[A-Za-z_]|env\s)`)
	hexToken  = regexp.MustCompile(`\b[0-9a-fA-F]{32,}\b`)
	b64Token  = regexp.MustCompile(`[A-Za-z0-9+/_-]{32,}={0,2}`)
	// Keys that contain a secret-looking word but name no secret.
	notSecretKeys = []string{"password-authenticator.name", "TrinoPasswordFile"} // the latter a path
)

// leaks reports lines of raw that look like a committed secret.
func leaks(raw []byte) []string {
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "//") || strings.HasPrefix(trimmed, "--") {
			continue
		}
		if literalSecret(trimmed) || hexToken.MatchString(trimmed) || slices.ContainsFunc(b64Token.FindAllString(trimmed, -1), mixedClasses) {
			out = append(out, trimmed)
		}
	}
	return out
}

func literalSecret(line string) bool {
	m := secretKey.FindStringSubmatch(line)
	if m == nil || slices.Contains(notSecretKeys, m[2]) {
		return false
	}
	sep, v := m[3], strings.TrimSpace(m[4])
	switch {
	case v == "" || reference.MatchString(v):
		return false
	case strings.HasPrefix(strings.TrimSpace(sep), ":") && strings.HasPrefix(v, "'"): // psql :'var'
		return false
	case strings.TrimSpace(sep) == "" && !strings.HasPrefix(v, "'") && !strings.HasPrefix(v, `"`):
		// `word value` counts only as SQL's PASSWORD 'literal'.
		return false
	}
	v = strings.Trim(v, `",'`)
	return v != "" && !notAValue(v)
}

// mixedClasses reports whether a long token mixes lower case, upper case and
// digits, as random base64 does and identifiers or paths do not.
func mixedClasses(tok string) bool {
	return strings.ContainsAny(tok, "abcdefghijklmnopqrstuvwxyz") &&
		strings.ContainsAny(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
		strings.ContainsAny(tok, "0123456789")
}

// notAValue accepts what follows a secret-looking word without being a value
// for it: prose, variable names, Go code, file paths.
func notAValue(v string) bool {
	switch {
	case regexp.MustCompile(`^[A-Z][A-Z0-9_]*[",]*$`).MatchString(v): // a variable's name
		return true
	case strings.HasPrefix(v, "/"): // a path to a secret file
		return true
	case strings.ContainsAny(v, " (){}"): // prose or code, not a token
		return true
	}
	return false
}

func TestLeakDetector(t *testing.T) {
	for _, tc := range []struct {
		line string
		leak bool
	}{
		{"POSTGRES_PASSWORD: hunter2", true},
		{"      MINIO_ROOT_PASSWORD: ${MINIO_ROOT_PASSWORD:?run make services_env}", false},
		{"iceberg.jdbc-catalog.connection-password=s3cr3t", true},
		{"iceberg.jdbc-catalog.connection-password=${ENV:PG_TRINO_PASSWORD}", false},
		{`basicAuthPassword: "abc123"`, true},
		{"basicAuthPassword: $__env{TRINO_GRAFANA_PASSWORD}", false},
		{`"secret_key": "wJalrXUtnFEMI"`, true},
		{"CREATE ROLE trino LOGIN PASSWORD :'trino_password' IN ROLE iceberg_rw;", false},
		{`-storepass:env TRINO_KEYSTORE_PASSWORD -file /ca/trino.crt.tmp`, false},
		{"file.password-file=/etc/trino-secrets/password.db", false},
		{"WEIR_TRINO_URL: https://weir:${TRINO_WEIR_PASSWORD:?x}@trino-coordinator:8443", false},
		{"token = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", true},
		{"KAFKA_CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qk", false},
		{`mc alias set weir http://minio1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null`, false},
		{`mc alias set weir http://minio1:9000 root "Zx81ab"`, false}, // positional: caught only as a long token
		{`aws_secret_access_key = Zx8Kq2LmN4pR7sT1vW3yB6dF9hJ0cE5gA2iK8mO4`, true},
		{"CREATE ROLE x LOGIN PASSWORD 'hunter2';", true},
		{`echo "trino secrets ready"`, false},
		{"- trino-keystore:/etc/trino-secrets:ro", false},
		{"password-authenticator.name=file", false},
		{"      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: \"3\"", false},
	} {
		t.Run(tc.line, func(t *testing.T) {
			if got := len(leaks([]byte(tc.line))) > 0; got != tc.leak {
				t.Errorf("leak=%v, want %v", got, tc.leak)
			}
		})
	}
}

// TestNoSecretLiterals scans every committed file of the deployment. The
// generated services/.env is git-ignored and skipped.
func TestNoSecretLiterals(t *testing.T) {
	env, err := Generate(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{".", "../docker"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() || name == ".env" || strings.HasPrefix(name, ".env-") || strings.HasSuffix(name, "_test.go") {
				return nil
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, l := range leaks(raw) {
				t.Errorf("%s: looks like a secret: %s", path, l)
			}
			for _, name := range Secrets {
				if bytes.Contains(raw, []byte(env[name])) {
					t.Errorf("%s: contains a generated secret", path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
