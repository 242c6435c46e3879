/**
 * Test support for providers, stores and engines: an in-memory provider, a fault-injecting wrapper,
 * JUnit 5 suites stating the Provider contract ({@link dev.gitops.testkit.ProviderConformanceSuite})
 * and the StateStore contract ({@link dev.gitops.testkit.StateStoreContract}), and temporary Git
 * repositories.
 */
package dev.gitops.testkit;
