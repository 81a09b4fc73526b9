package objectstore

import (
	"strings"
	"testing"

	"weir/config"
)

func TestTierAccessFromEnv(t *testing.T) {
	env := map[string]string{
		TierEnv.AdminUser:     "root",
		TierEnv.AdminPassword: "root-secret",
		TierEnv.UserSecret:    "tier-secret",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	s3 := config.Default().S3
	if a, err := TierAccessFromEnv(s3, lookup); err != nil || a != (TierAccess{}) {
		t.Errorf("no tier endpoint: %+v, %v; want nothing read", a, err)
	}
	s3.ArchiveTier.Endpoint = "minio-archive:9000"
	a, err := TierAccessFromEnv(s3, lookup)
	if err != nil || a != (TierAccess{AdminAccessKey: "root", AdminSecretKey: "root-secret", UserSecretKey: "tier-secret"}) {
		t.Errorf("TierAccessFromEnv = %+v, %v", a, err)
	}
	delete(env, TierEnv.UserSecret)
	if _, err := TierAccessFromEnv(s3, lookup); err == nil || !strings.Contains(err.Error(), TierEnv.UserSecret) {
		t.Errorf("missing %s: %v", TierEnv.UserSecret, err)
	}
}

// TestTierUserPolicy: weir-tier, the warehouse MinIO's sign-in to the
// tier, reads and writes the tier's bucket and nothing else.
func TestTierUserPolicy(t *testing.T) {
	doc := string(TierServiceUser(config.Default().S3.ArchiveTier, "x").Policy())
	for _, want := range []string{`"arn:aws:s3:::weir-archive-tier/*"`, `"arn:aws:s3:::weir-archive-tier"`, `"s3:PutObject"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("policy %s lacks %s", doc, want)
		}
	}
	if strings.Count(doc, "arn:aws:s3:::") != 2 {
		t.Errorf("policy %s names more than the tier's bucket", doc)
	}
}
