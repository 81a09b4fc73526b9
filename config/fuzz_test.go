package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseConfig: any config file either loads or is refused with an
// error naming what is wrong; nothing panics.
func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg := Default()
		if err := Parse(raw, &cfg); err != nil {
			return
		}
		_ = cfg.Validate()
	})
}
