{{- define "touchstream.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "touchstream.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "touchstream.labels" -}}
app.kubernetes.io/name: {{ include "touchstream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "touchstream.selector" -}}
app.kubernetes.io/name: {{ include "touchstream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "touchstream.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "touchstream.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "touchstream.fullname" .)) -}}
{{- end -}}

{{/* The environment every container gets: the ConfigMap and the Secret. */}}
{{- define "touchstream.envFrom" -}}
- configMapRef:
    name: {{ include "touchstream.fullname" . }}-settings
- secretRef:
    name: {{ include "touchstream.secretName" . }}
{{- end -}}

{{- define "touchstream.checks" -}}
{{- $partitions := int .Values.settings.topic_partitions -}}
{{- if gt (int .Values.worker.replicas) $partitions -}}
{{- fail (printf "worker.replicas (%d) is above settings.topic_partitions (%d): the extra workers would get no partition; add partitions first" (int .Values.worker.replicas) $partitions) -}}
{{- end -}}
{{- if and (not .Values.secrets.existingSecret) (hasPrefix "chdb" (.Values.secrets.values.TOUCHSTREAM_CLICKHOUSE_URL | default "chdb://")) (gt (int .Values.worker.replicas) 1) -}}
{{- fail "several workers need a ClickHouse server: set secrets.values.TOUCHSTREAM_CLICKHOUSE_URL to http(s)://... (the embedded engine is one process per data directory)" -}}
{{- end -}}
{{- end -}}
