{{/* Names: Kubernetes names may not hold "_", so service feature_store is component feature-store. */}}
{{- define "recsys.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "recsys.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "recsys.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A service name (map key) as a DNS label: feature_store -> feature-store. */}}
{{- define "recsys.component" -}}
{{- . | replace "_" "-" }}
{{- end }}

{{/* Workload and Service name of a service. dict: root, name. StatefulSet pods add "-<i>"
     and the controller-revision-hash label adds 11 more, hence 52. */}}
{{- define "recsys.workloadName" -}}
{{- printf "%s-%s" (include "recsys.fullname" .root) (include "recsys.component" .name) | trunc 52 | trimSuffix "-" }}
{{- end }}

{{- define "recsys.headlessName" -}}
{{- printf "%s-headless" (include "recsys.workloadName" (dict "root" . "name" "feature_store")) }}
{{- end }}

{{- define "recsys.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "recsys.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Selector labels. dict: root, name (a service; "" for release-wide objects). */}}
{{- define "recsys.selectorLabels" -}}
app.kubernetes.io/name: {{ include "recsys.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .name }}
app.kubernetes.io/component: {{ include "recsys.component" .name }}
{{- end }}
{{- end }}

{{/* Standard labels. dict: root, name. */}}
{{- define "recsys.labels" -}}
{{ include "recsys.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: recsys
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "recsys.chart" .root }}
{{- end }}

{{/* The enabled services, each model service laid over modelServiceDefaults, into .out
     (name -> values); templates range over this instead of .Values.services.
     dict: root, out. */}}
{{- define "recsys.collectServices" -}}
{{- range $name, $svc := .root.Values.services }}
{{- if $svc.enabled }}
{{- if eq $name "feature_store" }}
{{- $_ := set $.out $name $svc }}
{{- else }}
{{- $_ := set $.out $name (mergeOverwrite (deepCopy $.root.Values.modelServiceDefaults) (deepCopy $svc)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Image of a service: the CUDA variant when it asks for GPUs. dict: root, svc. */}}
{{- define "recsys.image" -}}
{{- $img := .root.Values.image }}
{{- $repo := ternary $img.cudaRepository $img.repository (gt (int (.svc.gpu | default 0)) 0) }}
{{- printf "%s:%s" $repo ($img.tag | default .root.Chart.AppVersion) }}
{{- end }}

{{/* The feature store shard addresses in order (shard i = StatefulSet pod i), comma-joined;
     "none" when there is no feature store. */}}
{{- define "recsys.featureStoreShards" -}}
{{- $fs := .Values.services.feature_store }}
{{- if and $fs $fs.enabled }}
{{- $sts := include "recsys.workloadName" (dict "root" . "name" "feature_store") }}
{{- $suffix := printf "%s.%s.svc.%s:%d" (include "recsys.headlessName" .) .Release.Namespace .Values.clusterDomain (int .Values.ports.grpc) }}
{{- $shards := list }}
{{- range $i := until (int ($fs.replicas | default 1)) }}
{{- $shards = append $shards (printf "%s-%d.%s" $sts $i $suffix) }}
{{- end }}
{{- join "," $shards }}
{{- else if .Values.externalFeatureStore.shards }}
{{- join "," .Values.externalFeatureStore.shards }}
{{- else }}
{{- "none" }}
{{- end }}
{{- end }}

{{/* A flag value as absl reads it: YAML integers arrive as float64 and would print as 1e+06. */}}
{{- define "recsys.flagValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) }}
{{- int64 . }}
{{- else }}
{{- . }}
{{- end }}
{{- end }}

{{/* recsys-server arguments of a service. dict: root, name, svc. The flagfile comes first
     so per-service flags win (absl keeps the last value). */}}
{{- define "recsys.args" -}}
{{- $svc := .svc -}}
- --flagfile=/etc/recsys/flags.txt
- --services={{ .name }}
{{- if ne .name "feature_store" }}
- --model_repo=/models
{{- if $svc.featureStore }}
- {{ printf "--%s_feature_store=%s" .name (include "recsys.featureStoreShards" .root) | quote }}
{{- end }}
{{- if $svc.models }}
- {{ printf "--%s_models=%s" .name (join "," $svc.models) | quote }}
{{- end }}
{{- if and (eq .name "seqrec") (gt (int ($svc.gpu | default 0)) 0) }}
- --seqrec_device=cuda:0
{{- end }}
{{- end }}
{{- with (($svc.resources).limits).cpu }}
{{- /* The kernels' thread budget is the CPU limit (rounded up), not the node's cores. */}}
{{- $cpu := toString . }}
{{- $cores := 0 }}
{{- if hasSuffix "m" $cpu }}
{{- $cores = div (add (int (trimSuffix "m" $cpu)) 999) 1000 }}
{{- else }}
{{- $cores = int (ceil (float64 $cpu)) }}
{{- end }}
- --intra_op_threads={{ max 1 $cores }}
{{- end }}
{{- if not .root.Values.admin.fromLoopback }}
- --admin_from_loopback=false
{{- end }}
{{- if .root.Values.admin.tokenSecret.name }}
- --admin_token_file=/etc/recsys-admin/{{ .root.Values.admin.tokenSecret.key }}
{{- end }}
{{- range $k, $v := $svc.extraFlags }}
- {{ printf "--%s=%s" $k (include "recsys.flagValue" $v) | quote }}
{{- end }}
{{- end }}

{{/* A probe: the global settings under the service's overrides. dict: root, svc, kind, port, service. */}}
{{- define "recsys.probe" -}}
{{- $p := merge (deepCopy (get (.svc.probes | default dict) .kind | default dict)) (get .root.Values.probes .kind) -}}
grpc:
  port: {{ .root.Values.ports.grpc }}
  service: {{ .service | quote }}
{{- range $k := list "initialDelaySeconds" "periodSeconds" "timeoutSeconds" "failureThreshold" "successThreshold" }}
{{- if hasKey $p $k }}
{{ $k }}: {{ get $p $k }}
{{- end }}
{{- end }}
{{- end }}

{{/* Values the schema cannot check: fail the render with a message that says what to change. */}}
{{- define "recsys.validate" -}}
{{- $s := .Values.shutdown }}
{{- if ge (add $s.readinessDrainDelaySeconds $s.drainTimeoutSeconds) (int $s.terminationGracePeriodSeconds) }}
{{- fail (printf "shutdown: readinessDrainDelaySeconds (%d) + drainTimeoutSeconds (%d) must be less than terminationGracePeriodSeconds (%d), or the kubelet kills pods mid-drain" (int $s.readinessDrainDelaySeconds) (int $s.drainTimeoutSeconds) (int $s.terminationGracePeriodSeconds)) }}
{{- end }}
{{- $services := dict }}
{{- include "recsys.collectServices" (dict "root" . "out" $services) }}
{{- range $name, $svc := $services }}
{{- if and $svc.autoscaling $svc.autoscaling.enabled }}
{{- $a := $svc.autoscaling }}
{{- $custom := and $a.customMetric $a.customMetric.enabled }}
{{- if not (or $a.targetCPUUtilizationPercentage $custom) }}
{{- fail (printf "services.%s.autoscaling: set targetCPUUtilizationPercentage or enable customMetric" $name) }}
{{- end }}
{{- if and $a.targetCPUUtilizationPercentage (not (dig "requests" "cpu" "" ($svc.resources | default dict))) }}
{{- fail (printf "services.%s.autoscaling: CPU utilisation needs resources.requests.cpu" $name) }}
{{- end }}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) }}
{{- fail (printf "services.%s.autoscaling: minReplicas > maxReplicas" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
