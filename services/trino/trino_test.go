package trino

import "testing"

// TestPasswordHashFormat pins the format Trino's file authenticator
// parses (iterations:salt:hash in lower-case hex, PBKDF2WithHmacSHA1) with a
// vector computed independently (RFC 6070 test case 2: "password"/"salt",
// 2 iterations; here with 1000 iterations, as Python's
// hashlib.pbkdf2_hmac('sha1', b'password', b'salt', 1000, 20)).
func TestPasswordHashFormat(t *testing.T) {
	const hash = "1000:73616c74:6e88be8bad7eae9d9e10aa061224034fed48d03f"
	if !PasswordMatches("password", hash) {
		t.Fatalf("%s does not verify", hash)
	}
	for _, bad := range []string{"", "password", "999:73616c74:6e88be8bad7eae9d9e10aa061224034fed48d03f", "1000:zz:00", "1000:73616c74:"} {
		if PasswordMatches("password", bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
