package setup

import (
	"context"
	"fmt"
	"time"

	"weir/config"
	"weir/objectstore"
)

// StorageUserEnv names, for each lakehouse service user, the environment
// variable that carries its secret key in a deployment (services/.env, the
// Helm chart's secrets).
var StorageUserEnv = map[string]string{
	"weir-stream":   "MINIO_STREAM_SECRET_KEY",
	"weir-batch":    "MINIO_BATCH_SECRET_KEY",
	"weir-maintain": "MINIO_MAINTAIN_SECRET_KEY",
	"weir-trino":    "MINIO_TRINO_SECRET_KEY",
	"weir-alerts":   "MINIO_ALERTS_SECRET_KEY",
}

// StoragePatience is how long weir init --storage keeps retrying a MinIO
// pool that has just started.
const StoragePatience = 3 * time.Minute

// StorageSecretsFromEnv reads each service user's secret key from its
// StorageUserEnv variable (through lookup, os.LookupEnv in weir); a missing
// one is an error naming the variable.
func StorageSecretsFromEnv(lookup func(string) (string, bool)) (map[string]string, error) {
	secrets := map[string]string{}
	for user, env := range StorageUserEnv {
		v, _ := lookup(env)
		if v == "" {
			return nil, fmt.Errorf("%s (the secret key of %s) is not set", env, user)
		}
		secrets[user] = v
	}
	return secrets, nil
}

// Storage creates the buckets and the services' least-privilege users and
// policies (objectstore.ServiceUsers), and puts the archive bucket on its
// tier when one is configured, idempotently, with the admin credential in
// cfg.S3 (objectstore.EnsureStorage, which the native stack runs too).
// secrets maps each user's access key to its secret key.
func Storage(ctx context.Context, cfg config.Config, secrets map[string]string, tier objectstore.TierAccess, patience time.Duration) error {
	return objectstore.EnsureStorage(ctx, cfg.S3, objectstore.ServiceUsers(cfg.S3, cfg.Catalog.Warehouse, secrets), tier, patience)
}
