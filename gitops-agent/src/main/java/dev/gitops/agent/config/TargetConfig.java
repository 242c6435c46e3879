package dev.gitops.agent.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.agent.spi.ProviderFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * One target of the agent: where its desired state comes from, the provider it keeps in line,
 * its store, how often it syncs and its safety policies.
 *
 * <pre class="language-yaml">{@code
 * targets:                            # in agent.yaml; docs/agent.md lists every field
 *   - name: web
 *     source: {url: "https://git.example.com/ops.git", ref: main, path: web}
 *     provider: {type: files, directory: /srv/web}
 *     interval: 3m
 *     policies: {maxDeletions: 10}
 * }</pre>
 *
 * @param name the target's name (unique; it names metrics, notifications, status and the default store)
 * @param url the Git repository (URL or local path)
 * @param ref the branch, tag, commit or semver range, or null for the default branch
 * @param path the directory inside the repository, or null for the root
 * @param credentials how to authenticate, or null
 * @param knownHosts the SSH known_hosts file, or null
 * @param acceptUnknownHosts accept an SSH host not in known_hosts (a changed key is always refused)
 * @param gitTimeout how long connecting to the repository, setting up an SSH session or one read may take
 * @param maxFileSize the largest file the source reads, in bytes
 * @param verify the signature the source requires ({@code source.verify}), or null for none
 * @param providerType the provider's type ({@code files}, or one a provider module adds)
 * @param provider what makes the provider
 * @param store the state store's directory
 * @param owner the owner id written into marks and ownership records
 * @param interval the time between syncs
 * @param jitter the relative jitter of the interval (0 to 0.5)
 * @param maxBackoff the longest wait after failures
 * @param callTimeout how long one provider call may take (an Ansible run, a Kubernetes request)
 * @param syncTimeout how long one sync may take
 * @param prune delete what was removed from Git
 * @param detectOnly report drift, change nothing
 * @param adopt take over live objects without a mark
 * @param maxDeletions refuse a sync deleting more than this, or -1 for no count limit
 * @param maxDeletionPercent refuse a sync deleting more than this share of what is owned, or -1
 * @param allowEmpty allow a sync that deletes everything owned
 * @param definition the target as written (its mapping in the file), to tell a changed target on reload
 * @param line the line where the target starts
 */
public record TargetConfig(String name, String url, String ref, String path, GitCredentials credentials,
    Path knownHosts, boolean acceptUnknownHosts, Duration gitTimeout, long maxFileSize, SourceVerification verify,
    String providerType,
    ProviderFactory.Setup provider, Path store, String owner, Duration interval, double jitter, Duration maxBackoff,
    Duration callTimeout, Duration syncTimeout, boolean prune, boolean detectOnly, boolean adopt, int maxDeletions,
    int maxDeletionPercent, boolean allowEmpty, JsonNode definition, int line) {

  /** Checks. */
  public TargetConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(gitTimeout, "gitTimeout");
    Objects.requireNonNull(providerType, "providerType");
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(callTimeout, "callTimeout");
    Objects.requireNonNull(syncTimeout, "syncTimeout");
    Objects.requireNonNull(definition, "definition");
  }

  /**
   * Whether {@code other} configures the same thing: the same definition, the same store (a
   * changed state directory moves default stores), with {@code source.verify} the same content of
   * its key ring (a key added or revoked there counts from the reload on), and the same values of
   * its secrets as each was last read ({@link #sameSecretsAs}). A reload restarts a target only
   * when not.
   */
  public boolean sameAs(TargetConfig other) {
    return definition.equals(other.definition) && store.equals(other.store)
        && Objects.equals(verify == null ? null : verify.keyRingDigest(),
            other.verify == null ? null : other.verify.keyRingDigest())
        && sameSecretsAs(other);
  }

  /**
   * Whether the secrets of {@code credentials} (a token, a password, a passphrase, the SSH key
   * file's content) had the same values when last read here as in {@code other}: a token rotated
   * in its file, or a key replaced in its file, the entry unchanged, is a change (the target reads
   * its secrets and its key when it starts).
   */
  public boolean sameSecretsAs(TargetConfig other) {
    return GitCredentials.sameSecrets(credentials, other.credentials);
  }
}
