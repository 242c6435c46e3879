/** The Kubernetes backend: coordination.k8s.io/v1 Leases for membership and per-target ownership. */
package dev.gitops.cluster.k8s;
