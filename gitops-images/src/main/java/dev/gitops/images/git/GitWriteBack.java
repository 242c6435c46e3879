package dev.gitops.images.git;

import dev.gitops.core.internal.Durations;
import dev.gitops.core.internal.git.GitDaemonTransport;
import dev.gitops.core.internal.git.GitUrls;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.source.Credentials;
import dev.gitops.core.source.GitSource;
import dev.gitops.images.marker.ImageMarker;
import dev.gitops.images.marker.MarkedYaml;
import dev.gitops.images.marker.MarkerException;
import dev.gitops.images.marker.MarkerScan;
import dev.gitops.images.marker.Setter;
import dev.gitops.images.policy.ImageChoice;
import dev.gitops.images.policy.ImagePolicy;
import dev.gitops.images.policy.PatternTooSlowException;
import dev.gitops.images.registry.ImageReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jgit.api.FetchCommand;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.LsRemoteCommand;
import org.eclipse.jgit.api.PushCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheBuilder;
import org.eclipse.jgit.dircache.DirCacheEditor;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.GpgConfig;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.Signer;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.PushResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.PathFilter;
import org.eclipse.jgit.util.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes image choices into a Git repository: fetches the branch into a bare cache, reads the
 * marked YAML files under a path at the head (files without the marker are never parsed, and a
 * blob known to hold none is not read again), edits only the marked scalars' bytes, commits the
 * changed files only, and pushes.
 *
 * <pre>{@code
 * try (GitWriteBack git = GitWriteBack.builder("https://git.example.com/ops/cluster.git")
 *     .branch("main")
 *     .path("apps")
 *     .credentials("x-access-token", System.getenv("GIT_TOKEN"))
 *     .author("image-bot", "image-bot@example.com")
 *     .build()) {
 *   WriteResult r = git.write(choices);     // policy name -> ImageChoice
 *   r.commit();                             // the commit pushed, if anything changed
 * }
 * }</pre>
 *
 * <p><b>Branches.</b> Edits are made on the head of the push branch when it exists, else on the
 * head of {@link Builder#branch}; pushes never force, so no commit is ever lost.
 *
 * <p><b>Local repositories.</b> A relative path is the repository there from the working
 * directory, as {@code git clone} reads it. A push to the branch checked out in a local working
 * tree is refused as {@code git push} refuses it (unless that repository's {@code
 * receive.denyCurrentBranch} is {@code ignore}, {@code warn} or {@code false}): the branch would move
 * under a working tree and index that stay, and the next commit there would undo the update.
 *
 * <p><b>Races.</b> When the push is rejected because someone else pushed first, the writer waits
 * a random delay (growing with each attempt), fetches, and re-applies its edits on the new head,
 * up to {@link Builder#maxPushAttempts}. A marked line that the new head changed since this writer
 * read it is a conflict: it is {@linkplain WriteResult#conflicts() reported} and left as the other
 * writer left it, never overwritten.
 *
 * <p><b>Never a downgrade.</b> Given the policies ({@link #write(Map, Collection)}), a marked tag
 * that ranks above the policy's choice in the policy's own order ({@link ImagePolicy#ranksAbove}:
 * a hand-written {@code v2.0.0} where {@code ^1.2} chose {@code v1.2.4}) is left as it is, and so is
 * a {@code :digest} marker of the same policy in that document; each is {@linkplain
 * WriteResult#downgradesRefused() reported} with why.
 *
 * <p><b>Commits.</b> Author and committer are {@link Builder#author}; the message comes from
 * {@link Builder#messageTemplate} ({@code ${count}}, {@code ${updates}}: one line per change,
 * {@code file: object path: old -> new (policy)}, {@code ${policies}}). With {@link
 * Builder#signer} commits carry an OpenPGP signature made by a JGit {@link Signer} (for example
 * {@code org.eclipse.jgit.gpg.bc}'s BouncyCastle signer).
 *
 * <p><b>Clustered writers.</b> With {@link Builder#pushFence} every commit ends with the fence's
 * trailer ({@code Reconciled-By: <member>@<token>}) and the fence is checked right before every
 * push: a writer whose ownership went stale pushes nothing.
 */
public final class GitWriteBack implements AutoCloseable {

  /** The default commit message. */
  public static final String DEFAULT_MESSAGE = "Update images\n\n${updates}";

  private static final Logger LOG = LoggerFactory.getLogger(GitWriteBack.class);
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([a-z]+)}");
  private static final Set<String> PLACEHOLDERS = Set.of("count", "updates", "policies");
  /** Any {@code ${...}} on one line: a template's placeholders are checked against {@link #PLACEHOLDERS}. */
  private static final Pattern ANY_PLACEHOLDER = Pattern.compile("\\$\\{([^}\\n]*)}");
  /** A Go template action ({@code {{ .Changed }}}, {@code {{range ...}}}), as in Flux's messageTemplate. */
  private static final Pattern GO_TEMPLATE_ACTION = Pattern.compile("\\{\\{[^\\n]*?}}");
  private static final long MAX_FILE = 5L * 1024 * 1024;

  private final String url;
  /** {@link #url} as the transport is given it ({@link Remote#transport}). */
  private final String remote;
  /** The local repository {@link #url} names, or null for a remote one ({@link Remote#local}). */
  private final Path localRemote;
  private final String display;
  private final String branch;
  private final String pushBranch;
  private final String path;
  /** The bare clone; for a temporary one, null until the first fetch makes it. */
  private Path cacheDir;
  private final boolean ownCache;
  /** Removes a temporary clone when the JVM is stopped (SIGTERM) before {@link #close}; null without one. */
  private Thread removeOnExit;
  private final CredentialsProvider credentials;
  /** What {@link Builder#credentials(String, String)} gave that is secret: masked in every message like the URL's. */
  private final List<String> secrets;
  private final String authorName;
  private final String authorEmail;
  private final String template;
  private final Signer signer;
  private final String signingKey;
  private final int maxPushAttempts;
  private final Duration retryDelay;
  private final int timeoutSeconds;
  private final IntConsumer beforePush;
  /** The largest marked file read, in bytes ({@link #MAX_FILE}; smaller in tests). */
  private final long maxFile;
  private final PushFence pushFence;
  /** Blobs known to hold no marker: never read again. */
  private final Set<ObjectId> unmarked = ConcurrentHashMap.newKeySet();
  /** Blobs that are no UTF-8 text and hold no marker, logged once (and a warning of every result). */
  private final Set<ObjectId> warnedNotText = ConcurrentHashMap.newKeySet();
  private Repository repository;
  /** The push branch's head as last fetched, or null when it did not exist: what a push expects to move. */
  private ObjectId fetchedPushHead;

  private GitWriteBack(Builder b) {
    this.url = b.url;
    Remote r = Remote.of(b.url);
    this.remote = r.transport();
    this.localRemote = r.local();
    this.display = GitUrls.display(b.url);
    this.branch = b.branch;
    this.pushBranch = b.pushBranch == null ? b.branch : b.pushBranch;
    this.path = b.path;
    this.ownCache = b.cacheDir == null;
    this.cacheDir = b.cacheDir;  // a temporary one is made by the first fetch: a writer never used leaves nothing
    this.credentials = b.credentials;
    this.secrets = List.copyOf(b.secrets);
    this.authorName = b.authorName;
    this.authorEmail = b.authorEmail;
    this.template = b.template;
    this.signer = b.signer;
    this.signingKey = b.signingKey;
    this.maxPushAttempts = b.maxPushAttempts;
    this.retryDelay = b.retryDelay;
    this.timeoutSeconds = Durations.jgitSeconds(b.timeout);
    this.beforePush = b.beforePush;
    this.maxFile = b.maxFile;
    this.pushFence = b.pushFence;
  }

  /**
   * What a URL names, read once: {@code transport} is the URL as the transport is given it (a
   * local path without a scheme resolved against the working directory, as {@code git clone}
   * resolves it: JGit resolves a relative path against the repository it fetches into, the bare
   * clone, and finds no remote there; any URL, and an absolute path, as it is); {@code local} the
   * local repository it names (such a path, or a {@code file:} URL's), else null.
   */
  record Remote(String transport, Path local) {

    static Remote of(String url) {
      org.eclipse.jgit.transport.URIish u;
      try {
        u = new org.eclipse.jgit.transport.URIish(url);
      } catch (java.net.URISyntaxException e) {
        return new Remote(url, null);  // not a URL JGit reads: reported where it is read
      }
      if (u.getHost() != null || (u.getScheme() != null && !u.getScheme().equalsIgnoreCase("file"))) {
        return new Remote(url, null);
      }
      try {
        if (u.getScheme() != null) {
          return new Remote(url, Path.of(u.getPath()));
        }
        Path path = Path.of(url).toAbsolutePath().normalize();
        return new Remote(path.toString(), path);
      } catch (java.nio.file.InvalidPathException e) {
        return new Remote(url, null);  // no path this file system has: the fetch reports it, naming the text given
      }
    }
  }

  /** {@link Remote#transport} of {@code url}. */
  static String transportUrl(String url) {
    return Remote.of(url).transport();
  }

  /**
   * A builder for the repository at {@code url}: an https, http, git or file URL, or a local path
   * (a relative one is resolved against the working directory).
   *
   * @throws IllegalArgumentException for an empty {@code url} or an SSH remote
   */
  public static Builder builder(String url) {
    return new Builder(url);
  }

  /** The branch pushed to. */
  public String pushBranch() {
    return pushBranch;
  }

  /**
   * The remote heads of the checkout and push branches ({@code refs/heads/<name>} to commit id),
   * read without fetching: what tells whether a new write could find anything new.
   *
   * @throws GitWriteException when the remote cannot be listed
   */
  public Map<String, String> remoteHeads() {
    Map<String, String> out = new TreeMap<>();
    Map<String, Ref> refs = lsRemote();
    for (String b : List.of(branch, pushBranch)) {
      Ref r = refs.get(Constants.R_HEADS + b);
      if (r != null && r.getObjectId() != null) {
        out.put(r.getName(), r.getObjectId().name());
      }
    }
    return out;
  }

  /**
   * Sets every marker whose policy is in {@code choices} to the policy's choice, commits the
   * changed files and pushes; does nothing when no marked scalar changes. Never downgrades: a
   * marked tag that ranks above the choice in its policy's order (of {@code policies}, by name) is
   * left as it is and reported in {@link WriteResult#downgradesRefused()}.
   *
   * <pre>{@code
   * WriteResult w = writeBack.write(choices, policies);
   * w.downgradesRefused().forEach(d -> log.warn(d.describe()));
   * }</pre>
   *
   * @throws GitWriteException when the repository cannot be fetched, the branch does not exist, a
   *     push is refused for another reason than a race, or every attempt lost a race
   * @throws IllegalArgumentException when a choice names a policy {@code policies} does not hold
   */
  public synchronized WriteResult write(Map<String, ImageChoice> choices, Collection<ImagePolicy> policies) {
    return run(choices, ranking(choices, policies), true);
  }

  /**
   * What {@link #write(Map, Collection)} would change at the current head, without committing or
   * pushing: the result lists the updates (and the downgrades it would refuse) and has no commit.
   *
   * @throws GitWriteException when the repository cannot be fetched or the branch does not exist
   * @throws IllegalArgumentException when a choice names a policy {@code policies} does not hold
   */
  public synchronized WriteResult preview(Map<String, ImageChoice> choices, Collection<ImagePolicy> policies) {
    return run(choices, ranking(choices, policies), false);
  }

  /**
   * Writes exactly {@code choices}, without ranking them against what Git holds: a pin set by
   * hand, or a deliberate rollback. Use {@link #write(Map, Collection)} for policies' choices.
   *
   * @throws GitWriteException as {@link #write(Map, Collection)}
   */
  public synchronized WriteResult write(Map<String, ImageChoice> choices) {
    return run(choices, Map.of(), true);
  }

  /**
   * What {@link #write(Map)} would change, without committing or pushing.
   *
   * @throws GitWriteException when the repository cannot be fetched or the branch does not exist
   */
  public synchronized WriteResult preview(Map<String, ImageChoice> choices) {
    return run(choices, Map.of(), false);
  }

  /** The policies of {@code choices} by name. */
  private static Map<String, ImagePolicy> ranking(Map<String, ImageChoice> choices, Collection<ImagePolicy> policies) {
    Map<String, ImagePolicy> byName = new HashMap<>();
    for (ImagePolicy p : policies) {
      byName.put(p.name(), p);
    }
    for (String name : choices.keySet()) {
      if (!byName.containsKey(name)) {
        throw new IllegalArgumentException("choice of policy " + name + " comes without its policy: the write-back "
            + "needs it to never downgrade a tag");
      }
    }
    return byName;
  }

  private WriteResult run(Map<String, ImageChoice> choices, Map<String, ImagePolicy> policies, boolean push) {
    Map<String, String> firstSeen = null;
    int attempts = 0;
    String lastRace = "";
    for (int attempt = 1; attempt <= maxPushAttempts; attempt++) {
      if (attempt > 1) {
        sleepJitter(attempt);
      }
      ObjectId base = fetch();
      Plan plan = plan(base, choices, policies, firstSeen);
      if (firstSeen == null) {
        firstSeen = plan.seen;
      }
      if (plan.files.isEmpty()) {
        LOG.info("{} ({}): images up to date at {}{}", display, pushBranch, base.name(),
            plan.conflicts.isEmpty() ? "" : "; " + plan.conflicts.size() + " conflicting edits left alone");
        return new WriteResult(pushBranch, Optional.of(base.name()), Optional.empty(), List.of(), plan.conflicts,
            plan.problems, plan.unresolved, attempts, plan.refused, plan.marked, plan.warnings,
            plan.unresolvedMarkers);
      }
      if (!push) {
        return new WriteResult(pushBranch, Optional.of(base.name()), Optional.empty(), plan.updates, plan.conflicts,
            plan.problems, plan.unresolved, 0, plan.refused, plan.marked, plan.warnings,
            plan.unresolvedMarkers);
      }
      ObjectId commit = commit(base, plan);
      beforePush.accept(attempt);
      fenceCheck();
      attempts++;
      Rejection rejected = push(commit);
      if (rejected == null) {
        LOG.info("{} ({}): pushed {} with {} image updates", display, pushBranch, commit.name(), plan.updates.size());
        return new WriteResult(pushBranch, Optional.of(base.name()), Optional.of(commit.name()), plan.updates,
            plan.conflicts, plan.problems, plan.unresolved, attempts, plan.refused, plan.marked, plan.warnings,
            plan.unresolvedMarkers);
      }
      if (!rejected.race) {
        throw new GitWriteException(display + ": push to " + pushBranch + " refused: " + rejected.message);  // scrubbed
      }
      LOG.info("{} ({}): push {} of {} lost a race ({}); fetching and re-applying", display, pushBranch, attempt,
          maxPushAttempts, rejected.message);
      lastRace = rejected.message;
    }
    throw new GitWriteException(display + ": push to " + pushBranch + " lost the race " + maxPushAttempts
        + " times (others keep pushing; last: " + lastRace + "); try again later");
  }

  /** The edits for one base commit. */
  private static final class Plan {
    /** New contents by path: its bytes as they are in the tree (any encoding), one char per byte. */
    final Map<String, byte[]> files = new TreeMap<>();
    final List<ImageUpdate> updates = new ArrayList<>();
    final List<EditConflict> conflicts = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    /** Files not read for markers that hold none as far as can be told (not UTF-8 text). */
    final List<String> warnings = new ArrayList<>();
    final List<String> unresolved = new ArrayList<>();
    /** The markers of {@link #unresolved}, file, line and setter apart. */
    final List<ImageMarker> unresolvedMarkers = new ArrayList<>();
    final List<RefusedDowngrade> refused = new ArrayList<>();
    final Map<String, String> seen = new HashMap<>();
    /** The policies of the choices that a marker names. */
    final Set<String> marked = new java.util.TreeSet<>();
  }

  /**
   * Reads the marked files at {@code base} and works out their new content. With {@code
   * firstSeen} (a retry), a slot whose value changed since the first read is someone else's edit:
   * left alone and reported unless it already holds our value.
   */
  private Plan plan(ObjectId base, Map<String, ImageChoice> choices, Map<String, ImagePolicy> policies,
      Map<String, String> firstSeen) {
    Plan plan = new Plan();
    try (ObjectReader reader = repository.newObjectReader(); RevWalk walk = new RevWalk(reader);
         TreeWalk tw = new TreeWalk(reader)) {
      RevCommit commit = walk.parseCommit(base);
      tw.addTree(commit.getTree());
      tw.setRecursive(true);
      if (!path.isEmpty()) {
        requirePath(reader, commit);
        tw.setFilter(PathFilter.create(path));
      }
      while (tw.next()) {
        byte[] raw = tw.getRawPath();
        String file = displayPath(raw);
        FileMode mode = tw.getFileMode(0);
        if (mode == FileMode.SYMLINK) {
          skippedLink(plan, reader, commit, file, raw, tw.getObjectId(0));
          continue;
        }
        if (!(file.endsWith(".yaml") || file.endsWith(".yml"))
            || !(mode == FileMode.REGULAR_FILE || mode == FileMode.EXECUTABLE_FILE)) {
          continue;
        }
        ObjectId blob = tw.getObjectId(0);
        if (unmarked.contains(blob)) {
          continue;
        }
        ObjectLoader loader = reader.open(blob);
        if (loader.getSize() > maxFile) {
          // a large generated file (a CRD bundle) holding no marker is no problem: it is scanned as a stream
          MarkerScan scan;
          try (java.io.InputStream in = loader.openStream()) {
            scan = MarkerScan.of(in);
          }
          if (scan.mentionsMarkers()) {
            plan.problems.add(file + ": larger than " + maxFile + " bytes and holds " + MarkedYaml.MARKER_FIELD
                + "; not read");
          } else {
            unmarkedOrNotText(plan, file, blob, scan);
          }
          continue;
        }
        byte[] bytes = loader.getBytes();
        // one pass: the field in the file's own encoding (UTF-16 and UTF-32 hide it from a UTF-8 byte search)
        // and whether the file is UTF-8 text
        MarkerScan scan = MarkerScan.of(bytes);
        if (scan.mentionsMarkers()) {
          planFile(plan, file, raw, bytes, choices, policies, firstSeen);  // one that is no UTF-8 text is a problem
        } else {
          unmarkedOrNotText(plan, file, blob, scan);
        }
      }
    } catch (IOException e) {
      throw new GitWriteException(display + ": cannot read commit " + base.name() + ": " + scrub(e.getMessage()),
          safe(e));
    }
    return plan;
  }

  /**
   * Checks that the path is a file or directory of {@code commit}'s tree.
   *
   * @throws PathNotFoundException when it is not there, or is a symbolic link (never followed)
   */
  private void requirePath(ObjectReader reader, RevCommit commit) throws IOException {
    try (TreeWalk at = TreeWalk.forPath(reader, path, commit.getTree())) {
      if (at == null) {
        throw new PathNotFoundException(path, display + ": path '" + path + "' is not in " + branchAt(commit)
            + " (no file or directory there)");
      }
      if (at.getFileMode(0) == FileMode.SYMLINK) {
        // TreeWalk would read the link itself, never what it points to: no file would be read
        throw new PathNotFoundException(path, display + ": path '" + path + "' is a symbolic link in "
            + branchAt(commit) + " (to '" + linkTarget(reader, at.getObjectId(0)) + "'), and links are not "
            + "followed; name the directory it points to");
      }
    }
  }

  /**
   * Fetches the branch and checks that it and the path are there, reading no file: what to call
   * before anything slow (a registry scan), so that a mistyped URL, branch or path fails at once.
   *
   * <pre>{@code
   * writeBack.verify();                 // throws at once on a typo, before any registry is asked
   * WriteResult w = writeBack.write(choices, policies);   // the choices the registries gave since
   * }</pre>
   *
   * @throws GitWriteException when the repository cannot be listed or fetched
   * @throws BranchNotFoundException when the branch does not exist (nor the push branch)
   * @throws PathNotFoundException when the path is not in the branch, or is a symbolic link there
   */
  public synchronized void verify() {
    ObjectId base = fetch();
    if (path.isEmpty()) {
      return;
    }
    try (ObjectReader reader = repository.newObjectReader(); RevWalk walk = new RevWalk(reader)) {
      requirePath(reader, walk.parseCommit(base));
    } catch (IOException e) {
      throw new GitWriteException(display + ": cannot read commit " + base.name() + ": " + scrub(e.getMessage()),
          safe(e));
    }
  }

  /** {@code branch main at abc1234}, naming the push branch too when its head is the base. */
  private String branchAt(ObjectId base) {
    return "branch " + (pushBranch.equals(branch) ? branch : branch + " (or " + pushBranch + ")") + " at " + base.name();
  }

  /**
   * A path as people read it: its UTF-8 text, each byte that is not UTF-8 (a Latin-1 {@code é})
   * written {@code \xe9}. The path itself is kept as its bytes ({@code raw}) for the commit.
   */
  static String displayPath(byte[] raw) {
    java.nio.charset.CharsetDecoder utf8 = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
        .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(raw);
    java.nio.CharBuffer out = java.nio.CharBuffer.allocate(raw.length);
    StringBuilder text = new StringBuilder();
    while (true) {
      java.nio.charset.CoderResult r = utf8.decode(in, out, true);
      out.flip();
      text.append(out);
      out.clear();
      if (r.isUnderflow()) {
        break;
      }
      if (r.isError()) {
        for (int i = 0; i < r.length(); i++) {
          text.append(String.format("\\x%02x", in.get() & 0xff));
        }
      }
    }
    utf8.flush(out);
    out.flip();
    return text.append(out).toString();
  }

  /**
   * A file that holds no marker: remembered as such when it is UTF-8 text; one that is not (UTF-16,
   * UTF-32, Latin-1) is no marker file as far as can be told, but no marker would be read in it
   * either, so it is a warning naming it at every run, never skipped without a word.
   */
  private void unmarkedOrNotText(Plan plan, String file, ObjectId blob, MarkerScan scan) {
    if (scan.notUtf8().isEmpty()) {
      unmarked.add(blob);
      return;
    }
    String warning = file + ": " + scan.notUtf8().get() + "; it mentions no " + MarkedYaml.MARKER_FIELD + " in its"
        + " encoding and is not read for markers (markers are only read in UTF-8 files)";
    if (warnedNotText.add(blob)) {
      LOG.warn("{} ({}): {}", display, pushBranch, warning);
    }
    plan.warnings.add(warning);
  }

  /** What a symbolic link's blob says it points to, for messages. */
  private static String linkTarget(ObjectReader reader, ObjectId blob) throws IOException {
    ObjectLoader loader = reader.open(blob);
    if (loader.getSize() > 4096) {
      return "(a target of " + loader.getSize() + " bytes)";
    }
    return displayPath(loader.getBytes());
  }

  /**
   * A symbolic link under the path: links are not followed. One whose target is a file or
   * directory under the path is read there anyway (only logged); one that would bring in a YAML
   * file or a directory from elsewhere is a problem naming it, so a run never calls the images up
   * to date over files it did not read.
   */
  private void skippedLink(Plan plan, ObjectReader reader, RevCommit commit, String file, byte[] raw, ObjectId blob)
      throws IOException {
    String target = linkTarget(reader, blob);
    String resolved = resolveLink(displayPath(raw), target);
    boolean readThere = resolved != null && (path.isEmpty() || resolved.equals(path) || resolved.startsWith(path + "/"));
    boolean yaml = file.endsWith(".yaml") || file.endsWith(".yml") || target.endsWith(".yaml") || target.endsWith(".yml");
    boolean directory = false;
    if (resolved != null && !resolved.isEmpty()) {
      try (TreeWalk at = TreeWalk.forPath(reader, resolved, commit.getTree())) {
        directory = at != null && at.getFileMode(0) == FileMode.TREE;
      }
    }
    if (readThere || !(yaml || directory)) {
      LOG.debug("{} ({}): {} is a symbolic link to '{}', not followed", display, pushBranch, file, target);
      return;
    }
    String what = directory ? "directory" : "file";
    plan.problems.add(file + ": a symbolic link (to '" + target + "'), not read: links are not followed, so the markers"
        + " in the " + what + " it points to are not updated; replace the link by that " + what
        + (path.isEmpty() || resolved == null ? "" : ", or widen path '" + path + "' to take it in"));
  }

  /** The repository path {@code link} (a path in the tree) points to with {@code target}, or null when it leaves the repository. */
  static String resolveLink(String link, String target) {
    if (target.startsWith("/")) {
      return null;
    }
    List<String> parts = new ArrayList<>(List.of(link.split("/")));
    parts.remove(parts.size() - 1);
    for (String part : target.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (parts.isEmpty()) {
          return null;
        }
        parts.remove(parts.size() - 1);
      } else {
        parts.add(part);
      }
    }
    return String.join("/", parts);
  }

  private void planFile(Plan plan, String file, byte[] raw, byte[] bytes, Map<String, ImageChoice> choices,
      Map<String, ImagePolicy> policies, Map<String, String> firstSeen) {
    MarkedYaml yaml;
    try {
      yaml = MarkedYaml.parse(file, bytes);
    } catch (MarkerException e) {
      plan.problems.add(e.getMessage());
      return;
    }
    yaml.problems().forEach(p -> plan.problems.add(p.getMessage()));
    // first the tags (whole references and :tag markers) that a choice would downgrade, per document and policy
    Set<ImageMarker> kept = new HashSet<>();
    Set<String> keptIn = new HashSet<>();  // document and policy of each kept tag: its :digest marker stays too
    for (ImageMarker m : yaml.markers()) {
      Optional<Setter> setter = Setter.resolve(m.setter(), choices.keySet());
      if (setter.isPresent() && policies.containsKey(setter.get().policy())) {
        Optional<RefusedDowngrade> why;
        try {
          why = downgrade(m, setter.get(), choices.get(setter.get().policy()), policies.get(setter.get().policy()));
        } catch (PatternTooSlowException e) {
          // cannot tell whether the choice ranks below what Git holds: left as it is, and a problem (the run failed)
          kept.add(m);
          keptIn.add(m.document() + "\0" + setter.get().policy());
          plan.problems.add(m.location() + ": marker " + m.setter() + " left as it is: " + e.getMessage());
          continue;
        }
        if (why.isPresent()) {
          kept.add(m);
          keptIn.add(m.document() + "\0" + setter.get().policy());
          plan.refused.add(why.get());
        }
      }
    }
    Map<ImageMarker, String> values = new LinkedHashMap<>();
    for (ImageMarker m : yaml.markers()) {
      Optional<Setter> setter = Setter.resolve(m.setter(), choices.keySet());
      if (setter.isEmpty()) {
        plan.unresolved.add(m.location() + " " + m.setter());
        plan.unresolvedMarkers.add(m);
        continue;
      }
      plan.marked.add(setter.get().policy());
      ImageChoice choice = choices.get(setter.get().policy());
      Optional<String> wanted = setter.get().valueFor(choice);
      if (wanted.isEmpty()) {
        plan.problems.add(m.location() + ": marker " + m.setter() + " asks for a digest but policy "
            + choice.policy() + " does not follow digests");
        continue;
      }
      if (kept.contains(m)) {
        continue;
      }
      if (setter.get().part() == Setter.Part.DIGEST && keptIn.contains(m.document() + "\0" + setter.get().policy())) {
        if (!m.value().equals(wanted.get())) {
          plan.refused.add(new RefusedDowngrade(file, m.line(), m.object(), m.path(), setter.get().policy(), m.value(),
              wanted.get(), "the digest beside a tag this document keeps (newer than the policy allows)"));
        }
        continue;
      }
      String slot = m.file() + "\0" + m.document() + "\0" + m.path() + "\0" + m.setter();
      plan.seen.put(slot, m.value());
      if (m.value().equals(wanted.get())) {
        continue;
      }
      String before = firstSeen == null ? null : firstSeen.get(slot);
      if (before != null && !before.equals(m.value())) {
        plan.conflicts.add(new EditConflict(file, m.line(), m.setter(), before, wanted.get(), m.value()));
        LOG.warn("{} ({}): {}", display, pushBranch, plan.conflicts.get(plan.conflicts.size() - 1).describe());
        continue;
      }
      values.put(m, wanted.get());
      Setter s = setter.get();
      ImageUpdate update = new ImageUpdate(file, m.line(), m.object(), m.path(), s.policy(), s.part(), choice.image(),
          m.value(), wanted.get(), s.tagIn(m.value()), s.tagIn(wanted.get()), s.digestIn(m.value()),
          s.digestIn(wanted.get()));
      if (update.digestDropped()) {
        LOG.warn("{} ({}): {}", display, pushBranch, update.describe());
      }
      plan.updates.add(update);
    }
    if (!values.isEmpty()) {
      byte[] edited = yaml.withValues(values);
      if (!java.util.Arrays.equals(edited, bytes)) {
        plan.files.put(new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1), edited);
      }
    }
  }

  /**
   * Why writing {@code choice} into {@code m} would be a downgrade under {@code policy}: the tag
   * {@code m} holds (for the same image) ranks above the chosen one; empty when it would not.
   *
   * @throws PatternTooSlowException when the policy's filter cannot read the tag {@code m} holds in time
   */
  private static Optional<RefusedDowngrade> downgrade(ImageMarker m, Setter setter, ImageChoice choice,
      ImagePolicy policy) {
    if (setter.part() != Setter.Part.TAG && setter.part() != Setter.Part.IMAGE) {
      return Optional.empty();
    }
    String current = setter.tagIn(m.value());
    if (current == null || current.equals(choice.tag())) {
      return Optional.empty();
    }
    if (setter.part() == Setter.Part.IMAGE && !sameRepository(m.value(), choice.image())) {
      return Optional.empty();  // another image: the policy's choice replaces it, no ranking between them
    }
    if (!policy.ranksAbove(current, choice.tag())) {
      return Optional.empty();
    }
    String wanted = setter.valueFor(choice).orElse(choice.tag());
    return Optional.of(new RefusedDowngrade(m.file(), m.line(), m.object(), m.path(), policy.name(), m.value(), wanted,
        current + " ranks above " + choice.tag() + ", the best tag policy " + policy.name() + " allows ("
            + policy.order() + "); never downgraded"));
  }

  private static boolean sameRepository(String reference, String image) {
    try {
      ImageReference a = ImageReference.parse(reference);
      ImageReference b = ImageReference.parse(image);
      return a.registry().equalsIgnoreCase(b.registry()) && a.repository().equals(b.repository());
    } catch (IllegalArgumentException notAReference) {
      return false;
    }
  }

  private ObjectId commit(ObjectId base, Plan plan) {
    try (ObjectInserter ins = repository.newObjectInserter(); ObjectReader reader = repository.newObjectReader();
         RevWalk walk = new RevWalk(reader)) {
      RevCommit parent = walk.parseCommit(base);
      DirCache index = DirCache.newInCore();
      DirCacheBuilder builder = index.builder();
      builder.addTree(new byte[0], DirCacheEntry.STAGE_0, reader, parent.getTree());
      builder.finish();
      // by the paths' bytes, as the tree holds them: a name that is not UTF-8 (Latin-1 "caf\xe9.yaml") is
      // that file, where re-encoding its text would name another, which the tree does not hold
      DirCacheEditor editor = index.editor();
      for (Map.Entry<String, byte[]> f : plan.files.entrySet()) {
        ObjectId blob = ins.insert(Constants.OBJ_BLOB, f.getValue());
        editor.add(new DirCacheEditor.PathEdit(
            new DirCacheEntry(f.getKey().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))) {
          @Override
          public void apply(DirCacheEntry ent) {
            ent.setObjectId(blob);  // the mode (executable bit) stays the existing entry's
          }
        });
      }
      editor.finish();
      CommitBuilder cb = new CommitBuilder();
      cb.setTreeId(index.writeTree(ins));
      cb.setParentId(parent);
      PersonIdent who = new PersonIdent(authorName, authorEmail);
      cb.setAuthor(who);
      cb.setCommitter(who);
      cb.setMessage(message(plan.updates));
      if (signer != null) {
        signer.signObject(repository, new GpgConfig(new Config()), cb, who, signingKey, credentials);
      }
      ObjectId id = ins.insert(cb);
      ins.flush();
      return id;
    } catch (IOException | GitAPIException e) {
      throw new GitWriteException(display + ": cannot commit on " + base.name() + ": " + scrub(e.getMessage()),
          safe(e));
    }
  }

  /** Runs the push fence's check: a stale writer pushes nothing. */
  private void fenceCheck() {
    if (pushFence == null) {
      return;
    }
    try {
      pushFence.check();
    } catch (RuntimeException e) {
      throw new GitWriteException(display + ": push to " + pushBranch + " refused before sending, the writer is"
          + " fenced: " + scrub(e.getMessage()), safe(e));
    }
  }

  /** The commit message for {@code updates}, from the template, with the push fence's trailer. */
  String message(List<ImageUpdate> updates) {
    StringBuilder lines = new StringBuilder();
    for (ImageUpdate u : updates) {
      // one line per change: a key or value holding a line break (a "\n" escape) is shown escaped, never a line of
      // its own that could read as a trailer (Signed-off-by:, a push fence's)
      lines.append(lines.isEmpty() ? "" : "\n").append("- ").append(PlanRenderer.printableName(u.file()))
          .append(u.object().isEmpty() ? "" : ": " + PlanRenderer.printableName(u.object())).append(' ')
          .append(PlanRenderer.printableName(u.path())).append(": ").append(PlanRenderer.printableName(u.oldValue()))
          .append(" -> ").append(u.newValue()).append(" (").append(u.policy()).append(')');
    }
    Map<String, String> vars = Map.of("count", Integer.toString(updates.size()), "updates", lines.toString(),
        "policies", String.join(", ", updates.stream().map(ImageUpdate::policy).distinct().sorted().toList()));
    Matcher m = PLACEHOLDER.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(vars.get(m.group(1))));
    }
    m.appendTail(out);
    String text = out.toString();
    text = text.endsWith("\n") ? text : text + "\n";
    if (pushFence != null) {
      String trailer = pushFence.trailer();
      if (trailer == null || !PushFence.TRAILER.matcher(trailer).matches()) {
        throw new GitWriteException(display + ": the push fence's trailer must be one 'Key: value' line, got "
            + trailer);
      }
      // trailers are the last paragraph of the message (git interpret-trailers reads them there)
      text = text.stripTrailing() + "\n\n" + trailer + "\n";
    }
    return text;
  }

  /** A push that did not land: whether another writer won a race, and what the server said. */
  private record Rejection(boolean race, String message) {}

  private Rejection push(ObjectId commit) {
    String checkedOut = checkedOutThere();
    if (checkedOut != null) {
      return new Rejection(false, checkedOut);
    }
    try (Git git = Git.wrap(repository)) {
      PushCommand push = git.push().setRemote(remote)
          .setRefSpecs(new RefSpec(commit.name() + ":" + Constants.R_HEADS + pushBranch))
          .setTransportConfigCallback(Credentials.originBound(remote, credentials)).setTimeout(timeoutSeconds);
      for (PushResult r : GitDaemonTransport.around(push::call)) {
        for (RemoteRefUpdate u : r.getRemoteUpdates()) {
          RemoteRefUpdate.Status s = u.getStatus();
          if (s == RemoteRefUpdate.Status.OK || s == RemoteRefUpdate.Status.UP_TO_DATE) {
            continue;
          }
          // the server's words (a hook may quote anything, the URL it was reached by too): scrubbed
          String msg = scrub(s + (u.getMessage() == null ? "" : ": " + u.getMessage()) + remoteSaid(r));
          boolean race = s == RemoteRefUpdate.Status.REJECTED_NONFASTFORWARD
              || s == RemoteRefUpdate.Status.REJECTED_REMOTE_CHANGED
              || (s == RemoteRefUpdate.Status.REJECTED_OTHER_REASON && (raceIn(u.getMessage())
                  || lockLostIn(r.getMessages()) || movedUnderUs()));
          return new Rejection(race, msg);
        }
      }
      return null;
    } catch (GitAPIException | RuntimeException e) {
      // JGit's messages (InvalidRemoteException, TransportException) quote the URL as given, password and all
      throw new GitWriteException(display + ": push to " + pushBranch + " failed: " + scrub(e.getMessage()), safe(e));
    }
  }

  /** Whether JGit's or the server's status text for the ref says that another update came first. */
  private static boolean raceIn(String status) {
    return status != null
        && status.toLowerCase(java.util.Locale.ROOT).matches("(?s).*(fetch first|non-fast-forward|lock|stale).*");
  }

  /**
   * Whether the server's messages say it could not move the push branch because the branch moved
   * (or was being moved) since the push began: current git answers only "failed to update ref" for
   * the ref, and says why among its remote messages ({@code cannot lock ref 'refs/heads/main': is at X
   * but expected Y}, or {@code ...: Unable to create '.../main.lock': File exists}).
   */
  private boolean lockLostIn(String remoteMessages) {
    return remoteMessages != null && remoteMessages.contains("cannot lock ref '" + Constants.R_HEADS + pushBranch + "'");
  }

  /**
   * Whether the push branch's remote head is no longer the one this writer fetched (the branch moved
   * under the push, or came into being): whatever the server said, the same push cannot land, and a
   * fetch and re-apply can. A server that cannot be listed says nothing here.
   */
  private boolean movedUnderUs() {
    try {
      Ref now = lsRemote().get(Constants.R_HEADS + pushBranch);
      ObjectId head = now == null ? null : now.getObjectId();
      return !Objects.equals(head, fetchedPushHead);
    } catch (GitWriteException e) {
      LOG.debug("{}: cannot tell whether {} moved under the push: {}", display, pushBranch, e.getMessage());
      return false;
    }
  }

  /**
   * Why a push to a local repository would move the branch checked out in its working tree, as
   * {@code git push} refuses by default ({@code receive.denyCurrentBranch}): the branch would move
   * while the working tree and index stayed, so the next commit there would undo the update. Null
   * when the remote is no local repository with a working tree, another branch is checked out
   * there, or its {@code receive.denyCurrentBranch} is {@code ignore}, {@code warn} or {@code
   * false}; {@code updateInstead} is refused too (it is not carried out here).
   */
  private String checkedOutThere() {
    if (localRemote == null) {
      return null;
    }
    java.io.File gitDir = org.eclipse.jgit.lib.RepositoryCache.FileKey.resolve(localRemote.toFile(),
        org.eclipse.jgit.util.FS.DETECTED);
    if (gitDir == null) {
      return null;  // no repository there: the push reports it
    }
    try (Repository there = new org.eclipse.jgit.storage.file.FileRepositoryBuilder().setGitDir(gitDir)
        .setMustExist(true).build()) {
      if (there.isBare() || !(Constants.R_HEADS + pushBranch).equals(there.getFullBranch())) {
        return null;
      }
      String deny = there.getConfig().getString("receive", null, "denyCurrentBranch");
      if (deny != null && List.of("ignore", "warn", "false").contains(deny.toLowerCase(java.util.Locale.ROOT))) {
        return null;
      }
      return pushBranch + " is checked out in the working tree at " + there.getWorkTree()
          + ", which a push would leave behind (git refuses it too: receive.denyCurrentBranch"
          + (deny == null ? "" : " is " + deny) + "); push to a bare repository or to another branch, or check out"
          + " another branch there";
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: could not tell whether {} is checked out there ({}); pushing", display, pushBranch, e.toString());
      return null;
    }
  }

  /** What the server printed ({@code remote:} lines, such as a hook's reason), for the error; "" when nothing. */
  private static String remoteSaid(PushResult r) {
    String said = r.getMessages() == null ? "" : r.getMessages().strip();
    if (said.isEmpty()) {
      return "";
    }
    List<String> lines = said.lines().map(String::strip).filter(l -> !l.isEmpty()).limit(20).toList();
    return " (remote: " + String.join(" | ", lines) + ")";
  }

  /** Fetches the branches and returns the base: the push branch's head if it exists, else the checkout branch's. */
  private ObjectId fetch() {
    Map<String, Ref> heads = lsRemote();
    List<RefSpec> specs = new ArrayList<>();
    for (String b : new java.util.LinkedHashSet<>(List.of(pushBranch, branch))) {
      if (heads.containsKey(Constants.R_HEADS + b)) {
        specs.add(new RefSpec("+" + Constants.R_HEADS + b + ":" + Constants.R_REMOTES + "origin/" + b));
      }
    }
    if (specs.isEmpty()) {
      throw new BranchNotFoundException(branch, pushBranch, display + ": branch " + branch + " does not exist"
          + (pushBranch.equals(branch) ? "" : " (nor " + pushBranch + ")"));
    }
    try {
      openRepository();
      try (Git git = Git.wrap(repository)) {
        FetchCommand fetch = git.fetch().setRemote(remote).setRefSpecs(specs)
            .setTransportConfigCallback(Credentials.originBound(remote, credentials)).setTimeout(timeoutSeconds);
        GitDaemonTransport.around(fetch::call);
      }
      Ref fetchedPush = heads.containsKey(Constants.R_HEADS + pushBranch)
          ? repository.exactRef(Constants.R_REMOTES + "origin/" + pushBranch) : null;
      fetchedPushHead = fetchedPush == null ? null : fetchedPush.getObjectId();
      for (String b : List.of(pushBranch, branch)) {
        Ref r = repository.exactRef(Constants.R_REMOTES + "origin/" + b);
        if (r != null && heads.containsKey(Constants.R_HEADS + b)) {
          return r.getObjectId();
        }
      }
    } catch (IOException | GitAPIException | RuntimeException e) {
      throw new GitWriteException(display + ": fetch of " + branch + " failed: " + scrub(e.getMessage()), safe(e));
    }
    throw new GitWriteException(display + ": fetched nothing for " + branch);
  }

  private Map<String, Ref> lsRemote() {
    try {
      LsRemoteCommand list = Git.lsRemoteRepository().setRemote(remote).setHeads(true)
          .setTransportConfigCallback(Credentials.originBound(remote, credentials)).setTimeout(timeoutSeconds);
      return GitDaemonTransport.around(list::callAsMap);
    } catch (GitAPIException | RuntimeException e) {
      throw new GitWriteException(display + ": cannot list branches: " + scrub(e.getMessage()), safe(e));
    }
  }

  /**
   * {@code text} (JGit's or the server's words about this repository) without the URL's password or
   * token user name and without what {@link Builder#credentials(String, String)} gave that is secret,
   * each shown as {@code ***}.
   */
  private String scrub(String text) {
    return GitUrls.scrub(text, url, secrets);
  }

  /** {@code e}, or a copy of its cause chain with every message {@linkplain #scrub scrubbed} when one holds a secret. */
  private Throwable safe(Throwable e) {
    return GitUrls.scrubbed(e, this::scrub);
  }

  private void openRepository() throws IOException, GitAPIException {
    if (repository != null) {
      return;
    }
    if (ownCache && cacheDir == null) {
      cacheDir = Files.createTempDirectory("gitops-images-");
      Path dir = cacheDir;
      removeOnExit = new Thread(() -> deleteTemporaryClone(dir), "gitops-images-cleanup");
      Runtime.getRuntime().addShutdownHook(removeOnExit);
    }
    Files.createDirectories(cacheDir);
    if (Files.exists(cacheDir.resolve("HEAD"))) {
      repository = Git.open(cacheDir.toFile()).getRepository();
    } else {
      repository = Git.init().setBare(true).setDirectory(cacheDir.toFile()).call().getRepository();
      if (ownCache) {
        // no background auto-gc in a clone deleted on close: it would write into the directory being
        // removed (JGit takes gc.log's lock on a background thread before it even reads gc.auto)
        repository.getConfig().setInt("gc", null, "auto", 0);
        repository.getConfig().setBoolean("gc", null, "autoDetach", false);
        repository.getConfig().save();
      }
    }
  }

  private void sleepJitter(int attempt) {
    long max = Math.min(10_000, retryDelay.toMillis() << Math.min(10, attempt - 2));
    long delay = max / 2 + ThreadLocalRandom.current().nextLong(max / 2 + 1);
    try {
      Thread.sleep(delay);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GitWriteException(display + ": interrupted while waiting to push again", safe(e));
    }
  }

  /** Closes the cache repository; a cache this writer created itself is deleted. */
  @Override
  public synchronized void close() {
    if (repository != null) {
      repository.close();
      repository = null;
    }
    if (ownCache && cacheDir != null) {
      deleteTemporaryClone(cacheDir);
      cacheDir = null;
      try {
        Runtime.getRuntime().removeShutdownHook(removeOnExit);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs (or ran) anyway
      }
      removeOnExit = null;
    }
  }

  private static void deleteTemporaryClone(Path dir) {
    try {
      FileUtils.delete(dir.toFile(), FileUtils.RECURSIVE | FileUtils.SKIP_MISSING | FileUtils.RETRY);
    } catch (IOException e) {
      LOG.warn("cannot delete the temporary clone {}: {}", dir, e.getMessage());
    }
  }

  /** The bare clone's directory, or null while a temporary one is not made yet (tests). */
  synchronized Path cacheDirectory() {
    return cacheDir;
  }

  @Override
  public String toString() {
    return "GitWriteBack[" + display + " " + branch + (pushBranch.equals(branch) ? "" : " -> " + pushBranch)
        + (path.isEmpty() ? "" : " " + path) + "]";
  }

  /** Builds a {@link GitWriteBack}. */
  public static final class Builder {
    private final String url;
    private String branch = "main";
    private String pushBranch;
    private String path = "";
    private Path cacheDir;
    private CredentialsProvider credentials;
    private List<String> secrets = List.of();
    private String authorName = "gitops-images";
    private String authorEmail = "gitops-images@localhost";
    private String template = DEFAULT_MESSAGE;
    private Signer signer;
    private String signingKey;
    private int maxPushAttempts = 5;
    private Duration retryDelay = Duration.ofMillis(500);
    private PushFence pushFence;
    private Duration timeout = GitSource.DEFAULT_TIMEOUT;
    private IntConsumer beforePush = attempt -> { };
    private long maxFile = MAX_FILE;

    private Builder(String url) {
      if (Objects.requireNonNull(url, "url").isBlank()) {
        throw new IllegalArgumentException("the repository's URL or path is empty");
      }
      this.url = requireNotSsh(url);
    }

    /**
     * {@code url} when it is not an SSH remote ({@code ssh://}, {@code git+ssh://}, or the scp-like
     * {@code user@host:path}): the write-back configures no SSH, so JGit would fall back to its default
     * session factory, which reads {@code ~/.ssh} (keys, config, known hosts) — never what gitops's SSH
     * support promises — or fail deep inside the transport. Refused up front, naming the URL without
     * its password.
     */
    private static String requireNotSsh(String url) {
      // by its text first: URIish reads only lower-case schemes as schemes
      boolean ssh = url.toLowerCase(java.util.Locale.ROOT).matches("(ssh|git\\+ssh|ssh\\+git)://.*");
      org.eclipse.jgit.transport.URIish uri = null;
      try {
        uri = new org.eclipse.jgit.transport.URIish(url);
      } catch (java.net.URISyntaxException e) {
        // not a URL JGit reads: reported where it is read, as before, without the password
      }
      boolean scpLike = uri != null && uri.getScheme() == null && uri.getHost() != null;
      if (ssh || scpLike) {
        throw new IllegalArgumentException("SSH remotes are not supported for the image write-back: "
            + dev.gitops.core.internal.git.GitUrls.withoutPassword(url) + "; use an https:// URL (with credentials),"
            + " a git:// URL or a local path");
      }
      return url;
    }

    /** The branch to read (default {@code main}). */
    public Builder branch(String name) {
      this.branch = branchName(name, "branch");
      return this;
    }

    /** The branch to push to (default: the branch read). */
    public Builder pushBranch(String name) {
      this.pushBranch = branchName(name, "push branch");
      return this;
    }

    /**
     * Only files under this path are read (default: the whole repository). {@code ./apps},
     * {@code apps/} and {@code apps//x} are read as {@code apps} and {@code apps/x}; a path that is
     * not in the branch's tree fails the write with a {@link PathNotFoundException}.
     *
     * @throws IllegalArgumentException when the path is absolute or leaves the repository
     */
    public Builder path(String subPath) {
      String p = Objects.requireNonNull(subPath, "path").replace('\\', '/');
      List<String> parts = new ArrayList<>();
      for (String part : p.split("/")) {
        if (part.equals("..")) {
          throw new IllegalArgumentException("path '" + subPath + "' must be relative and stay inside the repository");
        }
        if (!part.isEmpty() && !part.equals(".")) {
          parts.add(part);
        }
      }
      if (p.startsWith("/")) {
        throw new IllegalArgumentException("path '" + subPath + "' must be relative and stay inside the repository");
      }
      this.path = String.join("/", parts);
      return this;
    }

    /** Where the bare clone is kept between writes (default: a temporary directory deleted on close). */
    public Builder cacheDir(Path dir) {
      this.cacheDir = Objects.requireNonNull(dir, "cacheDir");
      return this;
    }

    /**
     * HTTP basic credentials (a token as password for most hosts). The password, and the user name
     * when it is the token (no password, or it looks like one), are masked as {@code ***} in every
     * error and log line, as a password in the URL is.
     */
    public Builder credentials(String username, String password) {
      this.credentials = new UsernamePasswordCredentialsProvider(username, password);
      List<String> hidden = new ArrayList<>();
      if (password != null && !password.isEmpty()) {
        hidden.add(password);
      }
      if (username != null && GitUrls.hidesUser("https", username, password)) {
        hidden.add(username);
      }
      this.secrets = List.copyOf(hidden);
      return this;
    }

    /** Any JGit credentials provider (what it answers is never known here, so only the URL's secrets are masked). */
    public Builder credentials(CredentialsProvider provider) {
      this.credentials = Objects.requireNonNull(provider, "provider");
      this.secrets = List.of();
      return this;
    }

    /**
     * Author and committer of the commits (default {@code gitops-images <gitops-images@localhost>}).
     *
     * @throws IllegalArgumentException for a blank name, or a name or email holding a line break,
     *     {@code <} or {@code >}, which a commit's author line cannot hold (git refuses the first;
     *     JGit would drop the characters and commit another identity than the one given)
     */
    public Builder author(String name, String email) {
      this.authorName = identity("author name", Objects.requireNonNull(name, "name"), false);
      this.authorEmail = identity("author email", Objects.requireNonNull(email, "email"), true);
      return this;
    }

    private static String identity(String what, String value, boolean mayBeEmpty) {
      if (!mayBeEmpty && value.isBlank()) {
        throw new IllegalArgumentException(what + " must not be empty");
      }
      if (value.chars().anyMatch(c -> c == '\n' || c == '\r' || c == '\0' || c == '<' || c == '>')) {
        throw new IllegalArgumentException(what + " '" + value.replace("\n", "\\n").replace("\r", "\\r")
            .replace("\0", "\\0") + "' holds a line break, a NUL, '<' or '>', which a commit's author line cannot hold");
      }
      return value;
    }

    /**
     * The commit message: {@code ${count}}, {@code ${updates}} and {@code ${policies}} are
     * replaced (default {@value GitWriteBack#DEFAULT_MESSAGE}).
     *
     * <pre>{@code
     * GitWriteBack.Builder b = GitWriteBack.builder("https://git.example.com/ops/cluster.git")
     *     .messageTemplate("chore: update ${count} images\n\n${updates}");
     * }</pre>
     *
     * @throws IllegalArgumentException naming an unknown placeholder (any other {@code ${...}}, such
     *     as {@code ${Count}} or {@code ${ count }}) or a Go template action ({@code {{range ...}}},
     *     Flux's template syntax), which would be committed as written
     */
    public Builder messageTemplate(String text) {
      // every ${...}, not only the lower-case names the message fills in: ${Count}, ${ count } and ${} would be
      // committed as written
      Matcher m = ANY_PLACEHOLDER.matcher(Objects.requireNonNull(text, "template"));
      while (m.find()) {
        if (!PLACEHOLDERS.contains(m.group(1))) {
          throw new IllegalArgumentException("message template: unknown placeholder ${" + m.group(1)
              + "} (known: ${count}, ${updates}, ${policies})");
        }
      }
      Matcher go = GO_TEMPLATE_ACTION.matcher(text);
      if (go.find()) {
        // Flux's messageTemplate is a Go template: one carried over would be committed as its text
        throw new IllegalArgumentException("message template: " + go.group() + " is Go template syntax (Flux's"
            + " messageTemplate), which is not read here; use ${count}, ${updates} and ${policies}");
      }
      if (text.isBlank()) {
        throw new IllegalArgumentException("message template is empty");
      }
      this.template = text;
      return this;
    }

    /** Signs every commit with {@code signer} and the key {@code keyId} (what the signer understands by it). */
    public Builder signer(Signer signer, String keyId) {
      this.signer = Objects.requireNonNull(signer, "signer");
      this.signingKey = keyId;
      return this;
    }

    /**
     * Adds {@code fence}'s trailer to every commit and runs its check right before every push
     * (default: none). A clustered writer passes its ownership: {@code
     * PushFence.of(ownership.trailer(), () -> coordinator.checkFence(ownership))}.
     */
    public Builder pushFence(PushFence fence) {
      this.pushFence = Objects.requireNonNull(fence, "fence");
      return this;
    }

    /** Pushes tried per write when others keep winning the race (default 5). */
    public Builder maxPushAttempts(int n) {
      if (n < 1 || n > 50) {
        throw new IllegalArgumentException("maxPushAttempts must be 1..50, got " + n);
      }
      this.maxPushAttempts = n;
      return this;
    }

    /** The base of the random wait before pushing again (default 500 ms; doubles per attempt, at most 10 s). */
    public Builder retryDelay(Duration d) {
      this.retryDelay = Durations.positive(d, "retryDelay");
      return this;
    }

    /**
     * Network timeout of each fetch, listing and push (default 60 s), as {@link
     * GitSource.Builder#timeout}: positive, taken in whole seconds, at least one.
     */
    public Builder timeout(Duration d) {
      this.timeout = Durations.positive(d, "timeout");
      return this;
    }

    /** The largest marked file read (tests: a small one stands for 5 MiB). */
    Builder maxFileSize(long bytes) {
      this.maxFile = bytes;
      return this;
    }

    /** Runs before each push with the attempt number (tests use it to push from another client in between). */
    Builder beforePush(IntConsumer hook) {
      this.beforePush = Objects.requireNonNull(hook, "hook");
      return this;
    }

    private static String branchName(String name, String what) {
      Objects.requireNonNull(name, what);
      String n = name.startsWith(Constants.R_HEADS) ? name.substring(Constants.R_HEADS.length()) : name;
      if (!Repository.isValidRefName(Constants.R_HEADS + n)) {
        throw new IllegalArgumentException(what + " '" + name + "' is not a valid branch name");
      }
      return n;
    }

    /** The writer: nothing is fetched, and no temporary directory made, until the first write or preview. */
    public GitWriteBack build() {
      return new GitWriteBack(this);
    }
  }
}
