// Package trino holds what the Trino coordinator's security is made of on
// both stacks: the access rules (coordinator/rules.json, which compose
// mounts and the native stack writes from this embedded copy) and the
// PBKDF2 password hashes of its password file.
package trino

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// AccessRules is the coordinator's file-based access control: user weir
// reads everything and writes iceberg, grafana reads the gold schema,
// prometheus reads system information.
//
//go:embed coordinator/rules.json
var AccessRules []byte

// pbkdf2Iterations is above Trino's minimum of 1000; Trino caches successful
// logins, so the cost is paid once per client, not per query.
const pbkdf2Iterations = 10000

// PasswordHash hashes password in the PBKDF2 format of Trino's password
// file: iterations:salt:hash, hex, with HMAC-SHA1 as Trino's file
// authenticator expects; the salt is read from random.
func PasswordHash(password string, random io.Reader) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	key, err := pbkdf2.Key(sha1.New, password, salt, pbkdf2Iterations, 32)
	if err != nil {
		return "", fmt.Errorf("hash trino password: %w", err)
	}
	return fmt.Sprintf("%d:%s:%s", pbkdf2Iterations, hex.EncodeToString(salt), hex.EncodeToString(key)), nil
}

// PasswordMatches reports whether hash is a valid Trino PBKDF2 hash of password.
func PasswordMatches(password, hash string) bool {
	parts := strings.Split(hash, ":")
	if password == "" || len(parts) != 3 {
		return false
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil || iter < 1000 {
		return false
	}
	salt, err1 := hex.DecodeString(parts[1])
	want, err2 := hex.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha1.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
