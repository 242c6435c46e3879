package dev.gitops.agent.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.agent.TargetStatus;
import dev.gitops.agent.providers.LocalRepository;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.core.Reconciler;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.internal.fs.RealPaths;
import dev.gitops.core.source.GitSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The agent's configuration file, read and checked whole: one error anywhere rejects it, naming
 * the file, the line and the field. {@code docs/agent.md} describes every field.
 *
 * <pre>{@code
 * AgentConfig config = AgentConfig.load(Path.of("agent.yaml"), factories, System.getenv(), true);
 * // t.url() is the URL as written, password and all: log the name and the provider instead
 * config.targets().forEach(t -> log.info("{} -> {} every {}", t.name(), t.providerType(), t.interval()));
 * }</pre>
 *
 * @param file the file read
 * @param stateDir where stores (by default), Git caches and status files live
 * @param maxConcurrentSyncs syncs in flight at once across all targets
 * @param gracePeriod how long a shutdown, or a reload for the targets it stops, waits for syncs in flight to stop
 *     at a safe point
 * @param watchConfig whether a change of the file reloads it (as SIGHUP does)
 * @param stuckAfter a target with no sync finished for this long (or three intervals, if longer) is stuck
 * @param targets the targets, in file order
 * @param notifiers the notifiers, in file order
 * @param notifications the {@code notifications} section as written, to tell a change on reload
 */
public record AgentConfig(Path file, Path stateDir, int maxConcurrentSyncs, Duration gracePeriod, boolean watchConfig,
    Duration stuckAfter, List<TargetConfig> targets, List<NotifierConfig> notifiers, JsonNode notifications) {

  /** The shortest {@code interval} and {@code maxBackoff} of a target. */
  private static final Duration MIN_SYNC_INTERVAL = Duration.ofSeconds(1);

  /**
   * The shortest {@code callTimeout}, {@code syncTimeout} and {@code source.timeout} of a target,
   * and of a provider's run ({@code ansible}'s {@code timeout}, {@code terraform}'s {@code
   * commandTimeout}): {@code 1ms} (a slip for {@code 1m}) would cut off every call, apply or fetch,
   * so that the target never syncs.
   */
  public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);

  /**
   * The file in the state directory that an agent run without a cluster holds locked for its whole
   * life, its pid written in it ({@code <stateDir>/agent.lock}): no store or path a provider writes
   * may be it, or lie inside it.
   */
  public static final String LOCK_FILE = "agent.lock";

  /** The shortest {@code stuckAfter}: three of the shortest {@code interval}, which a target waits at least. */
  private static final Duration MIN_STUCK_AFTER = MIN_SYNC_INTERVAL.multipliedBy(3);

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?");

  /** What {@link #isName} accepts, in words, for messages. */
  public static final String NAME_RULE = "lower-case letters, digits, '.', '_' and '-', starting and ending with a"
      + " letter or digit, at most 63 characters";

  /**
   * Whether {@code s} is a valid name of a target, or of a member of a cluster of agents: it names
   * keys, Lease objects, metrics, files and log lines, so it is kept to what each of them takes.
   */
  public static boolean isName(String s) {
    return s != null && NAME.matcher(s).matches();
  }

  /** Copies. */
  public AgentConfig {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(stateDir, "stateDir");
    targets = List.copyOf(targets);
    notifiers = List.copyOf(notifiers);
    Objects.requireNonNull(notifications, "notifications");
  }

  /**
   * Reads and checks {@code file}.
   *
   * @param factories the provider factories by type
   * @param environment where {@code {env: NAME}} secrets are read
   * @param strict whether to read every secret and key file now and to require every provider
   *     type to be known (the agent does; {@code gitops status} reads the file without its
   *     secrets, and without the provider modules the agent runs with)
   * @throws ConfigException naming the file, line and field of the first problem
   */
  public static AgentConfig load(Path file, Map<String, ProviderFactory> factories, Map<String, String> environment,
      boolean strict) {
    return parse(file, read(file), factories, environment, strict);
  }

  /**
   * The bytes of {@code file}: no more than one past the largest configuration read, so that a
   * huge file costs no memory, and nothing but a regular file (a symbolic link to one included),
   * so that neither a device ({@code /dev/zero}) nor a FIFO is read without end or waited on.
   *
   * @throws ConfigException naming the file when it is missing, cannot be read, is not a regular
   *     file, or is larger than 1 MiB; saying so when the path is empty
   */
  public static byte[] read(Path file) {
    requireNamed(file);
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      if (!a.isRegularFile()) {
        throw new ConfigException(file, 0, "not a regular file (" + (a.isDirectory() ? "a directory"
            : "a device, FIFO or socket") + "): an agent configuration is a file");
      }
      try (InputStream in = Files.newInputStream(file)) {
        byte[] bytes = in.readNBytes(ConfigNode.MAX_BYTES + 1);
        if (bytes.length > ConfigNode.MAX_BYTES) {
          throw ConfigNode.tooLarge(file);
        }
        return bytes;
      }
    } catch (NoSuchFileException e) {
      throw new ConfigException(file, 0, "no such file");
    } catch (IOException e) {
      throw new ConfigException(file, 0, "cannot read: " + e.getMessage(), e);
    }
  }

  /**
   * Refuses an empty path: it names the working directory, which {@link #read} would call a
   * directory and {@link #parse} would take the parent of for the default state directory.
   */
  private static void requireNamed(Path file) {
    if (Objects.requireNonNull(file, "file").toString().isEmpty()) {
      throw new ConfigException(file, 0, "the path is empty; give the path of the configuration file");
    }
  }

  /**
   * Reads and checks {@code yaml} as if it were the content of {@code file}.
   *
   * @throws ConfigException naming the file, line and field of the first problem; saying so when
   *     the path is empty
   */
  public static AgentConfig parse(Path file, byte[] yaml, Map<String, ProviderFactory> factories,
      Map<String, String> environment, boolean strict) {
    requireNamed(file);
    ConfigNode root = ConfigNode.parse(file, yaml);
    root.allowOnly("agent", "targets", "notifications");
    ConfigNode agent = root.get("agent");
    if (!agent.isAbsent()) {
      agent.allowOnly("stateDir", "maxConcurrentSyncs", "gracePeriod", "watchConfig", "stuckAfter");
    }
    Path base = file.toAbsolutePath().getParent();
    Path stateDir = agent.optionalDirectory("stateDir").orElse(base.resolve(".gitops-agent"));
    int maxConcurrent = agent.integer("maxConcurrentSyncs", 1, 1024, 4);
    Duration grace = agent.duration("gracePeriod", Duration.ofSeconds(30));
    boolean watch = agent.bool("watchConfig", true);
    Duration stuckAfter = agent.duration("stuckAfter", Duration.ofMinutes(15));
    if (stuckAfter.compareTo(MIN_STUCK_AFTER) < 0) {
      // each target waits three of its intervals (each at least 1s) at least: a shorter value would
      // be raised for every target without a word, and 1ms is a slip for 1m
      throw agent.get("stuckAfter").error("must be at least 3s: a target is stuck when no sync finished for this long"
          + " or for three of its intervals (each at least 1s), whichever is longer, got "
          + agent.get("stuckAfter").json().asText());
    }

    requireTargets(root);
    List<TargetConfig> targets = new ArrayList<>();
    Map<String, Integer> names = new HashMap<>();
    List<Claim> stores = new ArrayList<>();
    List<Claim> claims = new ArrayList<>();
    for (ConfigNode t : root.list("targets")) {
      TargetConfig c = target(t, stateDir, factories, environment, strict, stuckAfter);
      Integer first = names.putIfAbsent(c.name(), c.line());
      if (first != null) {
        throw t.get("name").error("a second target named '" + c.name() + "' (the first is at line " + first + ")");
      }
      separateStore(t, c, stores);
      claim(t, c, claims, stateDir);
      backoffShorterThanStuck(agent, stuckAfter, t, c);
      targets.add(c);
    }
    ConfigNode notifications = root.get("notifications");
    if (!notifications.isAbsent() && !notifications.json().isArray()) {
      throw notifications.error("must be a list of notifiers");
    }
    List<NotifierConfig> notifiers = new ArrayList<>();
    for (ConfigNode n : root.list("notifications")) {
      notifiers.add(NotifierConfig.read(n, names.keySet()));
    }
    if (strict) {
      List<ConfigNode> entries = root.list("targets");
      for (int i = 0; i < entries.size(); i++) {
        checkFiles(entries.get(i).get("source"));
        checkSsh(entries.get(i).get("source"), targets.get(i));
      }
      targets.forEach(t -> {
        if (t.credentials() != null) {
          t.credentials().check(environment);
        }
      });
      notifiers.forEach(n -> n.check(environment));
    }
    return new AgentConfig(file, stateDir, maxConcurrent, grace, watch, stuckAfter, targets, notifiers,
        notifications.json().deepCopy());
  }

  /**
   * A file without targets is refused: an empty or truncated file (an editor's save cut short, a
   * failed copy) must not stop every target on a reload. An agent without targets says so.
   */
  private static void requireTargets(ConfigNode root) {
    ConfigNode targets = root.get("targets");
    if (!targets.isMissing()) {
      if (!targets.json().isArray()) {
        throw targets.error("must be a list of targets");
      }
      return;
    }
    String what = root.json().isEmpty() ? "the file is empty"
        : targets.json().isMissingNode() ? "no 'targets'" : "'targets' has no value";
    throw new ConfigException(root.file(), targets.json().isMissingNode() ? 0 : targets.line(), what
        + ": a truncated file would stop every target; list the targets under 'targets', or write 'targets: []' for"
        + " an agent without any");
  }

  /**
   * Refuses a target whose store is another target's, or inside another's, or holds another's,
   * compared as real paths (links followed, {@code ..} and trailing slashes gone): two targets on
   * one store would take each other's records as their own, and a store inside another's would be
   * read and rewritten as part of it. Default stores ({@code <stateDir>/targets/<name>}) count.
   */
  private static void separateStore(ConfigNode t, TargetConfig c, List<Claim> earlier) {
    // each store's real path resolved once, kept with it: not again for every target after it
    Path store = real(c.store());
    for (Claim other : earlier) {
      Path theirs = other.real();
      if (!store.startsWith(theirs) && !theirs.startsWith(store)) {
        continue;
      }
      String of = "target '" + other.target() + "' (line " + other.line() + ")";
      String how = store.equals(theirs) ? "would share the store " + c.store() + " with " + of
          : "would keep its store " + c.store() + (store.startsWith(theirs) ? " inside" : ", which holds") + " the store "
              + other.written() + " of " + of;
      throw t.get("store").error("target '" + c.name() + "' " + how + ": each target needs a store of its own, apart"
          + " from the others'; give it one with its 'store:' key (default: <stateDir>/targets/<name>)");
    }
    earlier.add(new Claim(c.name(), c.line(), c.store(), store, true));
  }

  /**
   * A path a target takes for itself: one its provider writes ({@code store} false), or its store.
   * {@code real} is the path with links followed, what claims are compared by.
   */
  private record Claim(String target, int line, Path written, Path real, boolean store) {}

  /**
   * Refuses a target that would write what another target's writes or keeps: a path its provider
   * writes, or its store, that is the same as or one inside the other of a path another target's
   * provider writes or another target's store (a files directory holds everything under it),
   * compared as real paths. A store inside another target's files directory would be pruned or
   * overwritten by that target's syncs, and a files directory inside another's store would write
   * Git's files among its records. Two stores are {@link #separateStore}'s to compare; a store
   * inside the agent's state directory is fine in a files directory that holds the state directory,
   * since that directory is excluded from it (see {@code FilesProviderFactory}).
   */
  private static void claim(ConfigNode t, TargetConfig c, List<Claim> claims, Path stateDir) {
    List<Claim> mine = new ArrayList<>();
    for (Path written : c.provider().claims()) {
      mine.add(new Claim(c.name(), c.line(), written, real(written), false));
    }
    mine.add(new Claim(c.name(), c.line(), c.store(), real(c.store()), true));
    Path state = real(stateDir);
    for (Claim m : mine) {
      outsideAgentFiles(t, c.name(), m, stateDir);
      for (Claim other : claims) {
        if (m.store() && other.store() || !m.real().startsWith(other.real()) && !other.real().startsWith(m.real())) {
          continue;
        }
        Claim store = m.store() ? m : other.store() ? other : null;
        Claim written = store == m ? other : m;
        if (store != null && store.real().startsWith(state) && state.startsWith(written.real())) {
          continue;  // the state directory, and every default store in it, is excluded from a directory holding it
        }
        boolean files = !m.store() && !other.store();
        String how = m.real().equals(other.real()) ? (files ? "" : " on") : m.real().startsWith(other.real())
            ? (files ? ", inside " : " inside") : (files ? ", which holds " : ", which holds");
        String verb = m.store() ? "would keep its store " + m.written() : "would write " + m.written();
        String theirs = files ? (m.real().equals(other.real()) ? "" : other.real().toString()) + " that target '"
            + other.target() + "' writes" : (other.store() ? " the store " + other.written() + " of target '"
            + other.target() + "'" : " the directory " + other.written() + " that target '" + other.target()
            + "' writes");
        throw t.get(m.store() ? "store" : "provider").error("target '" + c.name() + "' " + verb + how + theirs
            + ": each target needs its own files and store, apart from the others' (target '" + other.target()
            + "' is at line " + other.line() + ")");
      }
    }
    claims.addAll(mine);
  }

  /**
   * Refuses a store, or a path a target's provider writes, on or inside the agent's lock file
   * ({@link #LOCK_FILE}), or on or inside its status directory ({@code <stateDir>/status}), compared
   * as real paths. The lock file cannot be made a directory, nor replaced while the agent holds it.
   * The agent writes each target's status file in the status directory ({@code <target>.json})
   * after every sync, and would write it among the store's files or the provider's (a target named {@code meta} would replace the store's {@code meta.json} with its
   * status). One that holds the directory is fine: a store never reads its {@code status/}, and a
   * {@code files} directory holding the state directory leaves it out.
   */
  private static void outsideAgentFiles(ConfigNode t, String name, Claim m, Path stateDir) {
    Path lock = stateDir.resolve(LOCK_FILE);
    if (m.real().startsWith(real(lock))) {
      // accepted while the file did not exist yet (a first start), neither a store nor a Terraform working
      // directory could be made there once the agent made it: the target failed when it started, naming no line
      throw t.get(m.store() ? "store" : "provider").error("target '" + name + "' would " + (m.store()
          ? "keep its store " : "write ") + m.written() + (m.real().equals(real(lock)) ? " on" : " inside")
          + " the agent's lock file " + lock + " (<agent.stateDir>/" + LOCK_FILE + "), which the agent holds locked"
          + " for as long as it runs, so that no second agent runs its targets; give " + (m.store() ? "the store"
          : "it") + " a path of its own");
    }
    Path status = TargetStatus.file(stateDir, name).getParent();
    if (m.real().startsWith(real(status))) {
      throw t.get(m.store() ? "store" : "provider").error("target '" + name + "' would " + (m.store()
          ? "keep its store " : "write ") + m.written() + " in the agent's status directory " + status
          + " (<agent.stateDir>/status), where the agent writes every target's status file, <target>.json, after"
          + " each sync: they would be written among " + (m.store() ? "the store's" : "its") + " files and could"
          + " replace them (a target named 'meta' writes meta.json); give " + (m.store() ? "the store" : "it")
          + " a directory of its own, outside it");
    }
  }

  /** Tests only: how many paths {@link #real} resolved, each a few file system calls. */
  static final java.util.concurrent.atomic.LongAdder REAL_PATHS = new java.util.concurrent.atomic.LongAdder();

  /** {@link RealPaths#of}, or the path as given when it cannot be read. */
  private static Path real(Path p) {
    REAL_PATHS.increment();
    try {
      return RealPaths.of(p);
    } catch (IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }

  private static TargetConfig target(ConfigNode t, Path stateDir, Map<String, ProviderFactory> factories,
      Map<String, String> environment, boolean strict, Duration stuckAfter) {
    t.allowOnly("name", "source", "provider", "store", "owner", "interval", "jitter", "maxBackoff", "callTimeout",
        "syncTimeout", "prune", "policies");
    String name = t.string("name", "the target's name (" + NAME_RULE + ")");
    if (!isName(name)) {
      throw t.get("name").error("'" + name + "' is not a target name: " + NAME_RULE);
    }
    ConfigNode source = t.get("source");
    if (source.isMissing()) {
      throw source.error(noValue(source) + "required: where the desired state comes from (url, ref, path,"
          + " credentials)");
    }
    source.allowOnly("url", "ref", "path", "credentials", "knownHosts", "acceptUnknownHosts", "timeout",
        "maxFileSize", "verify");
    // A URL (scheme:// or scp-like user@host:path) as written; anything else is a local path, from the file's directory.
    String written = source.string("url", "the Git repository: a URL or a local path");
    String url = written.contains("://") || written.matches("[^/]+@[^/:]+:.*") ? written : source.path("url").toString();
    // checked here as the Git source checks it when the target starts (a scheme it does not read, no
    // host, whitespace around it): refused at start, a reload would stop the running target for good
    try {
      GitSource.builder().url(url);
    } catch (IllegalArgumentException e) {
      throw source.get("url").error(e.getMessage());
    }
    ConfigNode provider = t.get("provider");
    if (provider.isMissing()) {
      throw provider.error(noValue(provider) + "required: the live system, for example {type: files, directory:"
          + " /srv/app}");
    }
    if (!provider.json().isObject()) {
      throw provider.error("must be a mapping with a type, for example {type: files, directory: /srv/app}");
    }
    String type = provider.string("type", "the kind of live system" + (factories.isEmpty() ? ""
        : " (known: " + String.join(", ", new TreeMap<>(factories).keySet()) + ")"));
    ProviderFactory factory = factories.get(type);
    if (factory == null && strict) {
      throw provider.get("type").error("unknown provider type '" + type + "' (known: "
          + String.join(", ", new TreeMap<>(factories).keySet()) + ")");
    }
    // checked here as the source will check it, so a bad path refuses the file (and a reload keeps the running one)
    String path = source.optionalString("path").orElse(null);
    if (path != null) {
      try {
        GitSource.normalizedPath(path);
      } catch (IllegalArgumentException e) {
        throw source.get("path").error(e.getMessage());
      }
    }
    Path store = t.optionalDirectory("store").orElse(stateDir.resolve("targets").resolve(name));
    // a local repository's store read back as its files once committed, secret key included, or written among Git's
    String inRepository = LocalRepository.storeConflict(url, path, store);
    if (inRepository != null) {
      throw t.get("store").isMissing()
          ? t.error("target '" + name + "': its store " + store + " (the default, <agent.stateDir>/targets/" + name
              + ") " + inRepository + " (give it a 'store:' key, or move agent.stateDir)")
          : t.get("store").error(store + " " + inRepository);
    }
    ConfigNode policies = t.get("policies");
    if (!policies.isAbsent()) {
      policies.allowOnly("detectOnly", "adopt", "maxDeletions", "maxDeletionPercent", "allowEmpty");
    }
    boolean adopt = policies.bool("adopt", false);
    ProviderFactory.Setup setup = factory != null
        ? factory.configure(provider, new ProviderFactory.TargetContext(name, store, stateDir, strict, url,
            path, environment, adopt))
        : ProviderFactory.Setup.of(type, () -> {
          throw provider.get("type").error("unknown provider type '" + type + "'");
        });
    Duration interval = atLeast(t, "interval", Duration.ofMinutes(3));
    double jitter = t.number("jitter", 0, 0.5, 0.1);
    Duration maxBackoff = atLeast(t, "maxBackoff", defaultMaxBackoff(stuckAfter, interval, jitter));
    String owner = t.optionalString("owner").orElse(name);
    try {
      Reconciler.builder().owner(owner);  // as the target's reconciler takes it when the target starts
    } catch (IllegalArgumentException e) {
      throw t.get("owner").error(e.getMessage());
    }
    return new TargetConfig(name, url, source.optionalString("ref").orElse(null),
        path, GitCredentials.read(source.get("credentials")).orElse(null),
        source.optionalPath("knownHosts").orElse(null), source.bool("acceptUnknownHosts", false),
        source.duration("timeout", GitSource.DEFAULT_TIMEOUT, MIN_TIMEOUT, "it bounds connecting to the"
            + " repository and each read from it, and the sync fails when it passes"),
        source.size("maxFileSize", GitSource.DEFAULT_MAX_FILE_SIZE),
        SourceVerification.read(source.get("verify"), strict, source.optionalString("ref").orElse(null)).orElse(null),
        type, setup, store,
        owner, interval, jitter, maxBackoff,
        t.duration("callTimeout", ExecutionOptions.defaults().callTimeout(), MIN_TIMEOUT, "it bounds each provider"
            + " call (a listing, an observation, one apply batch), and a call cut off leaves its resources unknown"),
        t.duration("syncTimeout", ExecutionOptions.defaults().syncTimeout(), MIN_TIMEOUT, "it bounds the whole apply"
            + " of a plan, and an apply cut off leaves its changes for the next sync"), t.bool("prune", true),
        policies.bool("detectOnly", false), adopt, policies.integer("maxDeletions", 0, Integer.MAX_VALUE, -1),
        policies.integer("maxDeletionPercent", 0, 100, -1), policies.bool("allowEmpty", false), t.json().deepCopy(),
        t.line());
  }

  /** How long a target goes without a finished sync before it is stuck: {@code stuckAfter}, or three intervals. */
  private static Duration stuckTime(Duration stuckAfter, Duration interval) {
    Duration threeIntervals = interval.multipliedBy(3);
    return threeIntervals.compareTo(stuckAfter) > 0 ? threeIntervals : stuckAfter;
  }

  /** The longest {@code maxBackoff} that, stretched by {@code jitter}, waits no longer than {@code stuck} (whole seconds). */
  private static Duration longestBackoff(Duration stuck, double jitter) {
    return Duration.ofSeconds(Math.max(1, (long) Math.floor(stuck.toMillis() / (1 + jitter) / 1000)));
  }

  /**
   * The {@code maxBackoff} of a target that writes none: 10 minutes, or shorter where that,
   * stretched by the target's {@code jitter}, would be longer than the time after which it is stuck
   * ({@link #stuckTime}), so a short {@code stuckAfter} never makes a target that writes no {@code
   * maxBackoff} wrong.
   */
  private static Duration defaultMaxBackoff(Duration stuckAfter, Duration interval, double jitter) {
    Duration fits = longestBackoff(stuckTime(stuckAfter, interval), jitter);
    return fits.compareTo(Duration.ofMinutes(10)) < 0 ? fits : Duration.ofMinutes(10);
  }

  /**
   * Refuses a target whose {@code maxBackoff}, stretched by its {@code jitter}, is longer than the
   * time after which it is stuck ({@link #stuckTime}): a failing target would be reported stuck,
   * and /readyz 503, while it merely waits out its backoff, and ready again when the retry ends.
   * Said at the target's {@code maxBackoff}, naming the other's line; a default {@code maxBackoff}
   * always fits ({@link #defaultMaxBackoff}).
   */
  private static void backoffShorterThanStuck(ConfigNode agent, Duration stuckAfter, ConfigNode t, TargetConfig c) {
    Duration stuck = stuckTime(stuckAfter, c.interval());
    // the loop waits maxBackoff times (1 + jitter * r), r in [-1, 1): in milliseconds, as ReconcileLoop counts
    double longestWait = c.maxBackoff().toMillis() * (1 + c.jitter());
    ConfigNode written = t.get("maxBackoff");
    if (longestWait <= stuck.toMillis() || written.isAbsent()) {
      return;
    }
    String stuckWhy = show(stuck) + ", " + (stuck.equals(stuckAfter)
        ? "agent.stuckAfter" + (agent.get("stuckAfter").isAbsent() ? " (the default)"
            : " (line " + agent.get("stuckAfter").line() + ")")
        : "three of its intervals (interval " + show(c.interval()) + (t.get("interval").isAbsent() ? ", the default"
            : ", line " + t.get("interval").line()) + "; longer than agent.stuckAfter " + show(stuckAfter) + ")");
    throw written.error("target '" + c.name() + "' waits up to " + show(Duration.ofMillis((long) Math.ceil(longestWait)))
        + " after failures (maxBackoff " + show(c.maxBackoff())
        + (c.jitter() > 0 ? " stretched by jitter " + c.jitter() : "") + "), longer than it may go without a finished"
        + " sync before it is stuck (" + stuckWhy + "): it would be reported stuck while it waits out its backoff;"
        + " make maxBackoff at most " + show(longestBackoff(stuck, c.jitter())) + " on target '" + c.name() + "', or"
        + " stuckAfter longer");
  }

  /** A duration as the file would write it: 90s, 15m, 2h, 1500ms. */
  private static String show(Duration d) {
    return ConfigNode.show(d);
  }

  /**
   * The target's duration {@code name}, at least {@link #MIN_SYNC_INTERVAL}: the time between syncs
   * or retries, each of which reads the repository and the live system. {@code 1ms} (a slip for
   * {@code 1m}) would sync without pause.
   */
  private static Duration atLeast(ConfigNode t, String name, Duration otherwise) {
    return t.duration(name, otherwise, MIN_SYNC_INTERVAL, "each sync reads the repository and the live system");
  }

  /** {@code "has no value; "} for a required key written without a value ({@code source:}), else nothing. */
  private static String noValue(ConfigNode c) {
    return c.json().isNull() ? "has no value; " : "";
  }

  /** Key and known_hosts files must be readable now, not when the first sync fails on them. */
  private static void checkFiles(ConfigNode source) {
    checkReadable(source, "knownHosts");
    checkReadable(source.get("credentials"), "sshKey");
  }

  /**
   * An SSH source has its key and a way to check the server's host key; an SSH key is for an SSH
   * source. Said at the source's keys when the file loads: the Git source refuses the same when
   * the target starts, but in its builder's terms, which name no key of this file.
   */
  private static void checkSsh(ConfigNode source, TargetConfig c) {
    GitCredentials credentials = c.credentials();
    boolean key = credentials != null && credentials.sshKey() != null;
    if (sshUrl(c.url())) {
      if (!key) {
        throw source.get("url").error("an SSH remote needs credentials.sshKey (its private key file"
            + (credentials == null ? "" : ", not a token or a username and password, which are for HTTPS")
            + ") and knownHosts (the file listing the server's host key; or acceptUnknownHosts: true)");
      }
      if (c.knownHosts() == null && !c.acceptUnknownHosts()) {
        throw source.get("url").error("an SSH remote needs knownHosts, the file listing the server's host key (or"
            + " acceptUnknownHosts: true to accept a host not listed; a changed key is always refused)");
      }
    } else if (key) {
      throw source.get("credentials").get("sshKey").error("is for SSH remotes (ssh://... or user@host:path), not "
          + dev.gitops.core.internal.git.GitUrls.display(c.url()) + ": give a token, or a username and password");
    }
  }

  /** Whether {@code url} is an SSH remote as the Git source reads it: {@code ssh://...}, or git's {@code user@host:path}. */
  private static boolean sshUrl(String url) {
    try {
      org.eclipse.jgit.transport.URIish u = new org.eclipse.jgit.transport.URIish(url);
      String scheme = u.getScheme();
      return scheme == null ? u.getHost() != null : scheme.toLowerCase(java.util.Locale.ROOT).contains("ssh");
    } catch (java.net.URISyntaxException | RuntimeException e) {
      return false;  // no URL: the Git source refuses it, naming it, when the target starts
    }
  }

  private static void checkReadable(ConfigNode parent, String field) {
    parent.optionalPath(field).ifPresent(p -> {
      if (!Files.isReadable(p)) {
        throw parent.get(field).error("cannot read " + p);
      }
    });
  }

  /** The target named {@code name}, or null. */
  public TargetConfig target(String name) {
    for (TargetConfig t : targets) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }
}
