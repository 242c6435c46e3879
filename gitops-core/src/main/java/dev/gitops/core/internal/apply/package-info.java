/**
 * Internal: the executor's record of provider calls abandoned while still running, shared by the
 * executor and the reconciler. Not API; it may change in any release.
 */
package dev.gitops.core.internal.apply;
