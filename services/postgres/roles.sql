-- weir's PostgreSQL: one login role per service, grants held by NOLOGIN group
-- roles, and the Iceberg JDBC catalog tables created here so that no service
-- needs DDL rights on the catalog.
--
-- Run once by initdb/10-weir-roles.sh. The passwords come from the
-- environment through psql variables (\getenv, psql 15+), so no secret is
-- written in this file or on a command line.

\getenv weir_init_password PG_WEIR_INIT_PASSWORD
\getenv weir_stream_password PG_WEIR_STREAM_PASSWORD
\getenv weir_batch_password PG_WEIR_BATCH_PASSWORD
\getenv weir_alerts_password PG_WEIR_ALERTS_PASSWORD
\getenv weir_scheduler_password PG_WEIR_SCHEDULER_PASSWORD
\getenv trino_password PG_TRINO_PASSWORD
\getenv weir_reader_password PG_WEIR_READER_PASSWORD

CREATE ROLE iceberg_owner NOLOGIN;
CREATE ROLE iceberg_rw NOLOGIN;

-- Everything that commits to the catalog: the jobs and Trino. Each has its own
-- password so a leaked credential can be revoked alone.
CREATE ROLE weir_init LOGIN PASSWORD :'weir_init_password' IN ROLE iceberg_rw;
CREATE ROLE weir_stream LOGIN PASSWORD :'weir_stream_password' IN ROLE iceberg_rw;
CREATE ROLE weir_batch LOGIN PASSWORD :'weir_batch_password' IN ROLE iceberg_rw;
CREATE ROLE weir_alerts LOGIN PASSWORD :'weir_alerts_password' IN ROLE iceberg_rw;
CREATE ROLE trino LOGIN PASSWORD :'trino_password' IN ROLE iceberg_rw;

-- The scheduler owns its own database and nothing else.
CREATE ROLE weir_scheduler LOGIN PASSWORD :'weir_scheduler_password';

-- Trino's "scheduler" catalog (trino/catalog/scheduler.properties): reads the
-- scheduler's tables for the pipeline-health views, writes nothing, and
-- cannot reach the Iceberg catalog or the alert job's database.
CREATE ROLE weir_reader LOGIN PASSWORD :'weir_reader_password';
ALTER ROLE weir_reader SET default_transaction_read_only = on;

CREATE DATABASE iceberg_catalog OWNER iceberg_owner;
CREATE DATABASE weir_scheduler OWNER weir_scheduler;
-- The alert job's checkpoints and outbox, owned by its own role.
CREATE DATABASE weir_alerts OWNER weir_alerts;
REVOKE ALL ON DATABASE iceberg_catalog FROM PUBLIC;
REVOKE ALL ON DATABASE weir_scheduler FROM PUBLIC;
REVOKE ALL ON DATABASE weir_alerts FROM PUBLIC;
GRANT CONNECT ON DATABASE iceberg_catalog TO iceberg_rw;
GRANT CONNECT ON DATABASE weir_scheduler TO weir_reader;

-- The scheduler creates its tables (scheduler/store/migrations) on its first
-- start, as weir_scheduler: weir_reader may read them, and nothing else.
\connect weir_scheduler
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO weir_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE weir_scheduler IN SCHEMA public GRANT SELECT ON TABLES TO weir_reader;

\connect iceberg_catalog
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SET ROLE iceberg_owner;

-- JDBC catalog schema V1 (iceberg_type marks TABLE or VIEW rows), the layout
-- both Trino (iceberg.jdbc-catalog.schema-version=V1) and iceberg-go's
-- catalog/sql use.
CREATE TABLE iceberg_tables (
    catalog_name               VARCHAR(255)  NOT NULL,
    table_namespace            VARCHAR(255)  NOT NULL,
    table_name                 VARCHAR(255)  NOT NULL,
    metadata_location          VARCHAR(1000),
    previous_metadata_location VARCHAR(1000),
    iceberg_type               VARCHAR(5),
    PRIMARY KEY (catalog_name, table_namespace, table_name)
);

CREATE TABLE iceberg_namespace_properties (
    catalog_name   VARCHAR(255)  NOT NULL,
    namespace      VARCHAR(255)  NOT NULL,
    property_key   VARCHAR(255)  NOT NULL,
    property_value VARCHAR(1000),
    PRIMARY KEY (catalog_name, namespace, property_key)
);

RESET ROLE;
-- iceberg-go runs CREATE TABLE IF NOT EXISTS when it opens the catalog, which
-- PostgreSQL checks against CREATE on the schema even when the table exists.
GRANT USAGE, CREATE ON SCHEMA public TO iceberg_rw;
GRANT SELECT, INSERT, UPDATE, DELETE ON iceberg_tables, iceberg_namespace_properties TO iceberg_rw;
