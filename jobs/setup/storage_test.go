package setup

import (
	"strings"
	"testing"
)

func TestStorageSecretsFromEnv(t *testing.T) {
	env := map[string]string{}
	for user, name := range StorageUserEnv {
		env[name] = "secret-of-" + user
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := StorageSecretsFromEnv(lookup)
	if err != nil || len(got) != len(StorageUserEnv) || got["weir-stream"] != "secret-of-weir-stream" {
		t.Fatalf("StorageSecretsFromEnv = %v, %v", got, err)
	}
	env["MINIO_TRINO_SECRET_KEY"] = ""
	if _, err := StorageSecretsFromEnv(lookup); err == nil || !strings.Contains(err.Error(), "MINIO_TRINO_SECRET_KEY") {
		t.Errorf("an empty secret: %v, want an error naming MINIO_TRINO_SECRET_KEY", err)
	}
}
