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

// Storage creates the buckets and the services' least-privilege users and
// policies (objectstore.ServiceUsers), idempotently, with the admin credential
// in cfg.S3. secrets maps each user's access key to its secret key. A MinIO
// pool that has just started can refuse or stall its first requests, so each
// try is bounded and retried for up to wait.
func Storage(ctx context.Context, cfg config.Config, secrets map[string]string, wait time.Duration) error {
	users := objectstore.ServiceUsers(cfg.S3, cfg.Catalog.Warehouse, secrets)
	deadline := time.Now().Add(wait)
	for {
		tctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := objectstore.EnsureBuckets(tctx, cfg.S3)
		if err == nil {
			err = objectstore.EnsureServiceUsers(tctx, cfg.S3, users)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("create buckets and service users: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}
