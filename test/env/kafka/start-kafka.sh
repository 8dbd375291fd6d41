#!/bin/sh
# Container entrypoint: single-node KRaft broker (broker + controller in one process).
# The advertised listener must be the host-reachable address, known only after the container
# started and its port was mapped, so the broker waits for the fixture to write it to
# /tmp/advertised-listener (test/kit/kafka.ts). KAFKA_ADVERTISED_LISTENERS skips the wait. The broker
# talks to itself (transaction markers, group coordination) on an INTERNAL listener inside the
# container, since the host-mapped address is not reachable from in here. The fixture copies this
# file into the container at start, so changes apply without rebuilding the image.
set -eu
KAFKA_HOME=${KAFKA_HOME:-/opt/kafka}
DATA=${KAFKA_DATA_DIR:-/var/lib/kafka}
if [ -z "${KAFKA_ADVERTISED_LISTENERS:-}" ]; then
  echo "lakestream-kafka: waiting for advertised listener"
  while [ ! -s /tmp/advertised-listener ]; do sleep 0.05; done
  KAFKA_ADVERTISED_LISTENERS=$(cat /tmp/advertised-listener)
fi
mkdir -p "$DATA"
cat > /tmp/server.properties <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://0.0.0.0:9092,INTERNAL://localhost:9094,CONTROLLER://localhost:9093
advertised.listeners=$KAFKA_ADVERTISED_LISTENERS,INTERNAL://localhost:9094
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
log.dirs=$DATA
num.partitions=${KAFKA_NUM_PARTITIONS:-1}
auto.create.topics.enable=${KAFKA_AUTO_CREATE_TOPICS:-false}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=${KAFKA_OFFSETS_TOPIC_PARTITIONS:-10}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=${KAFKA_LOG_RETENTION_CHECK_MS:-300000}
log.segment.delete.delay.ms=${KAFKA_SEGMENT_DELETE_DELAY_MS:-60000}
PROPS
CP="$KAFKA_HOME/libs/*"
JAVA_OPTS="-Xms256m -Xmx${KAFKA_HEAP:-768m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -Dlog4j.configuration=file:$KAFKA_HOME/config/log4j.properties"
# shellcheck disable=SC2086
java $JAVA_OPTS -cp "$CP" kafka.tools.StorageTool format -t "${KAFKA_CLUSTER_ID:-lakestreamTestClusterA}" -c /tmp/server.properties --ignore-formatted
# shellcheck disable=SC2086
exec java $JAVA_OPTS -cp "$CP" kafka.Kafka /tmp/server.properties
