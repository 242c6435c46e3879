package dev.gitops.ansible;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.ansible.internal.AnsibleYaml;
import dev.gitops.ansible.internal.BundleDirectory;
import dev.gitops.ansible.internal.HostNames;
import dev.gitops.ansible.internal.InlineVaults;
import dev.gitops.ansible.internal.InventoryYaml;
import dev.gitops.ansible.internal.ManagedInventory;
import dev.gitops.ansible.internal.PlaybookBundle;
import dev.gitops.ansible.internal.PlaybookRunner;
import dev.gitops.ansible.internal.SyntaxCheck;
import dev.gitops.ansible.internal.VaultFiles;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.internal.fs.Executables;
import dev.gitops.core.redact.Scrubber;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a fleet converged with real Ansible: the inventory and the playbook live in Git, and a
 * sync runs {@code ansible-playbook} only for the hosts whose effective state changed.
 *
 * <pre>{@code
 * AnsibleProvider ansible = AnsibleProvider.builder()
 *     .inventory("inventory/")                 // in the repository: INI/YAML, group_vars, host_vars
 *     .playbook("site.yml")                    // its directory (roles, templates) is desired state too
 *     .decommissionPlaybook("decommission.yml")
 *     .inventoryOut(Path.of("/var/lib/gitops/inventory.yml"))
 *     .sensitiveVariables("*_password", "api_token")
 *     .build();
 * Reconciler r = Reconciler.builder().source(gitSource).provider(ansible).store(store).build();
 * SyncResult result = r.sync();
 * }</pre>
 *
 * <p>Resources: one per host ({@code ansible:host::web01}) and one per group ({@code
 * ansible:group::web}); see {@link AnsibleDecoder} for their documents. The provider records what
 * it converged in a state file beside the managed inventory; a host whose document changed (its
 * variables, its groups, or the playbook directory) is converged again.
 *
 * <p>Apply: changes arrive in batches ({@link #prefersBatches()}). The managed inventory (YAML,
 * written atomically, owner-only) gets the batch's new documents, then one {@code ansible-playbook
 * -i <inventory> --limit @<hosts> -- <playbook>} runs for the batch. Each host's outcome comes
 * from the {@code gitops_jsonl} callback plugin: ok and changed hosts are recorded; a failed host
 * is a PERMANENT failure and an unreachable one a TRANSIENT failure, neither recorded as converged,
 * so the next sync runs them again. The batch's hosts are recorded as not converged before the run,
 * and those the run may have changed without converging them (failed, cut off, killed with this
 * process) stay so, with a reason: they are run again at the next sync whatever Git then says.
 * Exit codes keep Ansible's meaning: 0 ok, 1 error, 2 a host failed, 3 and 4 a host unreachable
 * (4, before any play, a parse error), 8 the play aborted after a failure, 5 bad
 * options, 99 interrupted, 250 unexpected; under 0, 2, 3 and 4 a host that came through the
 * playbook converged, any other code fails the batch. A run cut off by the deadline or
 * cancellation, or interrupted (99), is UNKNOWN for the hosts of the batch that did not fail on
 * their own. The directory the playbook runs from is a copy named by every file's content, the
 * decommission playbook's included, so a changed decommission playbook runs as changed. A
 * playbook left running on the same inventory by a process that died is waited for (up to the
 * call's stop time) before another one starts, and none starts once the call's stop time has come
 * (its hosts fail TRANSIENT, their records untouched). The stop time, taken when the call begins
 * and shared by all its runs, is a little before the call's deadline (a tenth of the time then
 * left, at least 0.25 s and at most 1 s): a run stopped there names the deadline
 * and the task each host was running, and the call returns that before the engine gives up on it. Removed hosts are decommissioned with the
 * decommission playbook (when set) and then dropped; the engine's deletion guard applies to them. A
 * removed host whose address ({@code ansible_host}, else its name, with its {@code ansible_port}
 * when not 22) a host of the inventory also has (a host renamed in Git that kept its address) is
 * the same machine: it is not decommissioned, and is
 * dropped once that host is recorded as converged.
 *
 * <p>Owner: the provider marks no host ({@link #marksObjects()} is false), so the managed inventory
 * belongs to one owner, the {@linkplain CallContext#owner() owner} whose sync first wrote it, and
 * its state file records it. Another owner pointed at the same {@code inventoryOut} (with the
 * same state store it would take the first owner's hosts for its own and decommission those its
 * own Git lacks) is refused: observing gives it every key UNKNOWN, so its plan is incomplete and
 * deletes nothing, and applying fails every change PERMANENT, before anything runs; both messages
 * name the managed inventory, the owner it belongs to and the owner asking. A state file written
 * by an older build, which records no owner, is claimed by the first owner whose sync writes it.
 * One call at a time reads and writes a managed inventory: an apply or a drift check holds an OS
 * lock beside it ({@code .<name>.gitops-lock}) until it has written its state back, and one that
 * finds it held by another process or provider waits until its stop time, then fails TRANSIENT
 * (a drift check: UNKNOWN) naming the holder, nothing run.
 *
 * <p>Drift: with {@link Builder#checkDrift(boolean)}, observing runs the playbook with {@code
 * --check --diff} on hosts that are in sync with Git; a host with changed tasks is observed with
 * {@code converged: false} and the per-task diffs under {@code drift} (with the failed task, when
 * one failed after them), which the plan reports as drift and a sync corrects. A host that Ansible
 * stopped before it came through the check, after another host failed, is observed UNKNOWN naming
 * the hosts that failed, each with its task, {@code file:line} and error. A host whose check
 * failed before any task found a change is observed UNKNOWN, naming the task and its error: check
 * mode only simulates, and a task can fail there on a host that has not drifted (one using what a
 * task check mode skips would have registered), so that failure is not taken for drift and
 * corrected by a converge; like an unreachable host, it leaves the plan incomplete. Progress
 * (each task on each host) goes to the listeners given to the builder as {@link
 * SyncEvent.Progress}. Vault values, results of {@code no_log} tasks and variables named sensitive
 * never reach logs, plans or events.
 */
public final class AnsibleProvider implements Provider {

  private static final Logger LOG = LoggerFactory.getLogger(AnsibleProvider.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id;
  private final AnsibleDecoder decoder;
  private final ManagedInventory managed;
  private final PlaybookRunner runner;
  private final BundleDirectory bundles;
  private final Path workDir;
  private final boolean checkDrift;
  private final List<SyncListener> listeners;
  private final List<String> sensitiveNames;
  /** The vault password file, or null; and its decryptor, to find a !vault value it is wrong for. */
  private final Path vaultPasswordFile;
  private final java.util.function.Function<String, String> vaultDecryptor;
  private final Object lock = new Object();
  /**
   * Ansible's connection and become passwords ({@code ansible_password}, {@code ansible_ssh_pass},
   * {@code ansible_become_password}, {@code ansible_sudo_pass}, {@code ansible_winrm_password}, a
   * key's passphrase…), sensitive whether or not {@link Builder#sensitiveVariables} names them: an
   * inventory that sets them in plain text put them into plans, the store and task messages.
   */
  static final List<String> CONNECTION_SECRETS =
      List.of("ansible_password", "ansible_*_pass", "ansible_*_password", "ansible_*_passphrase");
  /**
   * Hosts converged since they were last observed, and when: the observe the engine makes right
   * after apply (its health check) skips their drift check, which would cost a second run of the
   * playbook. A skip older than {@link #SKIP_WINDOW} is not honoured, so a drift check is never
   * missed for long when the engine does not wait for health.
   */
  private final Map<String, Instant> justConverged = new ConcurrentHashMap<>();
  private static final Duration SKIP_WINDOW = Duration.ofMinutes(2);

  private AnsibleProvider(Builder b) {
    this.id = b.id;
    List<String> sensitive = new ArrayList<>(CONNECTION_SECRETS);
    sensitive.addAll(b.sensitive);
    this.sensitiveNames = List.copyOf(sensitive);
    this.vaultPasswordFile = b.vaultPasswordFile;
    this.vaultDecryptor = b.vaultPasswordFile == null ? null : VaultFiles.decryptor(b.vaultPasswordFile);
    ObjectNode extra = JSON.valueToTree(b.extraVars);
    this.decoder = new AnsibleDecoder(b.id, b.inventory, b.playbook, b.decommission, sensitiveNames, extra,
        vaultDecryptor,
        new SyntaxCheck(b.binary, b.environment, b.vaultPasswordFile, extra, b.timeout));
    this.managed = new ManagedInventory(b.inventoryOut);
    this.workDir = b.workDir != null ? b.workDir.toAbsolutePath()
        : managed.inventoryFile().resolveSibling("." + managed.inventoryFile().getFileName() + ".work");
    this.runner = new PlaybookRunner(new PlaybookRunner.Options(b.binary, b.environment, b.vaultPasswordFile, b.forks,
        extra, b.timeout, sensitiveNames), workDir, () -> {
          // the variables of vault-encrypted files reach Ansible decrypted: the plugin scrubs them by name
          AnsibleDecoder.Decoded latest = decoder.latest();
          return latest == null ? java.util.Set.of() : latest.vaulted();
        });
    this.bundles = new BundleDirectory(workDir);
    this.checkDrift = b.checkDrift;
    this.listeners = new CopyOnWriteArrayList<>(b.listeners);
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Optional<Decoder> decoder() {
    return Optional.of(decoder);
  }

  /** The decoder (the same one {@link #decoder()} returns). */
  public AnsibleDecoder ansibleDecoder() {
    return decoder;
  }

  /** The managed inventory file Ansible runs with. */
  public Path inventoryFile() {
    return managed.inventoryFile();
  }

  /**
   * Why {@code file} cannot be a managed inventory: it exists and is not a regular file ("a
   * directory", "a character device", "a FIFO", "a symbolic link to '…'"); empty when it is a
   * regular file or does not exist. For a caller that names its own option ({@code
   * --inventory-out}) before building a provider, which refuses such a path too.
   */
  public static Optional<String> notARegularFile(Path file) {
    return Optional.ofNullable(ManagedInventory.notARegularFile(file));
  }

  @Override
  public boolean prefersBatches() {
    return true;
  }

  @Override
  public int typeOrder(ResourceKey key) {
    return AnsibleDecoder.GROUP.equals(key.type()) ? 0 : 1;
  }

  @Override
  public JsonNode normalize(ResourceKey key, JsonNode live) {
    return Documents.freeze(live);
  }

  // ------------------------------------------------------------------ observe

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    // taken when the call begins, as for an apply: the drift check's run answers before the engine gives up on it
    Instant stopAt = PlaybookRunner.stopTime(ctx);
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    ManagedInventory.Record rec;
    try {
      // before the plan: a device, a directory or a link in its place is never replaced
      managed.checkRegularFile();
    } catch (IOException e) {
      for (ResourceKey k : keys) {
        out.put(k, Observation.unknown(k, e.getMessage()));
      }
      return out;
    }
    try {
      rec = managed.load();
    } catch (IOException e) {
      for (ResourceKey k : keys) {
        out.put(k, Observation.unknown(k, "cannot read the managed inventory's state: " + e.getMessage()));
      }
      return out;
    }
    try {
      // before the plan: unknown keys make it incomplete, so it deletes nothing of the other owner's
      managed.checkOwner(rec, ctx.owner());
    } catch (IOException e) {
      for (ResourceKey k : keys) {
        out.put(k, Observation.unknown(k, e.getMessage()));
      }
      return out;
    }
    Map<String, ResourceKey> inSync = new TreeMap<>();
    AnsibleDecoder.Decoded latest = decoder.latest();
    for (ResourceKey k : keys) {
      String problem = keyProblem(k);
      if (problem != null) {
        out.put(k, Observation.unknown(k, problem));
        continue;
      }
      JsonNode doc = (isHost(k) ? rec.hosts() : rec.groups()).get(k.name());
      if (doc == null) {
        out.put(k, Observation.absent(k));
        continue;
      }
      out.put(k, Observation.present(k, doc, version(doc)));
      Instant converged = isHost(k) ? justConverged.remove(k.name()) : null;
      boolean fresh = converged != null && converged.plus(SKIP_WINDOW).isAfter(Instant.now());
      if (!checkDrift || !isHost(k) || fresh) {
        continue;
      }
      if (latest != null && Documents.equal(doc, latest.hostDocs().get(k.name()))) {
        inSync.put(k.name(), k);
      } else if (latest == null || !latest.revision().equals(ctx.revision())) {
        // The engine took the desired state from the store's records (its no-change fast path) and
        // decoded nothing, or this provider's last decode is of another revision: the playbook the
        // host is recorded with is not at hand, so check mode cannot run. Not "no drift": UNKNOWN
        // makes that plan incomplete, and the engine then reads and decodes the source and observes
        // again, with the playbook (a host the decode finds out of date is planned as usual).
        out.put(k, Observation.unknown(k, "drift check of " + k.name() + " needs the playbook of "
            + ctx.revision() + ", which this provider has not decoded"));
      }
    }
    if (!inSync.isEmpty()) {
      synchronized (lock) {
        ManagedInventory.Lock held;
        try {
          // the check writes its inventory into the work directory another provider of this managed inventory shares
          held = managed.lock("checking drift at " + ctx.revision(), stopAt, ctx.cancellation()::isCancelled);
        } catch (IOException e) {
          inSync.values().forEach(k -> out.put(k, Observation.unknown(k, "drift check of " + k.name()
              + " did not start: " + e.getMessage())));
          return out;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          inSync.values().forEach(k -> out.put(k, Observation.unknown(k, "drift check interrupted")));
          return out;
        }
        try {
          checkDrift(rec, inSync, latest.bundle(), ctx, stopAt, out);
        } finally {
          held.close();
        }
      }
    }
    return out;
  }

  /**
   * Runs the playbook in check mode on in-sync hosts and marks those with changes as drifted; a
   * host whose check failed before any task found a change is UNKNOWN, not drifted.
   */
  private void checkDrift(ManagedInventory.Record rec, Map<String, ResourceKey> hosts, PlaybookBundle bundle,
      CallContext ctx, Instant stopAt, Map<ResourceKey, Observation> out) {
    PlaybookRunner.Result r;
    try {
      Path inventory = workDir.resolve("check-inventory.yml");
      writeInventory(inventory, rec.hosts(), rec.groups());
      Path playbook = bundles.materialize(bundle).resolve(bundle.playbook());
      r = runner.run(inventory, playbook, hosts.keySet(), true, ctx, stopAt, scrubber(rec.hosts().values()),
          step -> progress(ctx, step, "check"));
    } catch (IOException e) {
      hosts.values().forEach(k -> out.put(k, Observation.unknown(k, "drift check failed: " + e.getMessage())));
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      hosts.values().forEach(k -> out.put(k, Observation.unknown(k, "drift check interrupted")));
      return;
    }
    // each host's own result counts under 8 too (the play aborted after a host failed, as older
    // Ansible exits for any_errors_fatal or max_fail_percentage): the host that failed is told by
    // its own error, and those stopped because of it did not complete the playbook
    boolean usable = r.stopped().isEmpty() && r.played() && (failsOtherHostsAtMost(r.exitCode())
        || r.exitCode() == ABORTED);
    for (Map.Entry<String, ResourceKey> e : hosts.entrySet()) {
      ResourceKey k = e.getValue();
      PlaybookRunner.HostResult hr = r.hosts().get(e.getKey());
      // what Ansible said, with the !vault values it could not decrypt as a converge names them
      JsonNode doc = rec.hosts().get(e.getKey());
      if (!usable || hr == null) {
        out.put(k, Observation.unknown(k, "drift check of " + k.name() + " did not complete: "
            + withVaultCulprit(runSummary(r) + culprits(r, e.getKey()), e.getKey(), doc)));
        continue;
      }
      if (!hr.completed() && (hr.status() == PlaybookRunner.HostStatus.OK
          || hr.status() == PlaybookRunner.HostStatus.NOT_RUN)) {
        // Ansible ended the check after other hosts failed: the tasks not checked here may drift
        out.put(k, Observation.unknown(k, "drift check of " + k.name() + " did not complete the playbook: "
            + withVaultCulprit(runSummary(r) + culprits(r, e.getKey()), e.getKey(), doc)));
        continue;
      }
      if (hr.status() == PlaybookRunner.HostStatus.FAILED && hr.changedTasks().isEmpty() && hr.diffs().isEmpty()
          && hr.stats().getOrDefault("changed", 0) == 0) {
        // check mode simulates: a task can fail there on a host that has not drifted (one checking
        // what a command, which check mode skips, would have registered), or fail as a converge would
        // too (a vault value the password does not decrypt). With no change found first, whether the
        // host drifted is not known: UNKNOWN, not drift and a converge of what may well be in sync
        out.put(k, Observation.unknown(k, "drift check of " + k.name() + " failed at task '" + hr.failedTask() + "'"
            + at(hr) + " before any task found a change, so whether " + k.name() + " drifted is not known: "
            + withVaultCulprit(hr.message() + " (exit " + r.exitCode() + ")", e.getKey(), doc)
            + (InlineVaults.isDecryptionFailure(hr.message()) ? "" : "; a task that fails only in check mode can run"
                + " there with check_mode: false if it changes nothing, or be let fail there with ignore_errors:"
                + " \"{{ ansible_check_mode }}\"")));
        continue;
      }
      switch (hr.status()) {
        case UNREACHABLE -> out.put(k, Observation.unknown(k, "drift check could not reach " + k.name() + ": "
            + hr.message()));
        case CHANGED, FAILED -> {
          ObjectNode live = (ObjectNode) Documents.mutableCopy(out.get(k).live());
          live.put("converged", false);
          ArrayNode drift = live.putArray("drift");
          for (PlaybookRunner.TaskDiff d : hr.diffs()) {
            drift.addObject().put("task", d.task()).put("diff", d.diff());
          }
          for (String t : hr.changedTasks()) {
            if (hr.diffs().stream().noneMatch(d -> d.task().equals(t))) {
              drift.addObject().put("task", t).put("diff", "");
            }
          }
          if (hr.status() == PlaybookRunner.HostStatus.FAILED) {
            // changes were found before it: drift, and the tasks after the failure were not checked
            drift.addObject().put("task", hr.failedTask())
                .put("error", withVaultCulprit(hr.message(), e.getKey(), doc));
          }
          JsonNode frozen = Documents.freeze(live);
          out.put(k, Observation.present(k, frozen, version(frozen)));
          LOG.info("{}: drift found by check mode in {} task(s) at {}", k, drift.size(), ctx.revision());
        }
        default -> { }
      }
    }
  }

  // ------------------------------------------------------------------ apply

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    return applyAll(List.of(change), ctx).get(change.key());
  }

  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    synchronized (lock) {
      return applyLocked(changes, ctx);
    }
  }

  private Map<ResourceKey, Outcome> applyLocked(List<Change> changes, CallContext ctx) {
    // one stop time for every run of the call: the converge's and the decommission's after it
    Instant stopAt = PlaybookRunner.stopTime(ctx);
    // held from reading the state to writing it back: another provider on this managed inventory
    // (another process, another target) would otherwise write back over what this call records
    ManagedInventory.Lock held;
    try {
      held = managed.lock("applying " + changes.size() + " change(s) at " + ctx.revision(), stopAt,
          ctx.cancellation()::isCancelled);
    } catch (IOException e) {
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      for (Change c : changes) {
        out.put(c.key(), Outcome.transientFailure(c.key() + ": " + e.getMessage() + "; nothing ran, and "
            + c.key().name() + " keeps its record until the next sync", e));
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      for (Change c : changes) {
        out.put(c.key(), Outcome.transientFailure(c.key() + ": interrupted while waiting for the lock of the managed"
            + " inventory " + managed.inventoryFile() + "; nothing ran", e));
      }
      return out;
    }
    try {
      return applyHeld(changes, ctx, stopAt);
    } finally {
      held.close();
    }
  }

  private Map<ResourceKey, Outcome> applyHeld(List<Change> changes, CallContext ctx, Instant stopAt) {
    Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
    ManagedInventory.Record rec;
    try {
      managed.checkOwned();
    } catch (IOException e) {
      for (Change c : changes) {
        out.put(c.key(), Outcome.permanentFailure(c.key() + ": " + e.getMessage(), e));
      }
      return out;
    }
    try {
      rec = managed.load();
    } catch (IOException e) {
      for (Change c : changes) {
        out.put(c.key(), Outcome.permanentFailure(c.key() + ": cannot read the managed inventory's state: "
            + e.getMessage(), e));
      }
      return out;
    }
    try {
      // again here: a plan made before another owner claimed the inventory, or a caller that never observed
      managed.checkOwner(rec, ctx.owner());
    } catch (IOException e) {
      for (Change c : changes) {
        out.put(c.key(), Outcome.permanentFailure(c.key() + ": " + e.getMessage(), e));
      }
      return out;
    }
    Map<String, JsonNode> hosts = new TreeMap<>(rec.hosts());
    Map<String, JsonNode> groups = new TreeMap<>(rec.groups());
    Map<String, Change> converge = new TreeMap<>();
    Map<String, Change> decommission = new TreeMap<>();
    for (Change c : changes) {
      ResourceKey k = c.key();
      String problem = keyProblem(k);
      if (problem == null && isHost(k)) {
        problem = HostNames.problem(k.name());
      }
      if (problem != null) {
        out.put(k, Outcome.permanentFailure(k + ": " + problem, null));
        continue;
      }
      switch (c.action()) {
        case CREATE, UPDATE, REPLACE -> {
          if (c.target() == null || !c.target().isObject()) {
            out.put(k, Outcome.permanentFailure(k + ": the change has no target document", null));
          } else if (isHost(k)) {
            converge.put(k.name(), c);
          } else {
            groups.put(k.name(), c.target());
            out.put(k, c.action() == Action.CREATE ? Outcome.created() : Outcome.configured());
          }
        }
        case DELETE -> {
          if (isHost(k)) {
            decommission.put(k.name(), c);
          } else {
            groups.remove(k.name());
            out.put(k, Outcome.deleted());
          }
        }
        default -> out.put(k, Outcome.unchanged());
      }
    }
    if (!converge.isEmpty()) {
      converge(converge, hosts, groups, ctx, stopAt, out);
    }
    if (!decommission.isEmpty()) {
      decommission(decommission, hosts, groups, ctx, stopAt, out);
    }
    try {
      // an older build's state file, without an owner, is claimed here
      managed.save(new ManagedInventory.Record(Optional.of(ctx.owner()), hosts, groups));
      writeInventory(managed.inventoryFile(), hosts, groups);
    } catch (IOException e) {
      // the runs happened but are not recorded: report them failed so the engine does not record them either
      for (Map.Entry<ResourceKey, Outcome> o : out.entrySet()) {
        if (o.getValue().isOk()) {
          o.setValue(Outcome.transientFailure(o.getKey() + ": applied but the managed inventory's state could not"
              + " be written: " + e.getMessage(), e));
        }
      }
    }
    return out;
  }

  private void converge(Map<String, Change> converge, Map<String, JsonNode> hosts, Map<String, JsonNode> groups,
      CallContext ctx, Instant stopAt, Map<ResourceKey, Outcome> out) {
    AnsibleDecoder.Decoded latest = decoder.latest();
    Map<String, Change> runnable = new TreeMap<>();
    for (Map.Entry<String, Change> e : converge.entrySet()) {
      String wanted = e.getValue().target().path("playbook").asText();
      if (latest == null || !latest.bundle().digest().equals(wanted)) {
        out.put(e.getValue().key(), Outcome.permanentFailure(e.getValue().key() + ": the playbook " + wanted
            + " is not the one this provider decoded last (" + (latest == null ? "none" : latest.bundle().digest())
            + "); sync again so that the source is read", null));
      } else {
        runnable.put(e.getKey(), e.getValue());
      }
    }
    if (runnable.isEmpty()) {
      return;
    }
    Map<String, JsonNode> view = new TreeMap<>(hosts);
    runnable.forEach((name, c) -> view.put(name, record(c.target())));
    PlaybookRunner.Result r;
    try {
      PlaybookRunner.NotStarted.unlessTimeLeft(ctx, stopAt);
      writeInventory(managed.inventoryFile(), view, groups);
      Path playbook = bundles.materialize(latest.bundle()).resolve(latest.bundle().playbook());
      // Written ahead of the run: should it be cut off with this process (kill -9, a power loss),
      // its hosts stay recorded as not converged, and the next sync runs them again whatever Git
      // then says, instead of taking them for converged to their old documents.
      Map<String, JsonNode> ahead = new TreeMap<>(hosts);
      runnable.keySet().forEach(n -> ahead.put(n, notConverged(view.get(n), "ansible-playbook started on " + n
          + " at " + ctx.revision() + " and did not report back (the process running it ended first)")));
      managed.save(new ManagedInventory.Record(Optional.of(ctx.owner()), ahead, groups));
      // every host's secrets, not only the batch's: a task may print another host's through hostvars
      r = runner.run(managed.inventoryFile(), playbook, runnable.keySet(), false, ctx, stopAt, scrubber(view.values()),
          step -> progress(ctx, step, ""));
    } catch (Executables.NotFound | PlaybookRunner.CannotStart e) {
      runnable.values().forEach(c -> out.put(c.key(), Outcome.permanentFailure(c.key() + ": cannot run"
          + " ansible-playbook: " + e.getMessage(), e)));
      return;
    } catch (PlaybookRunner.NotStarted e) {
      runnable.forEach((name, c) -> out.put(c.key(), Outcome.transientFailure(c.key() + ": ansible-playbook did not"
          + " start on " + name + ": " + e.getMessage() + " on it; it keeps its record and runs at the next sync", e)));
      return;
    } catch (IOException e) {
      runnable.values().forEach(c -> out.put(c.key(), Outcome.transientFailure(c.key() + ": cannot run"
          + " ansible-playbook: " + e.getMessage(), e)));
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      runnable.forEach((name, c) -> {
        out.put(c.key(), Outcome.unknown(c.key() + ": interrupted while ansible-playbook ran"));
        hosts.put(name, notConverged(view.get(name), "interrupted while ansible-playbook ran at " + ctx.revision()));
      });
      return;
    }
    for (Map.Entry<String, Change> e : runnable.entrySet()) {
      Change c = e.getValue();
      Outcome o = withVaultCulprit(outcome(c.key(), r, e.getKey(), c.action() == Action.CREATE ? Outcome.created()
          : Outcome.configured()), e.getKey(), view.get(e.getKey()));
      if (o.isOk()) {
        hosts.put(e.getKey(), view.get(e.getKey()));
        justConverged.put(e.getKey(), Instant.now());
      } else if (mayHaveChanged(r, r.hosts().get(e.getKey()))) {
        // half done, perhaps: its old record would say it holds the old document, and a revert in
        // Git would then find nothing to do
        hosts.put(e.getKey(), notConverged(view.get(e.getKey()), o.kind() + " at " + ctx.revision() + ": "
            + o.message()));
      }
      out.put(c.key(), o);
    }
  }

  /**
   * Whether a run that did not converge {@code hr}'s host may still have changed it: a run cut off
   * or interrupted, a task that ran there (ok, changed — a task may change a host and report ok —
   * failed, rescued or ignored), or an exit code after which Ansible's counters cannot be trusted
   * to be complete. Not: no play started, or the counters show no task ran there (unreachable at
   * its first task, stopped before it, a name Ansible did not match).
   */
  private static boolean mayHaveChanged(PlaybookRunner.Result r, PlaybookRunner.HostResult hr) {
    if (!r.stopped().isEmpty() || r.exitCode() == INTERRUPTED) {
      return true;
    }
    if (!r.played()) {
      return false;
    }
    if (hr == null || hr.stats().isEmpty()) {
      // under 0, 2, 3 and 4 Ansible printed its counters, and this host had none
      return hr != null && hr.status() == PlaybookRunner.HostStatus.FAILED || !failsOtherHostsAtMost(r.exitCode());
    }
    if (hr.status() == PlaybookRunner.HostStatus.FAILED) {
      return true;
    }
    for (String counter : new String[] {"ok", "changed", "failures", "rescued", "ignored"}) {
      if (hr.stats().getOrDefault(counter, 0) > 0) {
        return true;
      }
    }
    return false;
  }

  private void decommission(Map<String, Change> removed, Map<String, JsonNode> hosts, Map<String, JsonNode> groups,
      CallContext ctx, Instant stopAt, Map<ResourceKey, Outcome> out) {
    Map<String, Change> present = new TreeMap<>();
    for (Map.Entry<String, Change> e : removed.entrySet()) {
      if (hosts.containsKey(e.getKey())) {
        present.put(e.getKey(), e.getValue());
      } else {
        // never converged or already dropped
        out.put(e.getValue().key(), deleted("it was not in the managed inventory: nothing ran on " + e.getKey()));
      }
    }
    AnsibleDecoder.Decoded latest = decoder.latest();
    String playbookPath = latest == null ? null : latest.bundle().decommission();
    if (present.isEmpty()) {
      return;
    }
    if (playbookPath == null) {
      if (latest == null && decoder.hasDecommissionPlaybook()) {
        present.values().forEach(c -> out.put(c.key(), Outcome.permanentFailure(c.key() + ": the decommission"
            + " playbook has not been decoded yet; sync again so that the source is read", null)));
        return;
      }
      present.forEach((name, c) -> {
        hosts.remove(name);
        out.put(c.key(), deleted("dropped from the managed inventory without running anything on " + name
            + " (no decommission playbook is configured)"));
      });
      return;
    }
    sameMachineAsADesiredHost(present, hosts, latest, removed.keySet(), ctx, out);
    if (present.isEmpty()) {
      return;
    }
    PlaybookRunner.Result r;
    try {
      // checked before anything is written, and again by the runner right before it starts the process
      PlaybookRunner.NotStarted.unlessTimeLeft(ctx, stopAt);
      writeInventory(managed.inventoryFile(), hosts, groups);
      Path playbook = bundles.materialize(latest.bundle()).resolve(playbookPath);
      // Written ahead of the run, as for a converge: a decommission cut off with this process may
      // have undone part of a host, whose converged record would then let a revert in Git (the
      // host back as it was) find it in sync and run nothing
      Map<String, JsonNode> ahead = new TreeMap<>(hosts);
      present.keySet().forEach(n -> ahead.put(n, notConverged(hosts.get(n), "the decommission playbook started on "
          + n + " at " + ctx.revision() + " and did not report back (the process running it ended first)")));
      managed.save(new ManagedInventory.Record(Optional.of(ctx.owner()), ahead, groups));
      r = runner.run(managed.inventoryFile(), playbook, present.keySet(), false, ctx, stopAt, scrubber(hosts.values()),
          step -> progress(ctx, step, "decommission"));
    } catch (Executables.NotFound | PlaybookRunner.CannotStart e) {
      present.values().forEach(c -> out.put(c.key(), Outcome.permanentFailure(c.key() + ": cannot run the"
          + " decommission playbook: " + e.getMessage(), e)));
      return;
    } catch (PlaybookRunner.NotStarted e) {
      // nothing ran: each host keeps its record (and its place in the managed inventory), so the
      // next sync plans its removal again and decommissions it then
      present.forEach((name, c) -> out.put(c.key(), Outcome.transientFailure(c.key() + ": the decommission playbook"
          + " did not start on " + name + ": " + e.getMessage() + " on it; it stays in the managed inventory, not"
          + " decommissioned, and is decommissioned at the next sync", e)));
      return;
    } catch (IOException e) {
      present.values().forEach(c -> out.put(c.key(), Outcome.transientFailure(c.key() + ": cannot run the"
          + " decommission playbook: " + e.getMessage(), e)));
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      present.forEach((name, c) -> {
        out.put(c.key(), Outcome.unknown(c.key() + ": interrupted while the decommission playbook ran"));
        hosts.put(name, notConverged(hosts.get(name), "interrupted while the decommission playbook ran at "
            + ctx.revision()));
      });
      return;
    }
    for (Map.Entry<String, Change> e : present.entrySet()) {
      Outcome o = withVaultCulprit(outcome(e.getValue().key(), r, e.getKey(), Outcome.deleted()), e.getKey(),
          hosts.get(e.getKey()));
      if (o.isOk()) {
        hosts.remove(e.getKey());
      } else if (mayHaveChanged(r, r.hosts().get(e.getKey()))) {
        // half undone, perhaps: kept, but not as converged, so that a revert in Git runs it again
        hosts.put(e.getKey(), notConverged(hosts.get(e.getKey()), "decommission " + o.kind() + " at "
            + ctx.revision() + ": " + o.message()));
      }
      out.put(e.getValue().key(), o);
    }
  }

  /**
   * Takes out of {@code present} (the removed hosts about to be decommissioned) every host whose
   * connection address is also that of a host Git still declares: a host renamed in Git that kept
   * its {@code ansible_host}. Both names are the same machine, so decommissioning the old name
   * would undo what converging the new one did (or will do). Its decommission is not run: once the
   * new name is recorded as converged with that address, the old name is dropped from the managed
   * inventory (DELETED, saying so and naming both); until then (its converge failed, or has not run
   * yet) the old name is kept with its record, a TRANSIENT failure saying why, and is dropped by a
   * later apply (a retry, or the next sync) once the new name has converged. Dropping it earlier
   * would lose the record of what the machine holds while nothing else records it as converged.
   */
  private void sameMachineAsADesiredHost(Map<String, Change> present, Map<String, JsonNode> hosts,
      AnsibleDecoder.Decoded latest, java.util.Set<String> removed, CallContext ctx, Map<ResourceKey, Outcome> out) {
    Map<String, String> desiredAt = new TreeMap<>();
    latest.hostDocs().forEach((name, doc) -> {
      if (!removed.contains(name)) {
        desiredAt.putIfAbsent(address(name, doc), name);
      }
    });
    for (java.util.Iterator<Map.Entry<String, Change>> it = present.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Change> e = it.next();
      String old = e.getKey();
      String at = address(old, hosts.get(old));
      String now = desiredAt.get(at);
      if (now == null) {
        continue;
      }
      it.remove();
      JsonNode rec = hosts.get(now);
      boolean converged = rec != null && rec.path("converged").asBoolean(false) && address(now, rec).equals(at);
      String why = "the decommission playbook is not run on " + old + ": its address '" + at + "' (ansible_host, or"
          + " its name, with any ansible_port other than 22) is also that of " + now + ", a host of the inventory, so both names are the same machine"
          + " (a host renamed in Git that kept its address), and decommissioning " + old + " would undo " + now;
      if (converged) {
        hosts.remove(old);
        LOG.info("{}: {}; dropped at {}", e.getValue().key(), why, ctx.revision());
        out.put(e.getValue().key(), deleted(why + "; " + now + " is converged, so " + old + " is dropped from the"
            + " managed inventory without running anything on it"));
      } else {
        out.put(e.getValue().key(), Outcome.transientFailure(e.getValue().key() + ": " + why + "; " + now + " is not"
            + " converged yet, so " + old + " stays in the managed inventory with its record, and is dropped"
            + " without running anything once " + now + " has converged", null));
      }
    }
  }

  /**
   * The address Ansible connects to for host {@code name} with document {@code doc}: its {@code
   * ansible_host} (or the older {@code ansible_ssh_host}), else its name, lower case as host names
   * compare and an IPv6 address in its canonical text ({@link HostNames#address}), and its {@code
   * ansible_port} (or {@code ansible_ssh_port}) when one other than 22 is set: hosts reached at one
   * IP through different ports (containers, forwarded SSH) are different machines, each
   * decommissioned as usual.
   */
  private static String address(String name, JsonNode doc) {
    JsonNode vars = doc == null ? Documents.nodes().objectNode() : doc.path("vars");
    String found = setting(vars, "ansible_host", "ansible_ssh_host");
    String host = HostNames.address(found != null ? found : name);
    String port = setting(vars, "ansible_port", "ansible_ssh_port");
    return port == null || port.equals("22") ? host : host + " port " + port;
  }

  /**
   * The first of {@code names} set in {@code vars}, stripped; a vault value as its canonical JSON
   * (equal only to the same ciphertext); null when none is set.
   */
  private static String setting(JsonNode vars, String... names) {
    for (String v : names) {
      JsonNode a = vars.path(v);
      if (a.isValueNode() && !a.isNull() && !a.asText().isBlank()) {
        return a.asText().strip();
      }
      if (!a.isMissingNode() && !a.isNull() && !a.isValueNode()) {
        return Documents.canonicalJson(a);
      }
    }
    return null;
  }

  /**
   * {@code o}, a host's outcome, with the {@code !vault} values (variable, file, line) that Ansible
   * could not decrypt when its message says it could not decrypt one ("Decryption failed (no vault
   * secrets were found that could decrypt)" names neither): those of the host's variables in {@code
   * doc} and of the playbook's directory that the vault password file does not decrypt, or every
   * one when no password file is configured.
   */
  private Outcome withVaultCulprit(Outcome o, String host, JsonNode doc) {
    if (o.isOk()) {
      return o;
    }
    String message = withVaultCulprit(o.message(), host, doc);
    return message.equals(o.message()) ? o : new Outcome(o.kind(), message, o.cause(), o.outputs());
  }

  /**
   * {@code message}, what Ansible said of host {@code host} (a converge's, a decommission's or a
   * drift check's), followed by the {@code !vault} values it could not decrypt when it says it
   * could not decrypt one, as {@link #withVaultCulprit(Outcome, String, JsonNode)} finds them; else
   * {@code message} as it is.
   */
  private String withVaultCulprit(String message, String host, JsonNode doc) {
    AnsibleDecoder.Decoded latest = decoder.latest();
    if (latest == null || !InlineVaults.isDecryptionFailure(message)) {
      return message;
    }
    String why = latest.vaults().explain(message, host, doc == null ? Documents.nodes().objectNode()
        : doc.path("vars"), vaultPasswordFile, vaultDecryptor);
    return why.isEmpty() ? message : message + "; " + why;
  }

  /** A host deleted from management, saying what (not) happened to it. */
  private static Outcome deleted(String message) {
    return new Outcome(Outcome.Kind.DELETED, message, null, Map.of());
  }

  /** One host's outcome from a run, with Ansible's exit codes. */
  private Outcome outcome(ResourceKey key, PlaybookRunner.Result r, String host, Outcome ok) {
    if (!r.stopped().isEmpty()) {
      return Outcome.unknown(key + ": ansible-playbook " + r.stopped() + "; the host's state is not known");
    }
    PlaybookRunner.HostResult hr = r.hosts().get(host);
    int code = r.exitCode();
    if (hr != null && hr.status() == PlaybookRunner.HostStatus.FAILED) {
      return Outcome.permanentFailure(key + " failed at task '" + hr.failedTask() + "'" + at(hr) + ": "
          + hr.message() + " (exit " + code + ")", null);
    }
    if (hr != null && hr.status() == PlaybookRunner.HostStatus.UNREACHABLE) {
      return Outcome.transientFailure(key + " unreachable at task '" + hr.failedTask() + "'" + at(hr) + ": "
          + hr.message() + " (exit " + code + ")", null);
    }
    if (code == INTERRUPTED && r.debuggerQuit()) {
      // not a Ctrl-C: a debugger keyword of the repository opened the debugger, which read no answer
      return Outcome.unknown(key + ": ansible-playbook stopped mid-play (exit 99) when Ansible's task debugger opened"
          + " at a failed task and quit, no one being there to answer it (a 'debugger:' keyword of the playbook, a play,"
          + " a role or a task turns it on: remove it from the repository); the host's state is not known");
    }
    if (code == INTERRUPTED) {
      // Ansible itself got SIGINT (a Ctrl-C to the process group) and stopped mid-play: whatever it
      // had done to this host is not known, as for a run the provider stopped; it is not recorded
      return Outcome.unknown(key + ": ansible-playbook was interrupted (exit 99) while it ran; the host's state"
          + " is not known" + (r.stderr().isEmpty() ? "" : ": " + r.stderr()));
    }
    boolean played = r.played();
    if (!r.inventoryProblem().isEmpty() && (hr == null || !hr.completed())) {
      // Ansible read no host from the managed inventory: say so, not that the name matched none
      return Outcome.permanentFailure(key + " did not run: " + r.inventoryProblem() + " (exit " + code + ")", null);
    }
    if (played && code == 0 && (hr == null || !hr.completed())) {
      // nothing failed, yet the host never reached the play after the playbook: Ansible did not
      // take its name for a host of the managed inventory
      return Outcome.permanentFailure(key + " did not complete the playbook: ansible-playbook ran without it (exit 0;"
          + " no host of the managed inventory, as Ansible read it, matched the name '" + host + "' in --limit)",
          null);
    }
    if (played && code != 0 && failsOtherHostsAtMost(code) && (hr == null || !hr.completed())
        && r.hosts().values().stream().noneMatch(h -> h.status() == PlaybookRunner.HostStatus.FAILED
            || h.status() == PlaybookRunner.HostStatus.UNREACHABLE)) {
      // no host failed, yet Ansible ended the play before this one came through it: an error of its
      // own (an include_role of a role that does not exist, an unknown module in an included file),
      // which it writes to its error output ("ERROR! ...") and to no host's result
      return Outcome.permanentFailure(key + " did not complete the playbook: ansible-playbook ended the play "
          + (hr == null || hr.stats().isEmpty() ? "before any task ran for " + host
              : "after ok=" + hr.stats().getOrDefault("ok", 0) + " changed=" + hr.stats().getOrDefault("changed", 0))
          + " with no host failed (exit " + code + ")"
          + (r.stderr().isEmpty() ? "" : ": " + ansibleError(r.stderr(), managed.inventoryFile()))
          + "; it runs again at the next sync", null);
    }
    if (played && code != 0 && failsOtherHostsAtMost(code) && (hr == null || !hr.completed())) {
      // other hosts failed and Ansible ended the playbook before this one came through it (a
      // serial batch that failed, max_fail_percentage, any_errors_fatal): not converged, and not
      // retried in this sync either, the user having asked for the rollout to stop
      return Outcome.permanentFailure(key + " did not complete the playbook: ansible-playbook stopped it after other"
          + " hosts failed (a serial batch that failed, max_fail_percentage or any_errors_fatal), "
          + (hr == null || hr.stats().isEmpty() ? "before any task ran for " + host
              : "after ok=" + hr.stats().getOrDefault("ok", 0) + " changed=" + hr.stats().getOrDefault("changed", 0))
          + "; it runs again at the next sync (exit " + code + ")" + culprits(r, host), null);
    }
    if (played && failsOtherHostsAtMost(code)) {
      // 2, 3 and 4 name other hosts' failures: this one completed
      String summary = hr == null || hr.stats().isEmpty() ? "no task ran for this host"
          : "ok=" + hr.stats().getOrDefault("ok", 0) + " changed=" + hr.stats().getOrDefault("changed", 0);
      return new Outcome(ok.kind(), summary, null, Map.of());
    }
    return Outcome.permanentFailure(key + ": ansible-playbook exited with " + code + " (" + meaning(code, played)
        + ")" + (r.stderr().isEmpty() ? "; it printed nothing on its error output" : ": " + r.stderr())
        + culprits(r, host), null);
  }

  /** The most hosts {@link #culprits} names. */
  private static final int MAX_CULPRITS = 3;

  /**
   * The hosts of run {@code r}, other than {@code host}, that failed or were unreachable on their
   * own, each with its task, the task's {@code file:line} and Ansible's message ("; c1 failed at
   * task 'migrate' (roles/app/tasks/main.yml:4): …"), at most {@link #MAX_CULPRITS} of them by
   * name: what made Ansible stop the hosts that did not come through the playbook (a serial batch
   * that failed, {@code max_fail_percentage}, {@code any_errors_fatal}), for their messages,
   * the converge's, the decommission's and the drift check's; "" when no other host failed.
   * The run's results do not say which host failed first: they are named in host order.
   */
  private static String culprits(PlaybookRunner.Result r, String host) {
    List<String> named = new ArrayList<>();
    int more = 0;
    for (PlaybookRunner.HostResult other : r.hosts().values()) {
      boolean failed = other.status() == PlaybookRunner.HostStatus.FAILED;
      if (other.host().equals(host) || !failed && other.status() != PlaybookRunner.HostStatus.UNREACHABLE) {
        continue;
      }
      if (named.size() == MAX_CULPRITS) {
        more++;
        continue;
      }
      named.add(other.host() + (failed ? " failed" : " was unreachable")
          + (other.failedTask().isEmpty() ? "" : " at task '" + other.failedTask() + "'" + at(other))
          + (other.message().isEmpty() ? "" : ": " + other.message()));
    }
    return named.isEmpty() ? "" : "; " + String.join("; ", named)
        + (more == 0 ? "" : "; and " + more + " more host" + (more == 1 ? "" : "s") + " failed");
  }

  /** Where Ansible's error message ends and its excerpt of the file it blames begins. */
  private static final java.util.regex.Pattern ERROR_EXCERPT = java.util.regex.Pattern.compile("\\s+The error appears to be in");

  /** The place that excerpt is of: "The error appears to be in 'file': line 4, column 1". */
  private static final java.util.regex.Pattern ERROR_PLACE = java.util.regex.Pattern.compile(
      "\\s+The error appears to be in '([^'\\n]*)': line (\\d+), column (\\d+)");

  /**
   * Ansible's own error in {@code stderr} ({@code ERROR! the role 'x' was not found in ...}) without
   * the excerpt of the file it blames that follows it ("The offending line appears to be: ..."),
   * which for an included role is a line of the managed inventory, variables and all; but with the
   * place it blames ("; the error appears to be in 'ansible/roles/app/tasks/more.yml': line 4,
   * column 1", the repository's path once the run's copy is named so), where a YAML error of a
   * file the run loads (an included task file, a {@code group_vars} file) is — unless that place is
   * the managed inventory {@code inventory}, which the provider writes and the user does not fix.
   */
  static String ansibleError(String stderr, Path inventory) {
    int at = stderr.indexOf("ERROR!");
    String s = at >= 0 ? stderr.substring(at) : stderr;
    java.util.regex.Matcher excerpt = ERROR_EXCERPT.matcher(s);
    if (!excerpt.find()) {
      return s.strip();
    }
    String error = s.substring(0, excerpt.start()).strip();
    java.util.regex.Matcher place = ERROR_PLACE.matcher(s).region(excerpt.start(), s.length());
    if (!place.lookingAt() || isFile(place.group(1), inventory)) {
      return error;
    }
    return error + "; the error appears to be in '" + place.group(1) + "': line " + place.group(2) + ", column "
        + place.group(3);
  }

  /** Whether {@code named}, a path in Ansible's message, is {@code file}, as given or with its links resolved. */
  private static boolean isFile(String named, Path file) {
    try {
      Path p = Path.of(named);
      if (p.equals(file.toAbsolutePath().normalize())) {
        return true;
      }
      return Files.exists(p) && Files.exists(file) && Files.isSameFile(p, file);
    } catch (IOException | java.nio.file.InvalidPathException e) {
      return false;  // not a path of this machine: not the managed inventory
    }
  }

  /**
   * Whether exit {@code code}, after a play started, says at most that some hosts failed or were
   * unreachable (each host's own result says which), so that a host that came through the playbook
   * converged: 0; 2, some host failed; 3, some host unreachable (Ansible's documented code, which
   * ansible-core gives as 4); 4, some host unreachable. Any other code fails the whole batch (1, 5,
   * 8, 250 and codes Ansible does not document) or leaves it unknown (99).
   */
  private static boolean failsOtherHostsAtMost(int code) {
    return code == 0 || code == 2 || code == 3 || code == 4;
  }

  /** ansible-playbook's exit code after SIGINT ("User interrupted execution"). */
  private static final int INTERRUPTED = 99;

  /**
   * Ansible's exit code for a play aborted after a host failed ({@code any_errors_fatal}, {@code
   * max_fail_percentage}); ansible-core 2.14 turns it into 2 before it exits.
   */
  private static final int ABORTED = 8;

  /** The task's {@code file:line}, for a message. */
  private static String at(PlaybookRunner.HostResult hr) {
    return hr.taskPath().isEmpty() ? "" : " (" + hr.taskPath() + ")";
  }

  /** What ansible-playbook's exit code means. */
  static String meaning(int code, boolean played) {
    return switch (code) {
      case 0 -> played ? "ok" : "but no play started: the gitops_jsonl callback reported none, so the playbook has"
          + " no play or this ansible-playbook did not load the callback (not Ansible, or an old one: tested with"
          + " ansible-core 2.14)";
      case 1 -> "error";
      // argparse's code for a command line it does not take, which ansible-core's own are not
      case 2 -> played ? "one or more hosts failed" : "a usage error: no play started, ansible-playbook not taking"
          + " the command line it was given (not ansible-core, or a version without one of its options: tested"
          + " with ansible-core 2.14)";
      case 3 -> played ? "one or more hosts were unreachable" : "but no play started, so none was reached";
      case 4 -> played ? "one or more hosts were unreachable" : "the playbook or inventory could not be parsed";
      case 5 -> "bad or incomplete options";
      case 8 -> played ? "the play was aborted after a host failed (any_errors_fatal or max_fail_percentage)"
          : "but no play started";
      case 99 -> "interrupted";
      case 250 -> "unexpected error";
      default -> "unknown exit code";
    };
  }

  private static String runSummary(PlaybookRunner.Result r) {
    if (!r.stopped().isEmpty()) {
      return "ansible-playbook " + r.stopped();
    }
    return "ansible-playbook exited with " + r.exitCode() + " (" + meaning(r.exitCode(), r.played()) + ")"
        + (!r.inventoryProblem().isEmpty() ? ": " + r.inventoryProblem() : r.stderr().isEmpty() ? "" : ": " + r.stderr());
  }

  // ------------------------------------------------------------------ helpers

  private String keyProblem(ResourceKey k) {
    if (!k.provider().equals(id)) {
      return "not a key of provider '" + id + "'";
    }
    if (!AnsibleDecoder.HOST.equals(k.type()) && !AnsibleDecoder.GROUP.equals(k.type())) {
      return "unknown type '" + k.type() + "' (the Ansible provider has host and group)";
    }
    return null;
  }

  private static boolean isHost(ResourceKey k) {
    return AnsibleDecoder.HOST.equals(k.type());
  }

  private static String version(JsonNode doc) {
    return Documents.digest(doc).substring(0, 16);
  }

  /** What is recorded for a converged host: the target, converged, without observed drift. */
  private static JsonNode record(JsonNode target) {
    ObjectNode rec = (ObjectNode) Documents.mutableCopy(target);
    rec.remove("drift");
    rec.put("converged", true);
    return Documents.freeze(rec);
  }

  /** The longest reason kept in a record. */
  private static final int MAX_REASON = 500;

  /**
   * What is recorded for a host a run may have changed without converging it: the document it
   * was being converged to, with {@code converged: false} and why. Observed so, it equals no
   * desired document (those say {@code converged: true}), so the next sync runs the host again
   * whatever Git then says, a revert of the change that failed included; removed from Git, it is
   * decommissioned with these variables.
   */
  private static JsonNode notConverged(JsonNode attempted, String reason) {
    ObjectNode rec = (ObjectNode) Documents.mutableCopy(attempted);
    rec.remove("drift");
    rec.put("converged", false);
    rec.put("reason", reason.length() <= MAX_REASON ? reason : reason.substring(0, MAX_REASON) + "…");
    return Documents.freeze(rec);
  }

  private JsonNode sensitiveValuesOf(JsonNode doc) {
    ArrayNode out = Documents.nodes().arrayNode();
    if (doc == null) {
      return out;
    }
    doc.path("vars").fields().forEachRemaining(e -> {
      if (decoder.isSensitiveName(e.getKey())) {
        out.add(e.getValue());
      }
    });
    return out;
  }

  private Scrubber scrubber(Collection<JsonNode> docs) {
    List<JsonNode> values = new ArrayList<>();
    docs.forEach(d -> values.add(sensitiveValuesOf(d)));
    return scrubberOf(values);
  }

  /**
   * A scrubber of every value under {@code values} that Java knows in plain text, for what comes
   * back from Ansible (task messages, diffs, error output). The callback plugin already scrubs
   * vault values and sensitive variables as Ansible rendered them; this is the second line. A vault
   * value is skipped: its ciphertext is no secret, and the plugin scrubs its plain text.
   */
  private static Scrubber scrubberOf(Collection<JsonNode> values) {
    return Scrubber.none().withValues(values, AnsibleYaml::isVault);
  }

  /** Writes an inventory for {@code hosts} (exact decoded values where the document still matches them). */
  private void writeInventory(Path file, Map<String, JsonNode> hosts, Map<String, JsonNode> groups) throws IOException {
    AnsibleDecoder.Decoded latest = decoder.latest();
    List<InventoryYaml.HostEntry> entries = new ArrayList<>();
    Map<String, List<String>> groupHosts = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : hosts.entrySet()) {
      JsonNode vars = e.getValue().path("vars");
      if (latest != null && latest.inventory().host(e.getKey()) != null) {
        JsonNode exact = latest.inventory().host(e.getKey()).vars();
        if (Documents.equal(exact, vars)) {
          vars = exact;  // keeps 1500.0 a float, which a frozen document cannot
        }
      }
      List<String> gs = new ArrayList<>();
      e.getValue().path("groups").forEach(g -> gs.add(g.asText()));
      entries.add(new InventoryYaml.HostEntry(e.getKey(), vars, gs));
      gs.forEach(g -> groupHosts.computeIfAbsent(g, x -> new ArrayList<>()).add(e.getKey()));
    }
    Map<String, List<String>> children = new TreeMap<>();
    groups.forEach((g, doc) -> {
      List<String> cs = new ArrayList<>();
      doc.path("children").forEach(c -> cs.add(c.asText()));
      if (!cs.isEmpty()) {
        children.put(g, cs);
      }
    });
    // atomic and owner-only wherever it goes: it holds every variable, secrets included
    ManagedInventory.write(file, InventoryYaml.render(entries, groupHosts, children)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private void progress(CallContext ctx, PlaybookRunner.Step step, String phase) {
    if (listeners.isEmpty()) {
      return;
    }
    ResourceKey key = ResourceKey.of(id, AnsibleDecoder.HOST, "", step.host().isEmpty() ? "-" : step.host());
    String name = phase.isEmpty() ? step.task() : phase + ": " + step.task();
    SyncEvent e = new SyncEvent.Progress(ctx.revision(), key, name, step.status(), step.detail());
    for (SyncListener l : listeners) {
      try {
        l.onEvent(e);
      } catch (RuntimeException ex) {
        // a listener must not break a run; the contract says listeners do not throw
        LOG.warn("a progress listener failed on {}: {}", key, ex.toString());
      }
    }
  }

  /** Builds {@link AnsibleProvider}. */
  public static final class Builder {
    private String id = "ansible";
    private String inventory;
    private String playbook;
    private String decommission;
    private Path inventoryOut;
    private Path workDir;
    private Map<String, Object> extraVars = new LinkedHashMap<>();
    private int forks;
    private String binary = "ansible-playbook";
    private boolean binaryGiven;
    private Map<String, String> environment = new LinkedHashMap<>();
    private Path vaultPasswordFile;
    private Duration timeout = Duration.ofMinutes(30);
    private final List<String> sensitive = new ArrayList<>();
    private boolean checkDrift;
    private final List<SyncListener> listeners = new ArrayList<>();

    private Builder() {}

    /** The provider id keys name (default {@code ansible}). */
    public Builder id(String id) {
      this.id = Objects.requireNonNull(id, "id");
      return this;
    }

    /** The inventory in the repository: an INI or YAML file, or a directory of them. Required. */
    public Builder inventory(String path) {
      this.inventory = Objects.requireNonNull(path, "inventory");
      return this;
    }

    /** The playbook in the repository; its directory is desired state too. Required. */
    public Builder playbook(String path) {
      this.playbook = Objects.requireNonNull(path, "playbook");
      return this;
    }

    /** A playbook in the playbook's directory run on hosts removed from the inventory before they are dropped. */
    public Builder decommissionPlaybook(String path) {
      this.decommission = Objects.requireNonNull(path, "decommissionPlaybook");
      return this;
    }

    /**
     * Where the managed inventory is written (its state file goes beside it). Required. The
     * inventory is YAML, so its name ends in {@code .yml}, {@code .yaml} or {@code .json} (which
     * Ansible's YAML inventory plugin reads the same way), or has no extension:
     * Ansible picks an inventory's parser by its extension and reads any other one (a {@code
     * .ini}, a {@code .cfg}) with another parser, which would find no host in it, so every run
     * would match nothing. A path that exists must be a regular file: a directory, a device, a
     * FIFO, a socket or a symbolic link is refused, here and, should one appear later, by every
     * observe and apply, before anything runs (the inventory is written by renaming a new file
     * over the path, which would replace a device or a link instead of writing where it points).
     *
     * @throws IllegalArgumentException for a name Ansible would not read as YAML, or a path that
     *     exists and is not a regular file
     */
    public Builder inventoryOut(Path file) {
      Objects.requireNonNull(file, "inventoryOut");
      Path name = file.getFileName();
      String n = name == null ? "" : name.toString();
      int dot = n.lastIndexOf('.');
      String extension = dot > 0 ? n.substring(dot) : "";
      // what Ansible's yaml inventory plugin takes (a .json through the same loader, which reads YAML too)
      if (!java.util.Set.of("", ".yml", ".yaml", ".json").contains(extension)) {
        throw new IllegalArgumentException("the managed inventory " + file + " ends in '" + extension
            + "', which Ansible does not read as YAML" + (extension.equalsIgnoreCase(".ini") ? " (it reads it as INI)" : "")
            + ", and it is written as YAML: Ansible would find no host in it; name it .yml or .yaml");
      }
      String what = ManagedInventory.notARegularFile(file);
      if (what != null) {
        throw new IllegalArgumentException("inventoryOut(" + file + "): it is " + what + ", not a regular file,"
            + " which the managed inventory would replace: give a regular file or a path that does not exist yet");
      }
      this.inventoryOut = file;
      return this;
    }

    /** Where playbooks, the callback plugin and run files go (default: {@code .<inventory>.work} beside it). */
    public Builder workDir(Path dir) {
      this.workDir = Objects.requireNonNull(dir, "workDir");
      return this;
    }

    /** Extra variables for every run ({@code -e}); part of every host's desired state. */
    public Builder extraVars(Map<String, ?> vars) {
      Objects.requireNonNull(vars, "extraVars");
      // a null name would fail only at the first run, when the variables are written as JSON
      vars.keySet().forEach(k -> Objects.requireNonNull(k, "extraVars: a variable name is null"));
      this.extraVars = new LinkedHashMap<>(vars);
      return this;
    }

    /** {@code --forks} (default: Ansible's). */
    public Builder forks(int forks) {
      if (forks < 1) {
        throw new IllegalArgumentException("forks must be at least 1, was " + forks);
      }
      this.forks = forks;
      return this;
    }

    /**
     * The {@code ansible-playbook} executable: a path, or a name looked up on the {@code PATH}
     * (default: {@code ansible-playbook} on the {@code PATH}, looked up at each run and at each
     * decode, whose syntax check it runs; a decode without it skips the check). One given here is
     * checked by {@link #build()}.
     */
    public Builder ansiblePlaybook(String binary) {
      this.binary = Objects.requireNonNull(binary, "ansiblePlaybook");
      this.binaryGiven = true;
      return this;
    }

    /**
     * Variables added to the environment of every run. Unless given here, {@code TMPDIR} and {@code
     * ANSIBLE_LOCAL_TEMP} point into the run's own directory, removed when the run ends (also when it is
     * stopped at its timeout or cancelled, or by the next run after the JVM was killed), so that no
     * stopped run leaves Ansible's temporary directories behind; tasks on this machine see that
     * {@code TMPDIR} too. Every run runs the whole playbook, whatever an {@code ansible.cfg} or the
     * inherited environment select, without the task debugger, and reads the managed inventory with
     * the yaml inventory plugin: {@code ANSIBLE_RUN_TAGS}, {@code ANSIBLE_SKIP_TAGS}, {@code
     * ANSIBLE_ENABLE_TASK_DEBUGGER}, {@code ANSIBLE_INVENTORY_ENABLED}, {@code ANSIBLE_YAML_FILENAME_EXT},
     * {@code ANSIBLE_INVENTORY_PLUGIN_EXTS} and {@code ANSIBLE_INVENTORY_UNPARSED_FAILED} cannot be given here,
     * nor {@code LC_ALL} as C or POSIX, under which Ansible does not start (an inherited one is left
     * out of every run).
     *
     * @throws IllegalArgumentException for any of those variables
     */
    public Builder environment(Map<String, String> env) {
      Objects.requireNonNull(env, "environment");
      // a null name or value would fail only at the first run, when the process is started
      env.forEach((k, v) -> {
        Objects.requireNonNull(k, "environment: a variable name is null");
        Objects.requireNonNull(v, () -> "environment: the value of " + k + " is null");
        if (PlaybookRunner.WHOLE_PLAYBOOK.containsKey(k)) {
          throw new IllegalArgumentException("environment: " + k + " would have ansible-playbook skip tasks of the"
              + " playbook, yet every host a run comes through is recorded as converged to the whole playbook;"
              + " every run runs all of it (tags 'all', none skipped), so " + k + " cannot be given");
        }
        if (PlaybookRunner.MANAGED_INVENTORY.containsKey(k)) {
          throw new IllegalArgumentException("environment: " + k + " cannot be given: the managed inventory is YAML,"
              + " which every run has Ansible read with its yaml inventory plugin (" + PlaybookRunner.MANAGED_INVENTORY
                  .keySet().stream().sorted().map(n -> n + "=" + PlaybookRunner.MANAGED_INVENTORY.get(n)).toList()
              + "); another setting could have it read no host from it and run on none");
        }
        if (k.equals("LC_ALL") && PlaybookRunner.NOT_UTF8_LC_ALL.contains(v)) {
          throw new IllegalArgumentException("environment: LC_ALL=" + v + " cannot be given: Ansible requires a UTF-8"
              + " locale and exits at once under that one; give a UTF-8 locale (C.UTF-8, en_US.UTF-8)");
        }
        if (PlaybookRunner.NO_DEBUGGER.containsKey(k)) {
          throw new IllegalArgumentException("environment: " + k + " cannot be given: a run has no one to answer"
              + " Ansible's task debugger, which would quit at the first failed task and stop the playbook for every"
              + " host; it is off in every run");
        }
      });
      this.environment = new LinkedHashMap<>(env);
      return this;
    }

    /**
     * A vault password file, for {@code !vault} values and vault-encrypted files: the parser
     * decrypts inventory files and vars files of the inventory with it (every variable they set is
     * sensitive), and the runs and the decoder's syntax check
     * pass it to {@code ansible-playbook} as {@code --vault-password-file}.
     */
    public Builder vaultPasswordFile(Path file) {
      this.vaultPasswordFile = Objects.requireNonNull(file, "vaultPasswordFile");
      return this;
    }

    /**
     * The longest one run may take (default 30 minutes; the engine's deadline may be shorter). The
     * decoder's syntax check takes at most a minute, or this when it is shorter.
     */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive, was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Variable names (with {@code *} as a wildcard) whose values are secret, besides Ansible's
     * connection and become passwords ({@code ansible_password}, {@code ansible_*_pass}, {@code
     * ansible_*_password}, {@code ansible_*_passphrase}), which always are.
     */
    public Builder sensitiveVariables(String... names) {
      Objects.requireNonNull(names, "sensitiveVariables");
      for (String n : names) {
        sensitive.add(Objects.requireNonNull(n, "sensitive variable name"));
      }
      return this;
    }

    /**
     * Whether observing runs check mode on in-sync hosts to find drift (default false: it costs a
     * run). The check needs the playbook of the revision observed: until this provider has decoded
     * it (the engine's no-change fast path decodes nothing), those hosts are observed UNKNOWN, so
     * the engine decodes the source and observes them again.
     */
    public Builder checkDrift(boolean check) {
      this.checkDrift = check;
      return this;
    }

    /** A listener for progress events (each task on each host). */
    public Builder listener(SyncListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * The provider.
     *
     * @throws IllegalStateException naming the missing option
     * @throws IllegalArgumentException when the executable given to {@link #ansiblePlaybook(String)}
     *     is not an executable file, or is not on the {@code PATH}
     */
    public AnsibleProvider build() {
      if (inventory == null) {
        throw new IllegalStateException("AnsibleProvider needs inventory(path in the repository)");
      }
      if (playbook == null) {
        throw new IllegalStateException("AnsibleProvider needs playbook(path in the repository)");
      }
      if (inventoryOut == null) {
        throw new IllegalStateException("AnsibleProvider needs inventoryOut(file)");
      }
      if (binaryGiven) {
        // the default is looked up at each run instead, so that a provider can decode and plan
        // on a machine without Ansible; a chosen executable is a promise checked now
        try {
          Executables.locate("ansible-playbook", binary, System.getenv("PATH"), PlaybookRunner.INSTALL);
        } catch (Executables.NotFound e) {
          throw new IllegalArgumentException("ansiblePlaybook(\"" + binary + "\"): " + e.getMessage(), e);
        }
      }
      return new AnsibleProvider(this);
    }
  }
}
