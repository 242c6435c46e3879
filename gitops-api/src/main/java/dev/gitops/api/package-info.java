/**
 * The value types of the GitOps engine: keys, resources, observations, changes, plans, outcomes,
 * merge rules, events and the exception hierarchy. No engine logic and no I/O live here.
 */
package dev.gitops.api;
