package demo

import "testing"

// The hint printed under "Where to look next" names no password and gives
// the Trino CLI what it needs to sign in where the URL has a password and
// a certificate to trust.
func TestTrinoHints(t *testing.T) {
	for _, c := range []struct{ url, redacted, flags string }{
		{"http://weir@127.0.0.1:18080", "http://weir@127.0.0.1:18080", "--server http://127.0.0.1:18080 --user weir"},
		{"https://weir:s3cr3t@127.0.0.1:18443?SSLCertPath=%2Fs%2Ftrino.crt", "https://weir@127.0.0.1:18443?SSLCertPath=%2Fs%2Ftrino.crt",
			"--server https://127.0.0.1:18443 --user weir --password --truststore-path /s/trino.crt"},
		{"https://weir:pw@trino-coordinator:8443", "https://weir@trino-coordinator:8443", "--server https://trino-coordinator:8443 --user weir --password"},
	} {
		if got := redactURL(c.url); got != c.redacted {
			t.Errorf("redactURL(%s) = %s, want %s", c.url, got, c.redacted)
		}
		if got := trinoCLIFlags(c.url); got != c.flags {
			t.Errorf("trinoCLIFlags(%s) = %s, want %s", c.url, got, c.flags)
		}
	}
}
