#!/bin/sh
# Creates weir's roles, databases and catalog tables on the first start of an
# empty data volume (the postgres image runs /docker-entrypoint-initdb.d once).
# Passwords arrive as environment variables and reach SQL only as psql
# variables, so neither this file nor roles.sql holds a secret.
set -eu

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
	-v weir_init_password="$PG_WEIR_INIT_PASSWORD" \
	-v weir_stream_password="$PG_WEIR_STREAM_PASSWORD" \
	-v weir_batch_password="$PG_WEIR_BATCH_PASSWORD" \
	-v weir_alerts_password="$PG_WEIR_ALERTS_PASSWORD" \
	-v weir_scheduler_password="$PG_WEIR_SCHEDULER_PASSWORD" \
	-v trino_password="$PG_TRINO_PASSWORD" \
	-v weir_reader_password="$PG_WEIR_READER_PASSWORD" \
	-f /etc/weir/postgres/roles.sql
