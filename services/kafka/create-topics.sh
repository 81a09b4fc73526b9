#!/bin/bash
# Creates weir's topics if they are missing: replication factor 3 and
# min.insync.replicas 2 (so acks=all survives one broker down), dimension
# topics compacted. Idempotent; run by the kafka-init one-shot.
set -euo pipefail

topics=/opt/kafka/bin/kafka-topics.sh

create() {
	local name=$1 partitions=$2
	shift 2
	"$topics" --bootstrap-server "$KAFKA_BOOTSTRAP" --create --if-not-exists \
		--topic "$name" --partitions "$partitions" --replication-factor 3 \
		--config min.insync.replicas=2 "$@"
}

create web.access 6
create app.events 6
create app.logs 6
create infra.metrics 3
create alerts 3
create dims.items 1 --config cleanup.policy=compact
create dims.providers 1 --config cleanup.policy=compact

"$topics" --bootstrap-server "$KAFKA_BOOTSTRAP" --describe --topics-with-overrides
