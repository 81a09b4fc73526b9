// Package helm holds the tests of the Kubernetes chart in deploy/helm/weir:
// rendered with Helm's CLI (make test-helm builds it) for each values file
// of testdata and decoded strictly into k8s.io/api types. No Go code of the
// chart's runs in weir.
package helm
