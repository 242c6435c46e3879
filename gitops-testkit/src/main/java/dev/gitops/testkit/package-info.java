/**
 * Test support for providers and engines: an in-memory provider, a fault-injecting wrapper, a
 * JUnit 5 conformance suite stating the Provider contract, and temporary Git repositories.
 */
package dev.gitops.testkit;
