{{/* The pod template shared by the feature store's StatefulSet and the model Deployments.
     dict: root, name (the service's --services name), svc (its values). */}}
{{- define "recsys.podTemplate" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $name := .name }}
{{- $svc := .svc }}
{{- $isStore := eq $name "feature_store" }}
{{- $gpu := int ($svc.gpu | default 0) }}
{{- $resources := deepCopy ($svc.resources | default dict) }}
{{- if gt $gpu 0 }}
{{- $_ := set $resources "limits" (merge (dict "nvidia.com/gpu" $gpu) ($resources.limits | default dict)) }}
{{- end }}
{{- $nodeSelector := merge (deepCopy ($svc.nodeSelector | default dict)) (ternary $v.gpuNodes.nodeSelector dict (gt $gpu 0)) $v.nodeSelector }}
{{- $tolerations := concat $v.tolerations ($svc.tolerations | default list) (ternary $v.gpuNodes.tolerations list (gt $gpu 0)) | uniq }}
{{- $affinity := $svc.affinity | default $v.affinity -}}
metadata:
  labels:
    {{- include "recsys.labels" . | nindent 4 }}
    {{- with merge (deepCopy ($svc.podLabels | default dict)) $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # A flag change in the ConfigMap rolls the pods.
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- with merge (deepCopy ($svc.podAnnotations | default dict)) $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "recsys.serviceAccountName" $root }}
  # The server never calls the Kubernetes API.
  automountServiceAccountToken: false
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ $v.shutdown.terminationGracePeriodSeconds }}
  {{- with $nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: server
      image: {{ include "recsys.image" . | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      command: [/usr/local/bin/recsys-server]
      args:
        {{- include "recsys.args" . | nindent 8 }}
      ports:
        - name: grpc
          containerPort: {{ $v.ports.grpc }}
          protocol: TCP
        - name: metrics
          containerPort: {{ $v.ports.metrics }}
          protocol: TCP
      {{- with $svc.env }}
      env:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      startupProbe:
        {{- include "recsys.probe" (dict "root" $root "svc" $svc "kind" "startup" "service" "") | nindent 8 }}
      livenessProbe:
        {{- include "recsys.probe" (dict "root" $root "svc" $svc "kind" "liveness" "service" "") | nindent 8 }}
      readinessProbe:
        {{- include "recsys.probe" (dict "root" $root "svc" $svc "kind" "readiness" "service" $svc.healthService) | nindent 8 }}
      {{- with $resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        - name: flags
          mountPath: /etc/recsys
          readOnly: true
        - name: data
          mountPath: /data
        - name: tmp
          mountPath: /tmp
        {{- if $v.admin.tokenSecret.name }}
        - name: admin-token
          mountPath: /etc/recsys-admin
          readOnly: true
        {{- end }}
        {{- if not $isStore }}
        - name: models
          mountPath: /models
          readOnly: true
        {{- end }}
  volumes:
    - name: flags
      configMap:
        name: {{ include "recsys.fullname" $root }}-flags
    - name: tmp
      emptyDir:
        sizeLimit: {{ $v.tmpSizeLimit }}
    {{- with $v.admin.tokenSecret.name }}
    - name: admin-token
      secret:
        secretName: {{ . }}
        defaultMode: 0440  # group: the pod's fsGroup, so the non-root server reads it
    {{- end }}
    {{- if not $isStore }}
    # --data_dir of a model service holds nothing that must survive the pod.
    - name: data
      emptyDir: {}
    - name: models
      {{- if $v.modelRepository.existingClaim }}
      persistentVolumeClaim:
        claimName: {{ $v.modelRepository.existingClaim }}
        readOnly: true
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- else if not $svc.persistence.enabled }}
    - name: data
      emptyDir: {}
    {{- end }}
{{- end }}
