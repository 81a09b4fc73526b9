#!/bin/bash
# Prepares the coordinator's secrets (run as root by the trino-secrets
# one-shot, files handed to the trino user):
#   /secrets/keystore.p12  TLS key pair, generated once and kept in its volume
#   /ca/trino.crt          its certificate, which Grafana and weir trust
#   /secrets/password.db   Trino users weir, grafana and prometheus, PBKDF2 hashes from .env
set -euo pipefail

keytool=keytool
command -v keytool >/dev/null || keytool="$JAVA_HOME/bin/keytool"

if [ ! -s /secrets/keystore.p12 ]; then
	rm -f /secrets/keystore.tmp.p12
	"$keytool" -genkeypair -noprompt -alias trino -keyalg RSA -keysize 3072 -validity 3650 \
		-dname "CN=trino-coordinator" \
		-ext "SAN=dns:trino-coordinator,dns:localhost,ip:127.0.0.1" \
		-storetype PKCS12 -keystore /secrets/keystore.tmp.p12 -storepass:env TRINO_KEYSTORE_PASSWORD
	mv /secrets/keystore.tmp.p12 /secrets/keystore.p12
fi
"$keytool" -exportcert -rfc -alias trino -keystore /secrets/keystore.p12 \
	-storepass:env TRINO_KEYSTORE_PASSWORD -file /ca/trino.crt.tmp
mv /ca/trino.crt.tmp /ca/trino.crt

umask 077
printf 'weir:%s\ngrafana:%s\nprometheus:%s\n' "$TRINO_WEIR_PASSWORD_HASH" "$TRINO_GRAFANA_PASSWORD_HASH" \
	"$TRINO_PROMETHEUS_PASSWORD_HASH" >/secrets/password.db

chown trino:trino /secrets/keystore.p12 /secrets/password.db
chmod 0400 /secrets/keystore.p12 /secrets/password.db
chmod 0444 /ca/trino.crt
echo "trino secrets ready"
