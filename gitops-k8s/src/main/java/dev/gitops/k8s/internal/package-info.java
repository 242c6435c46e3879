/**
 * How the Kubernetes provider works inside: the kind table, normalization, merge rules and
 * immutable fields, informers and built-in health. Not API.
 */
package dev.gitops.k8s.internal;
