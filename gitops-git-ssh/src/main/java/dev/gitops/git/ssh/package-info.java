/**
 * SSH transport for {@link dev.gitops.core.source.GitSource} ({@code ssh://} and {@code
 * user@host:path} URLs): public key authentication with one key, host keys checked against one
 * known_hosts file, never {@code ~/.ssh} nor an agent.
 */
package dev.gitops.git.ssh;
