/** The etcd backend: membership leases, ownership keys with create-revision fencing, a shared state store. */
package dev.gitops.cluster.etcd;
