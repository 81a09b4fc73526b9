package localstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrinoFileSystemCache: every Trino node of both profiles caches the
// Iceberg catalog's files in a directory of its own inside the stack
// directory, bounded, with the same cache settings as the compose stack's
// catalog (services/trino/catalog/iceberg.properties).
func TestTrinoFileSystemCache(t *testing.T) {
	compose := properties(t, filepath.Join("..", "services", "trino", "catalog", "iceberg.properties"))
	for _, profile := range []Profile{Single, Cluster} {
		s := testStack(t)
		s.Profile = profile
		dirs := map[string]string{}
		for _, node := range s.trinoNodes() {
			etc := s.path("etc", node.name)
			if err := s.prepareTrino(node, etc, Secrets{}); err != nil {
				t.Fatal(err)
			}
			p := properties(t, filepath.Join(etc, "catalog", "iceberg.properties"))
			dir := p["fs.cache.directories"]
			if rel, err := filepath.Rel(s.Dir, dir); err != nil || strings.HasPrefix(rel, "..") || !filepath.IsAbs(dir) {
				t.Errorf("%s %s: cache directory %q is not inside the stack directory %s", profile, node.name, dir, s.Dir)
			}
			if other, dup := dirs[dir]; dup {
				t.Errorf("%s: %s and %s share the cache directory %s", profile, node.name, other, dir)
			}
			dirs[dir] = node.name
			for _, k := range []string{"fs.cache.enabled", "fs.cache.max-sizes"} {
				if p[k] == "" || p[k] != compose[k] {
					t.Errorf("%s %s: %s=%q, compose's catalog has %q", profile, node.name, k, p[k], compose[k])
				}
			}
			if p["fs.cache.enabled"] != "true" {
				t.Errorf("%s %s: fs.cache.enabled=%q", profile, node.name, p["fs.cache.enabled"])
			}
		}
	}
}

func properties(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}
