//go:build helm

package helm

// The chart rendered by Helm's own CLI (helm template and helm lint, the
// version make test-helm builds) for the default values, the production
// example and a trial install, every manifest decoded strictly into
// k8s.io/api types (an unknown or duplicated field, or a kind the test does
// not know, fails), then the properties a cluster operator relies on:
// images, one Secret per identity reaching only its pods and never a
// command line, probes on /healthz and /readyz at the port the process
// listens on, Prometheus's scrape annotations at that port, resources, the
// init hook before the services, silver follow mode (one replica, the batch
// identity, compose's command), the archive tier's settings and credentials
// reaching weir init --storage only.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"weir/config"
	"weir/objectstore"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const chart = "weir"

// identityKeys are the keys of each identity's Secret (the chart's
// weir.identityKeys and the README's list).
var identityKeys = map[string][]string{
	"stream":    {"WEIR_S3_ACCESS_KEY", "WEIR_S3_SECRET_KEY", "WEIR_CATALOG_URI"},
	"alerts":    {"WEIR_S3_ACCESS_KEY", "WEIR_S3_SECRET_KEY", "WEIR_CATALOG_URI", "WEIR_SCHEDULER_DATABASE"},
	"batch":     {"WEIR_S3_ACCESS_KEY", "WEIR_S3_SECRET_KEY", "WEIR_CATALOG_URI", "WEIR_TRINO_URL"},
	"scheduler": {"WEIR_SCHEDULER_DATABASE", "WEIR_SCHEDULER_OPERATOR_PASSWORD", "WEIR_SCHEDULER_VIEWER_PASSWORD", "WEIR_SCHEDULER_RECEIVER_PASSWORD"},
	"maintain":  {"WEIR_MAINTAIN_S3_ACCESS_KEY", "WEIR_MAINTAIN_S3_SECRET_KEY"},
	"init":      {"WEIR_S3_ACCESS_KEY", "WEIR_S3_SECRET_KEY", "WEIR_CATALOG_URI", "WEIR_SCHEDULER_DATABASE", "WEIR_TRINO_URL"},
	"storage": {"WEIR_S3_ACCESS_KEY", "WEIR_S3_SECRET_KEY", "MINIO_STREAM_SECRET_KEY", "MINIO_BATCH_SECRET_KEY",
		"MINIO_MAINTAIN_SECRET_KEY", "MINIO_TRINO_SECRET_KEY", "MINIO_ALERTS_SECRET_KEY"},
	"archive-tier": {objectstore.TierEnv.AdminUser, objectstore.TierEnv.AdminPassword, objectstore.TierEnv.UserSecret},
}

// workloadIdentities: the identities (Secrets) each workload acts as, and no
// other; with an archive tier storage-init acts as archive-tier too
// (rendering.identities).
var workloadIdentities = map[string][]string{
	"stream":       {"stream"},
	"alerts":       {"alerts"},
	"scheduler":    {"batch", "scheduler", "maintain"},
	"init":         {"init"},
	"storage-init": {"storage"},
	"follow":       {"batch"},
}

type rendering struct {
	name       string
	values     string // values file, "" for the chart's defaults
	image      string
	secretName func(identity string) string
	stream     int32 // stream replicas
	secrets    bool  // the chart makes the Secrets
	storage    bool  // the storage-init hook is on
	caSecret   string
	set        []string // --set arguments after the values file
	// tier is the archive tier weir init --storage should read from its
	// pod's environment; nil: no tier, and no tier setting or credential in
	// any pod.
	tier *config.ArchiveTier
	// follow is silver follow mode's command line; nil: no follow
	// Deployment.
	follow []string
}

// identities are the identities workload comp acts as in this rendering.
func (tc rendering) identities(comp string) []string {
	ids := workloadIdentities[comp]
	if comp == "storage-init" && tc.tier != nil {
		ids = append(slices.Clone(ids), "archive-tier")
	}
	return ids
}

func TestChartRenders(t *testing.T) {
	helm := helmBin(t)
	release := "weir"
	cases := []rendering{
		{
			name:       "default values",
			image:      "weir:0.1.0",
			secretName: func(id string) string { return "weir-" + id },
			stream:     1,
			follow:     composeFollow(t),
		},
		{
			name:       "default values, follow mode off",
			set:        []string{"follow.enabled=false"},
			image:      "weir:0.1.0",
			secretName: func(id string) string { return "weir-" + id },
			stream:     1,
		},
		{
			name:       "production values",
			values:     filepath.Join(chart, "values-production.yaml"),
			image:      "registry.example.com/data/weir@sha256:5b0f7e3a3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f",
			secretName: func(id string) string { return "weir-" + id + "-credentials" },
			stream:     2,
			storage:    true,
			caSecret:   "trino-tls-ca",
			tier:       &config.ArchiveTier{Name: "ARCHIVE", Endpoint: "minio.minio-weir-archive.svc:443", UseSSL: true, Bucket: "weir-archive-tier"},
			follow:     composeFollow(t),
		},
		{
			// follow.replicas is no value of the chart: one follower, always.
			name:       "production values, follow mode without gold",
			values:     filepath.Join(chart, "values-production.yaml"),
			set:        []string{"follow.gold=false", "follow.interval=1m30s", "follow.replicas=2"},
			image:      "registry.example.com/data/weir@sha256:5b0f7e3a3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f",
			secretName: func(id string) string { return "weir-" + id + "-credentials" },
			stream:     2,
			storage:    true,
			caSecret:   "trino-tls-ca",
			tier:       &config.ArchiveTier{Name: "ARCHIVE", Endpoint: "minio.minio-weir-archive.svc:443", UseSSL: true, Bucket: "weir-archive-tier"},
			follow:     []string{"batch", "silver", "--follow", "--interval", "1m30s", "--listen", ":9465"},
		},
		{
			name:       "trial values: the chart makes the Secrets",
			values:     filepath.Join("testdata", "trial.yaml"),
			image:      "weir:0.1.0",
			secretName: func(id string) string { return "weir-" + id },
			stream:     1,
			secrets:    true,
			storage:    true,
			tier:       &config.ArchiveTier{Name: "ARCHIVE", Endpoint: "minio.weir-archive.svc:80", Bucket: "weir-archive-tier"},
			follow:     composeFollow(t),
		},
		{
			name:       "trial values without the archive tier",
			values:     filepath.Join("testdata", "trial.yaml"),
			set:        []string{"endpoints.s3.archiveTier.endpoint="},
			image:      "weir:0.1.0",
			secretName: func(id string) string { return "weir-" + id },
			stream:     1,
			secrets:    true,
			storage:    true,
			follow:     composeFollow(t),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"template", release, chart, "--namespace", "weir"}
			lint := []string{"lint", "--strict", chart}
			if tc.values != "" {
				args = append(args, "-f", tc.values)
				lint = append(lint, "-f", tc.values)
			}
			for _, s := range tc.set {
				args = append(args, "--set", s)
				lint = append(lint, "--set", s)
			}
			if out, err := exec.Command(helm, lint...).CombinedOutput(); err != nil {
				t.Fatalf("helm %s: %v\n%s", strings.Join(lint, " "), err, out)
			}
			out, err := exec.Command(helm, args...).Output()
			if err != nil {
				t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr(err))
			}
			objs := decodeStrict(t, out)
			checkRendering(t, tc, objs)
			checkArchiveTier(t, tc, objs)
			if tc.secrets {
				checkSecretValues(t, tc.values, objs)
			}
		})
	}
}

// A chart-made Secret without one of its identity's keys is refused at
// render time, naming the value.
func TestChartRefusesMissingCredential(t *testing.T) {
	helm := helmBin(t)
	out, err := exec.Command(helm, "template", "weir", chart, "-f", filepath.Join("testdata", "trial.yaml"),
		"--set", "secrets.values.batch.WEIR_TRINO_URL=").CombinedOutput()
	if err == nil {
		t.Fatal("helm template passed without the batch identity's WEIR_TRINO_URL")
	}
	if want := "secrets.values.batch.WEIR_TRINO_URL is required"; !bytes.Contains(out, []byte(want)) {
		t.Errorf("helm template failed without %q:\n%s", want, out)
	}
}

// A follow interval weir could not parse (--interval is a Go duration) is
// refused at render time, not by a crash-looping pod.
func TestChartRefusesBadFollowInterval(t *testing.T) {
	helm := helmBin(t)
	for _, interval := range []string{"10", "ten seconds", "10 s"} {
		out, err := exec.Command(helm, "template", "weir", chart, "--set", "follow.interval="+interval).CombinedOutput()
		if err == nil {
			t.Errorf("helm template passed with follow.interval=%s", interval)
			continue
		}
		if want := "follow.interval " + strconv.Quote(interval) + " is not a duration"; !bytes.Contains(out, []byte(want)) {
			t.Errorf("helm template failed without %q:\n%s", want, out)
		}
	}
}

// composeFollow is the command compose's weir-follow service runs
// (services/compose.yaml): the chart's defaults run follow mode the same
// way.
func composeFollow(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "services", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services struct {
			Follow struct {
				Command []string `json:"command"`
			} `json:"weir-follow"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Services.Follow.Command) == 0 {
		t.Fatal("compose.yaml: service weir-follow has no command")
	}
	return c.Services.Follow.Command
}

// An archive tier without the storage hook is refused at render time: the
// hook is what registers the tier, and nothing else would.
func TestChartRefusesTierWithoutStorageInit(t *testing.T) {
	helm := helmBin(t)
	out, err := exec.Command(helm, "template", "weir", chart,
		"--set", "endpoints.s3.archiveTier.endpoint=minio.weir-archive.svc:80").CombinedOutput()
	if err == nil {
		t.Fatal("helm template passed with an archive tier and no storage hook")
	}
	if want := "endpoints.s3.archiveTier.endpoint needs storageInit.enabled"; !bytes.Contains(out, []byte(want)) {
		t.Errorf("helm template failed without %q:\n%s", want, out)
	}
}

func helmBin(t *testing.T) string {
	t.Helper()
	h := os.Getenv("WEIR_HELM")
	if h == "" {
		t.Fatal("WEIR_HELM is not set: make test-helm builds Helm's CLI and runs this test")
	}
	return h
}

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// object is one rendered manifest: its typed value and its text.
type object struct {
	obj  runtime.Object
	raw  []byte
	kind string
	name string
}

// decodeStrict decodes every YAML document of a helm template output into
// the k8s.io/api type of its kind, refusing unknown and duplicated fields.
func decodeStrict(t *testing.T, out []byte) []object {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	codec := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	var objs []object
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var probe map[string]any
		if err := yaml.Unmarshal(doc, &probe); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		if len(probe) == 0 {
			continue // a comment-only document
		}
		obj, gvk, err := codec.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("strict decoding: %v\n%s", err, doc)
		}
		meta, ok := obj.(interface{ GetName() string })
		if !ok {
			t.Fatalf("%s has no name", gvk.Kind)
		}
		objs = append(objs, object{obj: obj, raw: doc, kind: gvk.Kind, name: meta.GetName()})
	}
	if len(objs) == 0 {
		t.Fatal("helm template rendered nothing")
	}
	return objs
}

func find[T runtime.Object](objs []object, name string) (T, bool) {
	for _, o := range objs {
		if v, ok := o.obj.(T); ok && o.name == name {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func checkRendering(t *testing.T, tc rendering, objs []object) {
	var names []string
	for _, o := range objs {
		names = append(names, o.kind+"/"+o.name)
	}
	want := []string{"Deployment/weir-alerts", "Deployment/weir-scheduler", "Deployment/weir-stream", "Job/weir-init", "Service/weir-scheduler"}
	deployments := []string{"stream", "alerts", "scheduler"}
	if tc.follow != nil {
		want = append(want, "Deployment/weir-follow")
		deployments = append(deployments, "follow")
	}
	if tc.storage {
		want = append(want, "Job/weir-storage-init")
	}
	if tc.secrets {
		for id := range identityKeys {
			if (id != "storage" || tc.storage) && (id != "archive-tier" || tc.tier != nil) {
				want = append(want, "Secret/"+tc.secretName(id))
			}
		}
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("rendered %v, want %v", names, want)
	}

	for _, comp := range deployments {
		d, _ := find[*appsv1.Deployment](objs, "weir-"+comp)
		t.Run(comp, func(t *testing.T) {
			replicas := int32(1)
			if comp == "stream" {
				replicas = tc.stream
			} else if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("strategy %q, want Recreate (one instance at a time)", d.Spec.Strategy.Type)
			}
			if d.Spec.Replicas == nil || *d.Spec.Replicas != replicas {
				t.Errorf("replicas %v, want %d", d.Spec.Replicas, replicas)
			}
			for k, v := range d.Spec.Selector.MatchLabels {
				if d.Spec.Template.Labels[k] != v {
					t.Errorf("the selector's %s=%s is not on the pod template", k, v)
				}
			}
			checkPod(t, tc, comp, &d.Spec.Template.Spec)
			c := d.Spec.Template.Spec.Containers[0]
			checkProbes(t, comp, c)
			checkScrape(t, d.Spec.Template, c)
			if comp == "follow" && !slices.Equal(c.Args, tc.follow) {
				t.Errorf("args %q, want %q", c.Args, tc.follow)
			}
		})
	}

	svc, _ := find[*corev1.Service](objs, "weir-scheduler")
	d, _ := find[*appsv1.Deployment](objs, "weir-scheduler")
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("Service weir-scheduler selects %s=%s, not on the scheduler's pods", k, v)
		}
	}

	jobs := []string{"init"}
	if tc.storage {
		jobs = append(jobs, "storage-init")
	}
	for _, comp := range jobs {
		j, _ := find[*batchv1.Job](objs, "weir-"+comp)
		t.Run(comp+" hook", func(t *testing.T) {
			hooks := strings.Split(j.Annotations["helm.sh/hook"], ",")
			if !slices.Contains(hooks, "pre-install") || !slices.Contains(hooks, "pre-upgrade") {
				t.Errorf("helm.sh/hook %q, want pre-install and pre-upgrade (before the services start or change)", j.Annotations["helm.sh/hook"])
			}
			if j.Annotations["helm.sh/hook-delete-policy"] != "before-hook-creation" {
				t.Errorf("hook-delete-policy %q", j.Annotations["helm.sh/hook-delete-policy"])
			}
			if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
				t.Errorf("restartPolicy %q, want Never (each failed attempt's pod and log kept)", j.Spec.Template.Spec.RestartPolicy)
			}
			if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit < 1 || j.Spec.ActiveDeadlineSeconds == nil {
				t.Error("the hook needs retries (backoffLimit) and a deadline")
			}
			args := j.Spec.Template.Spec.Containers[0].Args
			if wantArgs := []string{"init"}; comp == "storage-init" {
				if !slices.Equal(args, []string{"init", "--storage"}) {
					t.Errorf("args %q", args)
				}
			} else if args[0] != wantArgs[0] {
				t.Errorf("args %q", args)
			}
			checkPod(t, tc, comp, &j.Spec.Template.Spec)
			if tc.secrets {
				// A pre-install hook runs before the release's own resources
				// exist: its Secret must be a hook too, made before it.
				for _, id := range tc.identities(comp) {
					s, _ := find[*corev1.Secret](objs, tc.secretName(id))
					if s.Annotations["helm.sh/hook"] != j.Annotations["helm.sh/hook"] || weight(t, s.Annotations) >= weight(t, j.Annotations) {
						t.Errorf("Secret %s: hook %q weight %q, want the Job's hooks at a lower weight than its %q",
							s.Name, s.Annotations["helm.sh/hook"], s.Annotations["helm.sh/hook-weight"], j.Annotations["helm.sh/hook-weight"])
					}
				}
			}
		})
	}
	if tc.storage {
		i, _ := find[*batchv1.Job](objs, "weir-init")
		s, _ := find[*batchv1.Job](objs, "weir-storage-init")
		if weight(t, s.Annotations) >= weight(t, i.Annotations) {
			t.Error("storage-init must run before init (a lower hook weight)")
		}
	}
	if tc.secrets {
		for id, keys := range identityKeys {
			if id == "storage" && !tc.storage || id == "archive-tier" && tc.tier == nil {
				continue
			}
			s, _ := find[*corev1.Secret](objs, tc.secretName(id))
			got := make([]string, 0, len(s.StringData))
			for k := range s.StringData {
				got = append(got, k)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(keys))
			if !slices.Equal(got, want) {
				t.Errorf("Secret %s holds %v, want exactly %v", s.Name, got, want)
			}
		}
	}
}

// checkPod: the image, least privilege (only its identities' Secrets, as
// environment, no credential in a literal value or an argument), resources,
// the security settings, Trino's CA when configured.
func checkPod(t *testing.T, tc rendering, comp string, pod *corev1.PodSpec) {
	t.Helper()
	if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
		t.Fatalf("%d containers, %d init containers; want one container", len(pod.Containers), len(pod.InitContainers))
	}
	c := pod.Containers[0]
	if c.Image != tc.image {
		t.Errorf("image %q, want %q", c.Image, tc.image)
	}
	if len(c.Command) != 0 {
		t.Errorf("command %q: the image's entrypoint is weir", c.Command)
	}
	var got []string
	for _, e := range c.EnvFrom {
		if e.SecretRef == nil || e.ConfigMapRef != nil {
			t.Errorf("envFrom %+v: Secrets only", e)
			continue
		}
		got = append(got, e.SecretRef.Name)
	}
	var want []string
	for _, id := range tc.identities(comp) {
		want = append(want, tc.secretName(id))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Secrets %v, want exactly %v", got, want)
	}
	secretKeys := map[string]bool{}
	for _, keys := range identityKeys {
		for _, k := range keys {
			secretKeys[k] = true
		}
	}
	for _, e := range c.Env {
		if secretKeys[e.Name] {
			t.Errorf("env %s is set in the pod spec; credentials come from the identity's Secret", e.Name)
		}
		if e.ValueFrom != nil {
			t.Errorf("env %s: valueFrom; credentials come from envFrom of the identity's Secret", e.Name)
		}
		if strings.Contains(e.Value, "@") || strings.Contains(strings.ToLower(e.Name), "password") {
			t.Errorf("env %s=%q looks like a credential", e.Name, e.Value)
		}
	}
	for _, a := range c.Args {
		if strings.Contains(a, "@") || strings.Contains(strings.ToLower(a), "password") || strings.Contains(a, "secret") {
			t.Errorf("argument %q looks like a credential", a)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the service account token is mounted; weir needs no Kubernetes API")
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod security context %+v: want a non-root user", psc)
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context %+v: want no privilege escalation, a read-only root, every capability dropped", sc)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	if mounts["/tmp"] == "" {
		t.Error("no writable /tmp beside the read-only root")
	}
	certDir := ""
	for _, e := range c.Env {
		if e.Name == "SSL_CERT_DIR" {
			certDir = e.Value
		}
	}
	if tc.caSecret != "" {
		ok := false
		for _, v := range pod.Volumes {
			if v.Name == mounts["/etc/weir/trino-ca"] && v.Secret != nil && v.Secret.SecretName == tc.caSecret {
				ok = true
			}
		}
		if !ok || !strings.Contains(certDir, "/etc/weir/trino-ca") {
			t.Errorf("Trino's CA (Secret %s) is not mounted at /etc/weir/trino-ca and in SSL_CERT_DIR (%q)", tc.caSecret, certDir)
		}
	} else if certDir != "" {
		t.Errorf("SSL_CERT_DIR %q without a Trino CA", certDir)
	}
}

// checkProbes: startup and liveness on /healthz, readiness on /readyz, all
// at the named port http, which is where the process listens.
func checkProbes(t *testing.T, comp string, c corev1.Container) {
	t.Helper()
	port := int32(0)
	for _, p := range c.Ports {
		if p.Name == "http" {
			port = p.ContainerPort
		}
	}
	if port == 0 {
		t.Fatal("no container port named http")
	}
	listen := ""
	for i, a := range c.Args {
		if a == "--listen" && i+1 < len(c.Args) {
			listen = c.Args[i+1]
		}
	}
	for _, e := range c.Env {
		if e.Name == "WEIR_SCHEDULER_LISTEN" {
			listen = e.Value
		}
	}
	if _, p, _ := strings.Cut(listen, ":"); p != strconv.Itoa(int(port)) {
		t.Errorf("%s listens on %q, the probes' port is %d", comp, listen, port)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"startup", c.StartupProbe, "/healthz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.StrVal != "http" {
			t.Errorf("%s probe GET %s on port %s, want %s on http", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
		}
	}
}

// checkScrape: Prometheus scrapes the pod by its annotations (the chart's
// convention, no ServiceMonitor) at the port the process serves /metrics on.
func checkScrape(t *testing.T, tmpl corev1.PodTemplateSpec, c corev1.Container) {
	t.Helper()
	a := tmpl.Annotations
	port := ""
	for _, p := range c.Ports {
		if p.Name == "http" {
			port = strconv.Itoa(int(p.ContainerPort))
		}
	}
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != port || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations %v, want scrape true, port %s (http), path /metrics", a, port)
	}
}

// checkArchiveTier: with a tier, weir init --storage reads it from its pod
// as weir does (config.Default, then the environment; config.Validate), and
// the Secrets its pod gets hold every credential
// objectstore.TierAccessFromEnv needs. No pod sets WEIR_CONFIG: the chart
// configures weir by environment only, which is all this rebuild reads. No
// other pod, and no pod without a tier, gets a tier setting or the
// archive-tier Secret.
func checkArchiveTier(t *testing.T, tc rendering, objs []object) {
	tierSecret := "Secret/" + tc.secretName("archive-tier")
	for _, o := range objs {
		var tmpl corev1.PodTemplateSpec
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			tmpl = v.Spec.Template
		case *batchv1.Job:
			tmpl = v.Spec.Template
		default:
			continue
		}
		pod := &tmpl.Spec
		c := pod.Containers[0]
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if file, ok := env["WEIR_CONFIG"]; ok {
			t.Errorf("%s %s: WEIR_CONFIG %q; the chart configures weir by environment only", o.kind, o.name, file)
		}
		if tmpl.Labels["app.kubernetes.io/component"] != "storage-init" || tc.tier == nil {
			for name := range env {
				if strings.HasPrefix(name, "WEIR_S3_ARCHIVE_TIER_") {
					t.Errorf("%s %s: env %s, not the storage hook of an archive tier", o.kind, o.name, name)
				}
			}
			for _, r := range podRefs(pod) {
				if r == tierSecret {
					t.Errorf("%s %s gets %s, not the storage hook of an archive tier", o.kind, o.name, r)
				}
			}
			continue
		}

		cfg := config.Default()
		if err := cfg.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s's configuration: %v", o.name, err)
		}
		if cfg.S3.ArchiveTier != *tc.tier {
			t.Errorf("%s reads archive tier %+v, want %+v", o.name, cfg.S3.ArchiveTier, *tc.tier)
		}

		// The keys the pod's Secrets hold (envFrom, the only way checkPod
		// lets a credential in).
		fromSecrets := map[string]bool{}
		for _, e := range c.EnvFrom {
			for id, keys := range identityKeys {
				if e.SecretRef != nil && e.SecretRef.Name == tc.secretName(id) {
					for _, k := range keys {
						fromSecrets[k] = true
					}
				}
			}
		}
		_, err := objectstore.TierAccessFromEnv(cfg.S3, func(k string) (string, bool) {
			if fromSecrets[k] {
				return "from-" + k, true
			}
			return "", false
		})
		if err != nil {
			t.Errorf("%s's Secrets (%v): %v", o.name, podRefs(pod), err)
		}
	}
}

// podRefs are the Secrets and ConfigMaps a pod refers to, as Kind/name:
// environment, envFrom and volumes.
func podRefs(pod *corev1.PodSpec) []string {
	var refs []string
	for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				refs = append(refs, "Secret/"+e.SecretRef.Name)
			}
			if e.ConfigMapRef != nil {
				refs = append(refs, "ConfigMap/"+e.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				refs = append(refs, "Secret/"+e.ValueFrom.SecretKeyRef.Name)
			}
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				refs = append(refs, "ConfigMap/"+e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			refs = append(refs, "Secret/"+v.Secret.SecretName)
		}
		if v.ConfigMap != nil {
			refs = append(refs, "ConfigMap/"+v.ConfigMap.Name)
		}
		if v.Projected != nil {
			for _, p := range v.Projected.Sources {
				if p.Secret != nil {
					refs = append(refs, "Secret/"+p.Secret.Name)
				}
				if p.ConfigMap != nil {
					refs = append(refs, "ConfigMap/"+p.ConfigMap.Name)
				}
			}
		}
	}
	return refs
}

// weight is a hook's helm.sh/hook-weight as a number.
func weight(t *testing.T, annotations map[string]string) int {
	t.Helper()
	w, err := strconv.Atoi(annotations["helm.sh/hook-weight"])
	if err != nil {
		t.Fatalf("helm.sh/hook-weight: %v", err)
	}
	return w
}

// checkSecretValues: every credential of the values file appears in Secrets
// only, in no other manifest (arguments, environment, annotations).
func checkSecretValues(t *testing.T, valuesFile string, objs []object) {
	raw, err := os.ReadFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Secrets struct {
			Values map[string]map[string]string `json:"values"`
		} `json:"secrets"`
	}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	n := 0
	for id, kv := range v.Secrets.Values {
		for key, val := range kv {
			if !strings.Contains(key, "SECRET") && !strings.Contains(key, "PASSWORD") && !strings.Contains(key, "URI") &&
				!strings.Contains(key, "URL") && !strings.Contains(key, "DATABASE") {
				continue // access keys are user names
			}
			n++
			for _, o := range objs {
				if o.kind != "Secret" && bytes.Contains(o.raw, []byte(val)) {
					t.Errorf("%s.%s appears in %s %s", id, key, o.kind, o.name)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no credential in the values file")
	}
}
