{{/*
Names, labels and the pieces every EAS pod shares (security context, environment, volumes), defined
once so that the workloads, the run launcher's Jobs (dagster.yaml) and the NetworkPolicies agree.
*/}}

{{- define "eas.name" -}}
{{- default "eas" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "eas.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "eas.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "eas.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "eas.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "eas.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: eas
eas/environment: {{ .Values.environment | quote }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway"). */}}
{{- define "eas.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eas.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Every label of one component's objects. */}}
{{- define "eas.componentLabels" -}}
{{ include "eas.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Selects every pod of the release, the run launcher's Jobs included (dagster.yaml gives them these labels). */}}
{{- define "eas.releaseSelector" -}}
app.kubernetes.io/name: {{ include "eas.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "eas.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "eas.nlpImage" -}}
{{- if or .Values.nlp.image.repository .Values.nlp.image.tag -}}
{{- printf "%s:%s" (default .Values.image.repository .Values.nlp.image.repository) (default (default .Chart.AppVersion .Values.image.tag) .Values.nlp.image.tag) -}}
{{- else -}}
{{- include "eas.image" . -}}
{{- end -}}
{{- end -}}

{{- define "eas.serviceAccountName" -}}{{ include "eas.fullname" . }}{{- end -}}
{{- define "eas.dagsterServiceAccountName" -}}{{ include "eas.fullname" . }}-dagster{{- end -}}
{{- define "eas.runServiceAccountName" -}}{{ include "eas.fullname" . }}-run{{- end -}}
{{- define "eas.envConfigMapName" -}}{{ include "eas.fullname" . }}-env{{- end -}}
{{- define "eas.instanceConfigMapName" -}}{{ include "eas.fullname" . }}-dagster-instance{{- end -}}
{{- define "eas.workspaceConfigMapName" -}}{{ include "eas.fullname" . }}-dagster-workspace{{- end -}}
{{- define "eas.generatedSecretName" -}}{{ include "eas.fullname" . }}-generated{{- end -}}
{{- define "eas.modelsClaimName" -}}{{ default (printf "%s-models" (include "eas.fullname" .)) .Values.models.persistence.existingClaim }}{{- end -}}
{{- define "eas.jobNamespace" -}}{{ default .Release.Namespace .Values.dagster.runLauncher.jobNamespace }}{{- end -}}

{{/* The Secret and key of each secret value: the generated one (development) or an existing one. */}}
{{- define "eas.postgresSecret" -}}
{{- if eq .Values.postgres.mode "inCluster" }}{{ include "eas.generatedSecretName" . }}{{ else }}{{ required "postgres.existingSecret is required with postgres.mode=external" .Values.postgres.existingSecret }}{{ end -}}
{{- end -}}
{{- define "eas.redisSecret" -}}
{{- if eq .Values.redis.mode "inCluster" }}{{ include "eas.generatedSecretName" . }}{{ else }}{{ required "redis.existingSecret is required with redis.mode=external" .Values.redis.existingSecret }}{{ end -}}
{{- end -}}
{{- define "eas.jwtSecret" -}}
{{- if .Values.secrets.generate }}{{ include "eas.generatedSecretName" . }}{{ else }}{{ required "secrets.jwt.existingSecret is required unless secrets.generate is true" .Values.secrets.jwt.existingSecret }}{{ end -}}
{{- end -}}

{{/*
Environment of every EAS container and run pod: secrets by reference (never copied into a ConfigMap or
dagster.yaml), writable places under /tmp (the root filesystem is read-only), the shared ConfigMap.
*/}}
{{- define "eas.secretEnv" -}}
- name: EAS_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "eas.postgresSecret" . }}
      key: {{ .Values.postgres.databaseUrlKey }}
- name: EAS_DAGSTER_PG_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "eas.postgresSecret" . }}
      key: {{ .Values.postgres.dagsterUrlKey }}
- name: EAS_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "eas.redisSecret" . }}
      key: {{ .Values.redis.urlKey }}
- name: EAS_NLP_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "eas.redisSecret" . }}
      key: {{ .Values.redis.urlKey }}
- name: EAS_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "eas.jwtSecret" . }}
      key: {{ .Values.secrets.jwt.key }}
{{- if .Values.secrets.generate }}
- name: EAS_NLP_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "eas.generatedSecretName" . }}
      key: {{ .Values.secrets.nlpAdminToken.key }}
{{- else if .Values.secrets.nlpAdminToken.existingSecret }}
- name: EAS_NLP_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.nlpAdminToken.existingSecret }}
      key: {{ .Values.secrets.nlpAdminToken.key }}
{{- end }}
{{- end -}}

{{/* (dict "root" $ "service" "eas-gateway"): the container env of one EAS process. */}}
{{- define "eas.env" -}}
{{ include "eas.secretEnv" .root }}
- name: HOME
  value: /tmp
- name: EAS_DATA_DIR
  value: /tmp/eas
- name: DAGSTER_HOME
  value: {{ .root.Values.dagster.home }}
- name: OTEL_SERVICE_NAME
  value: {{ .service }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: OTEL_RESOURCE_ATTRIBUTES
  value: "k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE),deployment.environment={{ .root.Values.environment }}"
{{- end -}}

{{- define "eas.envFrom" -}}
- configMapRef:
    name: {{ include "eas.envConfigMapName" . }}
{{- if .Values.secrets.connectorsSecret }}
- secretRef:
    name: {{ .Values.secrets.connectorsSecret }}
{{- end }}
{{- end -}}

{{/* Pod metadata shared by the long-running pods: config checksums (a changed setting rolls them), Istio. */}}
{{- define "eas.podAnnotations" -}}
checksum/env: {{ include (print .Template.BasePath "/configmap-env.yaml") . | sha256sum }}
checksum/dagster: {{ include (print .Template.BasePath "/configmap-dagster.yaml") . | sha256sum }}
{{- if .Values.istio.enabled }}
{{- range $key, $value := .Values.istio.annotations }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "eas.istioLabel" -}}
{{- if .Values.istio.enabled }}
sidecar.istio.io/inject: "true"
{{- end }}
{{- end -}}

{{- define "eas.istioJobLabel" -}}
{{- if .Values.istio.enabled }}
sidecar.istio.io/inject: {{ ternary "true" "false" .Values.istio.injectJobs | quote }}
{{- end }}
{{- end -}}

{{/* Writable scratch space: the root filesystem is read-only. */}}
{{- define "eas.tmpVolume" -}}
- name: tmp
  emptyDir: {}
{{- end -}}
{{- define "eas.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* DAGSTER_HOME: writable, with the rendered dagster.yaml in it. */}}
{{- define "eas.dagsterHomeVolumes" -}}
- name: dagster-home
  emptyDir: {}
- name: dagster-instance
  configMap:
    name: {{ include "eas.instanceConfigMapName" . }}
{{- end -}}
{{- define "eas.dagsterHomeMounts" -}}
- name: dagster-home
  mountPath: {{ .Values.dagster.home }}
- name: dagster-instance
  mountPath: {{ .Values.dagster.home }}/dagster.yaml
  subPath: dagster.yaml
  readOnly: true
{{- end -}}

{{- define "eas.modelsVolume" -}}
- name: models
{{- if .Values.models.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "eas.modelsClaimName" . }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end -}}
{{- define "eas.modelsMount" -}}
- name: models
  mountPath: {{ .Values.models.mountPath }}
{{- end -}}

{{- define "eas.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
