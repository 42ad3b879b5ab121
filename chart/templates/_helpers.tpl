{{/*
Names. The link controller objects have fixed names (zonesync-link-<link>), shared with the standalone mode and
with `zonesync check`; the manager's are derived from the release.
*/}}
{{- define "zonesync.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "zonesync.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "zonesync.manager.name" -}}
{{- printf "%s-manager" (include "zonesync.fullname" .) -}}
{{- end -}}

{{- define "zonesync.controller.name" -}}
{{- printf "zonesync-link-%s" . -}}
{{- end -}}

{{/*
Standard labels. Call with (dict "root" $ "component" "manager").
*/}}
{{- define "zonesync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zonesync.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "zonesync.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "zonesync.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: zonesync
{{- end -}}

{{/*
Pod template labels: without helm.sh/chart and the version, so that a chart upgrade alone does not roll pods.
*/}}
{{- define "zonesync.podLabels" -}}
{{ include "zonesync.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: zonesync
{{- end -}}

{{/*
Labels of a link controller's objects. Call with (dict "root" $ "link" <name>).
*/}}
{{- define "zonesync.controller.selectorLabels" -}}
zonesync.io/link: {{ .link | quote }}
zonesync.io/controller-mode: chart
{{- end -}}

{{- define "zonesync.controller.labels" -}}
{{ include "zonesync.labels" (dict "root" .root "component" "link-controller") }}
{{ include "zonesync.controller.selectorLabels" . }}
{{- end -}}

{{- define "zonesync.controller.podLabels" -}}
{{ include "zonesync.podLabels" (dict "root" .root "component" "link-controller") }}
{{ include "zonesync.controller.selectorLabels" . }}
{{- end -}}

{{/*
The image reference "repository:tag" (or "repository@sha256:..." for a digest). Call with an effective image dict
(repository, tag, pullPolicy) whose tag is already resolved.
*/}}
{{- define "zonesync.image" -}}
{{- if hasPrefix "sha256:" .tag -}}
{{- printf "%s@%s" .repository .tag -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{/*
Copies the set (non-null) keys of a map into another. Call with (dict "into" $dst "from" $src).
*/}}
{{- define "zonesync.overlay" -}}
{{- $into := .into -}}
{{- if kindIs "map" .from -}}
{{- range $key, $value := .from -}}
{{- if not (kindIs "invalid" $value) -}}
{{- $_ := set $into $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The manager's image: the image values with an empty tag resolved to the appVersion.
*/}}
{{- define "zonesync.manager.image" -}}
{{- $image := dict "repository" "ghcr.io/zonesync/zonesync" "tag" "" "pullPolicy" "IfNotPresent" -}}
{{- include "zonesync.overlay" (dict "into" $image "from" .Values.image) -}}
{{- if not $image.tag -}}
{{- $_ := set $image "tag" .Chart.AppVersion -}}
{{- end -}}
{{- toJson $image -}}
{{- end -}}

{{/*
The effective settings of one controllers entry, as JSON: every field the entry leaves out comes from
controllerDefaults (then from the built-in defaults); podDisruptionBudget and image merge key by key (image: entry,
controllerDefaults.image, then the chart's image values, an empty tag meaning the appVersion).
Keep in step with effectiveController() in src/api/render.ts: the pod annotation zonesync.io/values-checksum is the
sha256 of this JSON, and test/unit/chart.test.ts checks that both compute the same one.
Call with (dict "root" $ "entry" $entry).
*/}}
{{- define "zonesync.controller.effective" -}}
{{- $root := .root -}}
{{- $entry := .entry -}}
{{- $builtin := dict
  "replicas" 1
  "logLevel" "info"
  "logFormat" "json"
  "resources" (dict "requests" (dict "cpu" "10m" "memory" "64Mi") "limits" (dict "memory" "256Mi"))
  "nodeSelector" (dict)
  "tolerations" (list)
  "affinity" (dict)
  "podAntiAffinity" false
-}}
{{- $defaults := dict -}}
{{- include "zonesync.overlay" (dict "into" $defaults "from" $builtin) -}}
{{- include "zonesync.overlay" (dict "into" $defaults "from" $root.Values.controllerDefaults) -}}
{{- $eff := dict "name" $entry.name "credentialsSecret" (printf "cluster-credentials-%s" $entry.name) -}}
{{- if $entry.credentialsSecret -}}
{{- $_ := set $eff "credentialsSecret" $entry.credentialsSecret -}}
{{- end -}}
{{- range $key := keys $builtin | sortAlpha -}}
{{- $value := get $defaults $key -}}
{{- if and (hasKey $entry $key) (not (kindIs "invalid" (get $entry $key))) -}}
{{- $value = get $entry $key -}}
{{- end -}}
{{- $_ := set $eff $key $value -}}
{{- end -}}
{{- $pdb := dict "enabled" false "minAvailable" 1 -}}
{{- include "zonesync.overlay" (dict "into" $pdb "from" (get $defaults "podDisruptionBudget")) -}}
{{- include "zonesync.overlay" (dict "into" $pdb "from" $entry.podDisruptionBudget) -}}
{{- $_ := set $eff "podDisruptionBudget" (dict "enabled" $pdb.enabled "minAvailable" $pdb.minAvailable) -}}
{{- $image := dict "repository" "ghcr.io/zonesync/zonesync" "tag" "" "pullPolicy" "IfNotPresent" -}}
{{- include "zonesync.overlay" (dict "into" $image "from" $root.Values.image) -}}
{{- include "zonesync.overlay" (dict "into" $image "from" (get $defaults "image")) -}}
{{- include "zonesync.overlay" (dict "into" $image "from" $entry.image) -}}
{{- if not $image.tag -}}
{{- $_ := set $image "tag" $root.Chart.AppVersion -}}
{{- end -}}
{{- $_ := set $eff "image" (dict "repository" $image.repository "tag" $image.tag "pullPolicy" $image.pullPolicy) -}}
{{- toJson $eff -}}
{{- end -}}

{{/*
Fails the render on controllers entries the schema cannot catch: duplicate names.
*/}}
{{- define "zonesync.controllers.validate" -}}
{{- $seen := dict -}}
{{- range $i, $entry := .Values.controllers -}}
{{- if hasKey $seen $entry.name -}}
{{- fail (printf "controllers[%d].name: duplicate %q (also controllers[%d]); each link has one controller" $i $entry.name (get $seen $entry.name)) -}}
{{- end -}}
{{- $_ := set $seen $entry.name $i -}}
{{- end -}}
{{- end -}}

{{/*
PodDisruptionBudget apiVersion: policy/v1 unless the cluster is known to lack it: Kubernetes < 1.21 (1.20 serves
only policy/v1beta1) whose discovery does not list policy/v1 PodDisruptionBudgets. The group/version list alone does
not tell: `helm template` always lists policy/v1, and a cluster whose policy discovery failed lists neither version.
*/}}
{{- define "zonesync.pdb.apiVersion" -}}
{{- $before121 := semverCompare "<1.21-0" .Capabilities.KubeVersion.Version -}}
{{- if and $before121 (not (.Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget")) -}}
policy/v1beta1
{{- else -}}
policy/v1
{{- end -}}
{{- end -}}

{{/*
The restricted pod and container security contexts, and the writable /tmp every zonesync container gets.
*/}}
{{- define "zonesync.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "zonesync.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
{{- end -}}

{{- define "zonesync.probes" -}}
ports:
  - name: http
    containerPort: 8080
    protocol: TCP
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  failureThreshold: 3
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  initialDelaySeconds: 10
  periodSeconds: 10
  failureThreshold: 3
{{- end -}}

{{- define "zonesync.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end -}}

{{/*
The release's static ClusterRole (and its one ClusterRoleBinding) for writing mirrors: every link controller gets it.
Cluster-scoped, so named with the release namespace too.
*/}}
{{- define "zonesync.mirrors.name" -}}
{{- printf "%s-%s-mirrors" .Release.Namespace (include "zonesync.fullname" .) -}}
{{- end -}}

{{/*
The manager's cluster-scoped objects: with the namespace, so that releases of one name in two namespaces coexist.
*/}}
{{- define "zonesync.manager.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "zonesync.manager.name" .) -}}
{{- end -}}

{{/*
The MCS controller's cluster-scoped RBAC name: namespaced like the manager's, so two installs never share it.
*/}}
{{- define "zonesync.mcs.clusterName" -}}
{{- printf "%s-%s-mcs" .Release.Namespace (include "zonesync.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Monitoring: the PrometheusRule of files/alerts.rules.yaml is rendered when enabled and the cluster serves the
Prometheus Operator's CRD ("true" or ""); the dashboard ConfigMap when enabled. Their names, for the objects and for
the manager's RBAC (its helm upgrade of the release reads and patches them).
*/}}
{{- define "zonesync.prometheusRule.enabled" -}}
{{- if and .Values.monitoring.prometheusRule.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PrometheusRule") -}}
true
{{- end -}}
{{- end -}}

{{- define "zonesync.podMonitor.enabled" -}}
{{- if and .Values.monitoring.podMonitor.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PodMonitor") -}}
true
{{- end -}}
{{- end -}}

{{- define "zonesync.podMonitor.name" -}}
{{- include "zonesync.fullname" . -}}
{{- end -}}

{{- define "zonesync.prometheusRule.name" -}}
{{- printf "%s-alerts" (include "zonesync.fullname" .) -}}
{{- end -}}

{{- define "zonesync.dashboard.name" -}}
{{- printf "%s-dashboard" (include "zonesync.fullname" .) -}}
{{- end -}}

{{/*
Labels of a monitoring object: the standard ones, and the user's on top. Call with (dict "root" $ "extra" <labels>).
*/}}
{{- define "zonesync.monitoring.labels" -}}
{{- $standard := include "zonesync.labels" (dict "root" .root "component" "monitoring") | fromYaml -}}
{{- toYaml (merge (deepCopy .extra) $standard) -}}
{{- end -}}
