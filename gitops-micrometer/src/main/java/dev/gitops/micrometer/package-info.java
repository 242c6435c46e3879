/**
 * Metrics of syncs on Micrometer ({@link dev.gitops.micrometer.SyncMetrics}, a {@code SyncListener})
 * and the HTTP endpoints an agent is watched through ({@link dev.gitops.micrometer.MetricsServer}:
 * {@code /metrics}, {@code /healthz}, {@code /readyz}).
 */
package dev.gitops.micrometer;
