#!/bin/bash
# KAFKA_* variables → server.properties, as the apache/kafka image does;
# format the log directory once (CLUSTER_ID), then run the broker.
set -euo pipefail
props=/opt/kafka/config/server.properties
: >"$props"
while IFS='=' read -r var _; do
	case $var in
	KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS) continue ;;
	KAFKA_*) ;;
	*) continue ;;
	esac
	key=${var#KAFKA_}
	key=${key,,}
	key=${key//___/-}
	key=${key//__/@}
	key=${key//_/.}
	key=${key//@/_}
	printf '%s=%s\n' "$key" "${!var}" >>"$props"
done < <(env)
cp=("/opt/kafka/libs/*")
log=-Dlog4j2.configurationFile=/opt/kafka/log4j2.properties
logdir=$(sed -n 's/^log\.dirs=//p' "$props" | cut -d, -f1)
if [ ! -f "${logdir:-/var/lib/kafka/data}/meta.properties" ]; then
	: "${CLUSTER_ID:?CLUSTER_ID is needed to format an empty log directory}"
	java -cp "${cp[0]}" "$log" kafka.tools.StorageTool format --cluster-id="$CLUSTER_ID" -c "$props" --ignore-formatted
fi
# shellcheck disable=SC2086 # the options are word lists
exec java ${KAFKA_HEAP_OPTS:--Xmx1g -Xms1g} -XX:+UseG1GC -Djava.awt.headless=true ${KAFKA_OPTS:-} "$log" \
	-cp "${cp[0]}" kafka.Kafka "$props"
