#!/bin/sh
# Creates weir's roles, databases and catalog tables on the first start of an
# empty data volume (the postgres image runs /docker-entrypoint-initdb.d once).
# Passwords arrive as environment variables and reach SQL only as psql
# variables that roles.sql reads with \getenv, so neither this file, roles.sql
# nor any command line (ps, docker inspect) holds a secret.
set -eu

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
	-f /etc/weir/postgres/roles.sql
