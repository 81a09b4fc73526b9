#!/bin/sh
# Buckets, one policy per service and one user per service, on the MinIO
# pool. Idempotent: re-running updates secrets and policies. Run by the
# minio-init one-shot with the root credential. policies/<user>.json are
# rendered from lakehouse.ServiceUsers (go test ./services -update), the same
# policies the native stack applies.
set -eu

mc alias set weir http://minio1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null

mc mb --ignore-existing weir/weir-lake
mc mb --ignore-existing weir/weir-archive

# user <access key> <secret key>: policies/<access key>.json as <access key>-policy.
user() {
	mc admin policy create weir "$1-policy" "/etc/weir/minio/policies/$1.json"
	mc admin user add weir "$1" "$2" >/dev/null
	# Attaching an attached policy fails with "already in effect": fine.
	if ! out=$(mc admin policy attach weir "$1-policy" --user "$1" 2>&1); then
		case "$out" in
		*already*) ;;
		*) echo "$out" >&2; exit 1 ;;
		esac
	fi
	echo "user $1: policy $1-policy"
}

user weir-stream "$MINIO_STREAM_SECRET_KEY"
user weir-batch "$MINIO_BATCH_SECRET_KEY"
user weir-maintain "$MINIO_MAINTAIN_SECRET_KEY"
user weir-trino "$MINIO_TRINO_SECRET_KEY"
user weir-alerts "$MINIO_ALERTS_SECRET_KEY"
