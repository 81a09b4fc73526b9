package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestLoadGood(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) == 0 {
		t.Fatal("no good testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			clearEnv(t)
			if _, err := Load(f); err != nil {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

func TestLoadBad(t *testing.T) {
	want := map[string]string{
		"unknown-key.bad.yaml":       "field bootstrap not found",
		"broker-port.bad.yaml":       "kafka.brokers[0]",
		"s3-scheme.bad.yaml":         "s3.endpoint",
		"archive-tier-name.bad.yaml": "s3.archive_tier.name",
		"catalog-uri.bad.yaml":       "catalog.uri",
		"warehouse.bad.yaml":         "catalog.warehouse",
		"trino-url.bad.yaml":         "trino.url",
		"access-format.bad.yaml":     `access_log_formats["web.access"].nginx: nginx format at byte 43: request_uri follows host`,
		"access-topic.bad.yaml":      `access_log_formats["cdn.access"]: not an access-log topic`,
		"access-two.bad.yaml":        `access_log_formats["web.access"]: want exactly one of nginx, apache or tsv`,
		"syntax.bad.yaml":            "parse config",
		"promote-type.bad.yaml":      "promote.app_events[0].type",
		"promote-field.bad.yaml":     "promote.app_logs[0].field",
		"promote-source.bad.yaml":    "promote.web_access: unknown source",
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(want) {
		t.Fatalf("have %d bad files, expectations for %d", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			clearEnv(t)
			_, err := Load(f)
			if err == nil {
				t.Fatal("Load accepted a bad file")
			}
			if !strings.Contains(err.Error(), want[filepath.Base(f)]) {
				t.Fatalf("error %q does not mention %q", err, want[filepath.Base(f)])
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"WEIR_KAFKA_BROKERS": "a:1, b:2",
		"WEIR_S3_SECRET_KEY": "s3cr3t",
		"WEIR_S3_USE_SSL":    "true",
		"WEIR_TRINO_URL":     "http://u@t:1",
	}
	cfg := Default()
	if err := cfg.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Kafka.Brokers, ","); got != "a:1,b:2" {
		t.Errorf("brokers = %q", got)
	}
	if cfg.S3.SecretKey != "s3cr3t" || !cfg.S3.UseSSL || cfg.Trino.URL != "http://u@t:1" {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	bad := func(k string) (string, bool) {
		if k == "WEIR_S3_USE_SSL" {
			return "yes please", true
		}
		return "", false
	}
	if err := cfg.ApplyEnv(bad); err == nil || !strings.Contains(err.Error(), "WEIR_S3_USE_SSL") {
		t.Fatalf("bad bool accepted: %v", err)
	}
}

func TestRedact(t *testing.T) {
	err := checkURL("mysql://u:hunter2@h/db", "postgres")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("password leaked or no error: %v", err)
	}
}

func clearEnv(t *testing.T) {
	t.Helper()
	var c Config
	for k := range c.envVars() {
		t.Setenv(k, "")
	}
	for k := range c.boolEnvVars() {
		t.Setenv(k, "")
	}
	t.Setenv("WEIR_KAFKA_BROKERS", "")
}

// The boolean variables, each over both starting values: true/1 and
// false/0 set the field, empty leaves it, anything else is an error naming
// the variable.
func TestBoolEnv(t *testing.T) {
	fields := map[string]func(*Config) *bool{
		"WEIR_S3_USE_SSL":              func(c *Config) *bool { return &c.S3.UseSSL },
		"WEIR_S3_ARCHIVE_TIER_USE_SSL": func(c *Config) *bool { return &c.S3.ArchiveTier.UseSSL },
	}
	if got, want := slices.Sorted(maps.Keys((&Config{}).boolEnvVars())), slices.Sorted(maps.Keys(fields)); !slices.Equal(got, want) {
		t.Fatalf("boolean variables %q, the test knows %q", got, want)
	}
	for name, field := range fields {
		for _, tc := range []struct {
			value string
			want  func(before bool) bool
		}{
			{"true", func(bool) bool { return true }},
			{"1", func(bool) bool { return true }},
			{"false", func(bool) bool { return false }},
			{"0", func(bool) bool { return false }},
			{"", func(before bool) bool { return before }},
		} {
			for _, before := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s=%q over %v", name, tc.value, before), func(t *testing.T) {
					cfg := Default()
					*field(&cfg) = before
					other := cfg
					lookup := func(k string) (string, bool) {
						if k == name {
							return tc.value, true
						}
						return "", false
					}
					if err := cfg.ApplyEnv(lookup); err != nil {
						t.Fatal(err)
					}
					if got := *field(&cfg); got != tc.want(before) {
						t.Errorf("%s = %v, want %v", name, got, tc.want(before))
					}
					*field(&other) = *field(&cfg)
					if !reflect.DeepEqual(cfg, other) {
						t.Errorf("%s changed another field", name)
					}
				})
			}
		}
		t.Run(name+" bad", func(t *testing.T) {
			cfg := Default()
			err := cfg.ApplyEnv(func(k string) (string, bool) {
				if k == name {
					return "yes", true
				}
				return "", false
			})
			if want := name + `: want true or false, got "yes"`; err == nil || err.Error() != want {
				t.Fatalf("error %v, want %q", err, want)
			}
		})
	}
}

// An identity's boolean variables override WEIR_* as its strings do.
func TestIdentityEnvBools(t *testing.T) {
	environ := []string{
		"WEIR_S3_USE_SSL=false",
		"WEIR_S3_ARCHIVE_TIER_USE_SSL=false",
		"WEIR_INIT_S3_ARCHIVE_TIER_USE_SSL=true",
		"WEIR_INIT_S3_USE_SSL=",
	}
	got := IdentityEnv(environ, "WEIR_INIT_")
	want := []string{
		"WEIR_S3_USE_SSL=false",
		"WEIR_INIT_S3_ARCHIVE_TIER_USE_SSL=true",
		"WEIR_INIT_S3_USE_SSL=",
		"WEIR_S3_ARCHIVE_TIER_USE_SSL=true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("IdentityEnv:\n got %q\nwant %q", got, want)
	}
	cfg, err := Default().ForIdentity("WEIR_INIT_", func(k string) (string, bool) {
		return map[string]string{"WEIR_INIT_S3_ARCHIVE_TIER_USE_SSL": "1"}[k], k == "WEIR_INIT_S3_ARCHIVE_TIER_USE_SSL"
	})
	if err != nil || !cfg.S3.ArchiveTier.UseSSL || cfg.S3.UseSSL {
		t.Errorf("ForIdentity: archive tier use_ssl %v, s3 use_ssl %v, %v; want true, false", cfg.S3.ArchiveTier.UseSSL, cfg.S3.UseSSL, err)
	}
}

func TestIdentityEnv(t *testing.T) {
	environ := []string{
		"PATH=/bin",
		"WEIR_S3_ACCESS_KEY=admin",
		"WEIR_S3_SECRET_KEY=admin-secret",
		"WEIR_CATALOG_URI=postgres://weir@db/iceberg_catalog",
		"WEIR_STREAM_S3_ACCESS_KEY=weir-stream",
		"WEIR_STREAM_S3_SECRET_KEY=s-secret",
		"WEIR_STREAM_CATALOG_URI=postgres://weir_stream@db/iceberg_catalog",
		"WEIR_STREAM_NOT_A_SETTING=x",
		"WEIR_STREAM_TRINO_URL=",
		"WEIR_BATCH_S3_ACCESS_KEY=weir-batch",
	}
	got := IdentityEnv(environ, "WEIR_STREAM_")
	want := []string{
		"PATH=/bin",
		"WEIR_STREAM_S3_ACCESS_KEY=weir-stream",
		"WEIR_STREAM_S3_SECRET_KEY=s-secret",
		"WEIR_STREAM_CATALOG_URI=postgres://weir_stream@db/iceberg_catalog",
		"WEIR_STREAM_NOT_A_SETTING=x",
		"WEIR_STREAM_TRINO_URL=",
		"WEIR_BATCH_S3_ACCESS_KEY=weir-batch",
		"WEIR_CATALOG_URI=postgres://weir_stream@db/iceberg_catalog",
		"WEIR_S3_ACCESS_KEY=weir-stream",
		"WEIR_S3_SECRET_KEY=s-secret",
	}
	if !slices.Equal(got, want) {
		t.Errorf("IdentityEnv:\n got %q\nwant %q", got, want)
	}
	if none := IdentityEnv(environ, "WEIR_NOBODY_"); !slices.Equal(none, environ) {
		t.Errorf("without the identity's variables: %q, want environ unchanged", none)
	}
}

func TestForIdentity(t *testing.T) {
	env := map[string]string{"WEIR_MAINTAIN_S3_ACCESS_KEY": "weir-maintain", "WEIR_MAINTAIN_S3_SECRET_KEY": "m-secret", "WEIR_S3_ACCESS_KEY": "ignored"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	base := Default()
	got, err := base.ForIdentity("WEIR_MAINTAIN_", lookup)
	if err != nil {
		t.Fatal(err)
	}
	if got.S3.AccessKey != "weir-maintain" || got.S3.SecretKey != "m-secret" {
		t.Errorf("S3 = %q/%q, want the identity's", got.S3.AccessKey, got.S3.SecretKey)
	}
	if got.S3.Endpoint != base.S3.Endpoint || base.S3.AccessKey == "weir-maintain" {
		t.Errorf("ForIdentity changed more than the identity's variables, or its receiver")
	}
	none, err := base.ForIdentity("WEIR_NOBODY_", lookup)
	if err != nil || none.S3 != base.S3 {
		t.Errorf("without the identity's variables: %+v, %v; want the config unchanged", none.S3, err)
	}
}
