/** Benchmarks of the engine: JMH benchmarks of the three-way merge against JSON-patch peers, and a scale harness for sync. */
package dev.gitops.benchmarks;
