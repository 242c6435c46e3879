/**
 * Redaction: which values of a change are sensitive, and how every rendering of a change, plan,
 * event or result hides them. Providers and renderers outside the core use it too.
 */
package dev.gitops.core.redact;
