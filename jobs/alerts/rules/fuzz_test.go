package rules

import (
	"os"
	"testing"
)

// FuzzParseRules: any rules file either loads or is refused with an
// error; nothing panics.
func FuzzParseRules(f *testing.F) {
	if b, err := os.ReadFile("../../../rules/alerts.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("rules: []\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = Parse(raw)
	})
}
