-- Alertmanager's webhook notifications, one row per distinct notification:
-- Alertmanager retries a delivery it did not see acknowledged, and sends an
-- unchanged group again at its repeat interval, so the same content arrives
-- more than once. dedup_key (set by the web package: receiver, group key,
-- status and every alert's fingerprint, status, startsAt and endsAt) keeps
-- one row, whose deliveries counts the arrivals.
CREATE TABLE notifications (
    id                 bigserial PRIMARY KEY,
    dedup_key          text NOT NULL UNIQUE,
    receiver           text NOT NULL,
    status             text NOT NULL CHECK (status IN ('firing', 'resolved')),
    group_key          text NOT NULL,
    group_labels       jsonb NOT NULL,
    common_labels      jsonb NOT NULL,
    common_annotations jsonb NOT NULL,
    external_url       text NOT NULL,
    truncated_alerts   integer NOT NULL,
    alerts             jsonb NOT NULL,
    received_at        timestamptz NOT NULL,
    last_received_at   timestamptz NOT NULL,
    deliveries         integer NOT NULL DEFAULT 1
);
CREATE INDEX notifications_received ON notifications (received_at DESC, id DESC);
