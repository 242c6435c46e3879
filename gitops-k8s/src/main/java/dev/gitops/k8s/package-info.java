/**
 * The Kubernetes provider: {@link dev.gitops.k8s.KubernetesProvider} keeps a cluster in line with
 * the manifests that {@link dev.gitops.k8s.KubernetesDecoder} reads from Git; {@link
 * dev.gitops.k8s.Annotations} lists what manifests can say to it.
 */
package dev.gitops.k8s;
