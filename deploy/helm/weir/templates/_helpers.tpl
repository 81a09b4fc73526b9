{{/* The release's base name, at most 52 characters (a CronJob or Job name
plus its suffixes must fit 63). */}}
{{- define "weir.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "weir.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: include "weir.selector" (list . "stream") */}}
{{- define "weir.selector" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ $.Chart.Name }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "weir.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* The keys each identity's Secret holds. */}}
{{- define "weir.identityKeys" -}}
stream: [WEIR_S3_ACCESS_KEY, WEIR_S3_SECRET_KEY, WEIR_CATALOG_URI]
alerts: [WEIR_S3_ACCESS_KEY, WEIR_S3_SECRET_KEY, WEIR_CATALOG_URI, WEIR_SCHEDULER_DATABASE]
batch: [WEIR_S3_ACCESS_KEY, WEIR_S3_SECRET_KEY, WEIR_CATALOG_URI, WEIR_TRINO_URL]
scheduler: [WEIR_SCHEDULER_DATABASE, WEIR_SCHEDULER_OPERATOR_PASSWORD, WEIR_SCHEDULER_VIEWER_PASSWORD, WEIR_SCHEDULER_RECEIVER_PASSWORD]
maintain: [WEIR_MAINTAIN_S3_ACCESS_KEY, WEIR_MAINTAIN_S3_SECRET_KEY]
init: [WEIR_S3_ACCESS_KEY, WEIR_S3_SECRET_KEY, WEIR_CATALOG_URI, WEIR_SCHEDULER_DATABASE, WEIR_TRINO_URL]
storage: [WEIR_S3_ACCESS_KEY, WEIR_S3_SECRET_KEY, MINIO_STREAM_SECRET_KEY, MINIO_BATCH_SECRET_KEY, MINIO_MAINTAIN_SECRET_KEY, MINIO_TRINO_SECRET_KEY, MINIO_ALERTS_SECRET_KEY]
archive-tier: [MINIO_ARCHIVE_ROOT_USER, MINIO_ARCHIVE_ROOT_PASSWORD, MINIO_TIER_SECRET_KEY]
{{- end -}}

{{/* The Secret name of an identity: include "weir.secretName" (list . "stream") */}}
{{- define "weir.secretName" -}}
{{- $ := index . 0 -}}
{{- $id := index . 1 -}}
{{- index $.Values.secrets.names $id | default (printf "%s-%s" (include "weir.fullname" $) $id) -}}
{{- end -}}

{{/* Settings every weir container shares: addresses, no credential. */}}
{{- define "weir.env" -}}
- name: WEIR_KAFKA_BROKERS
  value: {{ join "," .Values.endpoints.kafka.brokers | quote }}
- name: WEIR_S3_ENDPOINT
  value: {{ .Values.endpoints.s3.endpoint | quote }}
- name: WEIR_S3_REGION
  value: {{ .Values.endpoints.s3.region | quote }}
- name: WEIR_S3_USE_SSL
  value: {{ .Values.endpoints.s3.useSSL | toString | quote }}
- name: WEIR_S3_BUCKET
  value: {{ .Values.endpoints.s3.bucket | quote }}
- name: WEIR_S3_ARCHIVE_BUCKET
  value: {{ .Values.endpoints.s3.archiveBucket | quote }}
- name: WEIR_CATALOG_NAME
  value: {{ .Values.endpoints.catalog.name | quote }}
- name: WEIR_CATALOG_WAREHOUSE
  value: {{ .Values.endpoints.catalog.warehouse | quote }}
- name: WEIR_TRINO_CATALOG
  value: {{ .Values.endpoints.trino.catalog | quote }}
- name: WEIR_ALERTMANAGER_URL
  value: {{ .Values.endpoints.alertmanager.url | quote }}
{{- if .Values.endpoints.trino.caSecret }}
# Go reads extra trust roots from these directories: the system ones and
# Trino's CA.
- name: SSL_CERT_DIR
  value: /etc/ssl/certs:/etc/weir/trino-ca
{{- end }}
{{- end -}}

{{/* The archive tier, for weir init --storage only (the one command that
reads it): addresses, no credential. */}}
{{- define "weir.archiveTierEnv" -}}
{{- with .Values.endpoints.s3.archiveTier }}
- name: WEIR_S3_ARCHIVE_TIER_NAME
  value: {{ .name | quote }}
- name: WEIR_S3_ARCHIVE_TIER_ENDPOINT
  value: {{ .endpoint | quote }}
- name: WEIR_S3_ARCHIVE_TIER_USE_SSL
  value: {{ .useSSL | toString | quote }}
- name: WEIR_S3_ARCHIVE_TIER_BUCKET
  value: {{ .bucket | quote }}
{{- end }}
{{- end -}}

{{/* envFrom for identities: include "weir.envFrom" (list . "batch" "scheduler") */}}
{{- define "weir.envFrom" -}}
{{- $ := index . 0 -}}
{{- range $id := rest . }}
- secretRef:
    name: {{ include "weir.secretName" (list $ $id) }}
{{- end }}
{{- end -}}

{{/* The pod-level settings every weir pod shares. */}}
{{- define "weir.podSpec" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "weir.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.endpoints.trino.caSecret }}
- name: trino-ca
  secret:
    secretName: {{ .Values.endpoints.trino.caSecret }}
    items:
      - key: ca.crt
        path: trino-ca.crt
{{- end }}
{{- end -}}

{{- define "weir.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.endpoints.trino.caSecret }}
- name: trino-ca
  mountPath: /etc/weir/trino-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Probes on the endpoints convention (endpoints package): /healthz while
the process works, /readyz once it is ready. A slow start (catalog,
Kafka) is the startup probe's, not a liveness failure. */}}
{{- define "weir.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 5
  failureThreshold: 60
livenessProbe:
  httpGet: {path: /healthz, port: http}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 6
readinessProbe:
  httpGet: {path: /readyz, port: http}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}
