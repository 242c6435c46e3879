package dev.gitops.core.source;

import dev.gitops.api.GitOpsException;
import dev.gitops.api.Resource;
import dev.gitops.api.SignatureException;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.GlobDecoder;
import dev.gitops.core.internal.Durations;
import dev.gitops.core.decode.VariableSubstitution;
import dev.gitops.core.internal.git.GitDaemonTransport;
import dev.gitops.core.internal.git.GitUrls;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.source.spi.CommitSignatures;
import dev.gitops.core.source.spi.SshConnector;
import dev.gitops.api.internal.Sha256;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.eclipse.jgit.api.FetchCommand;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.api.errors.JGitInternalException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevTag;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.FetchConnection;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.TagOpt;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.util.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The desired state from a Git repository, read at a revision straight from the object database
 * (no working tree, no checkout).
 *
 * <pre>{@code
 * GitSource source = GitSource.builder()
 *     .url("https://git.example.com/ops/desired.git")
 *     .ref("main")                      // branch, tag, 40-hex commit, or a semver range such as "^1.2"
 *     .path("clusters/prod")
 *     .cacheDir(Path.of("/var/cache/gitops"))
 *     .credentials(Credentials.token(System.getenv("GIT_TOKEN")))
 *     .build();
 * State desired = source.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation()));
 * }</pre>
 *
 * <p><b>Cost.</b> Each read lists the remote refs first. When the ref still points at the commit
 * this instance read last and the options that shape the content (sub-path, variables, decoder
 * fingerprints) are unchanged, the previous {@link State} is returned {@linkplain State#unchanged()
 * flagged unchanged} with no fetch and no decode ({@link #fetchCount()} shows it). Otherwise the
 * commit is fetched (depth 1 for the first fetch, incrementally after that; for a local repository
 * of at most 64 MiB of objects in 2,000 files an empty cache instead gets copies of its object
 * files, as {@code git clone --local --no-hardlinks} makes) into a bare repository under the cache directory, and
 * only files whose blob, path, decoder or variables changed are decoded again ({@link
 * #decodeCount()}). A directory whose tree is the one the last read walked (same tree id, place,
 * enclosing {@code .gitopsignore} files, decoders and variables) is not walked again: its resources
 * are taken from that read, so a commit that edits one file walks only the directories on its path.
 *
 * <p><b>Revisions</b> read {@code <ref short name>@sha1:<40 hex>} (for a semver range, the name of
 * the matching tag; for a commit ref, the ref as given). When the new commit of the ref does not
 * descend from the one this instance read before or, when it read none of that ref, from the
 * request's {@linkplain ReadRequest#previousRevision() previous revision} (the one the state store
 * last recorded as applied, which the {@code Reconciler} passes, so a new process sees it too), the
 * state is read in full and flagged {@linkplain State#historyRewritten() history rewritten} (a
 * force push). A previous revision whose commit the cache does not hold (a new or cleared cache),
 * or whose relation the cache's shallow history cannot settle, is not flagged: nothing is known to
 * have been rewritten. The same flag, with a warning saying so, marks a rollback: a head that is an
 * older commit than the previous one (an ancestor of it), a name that read a branch now reading a
 * tag at an older commit (the branch deleted), and a semver range that now resolves to a lower version
 * than the previous revision's tag (its highest tag deleted upstream); {@link
 * #historyRewrittenReason()} gives the warning's words for the state read last. A {@linkplain
 * ReadRequest#pinnedRevision() pinned revision} (a 40-hex commit id or a revision string) reads
 * that commit instead of the ref's head.
 * A commit id (pinned, or given as the ref) must be reachable from a branch or tag of the
 * repository as it is now, even when the cache still holds it: a commit a force push removed is
 * refused, naming it.
 *
 * <p><b>Untrusted content.</b> Symbolic links and submodules anywhere under the sub-path are
 * refused (they are never followed) unless a {@code .gitopsignore} excludes them (they are then
 * left out, never read); so is a tree nested more than 256 directories deep, and so is an entry
 * named like a Git directory ({@code .git}
 * in any case, and its NTFS and HFS+ spellings, which Git itself refuses to check out), and one whose
 * name holds a {@code /} or is {@code .}, {@code ..} or empty (git fsck refuses them: {@code
 * secret/key} would pass for the file {@code key} in {@code secret}, past its ignore rules); so is a
 * file a decoder would read, or a directory walked, named in bytes that are not UTF-8 (named {@code
 * \xNN} in the refusal: read as Latin-1, as JGit reads such a name, it would be another name, and
 * could be one another entry already has); a sub-path
 * with {@code ..} or a leading {@code /} is refused;
 * files larger than {@link Builder#maxFileSize(long)} are refused; {@code .gitopsignore} files
 * (gitignore syntax) at the sub-path root and below exclude files from decoding (a pattern with
 * more than 3 {@code *} in one path segment is refused, naming the file and line: JGit's matching
 * of it backtracks). With {@link
 * Builder#requireSignedBy(Path)} the commit must carry an OpenPGP signature by a key of that ring,
 * and with {@link Builder#requireSignedBy(Path, SignatureMode)} the annotated tag the ref names, or
 * both (this needs the {@code dev.gitops:gitops-git-signatures} module on the classpath).
 * Error messages name the URL, the ref, the path and the revision; a secret never appears in them,
 * their causes or the log: a password, and the user name of an HTTP(S) URL without a password (a
 * token, {@code https://TOKEN@host/...}) or one that looks like a token, are shown as {@code ***}.
 * A ref that is not found says what to do: the commit it was read at before (deleted upstream), the
 * full 40-hex id for an abbreviated one, and the nearest branch and tag names (a typo). HTTP
 * credentials are sent to the URL's origin (scheme, host, port) only, never to another origin a
 * redirect leads to.
 *
 * <p><b>SSH.</b> {@code ssh://[user@]host[:port]/path} and {@code user@host:path} URLs authenticate
 * with the private key of {@link Credentials#sshKey(Path)} (public key authentication only) and check
 * the server's host key against the file given to {@link Builder#knownHosts(Path)}: an unknown host
 * is refused unless {@link Builder#strictHostKeyChecking(boolean) strictHostKeyChecking(false)} (then
 * it is accepted with a warning naming host and fingerprint), and a host listed with another key (a
 * changed key) or a {@code @revoked} key is always refused. Each instance has its own SSH client:
 * {@code ~/.ssh} (config, keys, known_hosts) and SSH agents are never used. SSH needs the {@code
 * dev.gitops:gitops-git-ssh} module on the classpath; without it {@link Builder#build()} fails
 * naming that artifact.
 *
 * <pre>{@code
 * GitSource source = GitSource.builder()
 *     .url("git@git.example.com:ops/desired.git")
 *     .credentials(Credentials.sshKey(Path.of("/etc/gitops/id_ed25519")))
 *     .knownHosts(Path.of("/etc/gitops/known_hosts"))
 *     .build();
 * }</pre>
 *
 * <p>Reads on one instance are serialised; instances sharing a cache directory and URL should not
 * read concurrently.
 */
public final class GitSource implements Source, Fingerprinted, AutoCloseable {

  /** The network timeout of a source built without {@link Builder#timeout}: 60 seconds. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  /** The largest file a source built without {@link Builder#maxFileSize} reads: 1 MiB. */
  public static final long DEFAULT_MAX_FILE_SIZE = 1024 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(GitSource.class);
  private static final Pattern HEX40 = Pattern.compile("[0-9a-fA-F]{40}");
  private static final Pattern REVISION = Pattern.compile("(.+)@sha1:([0-9a-fA-F]{40})");
  private static final String LOCAL_PREFIX = "refs/gitops/";
  /** The reasons (strerror texts) of a write the file system refused, as NIO gives them. */
  private static final Pattern WRITE_REFUSED = Pattern.compile(
      "Permission denied|Operation not permitted|Read-only file system|No space left on device|Disk quota exceeded");

  private final String url;
  private final URIish uri;
  private final String displayUrl;
  private final String ref;
  private final String path;
  private final Path configuredCacheDir;
  private final Credentials credentials;
  private final VariableSubstitution variables;
  private final CommitSignatures.Verifier verifier;
  /** Which signatures {@link #verifier} checks: the commit's, the annotated tag's, or both. */
  private final SignatureMode signatureMode;
  private final int timeoutSeconds;
  private final TreeDecoder treeDecoder;
  /** How the last read's resources were sorted, for a read of the same keys at a new commit. */
  private final WalkOrder walkOrder = new WalkOrder();
  private final SshConnector.Client ssh;
  /** Decoders given for path globs; they come before the decoders of a read request. */
  private final List<Decoder> globDecoders;
  /** The repository when it is a local path or file:// URL (checked directly before fetching), else null. */
  private final LocalRepository local;

  private Repository repository;
  private Path cacheDir;
  private LastRead last;
  /** The commit of the ref that the last read of the ref's head returned, and that ref; null before one. */
  private ObjectId lastHeadCommit;
  private String lastHeadRef;
  /** The revision label of that read ({@code main}, or for a semver range the tag it resolved to). */
  private String lastHeadLabel;
  /** Whether {@link #fingerprint} resolved the head once: it answers only before anything was read. */
  private boolean fingerprinted;
  private int fetches;
  /**
   * Whether this instance discarded a damaged cache: it then fetches rather than copies a local
   * repository's objects ({@link #cloned}).
   */
  private boolean rebuilt;
  private int listings;
  /** What shapes the decoded content besides the commit, the path, the variables and the decoders. */
  private final String contentOptions;
  /** The fingerprint of what the last read returned. */
  private Fingerprinted.Resolved lastResolved;
  /** What the last {@link #fingerprint} resolved, for {@link #readSince}; null once a read started. */
  private Resolving resolving;
  /** Why the last state read was flagged history rewritten, as the warning said it; null when it was not. */
  private volatile String rewrittenBecause;

  /** What the last read that decoded files warned about ({@link #readWarnings}). */
  private volatile List<String> readWarnings = List.of();

  /** Reads and fingerprints in progress (under the lock): {@link #close} does not wait for them. */
  private final AtomicInteger busy = new AtomicInteger();
  /** A {@link #close} that came during a read, done by that read when it ends. */
  private final AtomicBoolean closeDeferred = new AtomicBoolean();
  /**
   * Set by a {@link #close} that came during a read: that read (and any after it) fetches nothing
   * more into the cache, which a successor of this source may be using by then.
   */
  private volatile boolean closedDuringRead;
  /**
   * Set by {@link #close}: a read, fingerprint or delta read started after it is refused, since it
   * would open the cache again (a temporary clone nothing would delete).
   */
  private volatile boolean closed;

  private record Resolving(Target target, ObjectId commit, String optionsKey, Fingerprinted.Resolved resolved) {}

  /** What the previous successful read saw. */
  private record LastRead(ObjectId target, String label, ObjectId commit, String optionsKey, State state,
      String rewrittenBecause) {}

  /**
   * What a ref or pinned revision resolved to before fetching: the full ref name (null for a commit
   * id or a pinned revision), the revision label, the object the remote advertises (peeled when it
   * says what an annotated tag points at), whether it is pinned, whether a semver range chose it,
   * and the object the ref names itself, unpeeled (an annotated tag's tag object; null for a
   * commit id or a pinned revision).
   */
  private record Target(String refName, String label, ObjectId advertised, boolean pinned, boolean range,
      ObjectId refObject) {}

  private GitSource(Builder b) {
    this.url = b.url;
    this.uri = b.uri;
    this.displayUrl = PlanRenderer.printable(GitUrls.display(b.uri));  // a local path may hold a line break
    this.ref = b.ref;
    this.path = b.path;
    this.configuredCacheDir = b.cacheDir;
    this.credentials = b.credentials;
    this.variables = b.substitution ? VariableSubstitution.of(b.variables) : null;
    this.verifier = b.keyRing == null ? null
        : OptionalModules.signatures("requireSignedBy(" + b.keyRing + ")").load(b.keyRing);
    this.signatureMode = b.signatureMode;
    this.timeoutSeconds = Durations.jgitSeconds(b.timeout);
    this.treeDecoder = new TreeDecoder(variables, b.maxFileSize, displayUrl);
    // "signed=true" is the commit's signature alone, as before the tag modes: a store's marker stays current
    this.contentOptions = "maxFileSize=" + b.maxFileSize + "|signed=" + (b.keyRing == null ? "false"
        : b.signatureMode == SignatureMode.HEAD ? "true" : b.signatureMode.name());
    this.globDecoders = List.copyOf(b.globDecoders);
    this.ssh = b.ssh ? b.sshConnector.open(b.credentials.privateKey(), b.credentials.passphrase(),
        b.knownHosts, b.strictHostKeyChecking) : null;
    this.local = b.ssh ? null : LocalRepository.of(b.uri);
    if (!b.substitution && !b.variables.isEmpty()) {
      LOG.warn("{}: variables are set but substitution is off; they are not used", describe());
    }
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Loads JGit's message texts on the calling thread, and returns; it reads no repository. JGit
   * fills about a thousand fields from a properties file the first time anything of it reports
   * or registers a cleanup, which opening the first repository does (~15 ms of a one-shot
   * command's start). For a short-lived process about to read a source: called on a thread of its
   * own at start, this work runs beside the process's other start-up work instead of in front of
   * its first read. Without it, the first read does it.
   *
   * <pre>{@code
   * Thread warmUp = new Thread(GitSource::warmUp, "git-warm-up");
   * warmUp.setDaemon(true);
   * warmUp.start();
   * // ... parse the command line, build the reconciler; its first read finds JGit's texts loaded
   * reconciler.sync();
   * }</pre>
   */
  public static void warmUp() {
    org.eclipse.jgit.internal.JGitText.get();
  }

  /**
   * {@code subPath} as {@link Builder#path} reads it: {@code ""} for the root, {@code apps} for
   * {@code ./apps/}, so two spellings of one directory compare equal.
   *
   * @throws IllegalArgumentException when the path is absolute or holds a {@code ..} part or a backslash
   */
  public static String normalizedPath(String subPath) {
    Objects.requireNonNull(subPath, "path");
    // not trimmed: "apps " is another directory than "apps", and both may be in the repository
    String p = subPath;
    if (p.startsWith("/") || p.startsWith("\\") || p.matches("^[A-Za-z]:.*")) {
      throw new IllegalArgumentException("path must be relative to the repository root: '" + PlanRenderer.printable(subPath) + "'");
    }
    List<String> parts = new ArrayList<>();
    for (String part : p.split("/")) {
      if (part.equals("..") || part.contains("\\")) {
        throw new IllegalArgumentException("path must not contain '..' or backslashes: '" + PlanRenderer.printable(subPath) + "'");
      }
      if (!part.isEmpty() && !part.equals(".")) {
        parts.add(part);
      }
    }
    return String.join("/", parts);
  }

  @Override
  public String describe() {
    return "git " + displayUrl + " ref " + ref + (path.isEmpty() ? "" : " path " + PlanRenderer.printable(path));
  }

  /**
   * Why the state this source returned last is flagged {@linkplain State#historyRewritten() history
   * rewritten}, in the words of the warning it logged then (without {@link #describe()} in front):
   * the ref moved back to an older commit (a rollback), a semver range now resolving to a lower
   * version, a name that now reads a tag where it read a branch, or a force push. Empty when that
   * state is not flagged, or before a read. A caller that shows the flag shows this, not words of
   * its own.
   *
   * <pre>{@code
   * State s = gitSource.read(new Source.ReadRequest(null, List.of(), new Cancellation()));
   * if (s.historyRewritten()) {
   *   log.warn("{}", gitSource.historyRewrittenReason().orElse("history was rewritten"));
   * }
   * }</pre>
   */
  @Override
  public Optional<String> historyRewrittenReason() {
    return Optional.ofNullable(rewrittenBecause);
  }

  /**
   * What the last read that decoded files warned about, one line each, as it also logged them at
   * WARN: a Git LFS pointer file read as the content it stands for. Empty when nothing was, or
   * when the read decoded nothing (the commit unchanged since the store's records).
   *
   * <pre>{@code
   * gitSource.readWarnings().forEach(w -> log.warn("{}", w));
   * }</pre>
   */
  public List<String> readWarnings() {
    return readWarnings;
  }

  /** How many fetches this instance ran (a read of an unchanged commit runs none). */
  public synchronized int fetchCount() {
    return fetches;
  }

  /** How many times this instance listed the remote refs. */
  public synchronized int listCount() {
    return listings;
  }

  /** How many files this instance handed to a decoder (cached, unchanged files are not counted). */
  public synchronized int decodeCount() {
    return treeDecoder.decodeCount();
  }

  /** The files of the last read that no decoder claimed (how many, and the first few paths). */
  synchronized TreeDecoder.Unclaimed unclaimed() {
    return treeDecoder.unclaimed();
  }

  /** How many directories the last read that walked a tree took from the walk before without walking them. */
  synchronized int reusedDirectories() {
    return treeDecoder.reusedSubtrees();
  }

  /** The bare cache repository's directory, once the first read created it, else null. */
  public synchronized Path repositoryDirectory() {
    return repository == null ? null : repository.getDirectory().toPath();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Every failure is a {@link SourceException} (or one of the engine's own exceptions: a decode
   * error, a cancellation) whose one-line message names the URL, the ref and, where there is one,
   * the commit. A damaged cache repository (corrupt packs, missing files, a broken config) is
   * discarded and fetched again, with a warning. A local repository that misses an object the
   * fetch would read, or cannot read one, fails before the fetch, naming the object and its path.
   */
  @Override
  public synchronized State read(ReadRequest request) {
    Objects.requireNonNull(request, "request");
    requireOpen();
    busy.incrementAndGet();
    try {
      return readUnderLock(request);
    } finally {
      released();
    }
  }

  private State readUnderLock(ReadRequest request) {
    requireNotClosedDuringRead();
    try {
      try {
        return readOnce(request);
      } catch (CacheFault e) {
        LOG.warn("{}: the Git cache {} is damaged ({}); rebuilding it", describe(), e.dir, scrub(oneLine(e.getCause())));
        discardCache(e.dir);
        try {
          return readOnce(request);
        } catch (CacheFault again) {
          throw new SourceException(describe() + ": the Git cache " + again.dir + " is still unusable after rebuilding it: "
              + scrub(oneLine(again.getCause())), safe(again.getCause()));
        }
      }
    } catch (GitOpsException e) {
      throw e;
    } catch (RuntimeException e) {
      // JGit reports some failures unchecked: they still name the source, on one line.
      throw new SourceException(describe() + ": " + scrub(oneLine(e)), safe(e));
    }
  }

  /** The messages of {@code t}'s cause chain, on one line, each once, or its type when it has none. */
  private static String oneLine(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      String m = c.getMessage() == null || c.getMessage().isBlank() ? c.getClass().getSimpleName() : c.getMessage().strip();
      if (sb.indexOf(m) < 0) {
        sb.append(sb.length() == 0 ? "" : ": ").append(m);
      }
    }
    return PlanRenderer.oneLine(sb.toString());
  }

  private State readOnce(ReadRequest request) {
    resolving = null;
    request.cancellation().throwIfCancelled();
    if (local != null) {
      String problem = local.problem();
      if (problem != null) {
        throw new SourceException("repository " + displayUrl + " (ref " + ref + ") " + problem);
      }
    }
    List<Decoder> decoders = decoders(request);
    String optionsKey = optionsKey(decoders);
    Repository repo = repository();
    Target target = request.pinnedRevision() != null ? pinned(request.pinnedRevision())
        : resolve(listRemote(), request);
    if (last != null && last.target().equals(target.advertised()) && last.label().equals(target.label())
        && last.optionsKey().equals(optionsKey)) {
      LOG.debug("{}: {} is unchanged at {}, no fetch", describe(), target.label(), last.commit().name());
      reverify(repo, last.commit(), target);
      rewrittenBecause = last.rewrittenBecause();  // the state returned again is flagged as it was
      return last.state().asUnchanged();
    }
    request.cancellation().throwIfCancelled();
    try (RevWalk walk = new RevWalk(repo)) {
      ObjectId commitId = fetch(repo, target);
      RevCommit commit = walk.parseCommit(commitId);
      String revision = target.label() + "@sha1:" + commit.name();
      verify(repo, target, commit, revision);
      boolean rewritten = rewritten(walk, target, commit, revision, request);
      if (rewritten) {
        treeDecoder.clear();  // "reading in full"
      }
      List<Resource> resources;
      try (ObjectReader reader = repo.newObjectReader()) {
        ObjectId tree = subTree(reader, commit, revision);
        resources = treeDecoder.read(reader, tree, path, revision, decoders, request.cancellation());
      }
      treeRead(decoders, resources);
      readWarnings = treeDecoder.warnings();
      State state = walkOrder.state(revision, resources);
      last = new LastRead(target.advertised(), target.label(), commit.copy(), optionsKey, state,
          rewritten ? rewrittenBecause : null);
      lastResolved = resolved(target.label(), commit, optionsKey);
      if (!target.pinned()) {
        lastHeadCommit = commit.copy();
        lastHeadRef = target.refName();
        lastHeadLabel = target.label();
      }
      LOG.info("{}: read {} resources at {}", describe(), resources.size(), revision);
      TreeDecoder.Unclaimed unread = treeDecoder.unclaimed();
      if (unread.count() > 0) {
        // the reason used to be at DEBUG only, and "read 0 resources" alone does not say what to do
        LOG.info("{}: {} at {} {} read by no decoder, so {} nothing ({}{}){}: register a provider whose decoder "
            + "claims {}, or give a decoder for {} glob (GitSource.builder().decoder(glob, decoder) or "
            + "Reconciler.builder().decoder(glob, decoder)); list {} in {} to silence this", describe(),
            unread.count() == 1 ? "1 file" : unread.count() + " files", revision, unread.count() == 1 ? "is" : "are",
            unread.count() == 1 ? "it declares" : "they declare",
            String.join(", ", unread.sample()), unread.count() > unread.sample().size() ? ", ..." : "",
            decoders.isEmpty() ? "; no decoder was given at all" : "", unread.count() == 1 ? "it" : "them",
            unread.count() == 1 ? "its" : "their", unread.count() == 1 ? "it" : "them", TreeDecoder.IGNORE_FILE);
      }
      return rewritten ? state.asHistoryRewritten() : state;
    } catch (IOException e) {
      if (isCacheFault(e)) {
        throw new CacheFault(repo.getDirectory().toPath(), e);
      }
      throw new SourceException(describe() + ": cannot read the repository: " + scrub(String.valueOf(e.getMessage())),
          safe(e));
    }
  }

  /**
   * Checks the signatures of {@code commitId}, read before, and of the tag {@code target} names
   * now, again when they are required: a key (or the signature itself) may have expired since, a
   * commit that would be refused if read now is refused when it is read again unchanged, and a tag
   * may have been made again at the same commit.
   */
  private void reverify(Repository repo, ObjectId commitId, Target target) {
    if (verifier == null) {
      return;
    }
    try (RevWalk walk = new RevWalk(repo)) {
      RevCommit commit = walk.parseCommit(commitId);
      verify(repo, target, commit, target.label() + "@sha1:" + commit.name());
    } catch (IOException e) {
      if (isCacheFault(e)) {
        throw new CacheFault(repo.getDirectory().toPath(), e);
      }
      throw new SourceException(describe() + ": cannot read commit " + commitId.name() + " again to check its "
          + "signature: " + scrub(String.valueOf(e.getMessage())), safe(e));
    }
  }

  /**
   * Checks what the signature mode asks for when signatures are required: the annotated tag
   * {@code target} names ({@link #verifyTag}), then {@code commit}'s own signature. A refusal names
   * the repository, the ref and the revision.
   */
  private void verify(Repository repo, Target target, RevCommit commit, String revision) throws IOException {
    if (verifier == null) {
      return;
    }
    if (signatureMode.checksTag()) {
      verifyTag(repo, target, commit, revision);
    }
    if (signatureMode.checksCommit()) {
      try {
        verifier.verify(commit);
      } catch (SignatureException e) {
        String prefix = "commit " + e.commit() + " refused: ";
        String reason = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
        throw new SignatureException(e.commit(), reason + " (" + displayUrl + " ref " + ref + " at " + revision + ")");
      }
    }
  }

  /** Why {@code ref}, which {@code what} (is a commit id, names a branch), is refused under a tag {@code mode}. */
  private static String notATag(String ref, String what, SignatureMode mode) {
    return "ref '" + ref + "' " + what + ", not an annotated tag, and signature mode " + mode + " checks the"
        + " signature of the annotated tag a commit is read through: give the name of a signed tag (git tag -s)"
        + " or a version range over them, or check the commit's own signature (SignatureMode.HEAD)";
  }

  /**
   * Checks the signature of the annotated tag through which {@code commit} is read ({@link
   * SignatureMode#TAG}): the tag the ref names as the remote listed it (for a pinned revision, the
   * tag its label names, listed now), fetched into the cache when the cache lacks its tag object.
   * A ref that is not a tag (a branch, a commit id) and a lightweight tag are refused naming the
   * ref and the mode, as is a tag that names another commit than the one read (moved meanwhile).
   */
  private void verifyTag(Repository repo, Target target, RevCommit commit, String revision) throws IOException {
    String context = " (" + displayUrl + " ref " + ref + " at " + revision + ")";
    String tagRef = target.refName();
    ObjectId tagObject = target.refObject();
    if (target.pinned()) {
      // the tag the revision was read through: a pinned revision is read under this mode only while it names it
      tagRef = Constants.R_TAGS + target.label();
      Ref listed = listRefs().get(tagRef);
      if (listed == null || !advertised(listed).equals(commit)) {
        throw new SignatureException(commit.name(), "the pinned revision " + revision + " is not the commit the tag "
            + tagRef + " names at " + displayUrl + (listed == null ? " (there is no such tag)" : " (it names "
            + advertised(listed).name() + ")") + ", and signature mode " + signatureMode + " reads a commit only"
            + " through an annotated tag whose signature it checks");
      }
      tagObject = listed.getObjectId();
    }
    if (!tagRef.startsWith(Constants.R_TAGS)) {  // (a commit id is refused by build())
      throw new SignatureException(commit.name(), notATag(ref, "names " + (kind(tagRef).isEmpty() ? tagRef
          : kind(tagRef) + tagRef), signatureMode) + context);
    }
    String tagName = tagRef.substring(Constants.R_TAGS.length());
    if (!repo.getObjectDatabase().has(tagObject)) {
      // the commit came in another way (a branch, a copy of a local repository's objects): fetch the tag itself
      LOG.debug("{}: fetching the tag object {} of {} to check its signature", describe(), tagObject.name(), tagRef);
      runFetch(repo, List.of(new RefSpec("+" + tagRef + ":" + LOCAL_PREFIX + tagRef.substring(Constants.R_REFS.length()))),
          0);
      if (!repo.getObjectDatabase().has(tagObject)) {
        throw new SourceException("the tag " + tagRef + " moved while it was read: its object " + tagObject.name()
            + " is no longer served" + context);
      }
    }
    try (RevWalk walk = new RevWalk(repo)) {
      RevObject o = walk.parseAny(tagObject);
      if (!(o instanceof RevTag tag)) {
        throw new SignatureException(commit.name(), "ref '" + ref + "' names the lightweight tag " + tagRef + " (it"
            + " points at the " + Constants.typeString(o.getType()) + " itself and carries no signature), not an"
            + " annotated tag, and signature mode " + signatureMode + " checks the signature of the annotated tag a"
            + " commit is read through: tag the commit with git tag -s" + context);
      }
      RevObject peeled = walk.peel(tag);
      if (!peeled.equals(commit)) {
        throw new SourceException("the tag " + tagRef + " moved while it was read: its object " + tagObject.name()
            + " names " + peeled.name() + ", not the commit read" + context);
      }
      try {
        verifier.verifyTag(tag);
      } catch (SignatureException e) {
        String prefix = "tag " + e.tag().orElse(tagName) + " (commit " + e.commit() + ") refused: ";
        String reason = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
        throw new SignatureException(commit.name(), tagName, reason + context);
      }
    }
  }

  /** The glob decoders, then the request's. */
  private List<Decoder> decoders(ReadRequest request) {
    List<Decoder> decoders = new ArrayList<>(globDecoders);
    decoders.addAll(request.decoders());
    return decoders;
  }

  /** What shapes the decoded content besides the commit: the path, the variables and the decoders. */
  private String optionsKey(List<Decoder> decoders) {
    return path + "|" + (variables == null ? "-" : variables.digest()) + "|"
        + decoders.stream().map(Decoder::fingerprint).collect(Collectors.joining(","));
  }

  /**
   * The fingerprint of {@code commit}'s content under {@code label}, decoded with {@code optionsKey}:
   * a digest of everything but the commit, then {@code ':'} and the commit (which names its tree),
   * so {@link #readSince} can tell a fingerprint that differs only in the commit.
   */
  private Fingerprinted.Resolved resolved(String label, ObjectId commit, String optionsKey) {
    return new Fingerprinted.Resolved(label + "@sha1:" + commit.name(), options(label, optionsKey) + ":" + commit.name());
  }

  /** The digest of what shapes the content besides the commit. */
  private String options(String label, String optionsKey) {
    String all = label + "\n" + optionsKey + "\n" + contentOptions;
    return Sha256.hex(all);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Resolves the ref, fetches the commit when the cache lacks it and checks its signature, as
   * {@link #read} does, then names the commit, its tree, the sub-path, the variables, the
   * decoders' {@linkplain Decoder#fingerprint fingerprints} and the size limit. Only a source that
   * has not read yet answers (a later read in the same process has its own short cuts, and must
   * see a rewritten history): otherwise, and on any failure, empty, and {@link #read} reports the
   * failure (but a fetch that timed out is thrown here: the read would wait as long again). A
   * later {@link #read} resolves the ref again (a fingerprint whose content was not read, because
   * the store's records stood for it, must not hold a long-lived process at that commit).
   */
  @Override
  public synchronized Optional<Fingerprinted.Resolved> fingerprint(ReadRequest request) {
    return fingerprint(request, null);
  }

  /**
   * {@inheritDoc}
   *
   * <p>When the ref (a branch or a tag, not a commit id) names the very commit {@code expected}
   * was made of, with the same options, and no signature is checked, that fingerprint is the
   * answer without opening the cache or reading an object: {@code expected} names a commit this
   * source resolved (a tag's commit, peeled) and so holds or held, and a store whose records stand
   * for it reads nothing more of it. With a signature policy the commit is read and checked at
   * every sync, against the key ring this source was built with, and so is the annotated tag the
   * ref names when the {@linkplain SignatureMode mode} asks for it.
   */
  @Override
  public synchronized Optional<Fingerprinted.Resolved> fingerprint(ReadRequest request, String expected) {
    Objects.requireNonNull(request, "request");
    requireOpen();
    busy.incrementAndGet();
    try {
      return fingerprintUnderLock(request, expected);
    } finally {
      released();
    }
  }

  private Optional<Fingerprinted.Resolved> fingerprintUnderLock(ReadRequest request, String expected) {
    if (last != null || lastHeadCommit != null || fingerprinted || (local != null && local.problem() != null)) {
      return Optional.empty();
    }
    try {
      String optionsKey = optionsKey(decoders(request));
      Target target = request.pinnedRevision() != null ? pinned(request.pinnedRevision())
          : resolve(listRemote(), request);
      // what the ref names, as the fingerprint of that commit: the answer when it is the one expected
      Fingerprinted.Resolved named = expected != null && verifier == null && target.refName() != null
          && !target.pinned() ? resolved(target.label(), target.advertised(), optionsKey) : null;
      if (named != null && named.fingerprint().equals(expected)) {
        LOG.debug("{}: {} still at {}, the expected content: nothing read", describe(), target.label(),
            target.advertised().name());
        fingerprinted = true;
        resolving = new Resolving(target, target.advertised().copy(), optionsKey, named);
        return Optional.of(named);
      }
      Repository repo = repository();
      try (RevWalk walk = new RevWalk(repo)) {
        RevCommit commit = walk.parseCommit(fetch(repo, target));
        String revision = target.label() + "@sha1:" + commit.name();
        verify(repo, target, commit, revision);
        // not remembered as the last head read: the read that follows (in full, or since the store's
        // records) still checks the commit against the request's previous revision
        fingerprinted = !target.pinned();
        Fingerprinted.Resolved resolved = named != null && commit.equals(target.advertised()) ? named
            : resolved(target.label(), commit, optionsKey);
        resolving = new Resolving(target, commit.copy(), optionsKey, resolved);
        return Optional.of(resolved);
      }
    } catch (TimedOut e) {
      throw e;  // the read would wait as long again for the same stalled server
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: no fingerprint before reading ({}); reading in full", describe(), scrub(oneLine(e)));
      return Optional.empty();
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Compares the tree {@code before}'s commit names with the tree just {@linkplain #fingerprint
   * resolved} and decodes the files that differ (added, edited, moved or given another mode);
   * every other file's resources are the records whose origin names its path, re-dated. Empty,
   * and the caller reads in full, when a {@code .gitopsignore} or the repository config differs or
   * lies above a changed file, a changed file is claimed by a decoder that reads files together,
   * a decoded resource names another file as its origin, the earlier commit is not in the cache,
   * or anything fails (a file that no longer decodes: the full read reports it).
   */
  @Override
  public synchronized Optional<Fingerprinted.Delta> readSince(ReadRequest request, String before,
      java.util.Collection<Resource> records) {
    Objects.requireNonNull(request, "request");
    requireOpen();
    Resolving now = resolving;
    int colon = before.lastIndexOf(':');
    if (now == null || last != null || colon < 0 || !HEX40.matcher(before.substring(colon + 1)).matches()) {
      return Optional.empty();
    }
    List<Decoder> decoders = decoders(request);
    String optionsKey = optionsKey(decoders);
    if (!optionsKey.equals(now.optionsKey())
        || !before.substring(0, colon).equals(options(now.target().label(), optionsKey))) {
      return Optional.empty();
    }
    String revision = now.resolved().revision();
    try (RevWalk walk = new RevWalk(repository); ObjectReader reader = repository.newObjectReader()) {
      RevCommit commit = walk.parseCommit(now.commit());
      RevCommit earlier = walk.parseCommit(ObjectId.fromString(before.substring(colon + 1)));
      Optional<TreeDecoder.Delta> delta = treeDecoder.readSince(reader, subTree(reader, earlier, revision),
          subTree(reader, commit, revision), path, revision, decoders, records, request.cancellation());
      if (delta.isEmpty()) {
        return Optional.empty();
      }
      State state = State.of(revision, delta.get().resources());
      treeRead(decoders, delta.get().resources());
      if (rewritten(walk, now.target(), commit, revision, request)) {
        state = state.asHistoryRewritten();
      }
      // not remembered as the last read: a read after this one (the caller's full read when the plan
      // changes a key taken from a record) decodes, so whatever a decoder keeps for the apply is kept
      resolving = null;
      LOG.info("{}: read {} resources at {}: {} changed files decoded, the rest taken from the store's records at {}",
          describe(), state.resources().size(), revision, delta.get().files(), earlier.name());
      readWarnings = treeDecoder.warnings();
      return Optional.of(new Fingerprinted.Delta(state, delta.get().decoded()));
    } catch (dev.gitops.api.Cancellation.CancelledException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: cannot read {} from the store's records at {} ({}); reading in full", describe(), revision,
          before.substring(colon + 1), scrub(oneLine(e)));
      return Optional.empty();
    }
  }

  /**
   * Tells each decoder the desired state just read ({@link Decoder#treeRead}): a removed file, or
   * a key gone from a file, is never handed to a decoder otherwise.
   */
  private static void treeRead(List<Decoder> decoders, List<Resource> resources) {
    List<Resource> all = Collections.unmodifiableList(resources);
    for (Decoder d : decoders) {
      d.treeRead(all);
    }
  }

  @Override
  public synchronized Optional<Fingerprinted.Resolved> lastRead() {
    return Optional.ofNullable(lastResolved);
  }

  /** A failure whose cause is the cache repository itself (corrupt or missing files), not the remote. */
  private static final class CacheFault extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Path dir;

    CacheFault(Path dir, Throwable cause) {
      super(cause);
      this.dir = dir;
    }
  }

  /**
   * Whether {@code e} comes from a damaged cache: JGit's errors for missing or corrupt objects and
   * packs (the remote's errors reach us as transport errors), or any message naming a file of the
   * cache. Network errors (an EOF, a 404) are not: rebuilding would not help them.
   */
  private boolean isCacheFault(Throwable e) {
    if (writeRefused(e)) {
      return false;  // nothing is damaged: a rebuilt cache could not be written either
    }
    String dir = repository == null ? null : repository.getDirectory().getPath();
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof org.eclipse.jgit.errors.MissingObjectException || t instanceof org.eclipse.jgit.errors.CorruptObjectException
          || t instanceof org.eclipse.jgit.errors.PackInvalidException || t instanceof org.eclipse.jgit.errors.PackMismatchException
          || t instanceof org.eclipse.jgit.errors.CorruptPackIndexException || truncatedObject(t)
          || (dir != null && t.getMessage() != null && t.getMessage().contains(dir))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code e}'s cause chain holds a write the file system refused: permission denied, an
   * operation not permitted (an immutable file), a read-only file system, a full disk or quota. A
   * cache that cannot be written is not damaged (it named a file of the cache, so it was taken for
   * damage: deleted where it could be, fetched again and "still unusable after rebuilding it"); the
   * fetch's error names the file and the reason.
   */
  private static boolean writeRefused(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.nio.file.AccessDeniedException || t instanceof java.nio.file.FileSystemException f
          && f.getReason() != null && WRITE_REFUSED.matcher(f.getReason()).find()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code t} is a truncated or garbled object file met by JGit's file storage (a loose
   * object ending early reads as an {@link java.io.EOFException} with no file named): the cache's.
   * One met by the transport first is the remote's: a pack a server that died, or a network that
   * dropped, cut short ("Packfile is truncated" in the transport's pack parser, called by the file
   * storage that writes the pack into the cache), which fetching again may mend and rebuilding the
   * cache never does.
   */
  private static boolean truncatedObject(Throwable t) {
    if (!(t instanceof java.io.EOFException || t instanceof java.util.zip.ZipException
        || t instanceof java.util.zip.DataFormatException)) {
      return false;
    }
    for (StackTraceElement frame : t.getStackTrace()) {  // innermost first
      if (frame.getClassName().startsWith("org.eclipse.jgit.transport.")) {
        return false;
      }
      if (frame.getClassName().startsWith("org.eclipse.jgit.internal.storage.file.")) {
        return true;
      }
    }
    return false;
  }

  /** Closes and deletes the damaged cache repository at {@code dir} and forgets what was read from it. */
  private void discardCache(Path dir) {
    rebuilt = true;
    if (repository != null) {
      repository.close();
      repository = null;
    }
    last = null;
    lastHeadCommit = null;
    lastHeadRef = null;
    lastHeadLabel = null;
    try {
      org.eclipse.jgit.util.FileUtils.delete(dir.toFile(),
          org.eclipse.jgit.util.FileUtils.RECURSIVE | org.eclipse.jgit.util.FileUtils.IGNORE_ERRORS);
    } catch (IOException e) {
      throw new SourceException(describe() + ": cannot delete the damaged Git cache " + dir + ": " + e.getMessage(), e);
    }
  }

  /** What was read of the ref before: by this instance, else as the state store recorded it. */
  private record Previous(String refName, String label, ObjectId commit, boolean remembered) {

    /** Its revision, {@code main@sha1:<hex>}. */
    String revision() {
      return label + "@sha1:" + commit.name();
    }

    /** Its revision and where it comes from: {@code main@sha1:<hex>, read before} or {@code ..., last applied}. */
    String described() {
      return revision() + (remembered ? ", read before" : ", the revision last applied");
    }
  }

  /**
   * The previous read of the ref: the one this instance read last, else the request's {@linkplain
   * ReadRequest#previousRevision() previous revision}; null when there is none.
   */
  private Previous previous(ReadRequest request) {
    if (lastHeadCommit != null) {
      return new Previous(lastHeadRef, lastHeadLabel, lastHeadCommit, true);
    }
    Matcher m = REVISION.matcher(request.previousRevision());
    return m.matches()
        ? new Previous(null, m.group(1), ObjectId.fromString(m.group(2).toLowerCase(java.util.Locale.ROOT)), false)
        : null;
  }

  /**
   * Whether {@code commit}, the head of {@code target}, is to be flagged {@linkplain
   * State#historyRewritten() history rewritten}: it does not descend from the ref's {@linkplain
   * #previous previous} commit (a force push, or the ref moved back to an older commit: a rollback,
   * which is also what a name that now reads a tag instead of a branch may do), or a semver range
   * now resolves to a lower version than it did (its highest tag deleted or moved out of the range
   * upstream). The same ref is one of the same label (or, read by this instance, the same full
   * name); one of another label was read under another ref setting, and is not compared. Never for
   * a pinned read or a commit ref, and no walk when the commit is the previous one.
   */
  private boolean rewritten(RevWalk walk, Target target, RevCommit commit, String revision, ReadRequest request)
      throws IOException {
    String why = whyRewritten(walk, target, commit, revision, request);
    rewrittenBecause = why;
    if (why == null) {
      return false;
    }
    LOG.warn("{}: {}", describe(), why);
    return true;
  }

  /**
   * Why {@code commit} is to be flagged history rewritten ({@link #rewritten}), in the words the
   * warning and {@link #historyRewrittenReason()} show; null when it is not.
   */
  private String whyRewritten(RevWalk walk, Target target, RevCommit commit, String revision, ReadRequest request)
      throws IOException {
    if (target.pinned() || target.refName() == null) {
      return null;
    }
    Previous previous = previous(request);
    if (previous == null) {
      return null;
    }
    if (target.range() && !previous.label().equals(target.label())) {
      return lowerVersion(target, revision, previous);
    }
    if (!previous.label().equals(target.label()) && !target.refName().equals(previous.refName())) {
      return null;
    }
    return switch (ancestry(walk, commit, previous)) {
      case DESCENDS, UNSETTLED -> null;
      case OLDER -> revision + " is an older commit than " + previous.described() + ": " + refKind(target)
          + " moved back (a rollback; flagged as history rewritten)" + shadowed(target, previous);
      case DIVERGED -> revision + " does not descend from " + previous.described() + " (history rewritten: a force"
          + " push, or " + refKind(target) + " moved back to an older commit, a rollback)" + shadowed(target, previous);
    };
  }

  /** What a message adds when the name read another ref before ({@code ""} when it did not, or is not known to). */
  private static String shadowed(Target target, Previous previous) {
    return previous.refName() == null || previous.refName().equals(target.refName()) ? ""
        : "; the name read " + kind(previous.refName()) + previous.refName() + " before";
  }

  /** How messages name the ref {@code target} read: {@code the tag refs/tags/v1}, {@code the branch refs/heads/main}. */
  private static String refKind(Target target) {
    String name = target.refName();
    if (name.equals(Constants.HEAD) && !target.label().equals(Constants.HEAD)) {
      return "the default branch " + target.label() + " (HEAD)";  // the label is the branch HEAD points at
    }
    return name.startsWith(Constants.R_TAGS) ? "the tag " + name
        : name.startsWith(Constants.R_HEADS) ? "the branch " + name : name;
  }

  /**
   * Why the semver range's tag {@code target} is flagged, when it is a lower version than the one
   * read before (the previous label, when it is a version): never taken as an upgrade. Null when it
   * is not lower.
   */
  private String lowerVersion(Target target, String revision, Previous previous) {
    Optional<SemverRange.Version> now = SemverRange.Version.parseTag(target.label());
    Optional<SemverRange.Version> before = SemverRange.Version.parseTag(previous.label());
    if (now.isEmpty() || before.isEmpty() || now.get().compareTo(before.get()) >= 0) {
      return null;
    }
    return "the version range '" + ref + "' now resolves to " + revision + ", a lower version than "
        + previous.described() + " (was tag " + previous.label() + " deleted upstream, or moved out of the range?): a"
        + " rollback, flagged as history rewritten";
  }

  /** How a new head relates to the previous one. */
  private enum Ancestry {
    /** The new head is the previous commit or descends from it. */
    DESCENDS,
    /** The new head is an ancestor of the previous commit: the ref moved back. */
    OLDER,
    /** Neither, as far as the cache shows (a force push, or a move back the cache's shallow history hides). */
    DIVERGED,
    /** The cache cannot tell (a recorded commit it lacks, or history a shallow commit may hide). */
    UNSETTLED
  }

  /**
   * How {@code commit} relates to {@code previous}. A previous commit this instance read that the
   * cache lost counts as diverged, as before; one only recorded (a new process, perhaps a new cache)
   * that the cache does not hold, or whose relation to {@code commit} the cache's shallow history
   * cannot settle, is unsettled: a missing commit proves nothing.
   */
  private Ancestry ancestry(RevWalk walk, RevCommit commit, Previous previous) throws IOException {
    if (commit.getId().equals(previous.commit())) {
      return Ancestry.DESCENDS;
    }
    RevCommit prev;
    try {
      prev = walk.parseCommit(previous.commit());
      walk.reset();
      if (walk.isMergedInto(prev, commit)) {
        return Ancestry.DESCENDS;
      }
      walk.reset();
      if (walk.isMergedInto(commit, prev)) {
        return Ancestry.OLDER;
      }
    } catch (org.eclipse.jgit.errors.MissingObjectException e) {
      if (previous.remembered()) {
        LOG.warn("{}: previous commit {} is not in the cache; treating history as rewritten", describe(),
            previous.commit().name());
        return Ancestry.DIVERGED;
      }
      LOG.debug("{}: the Git cache lacks {} or history between it and {} ({}); not checked for a rewritten history",
          describe(), previous.commit().name(), commit.name(), e.getMessage());
      return Ancestry.UNSETTLED;
    }
    if (!previous.remembered() && shallowBetween(commit, previous.commit())) {
      LOG.debug("{}: the Git cache's history of {} stops at a shallow commit {} may lie behind; not checked for a"
          + " rewritten history", describe(), commit.name(), previous.commit().name());
      return Ancestry.UNSETTLED;
    }
    return Ancestry.DIVERGED;
  }

  /**
   * Whether the cache's history of {@code commit} holds a shallow commit (its parents not fetched)
   * that is not in {@code previous}'s history: {@code previous} may then be one of its ancestors
   * the cache cannot show. A shallow commit {@code previous} descends from cannot hide it.
   */
  private boolean shallowBetween(RevCommit commit, ObjectId previous) throws IOException {
    java.util.Set<ObjectId> shallow = repository.getObjectDatabase().getShallowCommits();
    if (shallow.isEmpty()) {
      return false;
    }
    try (RevWalk walk = new RevWalk(repository)) {
      walk.markStart(walk.parseCommit(commit));
      walk.markUninteresting(walk.parseCommit(previous));
      for (RevCommit c = walk.next(); c != null; c = walk.next()) {
        if (shallow.contains(c)) {
          return true;
        }
      }
      return false;
    } catch (org.eclipse.jgit.errors.MissingObjectException e) {
      return true;
    }
  }

  private ObjectId subTree(ObjectReader reader, RevCommit commit, String revision) throws IOException {
    ObjectId tree = commit.getTree().getId();
    if (path.isEmpty()) {
      return tree;
    }
    String walked = "";
    for (String part : path.split("/")) {
      walked = walked.isEmpty() ? part : walked + "/" + part;
      try (TreeWalk tw = TreeWalk.forPath(reader, part, tree)) {
        if (tw == null) {
          // quoted, so that a space at either end shows
          throw new SourceException("path '" + PlanRenderer.printable(path) + "' does not exist at " + revision + " (" + displayUrl + ")");
        }
        FileMode mode = tw.getFileMode(0);
        if (mode == FileMode.SYMLINK) {
          throw new SourceException("path '" + PlanRenderer.printable(walked) + "' at " + revision + " (" + displayUrl
              + ") is a symbolic link; symlinks are not followed");
        }
        if (mode != FileMode.TREE) {
          throw new SourceException("path '" + PlanRenderer.printable(walked) + "' at " + revision + " (" + displayUrl + ") is not a directory");
        }
        tree = tw.getObjectId(0);
      }
    }
    return tree;
  }

  private Target pinned(String pinnedRevision) {
    Matcher m = REVISION.matcher(pinnedRevision.trim());
    if (m.matches()) {
      return new Target(null, m.group(1), ObjectId.fromString(m.group(2).toLowerCase(java.util.Locale.ROOT)), true,
          false, null);
    }
    if (HEX40.matcher(pinnedRevision.trim()).matches()) {
      // a commit-id ref is labelled as resolve() labels it: in lower case
      String label = HEX40.matcher(ref).matches() ? ref.toLowerCase(java.util.Locale.ROOT) : ref;
      return new Target(null, label, ObjectId.fromString(pinnedRevision.trim().toLowerCase(java.util.Locale.ROOT)), true,
          false, null);
    }
    throw new SourceException(describe() + ": pinned revision '" + pinnedRevision
        + "' is neither a 40-hex commit id nor <ref>@sha1:<40 hex>");
  }

  private Map<String, Ref> listRemote() {
    if (HEX40.matcher(ref).matches()) {
      return Map.of();  // a commit ref needs no listing
    }
    return listRefs();
  }

  /** The remote's refs, listed now: a local repository's without opening the cache. */
  private Map<String, Ref> listRefs() {
    listings++;
    if (local != null) {
      try {
        Optional<Map<String, Ref>> refs = local.refs();
        if (refs.isPresent()) {
          return refs.get();
        }
      } catch (IOException | RuntimeException e) {
        throw failure("cannot list the refs", e);
      }
    }
    // opened here, not in the listing's try: a damaged cache is the read's to rebuild, not a failed listing
    Repository repo = repository();
    try {
      return GitDaemonTransport.around(() -> {
        try (Transport tn = Transport.open(repo, uri)) {
          configure(tn);
          try (FetchConnection conn = tn.openFetch()) {
            return conn.getRefsMap();
          }
        }
      });
    } catch (IOException | RuntimeException e) {
      // a listing that timed out is reported as such: a fingerprint then fails rather than leave
      // the read to wait as long again for the same stalled server
      SourceException f = failure("cannot list the refs", e);
      throw timedOut(e) ? new TimedOut(f) : f;
    }
  }

  private void configure(Transport tn) {
    tn.setTimeout(timeoutSeconds);
    Credentials.bind(tn, credentials == null ? null : credentials.toProvider(uri), uri);
    if (ssh != null) {
      ssh.configure(tn, cacheDir.resolve("ssh-home"));
    }
  }

  /**
   * What the ref names among the remote's {@code refs}. A name is looked up where git's rev-parse
   * looks it up ({@link #candidates}), so {@code heads/main} is the branch {@code main}; a name
   * found in more than one of those places is refused ({@link #ambiguous}), never read in git's
   * order. Then a semver range over the tags (the highest match). A ref found neither way fails
   * saying what to do ({@link #notFound}).
   */
  private Target resolve(Map<String, Ref> refs, ReadRequest request) {
    if (HEX40.matcher(ref).matches()) {
      String id = ref.toLowerCase(java.util.Locale.ROOT);
      return new Target(null, id, ObjectId.fromString(id), false, false, null);
    }
    if (refs.values().stream().allMatch(r -> r.getObjectId() == null)) {
      // nothing to list but "branches: none; tags: none": say why (a new repository, not yet pushed to)
      throw new SourceException("the repository at " + displayUrl + " has no commits yet: ref '" + ref
          + "' cannot be read until one is pushed");
    }
    List<String> found = candidates(ref).stream().filter(refs::containsKey).toList();
    if (found.size() > 1) {
      // never the first in git's order: whoever may push a tag (or any ref) would redirect a branch
      throw ambiguous(found, refs);
    }
    if (!found.isEmpty()) {
      String name = found.get(0);
      Ref r = refs.get(name);
      String label = ref.equals("HEAD") && r.isSymbolic() ? Repository.shortenRefName(r.getTarget().getName())
          : Repository.shortenRefName(name);
      return new Target(name, label, advertised(r), false, false, r.getObjectId());
    }
    List<String> tags = shortNames(refs, Constants.R_TAGS);
    Optional<SemverRange> range = SemverRange.parse(ref);
    if (range.isPresent()) {
      Optional<String> tag = range.get().highest(tags);
      if (tag.isEmpty()) {
        Previous previous = previous(request);
        throw new SourceException("no tag of " + displayUrl + " matches the version range '" + ref + "'"
            + (previous != null && SemverRange.Version.parseTag(previous.label()).isPresent()
                ? " (it resolved to " + previous.revision() + " before: deleted upstream?)" : "")
            + (ABBREVIATED.matcher(ref).matches() ? "; if '" + ref + "' is meant as an abbreviated commit id, give"
                + " the full 40-hex commit id (git rev-parse " + ref + ")" + holdersOf(refs) : "")
            + " (tags: " + sample(tags) + ")");
      }
      String name = Constants.R_TAGS + tag.get();
      LOG.debug("{}: range {} resolved to tag {}", describe(), ref, tag.get());
      return new Target(name, tag.get(), advertised(refs.get(name)), false, true, refs.get(name).getObjectId());
    }
    throw notFound(refs, request);
  }

  /** An abbreviation of a commit id, as git accepts them: 4 to 39 hex digits. */
  private static final Pattern ABBREVIATED = Pattern.compile("[0-9a-fA-F]{4,39}");

  /** Characters git refuses in ref names, and its revision syntax ({@code main~1}, {@code main^}, {@code @{...}}). */
  private static final Pattern REVISION_SYNTAX = Pattern.compile(".*(\\.\\.|[~^:?*\\[\\\\]|@\\{|\\s).*");

  /**
   * The full names {@code name} may stand for, in the order git's rev-parse tries them: {@code
   * refs/<name>}, {@code refs/tags/<name>}, {@code refs/heads/<name>}, {@code refs/remotes/<name>}
   * and {@code refs/remotes/<name>/HEAD}. A full name ({@code refs/...}) and {@code HEAD} stand for
   * themselves only.
   */
  static List<String> candidates(String name) {
    if (name.equals(Constants.HEAD) || name.startsWith(Constants.R_REFS)) {
      return List.of(name);
    }
    return List.of(Constants.R_REFS + name, Constants.R_TAGS + name, Constants.R_HEADS + name,
        Constants.R_REMOTES + name, Constants.R_REMOTES + name + "/" + Constants.HEAD);
  }

  /**
   * The refusal of a ref that names more than one of {@code found} (git's "refname is ambiguous"):
   * each with its commit, and for each the spelling that names it alone ({@code heads/main}, {@code
   * tags/main}, or its full name). Nothing is read: in git's order a tag (or a ref outside {@code
   * refs/heads/}) would win over the branch, so whoever may push one could redirect the branch.
   */
  private SourceException ambiguous(List<String> found, Map<String, Ref> refs) {
    List<String> named = found.stream().map(n -> kind(n) + n + " (at " + advertised(refs.get(n)).name() + ")").toList();
    List<String> choices = new ArrayList<>();
    for (String n : found) {
      String shorter = n.substring(Constants.R_REFS.length());
      boolean alone = !shorter.equals(ref) && candidates(shorter).stream().filter(refs::containsKey).count() == 1;
      String what = kind(n).isEmpty() ? n : kind(n).strip();
      choices.add((alone ? shorter + " (or " + n + ")" : n) + " for " + what);
    }
    return new SourceException("ref '" + ref + "' is ambiguous at " + displayUrl + ": it names "
        + String.join(" and ", named) + "; nothing is read. Give the ref as the one meant: "
        + String.join(", ", choices) + " (a full name refs/... is never ambiguous), or remove the name that is not"
        + " meant");
  }

  /**
   * {@code "the tag "}, {@code "the branch "}, {@code "the remote-tracking branch "} or {@code ""}
   * for the full ref name {@code name}.
   */
  private static String kind(String name) {
    return name.startsWith(Constants.R_TAGS) ? "the tag " : name.startsWith(Constants.R_HEADS) ? "the branch "
        : name.startsWith(Constants.R_REMOTES) ? "the remote-tracking branch " : "";
  }

  /** The names under {@code prefix} ({@code refs/tags/}) without it, sorted. */
  private static List<String> shortNames(Map<String, Ref> refs, String prefix) {
    return refs.keySet().stream().filter(n -> n.startsWith(prefix)).map(n -> n.substring(prefix.length()))
        .sorted().toList();
  }

  /**
   * The failure for a ref the remote does not have, saying what to do: when this ref was read
   * before (by this instance, or as the store recorded it), its last commit (a branch or tag
   * deleted upstream); for a short hex string, that a commit id must be given in full (and which
   * it is, when a branch or tag points at it); for git's revision syntax, that a ref name is
   * needed; and the refs nearest to the name given (a typo), with a sample of the others.
   */
  /**
   * {@code ": main is at <id>, ..."}: the branches and tags at a commit whose id starts with the
   * ref (taken as an abbreviated commit id), at most three; empty when none is.
   */
  private String holdersOf(Map<String, Ref> refs) {
    String prefix = ref.toLowerCase(java.util.Locale.ROOT);
    List<String> holders = refs.entrySet().stream().filter(e -> e.getValue().getObjectId() != null
        && (advertised(e.getValue()).name().startsWith(prefix)
            || e.getValue().getObjectId().name().startsWith(prefix)))
        .map(e -> Repository.shortenRefName(e.getKey()) + " is at " + advertised(e.getValue()).name())
        .sorted().distinct().limit(3).toList();
    return holders.isEmpty() ? "" : ": " + String.join(", ", holders);
  }

  private SourceException notFound(Map<String, Ref> refs, ReadRequest request) {
    List<String> branches = shortNames(refs, Constants.R_HEADS);
    List<String> tags = shortNames(refs, Constants.R_TAGS);
    StringBuilder why = new StringBuilder("ref '").append(ref).append("' not found at ").append(displayUrl);
    Previous previous = previous(request);
    if (previous != null && labelsOf(ref).contains(previous.label())) {
      why.append(": it was read at ").append(previous.revision()).append(" before, so it was deleted (or renamed)"
          + " upstream; to keep that content set the ref to the commit ").append(previous.commit().name())
          .append(" (while a branch or tag still holds it), or to another branch or tag");
    } else if (ABBREVIATED.matcher(ref).matches()) {
      why.append(": '").append(ref).append("' looks like an abbreviated commit id; give the full 40-hex commit id"
          + " (git rev-parse ").append(ref).append(')').append(holdersOf(refs));
    } else if (REVISION_SYNTAX.matcher(ref).matches()) {
      why.append(": a ref is a branch, a tag, a full commit id or a version range, not a revision expression"
          + " (give the 40-hex commit id it stands for)");
    }
    List<String> nearest = nearest(ref, branches, tags);
    if (!nearest.isEmpty()) {
      why.append("; nearest: ").append(String.join(", ", nearest));
    }
    return new SourceException(why + " (branches: " + sample(branches) + "; tags: " + sample(tags) + ")");
  }

  /**
   * The labels a revision of {@code name} can carry: {@code main} for {@code main}, {@code
   * heads/main} or {@code refs/heads/main}.
   */
  private static java.util.Set<String> labelsOf(String name) {
    java.util.Set<String> labels = new java.util.HashSet<>();
    labels.add(name);
    for (String full : candidates(name)) {
      labels.add(Repository.shortenRefName(full));
    }
    return labels;
  }

  /** At most this many refs are named as the nearest to a ref not found. */
  private static final int NEAREST = 3;

  /**
   * The branch and tag names nearest to {@code name} (a typo): by edit distance ignoring case
   * ({@code refs/heads/} and the like set aside), closest first, then by name; each with its kind.
   */
  static List<String> nearest(String name, List<String> branches, List<String> tags) {
    String wanted = Repository.shortenRefName(name).toLowerCase(java.util.Locale.ROOT);
    for (String prefix : List.of("heads/", "tags/")) {
      wanted = wanted.startsWith(prefix) ? wanted.substring(prefix.length()) : wanted;
    }
    record Near(String shown, int distance) {}
    List<Near> all = new ArrayList<>();
    for (String b : branches) {
      all.add(new Near(b + " (branch)", distance(wanted, b.toLowerCase(java.util.Locale.ROOT))));
    }
    for (String t : tags) {
      all.add(new Near(t + " (tag)", distance(wanted, t.toLowerCase(java.util.Locale.ROOT))));
    }
    return all.stream().sorted(java.util.Comparator.comparingInt(Near::distance).thenComparing(Near::shown))
        .limit(NEAREST).map(Near::shown).toList();
  }

  /** The Levenshtein distance between {@code a} and {@code b}, with a bound on the work for long names. */
  private static int distance(String a, String b) {
    if (a.length() > 256 || b.length() > 256) {
      return Math.abs(a.length() - b.length()) + (a.equals(b) ? 0 : 256);
    }
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private static ObjectId advertised(Ref r) {
    return r.getPeeledObjectId() != null ? r.getPeeledObjectId() : r.getObjectId();
  }

  private static String sample(List<String> names) {
    if (names.isEmpty()) {
      return "none";
    }
    List<String> sorted = names.stream().sorted().toList();
    return sorted.size() <= 10 ? String.join(", ", sorted) : String.join(", ", sorted.subList(0, 10)) + ", ...";
  }

  /**
   * Refuses the target of a local repository that is not a commit there (missing, a tree, a tag of
   * a missing object; for a commit id, one no branch or tag reaches) with a message naming it,
   * before a fetch: the local upload-pack would print a stack trace for it.
   */
  private void checkLocalCommit(Target target) throws IOException {
    if (local == null) {
      return;
    }
    String problem = local.commitProblem(target.advertised(), target.refName() == null);
    if (problem != null) {
      String fact = subject(target) + " at " + displayUrl + " " + problem;
      if (problem.contains("not a commit")) {
        throw new SourceException(fact);
      }
      throw new CommitNotServedException(target.advertised().name(), fact, fact.length(),
          target.pinned() ? REWRITTEN : "");
    }
  }

  /**
   * Refuses, before a fetch from a local repository, a commit whose objects that fetch would read
   * are not all there or not readable (a missing or corrupt object): the in-process upload-pack would
   * print a stack trace for it and say only "internal server error". The message names the object
   * and its path. {@code shallow}: the fetch reads the commit's whole tree; else what the cache's
   * refs do not hold already. Never run for a commit the cache holds (no fetch then).
   */
  private void checkLocalObjects(Repository repo, Target target, boolean shallow) throws IOException {
    if (local == null) {
      return;
    }
    List<ObjectId> haves = new ArrayList<>();
    if (!shallow) {
      if (lastHeadCommit != null) {
        haves.add(lastHeadCommit);
      }
      for (Ref r : repo.getRefDatabase().getRefsByPrefix(LOCAL_PREFIX)) {
        if (r.getObjectId() != null) {
          haves.add(r.getObjectId());
        }
      }
    }
    String problem = local.objectProblem(target.advertised(), haves, shallow);
    if (problem != null) {
      throw new SourceException("repository " + displayUrl + " (ref " + ref + ") " + problem);
    }
  }

  /** Makes the target's commit present in the cache repository, fetching only when needed. */
  private ObjectId fetch(Repository repo, Target target) throws IOException {
    requireNotClosedDuringRead();  // the listing may have waited long on the server: closed meanwhile
    ObjectId present = peelToCommit(repo, target.advertised());
    if (present != null) {
      if (target.refName() == null) {
        // a commit id an earlier read left in the cache: the remote may have dropped it since
        checkStillServed(repo, target, present, true);
      }
      LOG.debug("{}: {} already in the cache", describe(), target.advertised().name());
      return present;
    }
    if (target.refName() == null) {
      checkLocalCommit(target);
      checkLocalObjects(repo, target, true);
      checkCache(repo);
      // a commit id: ask for it directly (servers allow reachable ids), else fetch every branch and tag
      try {
        runFetch(repo, List.of(new RefSpec(target.advertised().name() + ":" + LOCAL_PREFIX + "pinned")), 1);
      } catch (TimedOut e) {
        throw e;
      } catch (SourceException e) {
        LOG.debug("{}: fetching commit {} by id failed ({}); fetching all branches and tags", describe(),
            target.advertised().name(), e.getMessage());
      }
      present = peelToCommit(repo, target.advertised());
      if (present != null) {
        // a server may serve any object it holds by id (protocol v2 does), one a force push left
        // behind or a fork's: read only what a branch or tag reaches, as from a local repository
        checkStillServed(repo, target, present, false);
      } else {
        runFetch(repo, List.of(new RefSpec("+refs/heads/*:" + LOCAL_PREFIX + "heads/*"),
            new RefSpec("+refs/tags/*:" + LOCAL_PREFIX + "tags/*")), 0);
        present = peelToCommit(repo, target.advertised());
      }
      if (present == null) {
        String fact = subject(target) + " not found at " + displayUrl + ": no branch or tag there holds it";
        throw new CommitNotServedException(target.advertised().name(), fact, fact.length(),
            target.pinned() ? REWRITTEN : "");
      }
      return present;
    }
    String local = LOCAL_PREFIX + (target.refName().startsWith("refs/") ? target.refName().substring(5) : target.refName());
    if (copied(repo, target, local)) {
      return target.advertised();  // a copy reads the commit and what it names: nothing to check first
    }
    checkLocalCommit(target);
    checkCache(repo);
    // incremental when the cache holds a commit of this or any other ref (the one read last, the one an
    // earlier process fetched under this name, or under another: a branch that a tag of the same name
    // now shadows, the tag a range read before), so that the new commit's history down to what the
    // cache holds comes along and its ancestry can be checked; an empty cache copies a small local
    // repository's objects, else fetches shallow. The fetch that resolves a fingerprint runs before
    // the store says which revision it applied last.
    boolean incremental = lastHeadCommit != null && repo.getObjectDatabase().has(lastHeadCommit);
    for (Ref r : incremental ? List.<Ref>of() : repo.getRefDatabase().getRefsByPrefix(LOCAL_PREFIX)) {
      if (r.getObjectId() != null && repo.getObjectDatabase().has(r.getObjectId())) {
        incremental = true;
        break;
      }
    }
    if (incremental || !cloned(repo, target, local)) {
      checkLocalObjects(repo, target, !incremental);
      runFetch(repo, List.of(new RefSpec("+" + target.refName() + ":" + local)), incremental ? 0 : 1);
    }
    Ref fetched = repo.exactRef(local);
    ObjectId commit = fetched == null ? null : peelToCommit(repo, fetched.getObjectId());
    if (commit == null) {
      throw new SourceException(subject(target) + " at " + displayUrl + " " + notACommit(repo, fetched));
    }
    if (!fetched.getObjectId().equals(target.advertised()) && !commit.equals(target.advertised())) {
      LOG.info("{}: {} moved while fetching; reading {}", describe(), target.refName(), commit.name());
    }
    return commit;
  }

  /**
   * Refuses a commit id the cache holds ({@code cached}), or a fetch by id just brought, when no
   * branch or tag of the remote reaches it (any more: a force push removed it): neither the cache
   * nor a server that still holds the objects may serve what the repository no longer does. Looks in
   * the cache first, from the tips the remote lists now; when they do not reach it there (the cache
   * lacks them or is shallow), fetches every branch and tag with their full history and looks again.
   */
  private void checkStillServed(Repository repo, Target target, ObjectId commit, boolean cached) throws IOException {
    if (local != null) {
      String problem = local.commitProblem(target.advertised(), true);
      if (problem != null) {
        String fact = subject(target) + " at " + displayUrl + " " + problem;
        if (problem.contains("not a commit")) {
          throw new SourceException(fact);
        }
        throw new CommitNotServedException(target.advertised().name(), fact, fact.length(), REWRITTEN);
      }
      return;
    }
    List<ObjectId> tips = new ArrayList<>();
    for (Map.Entry<String, Ref> e : listRefs().entrySet()) {
      if (e.getKey().startsWith(Constants.R_HEADS) || e.getKey().startsWith(Constants.R_TAGS)) {
        tips.add(advertised(e.getValue()));
      }
    }
    if (reaches(repo, tips, commit)) {
      return;
    }
    LOG.debug("{}: the branches and tags in the cache do not reach {}; fetching them in full", describe(), commit.name());
    checkCache(repo);
    runFetch(repo, List.of(new RefSpec("+refs/heads/*:" + LOCAL_PREFIX + "heads/*"),
        new RefSpec("+refs/tags/*:" + LOCAL_PREFIX + "tags/*")), 0, !repo.getObjectDatabase().getShallowCommits().isEmpty());
    if (!reaches(repo, tips, commit)) {
      String at = subject(target) + " at " + displayUrl + " is on no branch or tag there" + (cached ? " any more" : "");
      throw new CommitNotServedException(commit.name(), at + (cached ? "; the Git cache still held it"
          : "; the server still holds its objects, but a commit id is read only when a branch or tag reaches it"),
          at.length(), REWRITTEN);
    }
  }

  /** Whether a commit of {@code tips} the cache holds reaches {@code commit} in the cache's history. */
  private static boolean reaches(Repository repo, List<ObjectId> tips, ObjectId commit) throws IOException {
    try (RevWalk walk = new RevWalk(repo)) {
      boolean any = false;
      for (ObjectId tip : tips) {
        if (tip == null || !repo.getObjectDatabase().has(tip)) {
          continue;
        }
        try {
          if (walk.peel(walk.parseAny(tip)) instanceof RevCommit c) {
            walk.markStart(c);
            any = true;
          }
        } catch (org.eclipse.jgit.errors.MissingObjectException e) {
          // a tag whose commit the cache lacks reaches nothing here
        }
      }
      if (!any) {
        return false;
      }
      for (RevCommit c = walk.next(); c != null; c = walk.next()) {
        if (c.equals(commit)) {
          return true;
        }
      }
      return false;
    } catch (org.eclipse.jgit.errors.MissingObjectException e) {
      return false;  // history the cache lacks: the caller fetches it
    }
  }

  /**
   * Whether the branch (or {@code HEAD}) {@code target} of a local repository was copied into the
   * cache without a fetch ({@link LocalRepository#copyInto}), its commit then named by {@code
   * localRef}: only when the cache holds that ref's last commit and the objects since are few.
   * Anything else (a tag, a commit id, a first read) is fetched.
   */
  private boolean copied(Repository repo, Target target, String localRef) throws IOException {
    if (this.local == null || !(target.refName().startsWith(Constants.R_HEADS) || target.refName().equals(Constants.HEAD))) {
      return false;
    }
    Ref previous = repo.exactRef(localRef);
    if (previous == null || previous.getObjectId() == null || !repo.getObjectDatabase().has(previous.getObjectId())) {
      return false;
    }
    // what the copy builds on, read here so that damage there is found now (checkCache's walk of
    // what a fetch negotiates with is not needed): the shallow list, the last commit and its tree
    repo.getObjectDatabase().getShallowCommits();
    try (RevWalk walk = new RevWalk(repo)) {
      if (!(walk.parseAny(previous.getObjectId()) instanceof RevCommit c)) {
        return false;
      }
      walk.parseBody(c.getTree());
    }
    if (!this.local.copyInto(repo, target.advertised(), previous.getObjectId())) {
      return false;
    }
    fetches++;
    setRef(repo, localRef, target.advertised());
    try {
      // what a fetch does after it wrote a pack: pack loose objects once there are many
      repo.autoGC(org.eclipse.jgit.lib.NullProgressMonitor.INSTANCE);
    } catch (RuntimeException e) {
      // the commit is in the cache and named: this read goes on, and the next copy or fetch gcs again
      LOG.warn("{}: the Git cache's auto-gc failed after copying {}: {}", describe(), target.advertised().name(),
          scrub(oneLine(e)));
    }
    LOG.debug("{}: copied {} from the local repository", describe(), target.advertised().name());
    return true;
  }

  /**
   * Whether the ref {@code target} of a local repository was read into the empty cache by copying
   * that repository's object files ({@link LocalRepository#cloneInto}), its commit then named by
   * {@code localRef}. Not into a cache rebuilt after damage: a damaged pack there may be the
   * repository's own, which the fetch then made reports.
   */
  private boolean cloned(Repository repo, Target target, String localRef) throws IOException {
    if (this.local == null || rebuilt || !this.local.cloneInto(repo, target.advertised())) {
      return false;
    }
    fetches++;
    setRef(repo, localRef, target.advertised());
    LOG.debug("{}: copied the objects of the local repository for {}", describe(), target.advertised().name());
    return true;
  }

  /** Points the cache's {@code localRef} at {@code id}, as a fetch would. */
  private static void setRef(Repository repo, String localRef, ObjectId id) throws IOException {
    RefUpdate update = repo.updateRef(localRef);
    update.setNewObjectId(id);
    update.setForceUpdate(true);
    RefUpdate.Result result = update.update();
    if (result != RefUpdate.Result.NEW && result != RefUpdate.Result.FORCED && result != RefUpdate.Result.FAST_FORWARD
        && result != RefUpdate.Result.NO_CHANGE) {
      throw new IOException(repo.getDirectory() + ": cannot set " + localRef + " to " + id.name() + " (" + result + ")");
    }
  }

  /**
   * Reads what a fetch reads of the cache before it starts (the shallow list, and the commits near
   * each ref, which negotiation offers as "have"s) so that damage is found before the remote is
   * involved: a fetch the client abandons midway leaves the server side of a local repository
   * printing stack traces.
   */
  private static void checkCache(Repository repo) throws IOException {
    repo.getObjectDatabase().getShallowCommits();
    try (RevWalk walk = new RevWalk(repo)) {
      for (Ref r : repo.getRefDatabase().getRefsByPrefix(LOCAL_PREFIX)) {
        if (walk.peel(walk.parseAny(r.getObjectId())) instanceof RevCommit c) {
          walk.markStart(c);  // tags of trees or blobs, fetched with all tags, offer nothing
        }
      }
      // As many commits as a negotiation offers (JGit sends at most 256 "have" lines).
      for (int i = 0; i < 256 && walk.next() != null; i++) {
        // parsing each commit is the check
      }
    }
  }

  /** How messages name what is read: the ref, or the commit (with its revision when pinned to one). */
  /** The likeliest cause a commit asked for by id is not served, which {@link CommitNotServedException#fact} leaves out. */
  private static final String REWRITTEN = " (rewritten by a force push?)";

  private String subject(Target target) {
    if (target.refName() != null) {
      return "ref '" + ref + "'" + (target.refName().equals(ref) ? "" : " (" + target.refName() + ")");
    }
    String id = target.advertised().name();
    return "commit " + id + (target.label().equals(id) ? "" : " (" + target.label() + "@sha1:" + id + ")");
  }

  /** Why the fetched ref gave no commit: what it points at instead. */
  private static String notACommit(Repository repo, Ref fetched) throws IOException {
    if (fetched == null) {
      return "was not fetched";
    }
    try (RevWalk walk = new RevWalk(repo)) {
      RevObject o = walk.peel(walk.parseAny(fetched.getObjectId()));
      return "points at a " + Constants.typeString(o.getType()) + " (" + o.name() + "), not a commit";
    } catch (org.eclipse.jgit.errors.MissingObjectException e) {
      return "points at " + e.getObjectId().name() + ", which the fetch did not bring";
    }
  }

  private static ObjectId peelToCommit(Repository repo, ObjectId id) throws IOException {
    if (!repo.getObjectDatabase().has(id)) {
      return null;
    }
    try (RevWalk walk = new RevWalk(repo)) {
      RevObject o = walk.peel(walk.parseAny(id));
      return o instanceof RevCommit c ? c.copy() : null;
    } catch (org.eclipse.jgit.errors.MissingObjectException e) {
      return null;  // an annotated tag whose commit was not fetched yet
    }
  }

  private void runFetch(Repository repo, List<RefSpec> specs, int depth) {
    runFetch(repo, specs, depth, false);
  }

  private void runFetch(Repository repo, List<RefSpec> specs, int depth, boolean unshallow) {
    fetches++;
    try {
      fetchOnce(repo, specs, depth, unshallow);
    } catch (GitAPIException | JGitInternalException e) {
      if (isCacheFault(e)) {
        throw new CacheFault(repo.getDirectory().toPath(), e);
      }
      if (timedOut(e)) {
        // the server stalled: another attempt would only wait as long again
        throw new TimedOut(failure("cannot fetch the commits", e));
      }
      if (depth > 0) {
        // dumb HTTP, bundles and some servers refuse shallow fetches: fall back to a full one
        LOG.debug("{}: shallow fetch failed ({}); retrying without depth", describe(), scrub(String.valueOf(e.getMessage())));
        try {
          fetchOnce(repo, specs, 0, unshallow);
          return;
        } catch (GitAPIException | JGitInternalException e2) {
          if (isCacheFault(e2)) {
            throw new CacheFault(repo.getDirectory().toPath(), e2);
          }
          throw failure("cannot fetch the commits", e2);
        }
      }
      throw failure("cannot fetch the commits", e);
    }
  }

  /** Whether {@code e} comes from a network read or connect that timed out. */
  private static boolean timedOut(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
      if (t instanceof java.io.InterruptedIOException || m.contains("timed out") || m.contains("timeout")) {
        return true;
      }
    }
    return false;
  }

  /** A fetch that timed out: not retried in another form. */
  private static final class TimedOut extends SourceException {
    private static final long serialVersionUID = 1L;

    TimedOut(SourceException e) {
      super(e.getMessage(), e.getCause());
    }
  }

  private void fetchOnce(Repository repo, List<RefSpec> specs, int depth, boolean unshallow) throws GitAPIException {
    FetchCommand fetch = Git.wrap(repo).fetch()
        .setRemote(url)
        .setRefSpecs(specs)
        .setTagOpt(TagOpt.NO_TAGS)
        .setTimeout(timeoutSeconds)
        .setTransportConfigCallback(this::configure);
    if (depth > 0) {
      fetch.setDepth(depth);
    }
    if (unshallow) {
      fetch.setUnshallow(true);
    }
    GitDaemonTransport.around(fetch::call);
  }

  /** Control characters but tab, line feed and carriage return. */
  private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}&&[^\\t\\n\\r]]");

  private SourceException failure(String what, Throwable e) {
    if (ssh != null) {
      Optional<String> hostKey = ssh.takeHostKeyRejection();
      if (hostKey.isPresent()) {
        // the transport only says the key did not validate; the database knows why
        return new SourceException(what + " of " + displayUrl + " (ref " + ref + "): " + hostKey.get(), e);
      }
    }
    StringBuilder why = new StringBuilder();
    boolean authFailed = false;
    for (Throwable t = e; t != null; t = t.getCause()) {
      // a remote's sideband message may end in a NUL (git daemon's "aborting due to possible
      // repository corruption on the remote side.\0"): no control character reaches a message
      // git daemon's "no such repository: /re\npo" quotes a path with a line break: one line, escaped
      String msg = PlanRenderer.oneLine(CONTROL.matcher(String.valueOf(t.getMessage())).replaceAll(""));
      String lower = msg.toLowerCase(java.util.Locale.ROOT);
      authFailed |= lower.contains("authentication") || lower.contains("log in");
      if (why.indexOf(scrub(msg)) < 0) {
        why.append(why.length() == 0 ? "" : ": ").append(scrub(msg));
      }
      if (t.getCause() == t) {
        break;
      }
    }
    String message = what + " of " + displayUrl + " (ref " + ref + "): " + why;
    if (ssh != null && authFailed && !timedOut(e)) {
      message = what + " of " + displayUrl + " (ref " + ref + "): SSH public key authentication as user '" + sshUser()
          + "' with the key " + credentials.privateKey() + " was refused (is its public key authorised for that user?): "
          + why;
    }
    return new SourceException(message, safe(e));
  }

  /**
   * {@code e}, or when a message in its cause chain (or among what it suppressed) holds a secret (a
   * password, a token, a user name that is a token), a copy of the chain with every message
   * scrubbed ({@link GitUrls#scrubbed(Throwable, java.util.function.UnaryOperator)}).
   */
  private Throwable safe(Throwable e) {
    return GitUrls.scrubbed(e, this::scrub);
  }

  private String sshUser() {
    return uri.getUser() != null ? uri.getUser() : System.getProperty("user.name");
  }

  /** {@code message} without the credentials' secret and the URL's password or token user name, each as {@code ***}. */
  private String scrub(String message) {
    return GitUrls.scrub(message, url, credentials == null ? List.of() : List.of(credentials.secret()));
  }

  private Repository repository() {
    if (repository != null) {
      return repository;
    }
    try {
      if (cacheDir == null) {
        // once per instance: a clone rebuilt after damage, or a second try after a failure here, goes
        // in the same temporary directory, the one close() deletes
        cacheDir = configuredCacheDir != null ? configuredCacheDir : Files.createTempDirectory("gitops-source-");
      }
      Files.createDirectories(cacheDir);
      String name = Sha256.hex(url).substring(0, 24) + ".git";
      Path dir = cacheDir.resolve(name);
      if (Files.exists(dir) && !(Files.isDirectory(dir.resolve("objects")) && Files.isDirectory(dir.resolve("refs")))) {
        throw new CacheFault(dir, new IOException(dir + " has no objects/ or refs/ directory"));
      }
      if (!Files.exists(dir.resolve("HEAD"))) {
        Git.init().setBare(true).setDirectory(dir.toFile()).call().close();
      }
      try {
        repository = new FileRepositoryBuilder().setGitDir(dir.toFile()).setBare().build();
      } catch (IOException | IllegalArgumentException e) {
        throw new CacheFault(dir, e);
      }
      // JGit's auto-gc after a fetch runs detached in a background thread by default, racing the
      // caller's own use of the cache (a JVM exit mid-gc leaves temporary packs); and it keeps
      // superseded packs for an hour to protect concurrent readers, so a busy branch piles up packs
      // and every object lookup scans them all. This cache has one reader (reads are serialised):
      // gc runs inside the fetch and drops superseded packs and loose objects at once.
      org.eclipse.jgit.lib.StoredConfig config = repository.getConfig();
      if (config.getBoolean("gc", "autoDetach", true) || !"now".equals(config.getString("gc", null, "prunePackExpire"))
          || !"now".equals(config.getString("gc", null, "pruneExpire"))) {
        config.setBoolean("gc", null, "autoDetach", false);
        config.setString("gc", null, "prunePackExpire", "now");
        config.setString("gc", null, "pruneExpire", "now");
        config.save();
      }
      return repository;
    } catch (IOException | GitAPIException e) {
      throw new SourceException(describe() + ": cannot create the cache repository under "
          + (cacheDir == null ? configuredCacheDir : cacheDir) + ": " + e.getMessage(), e);
    }
  }

  /**
   * Closes the cache repository and the SSH client. Without a {@linkplain Builder#cacheDir cache
   * directory} the temporary clone is deleted too; a configured cache directory is kept for the
   * next run. During a read (another thread's) this returns at once and the read closes the
   * source when it ends: a server that does not answer holds a read up to the {@linkplain
   * Builder#timeout timeout}, and an agent stopping the target must not wait as long.
   *
   * <p>Closing again does nothing. A {@link #read}, {@link #fingerprint} or {@link #readSince}
   * started after {@code close()} throws {@link IllegalStateException} naming the source (it would
   * clone again, into a temporary directory nothing deletes): build a new source to read again.
   *
   * <pre>{@code
   * GitSource source = GitSource.builder().url(url).ref("main").build();
   * State desired = source.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.create()), new Cancellation()));
   * source.close();   // the temporary clone is deleted
   * source.close();   // nothing more
   * }</pre>
   */
  @Override
  public void close() {
    closed = true;
    if (busy.get() > 0) {
      // A read holds this source (its fetch may wait up to the Git timeout on a server that does not
      // answer): closing waits for nothing, the read closes the source when it ends.
      closeDeferred.set(true);
      closedDuringRead = true;
      if (busy.get() > 0) {
        LOG.debug("{}: closed while a read is in progress; it is closed when that read ends", describe());
        return;
      }
    }
    closeDeferred.set(false);
    synchronized (this) {
      closeNow();
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException(describe() + ": this source is closed; build a new GitSource to read again");
    }
  }

  private void requireNotClosedDuringRead() {
    if (closedDuringRead) {
      throw new SourceException(describe() + ": closed while a read was waiting on the server; nothing more is"
          + " fetched into its cache");
    }
  }

  /** Ends a read or fingerprint (under the lock): closes the source when a close came meanwhile. */
  private void released() {
    if (busy.decrementAndGet() == 0 && closeDeferred.compareAndSet(true, false)) {
      closeNow();
    }
  }

  private void closeNow() {
    if (ssh != null) {
      ssh.close();
    }
    if (repository != null) {
      repository.close();
      repository = null;
    }
    if (configuredCacheDir == null && cacheDir != null) {
      Path temporary = cacheDir;
      cacheDir = null;
      try {
        FileUtils.delete(temporary.toFile(), FileUtils.RECURSIVE | FileUtils.RETRY);
      } catch (IOException e) {
        // the clone is only a cache: failing to remove it loses nothing, but the user should know it is left
        LOG.warn("{}: cannot delete the temporary clone {}: {}", describe(), temporary, e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return describe();
  }

  /** Builds {@link GitSource}. */
  public static final class Builder {
    private String url;
    private URIish uri;
    private String ref = "HEAD";
    private String path = "";
    private Path cacheDir;
    private Credentials credentials;
    private boolean ssh;
    /** The SSH module, found by {@link #build()}. */
    private SshConnector sshConnector;
    private Path knownHosts;
    private boolean strictHostKeyChecking = true;
    private Map<String, String> variables = Map.of();
    private boolean substitution;
    private long maxFileSize = DEFAULT_MAX_FILE_SIZE;
    private Path keyRing;
    private SignatureMode signatureMode = SignatureMode.HEAD;
    private Duration timeout = DEFAULT_TIMEOUT;
    private final List<Decoder> globDecoders = new ArrayList<>();

    private Builder() {}

    /**
     * Reads the files {@code glob} matches (paths relative to {@link #path}, {@code *}, {@code ?},
     * {@code **}, {@code {a,b}}) with {@code decoder}, before any decoder a provider brings: globs
     * given here are tried first, in the order given, then the {@code Reconciler}'s, then the
     * providers'. The first decoder that claims a file reads it.
     *
     * <pre>{@code
     * GitSource.builder().url(url)
     *     .decoder("settings/**}{@code /*.yaml", YamlManifestDecoder.builder().defaultProvider("db").build())
     *     .build();
     * }</pre>
     *
     * @throws IllegalArgumentException naming the glob when it is malformed
     */
    public Builder decoder(String glob, Decoder decoder) {
      globDecoders.add(GlobDecoder.of(glob, decoder));
      return this;
    }

    /** The URL schemes a source reads from (ssh needs the gitops-git-ssh module). */
    private static final java.util.Set<String> SCHEMES = java.util.Set.of("https", "http", "git", "ssh", "git+ssh",
        "ssh+git", "file");

    /**
     * The repository: an {@code https://}, {@code http://}, {@code git://}, {@code file://} or
     * {@code ssh://[user@]host[:port]/path} URL, an scp-like {@code user@host:path}, or a local path.
     * SSH remotes need {@link Credentials#sshKey(Path)} and {@link #knownHosts(Path)}. A user name
     * or password in the URL must be percent-encoded where it holds {@code /}, {@code ?}, {@code #}
     * or {@code %}: a URL in which no host can be found that way, or with whitespace around it, is
     * refused here, since it would otherwise be read as a path and shown whole; no refusal quotes
     * the password. So is, naming the part at fault, a URL no fetch could use: a port outside
     * 1-65535, a host holding a character no host name holds, a remote URL without a repository
     * path, a control character in a remote URL's path, a {@code file:} URL with a host, user or
     * port. A refusal quotes the URL on one line, control characters escaped.
     *
     * <pre>{@code
     * GitSource.builder().url("https://git.example.com:99999/ops.git");   // refused: port 99999 is out of range
     * }</pre>
     *
     * @throws IllegalArgumentException for a text that is no Git URL or path, or another scheme, or
     *     a URL no fetch could use
     */
    public Builder url(String uriOrPath) {
      Objects.requireNonNull(uriOrPath, "url");
      if (uriOrPath.isBlank()) {
        throw new IllegalArgumentException("url must not be empty or blank");
      }
      URIish u;
      try {
        u = new URIish(uriOrPath);
      } catch (URISyntaxException e) {
        // URISyntaxException's message quotes the whole text, password and all: not passed on
        throw new IllegalArgumentException("not a Git URL or path: '" + shown(uriOrPath) + "': "
            + PlanRenderer.oneLine(e.getReason()), new URISyntaxException(GitUrls.withoutPassword(uriOrPath), e.getReason()));
      }
      String scheme = u.getScheme();
      if (scheme != null && scheme.length() > 1 && !SCHEMES.contains(scheme.toLowerCase(java.util.Locale.ROOT))) {
        // JGit would take some (ftp) and fail at the first fetch with a text that names no scheme
        throw new IllegalArgumentException("'" + shown(uriOrPath) + "': scheme " + scheme
            + " is not supported (use https, http, git, ssh, file, or a local path)");
      }
      if (scheme != null && scheme.length() > 1 && !scheme.equalsIgnoreCase("file")
          && (u.getHost() == null || u.getHost().isEmpty())) {
        // JGit reads "https://user:pa/ss@host/r" as a path without a host, which every message
        // would then show whole, password included
        throw new IllegalArgumentException("'" + shown(uriOrPath) + "' names no host: a '/', '?', '#' or '%'"
            + " in its user name or password must be percent-encoded (%2F, %3F, %23, %25)");
      }
      if (scheme == null && u.getHost() == null && uriOrPath.contains("://")) {
        // " https://..." or "https://...\n" is read as a local path, and shown whole, password included
        throw new IllegalArgumentException("'" + shown(uriOrPath.strip()) + "' is neither a URL nor a local"
            + " path: remove the whitespace around it");
      }
      boolean scpLike = scheme == null && u.getHost() != null;
      if (scpLike && u.getHost().startsWith("[")) {
        // JGit splits "git@[::1]:repo" at the address's first ':' (host "[", path ":1]:repo")
        throw new IllegalArgumentException("'" + shown(uriOrPath) + "': an IPv6 address is not read in"
            + " the scp-like form user@[address]:path; write ssh://user@[address]:port/path (a path under the home"
            + " directory: ssh://user@[address]/~/path)");
      }
      String unusable = unusable(u, scheme, scpLike);
      if (unusable != null) {
        // JGit takes these and fails only at the first fetch, in a message that does not say why
        throw new IllegalArgumentException("'" + shown(uriOrPath) + "': " + unusable);
      }
      this.ssh = scpLike || (scheme != null && scheme.toLowerCase().contains("ssh"));
      this.url = uriOrPath;
      this.uri = u;
      return this;
    }

    /** A host name or address a fetch can connect to: letters, digits, {@code . - _}, or an IPv6 address. */
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?]");

    /**
     * Why a fetch cannot use {@code u} (a URL, or an scp-like {@code user@host:path} when {@code
     * scpLike}), naming the part at fault, or null when it can: a port out of 1-65535 (JGit reads
     * port 0 as "the default port"), a host with a character no host name holds, a remote URL
     * without a repository path, a control character in a remote URL's path (a {@code git://}
     * server cuts its request at a NUL or line break and serves another repository), or a
     * {@code file:} URL with a host, user or port.
     */
    private static String unusable(URIish u, String scheme, boolean scpLike) {
      boolean remote = scpLike || (scheme != null && scheme.length() > 1 && !scheme.equalsIgnoreCase("file"));
      if (scheme != null && scheme.equalsIgnoreCase("file")) {
        if (u.getHost() != null || u.getPort() != -1 || u.getUser() != null || u.getPass() != null) {
          return "a file: URL names a local path and no host, user or port (write file:///path/to/repo)";
        }
        if (u.getPath() == null || u.getPath().isEmpty()) {
          return "a file: URL needs a path (write file:///path/to/repo)";
        }
        return null;
      }
      if (!remote) {
        return null;
      }
      if (u.getPort() != -1 && (u.getPort() < 1 || u.getPort() > 65535)) {
        return "port " + u.getPort() + " is out of range (1 to 65535)";
      }
      if (!HOST.matcher(u.getHost()).matches()) {
        return "host '" + PlanRenderer.printable(u.getHost()) + "' is not a host name or address (letters, digits,"
            + " '.', '-' and '_'; an internationalised name in its ASCII form, an IPv6 address in brackets)";
      }
      if (scheme != null && scheme.toLowerCase(java.util.Locale.ROOT).startsWith("http") && u.getHost().indexOf('_') >= 0) {
        // git:// and SSH reach such a name; the JDK's HTTP stack, which JGit fetches through, refuses
        // it at every fetch ("Illegal character in hostname", under a proxy lookup's words)
        return "host '" + PlanRenderer.printable(u.getHost()) + "' holds '_', which no HTTP(S) fetch takes in a host"
            + " name (the JDK's URI rules); give the host's name without '_' or its address";
      }
      String path = u.getRawPath() != null ? u.getRawPath() : u.getPath();
      if (path == null || path.isEmpty() || (!scpLike && path.equals("/"))) {
        return "names no repository path after the host (e.g. " + (scheme == null ? "host:ops/desired.git"
            : scheme + "://host/ops/desired.git") + ")";
      }
      String decoded = u.getPath() == null ? path : u.getPath();
      if (decoded.codePoints().anyMatch(PlanRenderer::isHidden)) {
        return "its path '" + PlanRenderer.printable(decoded) + "' holds a control or format character";
      }
      return null;
    }

    /** {@code url} for a message: without its password, control characters escaped, on one line. */
    private static String shown(String url) {
      return PlanRenderer.printable(GitUrls.withoutPassword(url));
    }

    /**
     * The ref: a branch, a tag, a 40-hex commit id, a full ref name ({@code refs/...}), {@code HEAD}
     * (the default) or a semver range over tags ({@code ^1.2}, {@code ~1.4.0}, {@code >=1.0 <2.0},
     * {@code 1.x}) of which the highest matching tag is read. A name is looked up where git's {@code
     * rev-parse} looks it up ({@code refs/<name>}, {@code refs/tags/<name>}, {@code refs/heads/<name>},
     * {@code refs/remotes/<name>}, {@code refs/remotes/<name>/HEAD}), so {@code heads/main} is the
     * branch {@code main}; a name found in more than one of them (a tag and a branch {@code release})
     * fails the read, naming each with its commit: give {@code heads/<name>}, {@code tags/<name>} or
     * the full name {@code refs/...}, which is never ambiguous. A commit id may be given in either
     * case; an abbreviated one is refused, asking for the full id.
     *
     * <pre>{@code
     * GitSource.builder().url(url).ref("refs/heads/release");   // the branch, whatever else is named "release"
     * }</pre>
     */
    public Builder ref(String ref) {
      Objects.requireNonNull(ref, "ref");
      if (ref.isBlank()) {
        throw new IllegalArgumentException("ref must not be empty");
      }
      if (ref.trim().codePoints().anyMatch(PlanRenderer::isHidden)) {
        // no ref name, commit id or version range holds one, and every message quotes the ref
        throw new IllegalArgumentException("ref '" + PlanRenderer.printable(ref.trim()) + "' holds a control or format"
            + " character, which no branch, tag or commit id does");
      }
      this.ref = ref.trim();
      return this;
    }

    /**
     * The sub-directory of the repository holding the desired state; "" (the default) for the root.
     * It is read as Flux and Argo CD read theirs: {@code .} and {@code ./} are the root, {@code
     * ./apps}, {@code apps/} and {@code apps//web} are {@code apps} and {@code apps/web}. Nothing
     * is trimmed: {@code "apps "} is the directory named so, not {@code apps}.
     *
     * @throws IllegalArgumentException when the path is absolute or holds a {@code ..} part or a backslash
     */
    public Builder path(String subPath) {
      this.path = normalizedPath(subPath);
      return this;
    }

    /**
     * Where the bare cache repository lives; a new temporary directory when unset.
     *
     * @throws IllegalArgumentException when {@code dir} exists and is not a directory
     */
    public Builder cacheDir(Path dir) {
      Objects.requireNonNull(dir, "cacheDir");
      if (java.nio.file.Files.exists(dir) && !java.nio.file.Files.isDirectory(dir)) {
        throw new IllegalArgumentException("cacheDir " + dir + " is not a directory");
      }
      this.cacheDir = dir;
      return this;
    }

    /**
     * The credentials: {@link Credentials#basic} or {@link Credentials#token} for HTTP(S), {@link
     * Credentials#sshKey(Path)} for SSH.
     */
    public Builder credentials(Credentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * The OpenSSH known_hosts file the SSH server's host key is checked against (plain or hashed
     * names; {@code [host]:port} for a port other than 22). It is only read, never written.
     */
    public Builder knownHosts(Path knownHostsFile) {
      this.knownHosts = Objects.requireNonNull(knownHostsFile, "knownHosts");
      return this;
    }

    /**
     * Whether an SSH host missing from the known_hosts file is refused (default true). When false it
     * is accepted with a warning naming host and key fingerprint; a host whose listed key differs
     * from the one presented is refused either way.
     */
    public Builder strictHostKeyChecking(boolean strict) {
      this.strictHostKeyChecking = strict;
      return this;
    }

    /**
     * Variables for {@code ${VAR}} substitution (used only when {@link #substitution(boolean)} is on).
     *
     * @throws NullPointerException naming {@code variables}, or the variable whose name or value is null
     */
    public Builder variables(Map<String, String> variables) {
      this.variables = Collections.unmodifiableSortedMap(VariableSubstitution.checked(variables, "variables"));
      return this;
    }

    /** Whether {@code ${VAR}} references in decoded files are substituted (default off). */
    public Builder substitution(boolean enabled) {
      this.substitution = enabled;
      return this;
    }

    /**
     * The largest file read, in bytes (default {@link #DEFAULT_MAX_FILE_SIZE}, 1 MiB); a larger file
     * fails the read.
     */
    public Builder maxFileSize(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxFileSize must be > 0, got " + bytes);
      }
      this.maxFileSize = bytes;
      return this;
    }

    /**
     * Requires the commit read to be signed by a key of {@code publicKeyRing} (armored or binary
     * OpenPGP public keys); no other key, and never the GnuPG home, is trusted. The signing key
     * must be valid as GnuPG checks it: its primary key carries a valid self-signature, is not
     * revoked, and is unexpired both at the signature's creation time and now (the time of the
     * read: the creation time is the signer's to choose, so a key expired since is refused even
     * for a signature dated while it was valid, as {@code git verify-commit} refuses it); a
     * signing subkey is bound to that primary key by a verified binding signature (and
     * cross-certified by it), is not revoked, is unexpired at both times too, and its key flags
     * allow signing. A signature dated more than 5 minutes after now is refused, as is one whose
     * own expiration time has passed. The check is made at every read, also of a ref that has not
     * moved since this source last read it, so a commit whose key expires while it is deployed is
     * refused from then on, as a new source would refuse it. To use a key again after it
     * expires, extend its expiry ({@code gpg --quick-set-expire}) and give the ring its updated
     * public key. Only the commit
     * read is checked, not its ancestors, and not the signature of an annotated tag it is read
     * through: {@link #requireSignedBy(Path, SignatureMode)} checks that one. The key ring is read
     * once, by {@link #build()} (which refuses one it cannot
     * read): a key revoked or added in the file later counts for a source built after that (the
     * next CLI run, an agent's restart or reload). Needs the {@code dev.gitops:gitops-git-signatures}
     * module on the classpath. The same as {@code requireSignedBy(publicKeyRing, SignatureMode.HEAD)}.
     */
    public Builder requireSignedBy(Path publicKeyRing) {
      return requireSignedBy(publicKeyRing, SignatureMode.HEAD);
    }

    /**
     * Requires a signature by a key of {@code publicKeyRing} on what {@code mode} names: the
     * commit read ({@link SignatureMode#HEAD}, as {@link #requireSignedBy(Path)}), the annotated
     * tag the ref names ({@link SignatureMode#TAG}), or both ({@link SignatureMode#TAG_AND_HEAD}),
     * as Flux's {@code spec.verify.mode} chooses. A tag's signature is the OpenPGP block {@code git
     * tag -s} appends to the tag object's message, over the tag object before it; its key is
     * judged by the same rules as a commit's (above). Under {@code TAG} and {@code TAG_AND_HEAD}
     * the ref must be an annotated tag's name or a version range over tags: a branch, a commit id
     * or a lightweight tag is refused naming the ref and the mode, and an unsigned tag, a tag
     * signed by a key outside the ring or no longer valid, or a signature that does not match, is
     * refused naming the tag and why ({@link dev.gitops.api.SignatureException#tag()}). A pinned
     * revision ({@code v1.2.0@sha1:...}) is read only while the tag its label names still names
     * that commit, and that tag is checked. Every read checks again, as for commits.
     *
     * <pre>{@code
     * GitSource releases = GitSource.builder()
     *     .url("https://git.example.com/ops/desired.git")
     *     .ref("^1.2")                                          // the highest release tag, signed
     *     .requireSignedBy(Path.of("/etc/gitops/trusted-keys.asc"), SignatureMode.TAG_AND_HEAD)
     *     .build();
     * }</pre>
     */
    public Builder requireSignedBy(Path publicKeyRing, SignatureMode mode) {
      this.keyRing = Objects.requireNonNull(publicKeyRing, "publicKeyRing");
      this.signatureMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Network timeout per operation (default 60 s): connecting, setting up an SSH session (key
     * exchange and authentication, with the {@code gitops-git-ssh} module), and each read of HTTPS,
     * SSH and {@code git://}.
     * A fetch that times out fails the read and is not tried again in another form (without
     * depth, or for every branch and tag); over HTTP(S) a server that stops sending mid-fetch is
     * given up within about twice the timeout (JGit waits once more while closing the stalled
     * connection), after the listing of the refs, which has its own timeout. A server that keeps
     * sending, however slowly, is not cut off: there is no bound on a whole read.
     * Over {@code git://} each socket read has the timeout itself, so a daemon that accepts the
     * connection and then never answers fails the read after it, as a stalled HTTPS server does.
     * Taken in whole seconds, at least one (and at most 24 days).
     */
    public Builder timeout(Duration timeout) {
      this.timeout = Durations.positive(timeout, "timeout");
      return this;
    }

    /**
     * The source.
     *
     * @throws IllegalStateException when no URL was given, or the credentials do not fit the URL
     *     (an SSH URL needs {@link Credentials#sshKey(Path)} and, with strict host key checking, a
     *     known_hosts file; an SSH key fits SSH URLs only), or when an SSH URL or a signature check
     *     is asked for without the module that provides it ({@code gitops-git-ssh}, {@code
     *     gitops-git-signatures}) on the classpath: the message names the artifact to add
     * @throws SourceException when the key ring or the SSH private key cannot be read
     */
    public GitSource build() {
      if (url == null) {
        throw new IllegalStateException("GitSource needs a url: call .url(...)");
      }
      if (ssh) {
        // everything an SSH URL lacks, in one message: a user without the module learns the rest too
        List<String> missing = new ArrayList<>();
        if (credentials == null || !credentials.isSshKey()) {
          missing.add("credentials(Credentials.sshKey(privateKey))" + (credentials == null ? "" : ", not " + credentials));
        }
        if (knownHosts == null && strictHostKeyChecking) {
          missing.add("knownHosts(file) to check the server's host key (or strictHostKeyChecking(false) to accept"
              + " unknown hosts)");
        }
        try {
          sshConnector = OptionalModules.ssh(uri.toString());
        } catch (IllegalStateException e) {
          throw new IllegalStateException(e.getMessage() + (missing.isEmpty() ? "" : "; it needs "
              + String.join(" and ", missing) + " too"), e);
        }
        if (!missing.isEmpty()) {
          throw new IllegalStateException("SSH remote " + uri + " needs " + String.join(" and ", missing));
        }
      } else {
        if (credentials != null && credentials.isSshKey()) {
          throw new IllegalStateException("Credentials.sshKey applies to ssh:// and user@host:path URLs, not " + uri);
        }
        if (knownHosts != null || !strictHostKeyChecking) {
          LOG.debug("knownHosts/strictHostKeyChecking apply to SSH remotes only; {} is not SSH", uri);
        }
      }
      if (keyRing != null && !signatureMode.admits(ref)) {
        // no tag is read through a commit id: refused before anything is fetched
        throw new IllegalStateException(notATag(ref, "is a commit id", signatureMode));
      }
      if (substitution) {
        VariableSubstitution.of(new TreeMap<>(variables));  // validates names and values now
      }
      return new GitSource(this);
    }
  }
}
