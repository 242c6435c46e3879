/**
 * The provider types the agent ships ({@code files}, {@code kubernetes}, {@code ansible}, {@code
 * terraform}): each reads its options from the configuration, and builds its provider the way the
 * {@code gitops} command does for one target, from the same code.
 */
package dev.gitops.agent.providers;
