#!/usr/bin/env bash
# Ensures the Kafka test image exists: a Debian JRE base image made with debootstrap (no registry
# needed) plus the Kafka broker jars resolved from Maven Central by kafka/pom.xml.
# LAKESTREAM_KAFKA_IMAGE names the image (default localhost/lakestream-kafka:3.9.1); an image of
# that name that already exists is used as it is. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
IMAGE=${LAKESTREAM_KAFKA_IMAGE:-localhost/lakestream-kafka:$KAFKA_VERSION}
JRE_IMAGE=${LAKESTREAM_JRE_IMAGE:-localhost/lakestream-jre:17}
CLI=$(container_cli)

if $CLI image exists "$IMAGE" 2>/dev/null || $CLI image inspect "$IMAGE" >/dev/null 2>&1; then
  say "kafka image: $IMAGE present"; exit 0
fi
started=$(date +%s)

if ! $CLI image inspect "$JRE_IMAGE" >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || fail "building $JRE_IMAGE needs root (debootstrap); or set LAKESTREAM_KAFKA_IMAGE to an existing image"
  command -v debootstrap >/dev/null || apt_install debootstrap
  mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  mirror=${mirror:-http://deb.debian.org/debian}
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  rootfs=$(mktemp -d "$LAKESTREAM_CACHE/jre-rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  say "kafka image: building $JRE_IMAGE with debootstrap ($suite, $mirror)"
  debootstrap --variant=minbase --include=openjdk-17-jre-headless "$suite" "$rootfs" "$mirror" \
    >"$LAKESTREAM_CACHE/debootstrap.log" 2>&1 || fail "debootstrap failed; see $LAKESTREAM_CACHE/debootstrap.log"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | $CLI import - "$JRE_IMAGE" >/dev/null 2>&1
  rm -rf "$rootfs"; trap - EXIT
fi

ctx=$(mktemp -d "$LAKESTREAM_CACHE/kafka-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
say "kafka image: resolving Kafka $KAFKA_VERSION jars from Maven Central"
mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$ctx/libs" >"$LAKESTREAM_CACHE/kafka-mvn.log" 2>&1 \
  || fail "resolving Kafka jars failed; see $LAKESTREAM_CACHE/kafka-mvn.log"
cp "$here/kafka/Containerfile" "$here/kafka/start-kafka.sh" "$here/kafka/log4j.properties" "$ctx/"
$CLI build -q --build-arg "BASE=$JRE_IMAGE" -t "$IMAGE" -f "$ctx/Containerfile" "$ctx" >"$LAKESTREAM_CACHE/kafka-build.log" 2>&1 || fail "building $IMAGE failed; see $LAKESTREAM_CACHE/kafka-build.log"
say "kafka image: built $IMAGE ($(( $(date +%s) - started ))s)"
