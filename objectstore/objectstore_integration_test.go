//go:build integration

package objectstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"weir/config"
	"weir/objectstore"
)

// TestServiceUsersLeastPrivilege checks the MinIO policies: the stream user
// writes bronze and nothing else; Trino reads everything and writes only gold.
func TestServiceUsersLeastPrivilege(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	secrets := map[string]string{}
	for _, u := range []string{"weir-stream", "weir-batch", "weir-maintain", "weir-trino", "weir-alerts"} {
		secrets[u] = fmt.Sprintf("test-%s-%d", u, rand.Int64N(1e9))
	}
	users := objectstore.ServiceUsers(cfg.S3, cfg.Catalog.Warehouse, secrets)
	// Re-key the users to test identities so the stack's own keep working.
	for i := range users {
		users[i].AccessKey = "it-" + users[i].AccessKey
	}
	if err := objectstore.EnsureServiceUsers(ctx, cfg.S3, users); err != nil {
		t.Fatal(err)
	}
	try := func(user objectstore.ServiceUser, key string) error {
		s3 := cfg.S3
		s3.AccessKey, s3.SecretKey = user.AccessKey, user.SecretKey
		c, err := objectstore.NewS3(s3)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.PutObject(ctx, cfg.S3.Bucket, key, strings.NewReader("x"), 1, minio.PutObjectOptions{})
		return err
	}
	cases := []struct {
		user    int
		key     string
		allowed bool
	}{
		{0, "warehouse/bronze/it/x", true},
		{0, "warehouse/silver/it/x", false},
		{1, "warehouse/silver/it/x", true},
		{1, "warehouse/bronze/it/x", false},
		{3, "warehouse/gold/it/x", true},
		{3, "warehouse/silver/it/x", false},
		{4, "warehouse/silver/alerts/x", true},
		{4, "warehouse/silver/events/x", false},
	}
	for _, c := range cases {
		t.Run(users[c.user].AccessKey+"/"+c.key, func(t *testing.T) {
			err := try(users[c.user], c.key)
			if c.allowed && err != nil {
				t.Fatalf("write denied: %v", err)
			}
			if !c.allowed && err == nil {
				t.Fatal("write allowed, want access denied")
			}
		})
	}
}
