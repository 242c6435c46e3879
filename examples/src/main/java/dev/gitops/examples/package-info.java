/**
 * Examples of using the SDK: a custom {@link dev.gitops.api.spi.Provider} for a toy key-value
 * system ({@link dev.gitops.examples.KeyValueProvider}), with its own decoder; a database table
 * over JDBC ({@link dev.gitops.examples.SettingsTableProvider}); and a directory of Kubernetes
 * manifests synced into the cluster {@code KUBECONFIG} names ({@link
 * dev.gitops.examples.KubernetesDirectorySync}).
 */
package dev.gitops.examples;
