/**
 * Internal: the periodic runner behind the engine's and the image automation's loops. No promise
 * of compatibility; see {@code docs/api.md}.
 */
package dev.gitops.core.internal.loop;
