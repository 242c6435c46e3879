package dev.gitops.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.agent.providers.FilesProviderFactory;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.core.source.Credentials;
import dev.gitops.notify.Event;
import dev.gitops.notify.Severity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration file: every field read, every error naming file, line and field, nothing half-loaded. */
class AgentConfigTest {

  @TempDir
  Path dir;

  final Map<String, ProviderFactory> factories = Map.of("files", new FilesProviderFactory());
  final Map<String, String> env = Map.of("GIT_TOKEN", "t0ken", "HOOK_SECRET", "h00k");

  AgentConfig load(String yaml) throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, yaml);
    return AgentConfig.load(f, factories, env, true);
  }

  ConfigException error(String yaml) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(yaml));
    assertThat(e).as("an invalid configuration is rejected").isNotNull();
    return e;
  }

  static final String FULL = """
      agent:
        stateDir: state
        maxConcurrentSyncs: 2
        gracePeriod: 45s
        watchConfig: false
        stuckAfter: 1h
      targets:
        - name: web
          source:
            url: https://git.example.com/ops.git
            ref: main
            path: web
            credentials:
              token: {env: GIT_TOKEN}
          provider:
            type: files
            directory: /srv/web
            structured: ["**/*.json"]
          interval: 30s
          jitter: 0.2
          maxBackoff: 5m
          prune: false
          policies:
            maxDeletions: 5
            maxDeletionPercent: 20
            detectOnly: true
        - name: api
          source:
            url: ./repos/api
          provider: {type: files, directory: live/api}
          store: stores/api
          owner: team-api
      notifications:
        - type: webhook
          url: https://hooks.example.com/gitops
          secret: {env: HOOK_SECRET}
          events: [sync-failed, guard-refused]
          targets: [web]
          minSeverity: warning
          maxAttempts: 3
        - type: github
          repository: acme/ops
          token: {env: GIT_TOKEN}
        - type: gitlab
          project: acme/ops
          apiUrl: https://gitlab.example.com
          token: {file: gitlab-token}
      """;

  @Test
  void anEmptyConfigurationPathIsSaidToBeEmptyNotADirectory() {
    String said = "agent configuration \"\": the path is empty; give the path of the configuration file";
    Path empty = Path.of("");
    assertThat(catchThrowableOfType(ConfigException.class, () -> AgentConfig.read(empty))).hasMessage(said)
        .extracting(ConfigException::file).isEqualTo(empty);
    assertThat(catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(empty, factories, env, false)))
        .hasMessage(said);
    assertThat(catchThrowableOfType(ConfigException.class, () -> dev.gitops.agent.Agent.readConfig(empty)))
        .hasMessage(said);
    // parse took the working directory's parent for the default state directory
    assertThat(catchThrowableOfType(ConfigException.class, () -> AgentConfig.parse(empty,
        "targets: []\n".getBytes(StandardCharsets.UTF_8), factories, env, false))).hasMessage(said);
  }

  @Test
  void everyFieldIsRead() throws IOException {
    Files.writeString(dir.resolve("gitlab-token"), "glpat-xyz\n");
    AgentConfig c = load(FULL);

    assertThat(c.stateDir()).isEqualTo(dir.resolve("state"));
    assertThat(c.maxConcurrentSyncs()).isEqualTo(2);
    assertThat(c.gracePeriod()).isEqualTo(Duration.ofSeconds(45));
    assertThat(c.watchConfig()).isFalse();
    assertThat(c.stuckAfter()).isEqualTo(Duration.ofHours(1));
    assertThat(c.targets()).extracting(TargetConfig::name).containsExactly("web", "api");

    TargetConfig web = c.targets().get(0);
    assertThat(web.url()).isEqualTo("https://git.example.com/ops.git");
    assertThat(web.ref()).isEqualTo("main");
    assertThat(web.path()).isEqualTo("web");
    Credentials creds = web.credentials().resolve(env);
    assertThat(creds.toString()).doesNotContain("t0ken");
    assertThat(web.providerType()).isEqualTo("files");
    assertThat(web.provider().providerId()).isEqualTo("files");
    assertThat(web.store()).isEqualTo(dir.resolve("state/targets/web"));
    assertThat(web.owner()).isEqualTo("web");
    assertThat(web.interval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(web.jitter()).isEqualTo(0.2);
    assertThat(web.maxBackoff()).isEqualTo(Duration.ofMinutes(5));
    assertThat(web.prune()).isFalse();
    assertThat(web.detectOnly()).isTrue();
    assertThat(web.maxDeletions()).isEqualTo(5);
    assertThat(web.maxDeletionPercent()).isEqualTo(20);
    assertThat(web.line()).isEqualTo(8);

    TargetConfig api = c.targets().get(1);
    assertThat(api.url()).as("a local path, from the file's directory").isEqualTo(dir.resolve("repos/api").toString());
    assertThat(api.store()).isEqualTo(dir.resolve("stores/api"));
    assertThat(api.owner()).isEqualTo("team-api");
    assertThat(api.interval()).isEqualTo(Duration.ofMinutes(3));
    assertThat(api.prune()).isTrue();
    assertThat(api.maxDeletions()).isEqualTo(-1);

    assertThat(c.notifiers()).extracting(NotifierConfig::type).containsExactly("webhook", "github", "gitlab");
    NotifierConfig hook = c.notifiers().get(0);
    assertThat(hook.filter().events()).containsExactlyInAnyOrder(Event.SYNC_FAILED, Event.GUARD_REFUSED);
    assertThat(hook.filter().targets()).containsExactly("web");
    assertThat(hook.filter().minimum()).isEqualTo(Severity.WARNING);
    assertThat(hook.delivery().maxAttempts()).isEqualTo(3);
    assertThat(c.notifiers().get(2).url().toString()).isEqualTo("https://gitlab.example.com");
  }

  @Test
  void anUnknownFieldIsRejectedAtItsLineWithTheFieldsAllowed() {
    ConfigException e = error("""
        targets:
          - name: web
            source: {url: https://example.com/r.git}
            provider: {type: files, directory: /srv}
            intervall: 5m
        """);
    assertThat(e.line()).isEqualTo(5);
    assertThat(e.getMessage()).startsWith(dir.resolve("agent.yaml") + ":5: targets[0].intervall: unknown field")
        .contains("interval");
  }

  /**
   * What the target's Git source and reconciler refuse when the target starts is refused when the
   * file loads, at its line: accepted, a reload stopped the running target and could not start it
   * again ("target api cannot start: ... scheme ftp is not supported"), naming no file or line.
   */
  @Test
  void aUrlOrOwnerTheTargetCouldNotStartWithIsRefusedAtItsLine() {
    String target = """
        targets:
          - name: web
            source:
              url: %s
            provider: {type: files, directory: /srv}
            owner: %s
        """;
    assertThat(error(target.formatted("ftp://example.com/r.git", "web")).getMessage())
        .contains("agent.yaml:4: targets[0].source.url: 'ftp://example.com/r.git': scheme ftp is not supported");
    ConfigException password = error(target.formatted("\"https://deploy:pa/ss@example.com/r.git\"", "web"));
    assertThat(password.getMessage()).contains("agent.yaml:4: targets[0].source.url: ", "names no host")
        .doesNotContain("pa/ss");
    assertThat(error(target.formatted("\" https://example.com/r.git\"", "web")).getMessage())
        .contains("agent.yaml:4: targets[0].source.url: ", "remove the whitespace around it");
    assertThat(error(target.formatted("https://example.com/r.git", "\"team\\tweb\"")).getMessage())
        .contains("agent.yaml:6: targets[0].owner: owner id must not hold control or format characters");
  }

  @Test
  void errorsNameTheLineAndTheFieldAtFault() {
    assertThat(error("""
        targets:
          - name: web
            provider: {type: files, directory: /srv}
            source:
              ref: main
        """).getMessage()).contains("agent.yaml:4: targets[0].source.url: required");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
            interval: soon
        """).getMessage()).contains("agent.yaml:5: targets[0].interval: must be a positive duration");
    assertThat(error("""
        targets:
          - name: Web Site
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
        """).getMessage()).contains("agent.yaml:2: targets[0].name: 'Web Site' is not a target name");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: kubernetes}
        """).getMessage()).contains("agent.yaml:4: targets[0].provider.type: unknown provider type 'kubernetes' (known: files)");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files}
        """).getMessage()).contains("agent.yaml:4: targets[0].provider.directory: required");
    assertThat(error("""
        agent:
          maxConcurrentSyncs: 0
        """).getMessage()).contains("agent.yaml:2: agent.maxConcurrentSyncs: must be a whole number from 1 to 1024");
  }

  @Test
  void aSecondTargetWithTheSameNameOrStoreNamesBoth() {
    String target = """
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/%s}
        """;
    ConfigException e = error("targets:\n" + target.formatted("a") + target.formatted("b"));
    assertThat(e.getMessage()).contains("agent.yaml:5: targets[1].name: a second target named 'web' (the first is at line 2)");
    ConfigException shared = error("""
        targets:
          - name: a
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/a}
            store: /var/lib/gitops/one
          - name: b
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/b}
            store: /var/lib/gitops/one
        """);
    assertThat(shared.getMessage()).contains("agent.yaml:9: targets[1].store: target 'b' would share the store")
        .contains("with target 'a'");
  }

  @Test
  void secretsAreReferencesAndMustResolve() {
    assertThat(error("""
        targets:
          - name: web
            source:
              url: https://e/r.git
              credentials: {token: ghp_inline_secret}
            provider: {type: files, directory: /srv}
        """).getMessage()).contains("agent.yaml:5: targets[0].source.credentials.token: secrets are given by reference")
        .doesNotContain("ghp_inline_secret");
    assertThat(error("""
        targets:
          - name: web
            source:
              url: https://e/r.git
              credentials:
                username: deploy
                password: {env: NOT_SET_ANYWHERE}
            provider: {type: files, directory: /srv}
        """).getMessage()).contains("agent.yaml:7: targets[0].source.credentials.password: the environment variable "
        + "NOT_SET_ANYWHERE is not set");
    assertThat(error("""
        targets: []
        notifications:
          - type: webhook
            url: https://hooks.example.com/x
            secret: {file: missing-secret}
        """).getMessage()).contains("agent.yaml:5: notifications[0].secret: cannot read the secret file");
    assertThat(error("""
        targets:
          - name: web
            source:
              url: ssh://git@example.com/ops.git
              credentials: {sshKey: keys/id_ed25519}
            provider: {type: files, directory: /srv}
        """).getMessage()).contains("agent.yaml:5: targets[0].source.credentials.sshKey: cannot read");
  }

  @Test
  void secretsAndProviderModulesAreNotNeededToReadTheFileForStatus() throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets:
          - name: web
            source:
              url: https://e/r.git
              credentials: {token: {env: NOT_SET_ANYWHERE}}
            provider: {type: files, directory: /srv}
          - name: cluster
            source: {url: https://e/r.git}
            provider: {type: kubernetes, context: prod}
        """);
    AgentConfig c = AgentConfig.load(f, factories, Map.of(), false);
    assertThat(c.targets()).extracting(TargetConfig::name).containsExactly("web", "cluster");
    assertThat(c.targets().get(1).provider().providerId()).isEqualTo("kubernetes");
  }

  @Test
  void malformedYamlDuplicateKeysAndSecondDocumentsAreRejectedAtTheirLine() {
    assertThat(error("""
        targets:
          - name: web
            name: api
        """).getMessage()).contains("agent.yaml:3: targets[0].name: duplicate key (first at line 2)");
    ConfigException malformed = error("""
        targets:
          - name: web
           source: [
        """);
    assertThat(malformed.line()).isPositive();
    assertThat(malformed.getMessage()).contains("malformed YAML");
    // SnakeYAML's problem at its own line, not only the context it was in at the line that context started
    ConfigException tab = error("targets:\n  - name: web\n    source: {url: ./repo}\n    provider: {type: files,"
        + " directory: ./out}\n\tinterval: 5s\n");
    assertThat(tab.line()).isEqualTo(5);
    assertThat(tab.getMessage()).endsWith("agent.yaml:5: malformed YAML: while scanning for the next token: found"
        + " character '\\t(TAB)' that cannot start any token. (Do not use \\t(TAB) for indentation)");
    ConfigException indent = error("targets:\n  - name: web\n    source: {url: ./repo}\n    provider: {type: files,"
        + " directory: ./out}\n     interval: 5s\n");
    assertThat(indent.line()).isEqualTo(5);
    assertThat(indent.getMessage()).contains("malformed YAML: while parsing a block mapping: expected <block end>, but"
        + " found '<block mapping start>'");
    assertThat(error("""
        agent: {}
        ---
        agent: {}
        """).getMessage()).contains("agent.yaml:3: a second YAML document");
    assertThat(error("targets: web\n").getMessage()).contains("agent.yaml:1: targets: must be a list of targets");
  }

  @Test
  void notifiersAreCheckedWhole() {
    String targets = """
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
        """;
    assertThat(error(targets + """
        notifications:
          - type: webhook
            url: https://hooks.example.com/x
            targets: [web, api]
        """).getMessage()).contains("agent.yaml:8: notifications[0].targets[1]: no target is named 'api'");
    assertThat(error(targets + """
        notifications:
          - type: webhook
            url: ftp://hooks.example.com/x
        """).getMessage()).contains("agent.yaml:7: notifications[0].url: must be an http or https URL");
    // a scheme is case-insensitive (RFC 3986), as the notifier itself takes it
    assertThatCode(() -> load(targets + """
        notifications:
          - type: webhook
            url: HTTPS://hooks.example.com/x
        """)).doesNotThrowAnyException();
    assertThat(error(targets + """
        notifications:
          - type: slack
        """).getMessage()).contains("agent.yaml:6: notifications[0].type: unknown notifier type 'slack'");
    assertThat(error(targets + """
        notifications:
          - type: github
            repository: not-a-repo
        """).getMessage()).contains("agent.yaml:7: notifications[0].repository: a GitHub repository is 'owner/name'");
    // each would post to another path, or be refused at every delivery
    assertThat(error(targets + """
        notifications:
          - type: gitlab
            token: {env: HOOK_SECRET}
            project: group//project
        """).getMessage()).contains("agent.yaml:8: notifications[0].project: a GitLab project is 'group/name'")
        .contains("got 'group//project'");
    assertThat(error(targets + """
        notifications:
          - type: github
            token: {env: HOOK_SECRET}
            repository: acme/ops
            apiUrl: https://ghe.example.com/api/v3?token=S3CRET
        """).getMessage()).contains("agent.yaml:9: notifications[0].apiUrl: the API URL has a query ('?...'): give the"
        + " base URL alone (https://ghe.example.com/..., no '?' or '#')").doesNotContain("S3CRET");
    assertThat(error(targets + """
        notifications:
          - type: webhook
            url: https://h.example.com/
            events: [sync-exploded]
        """).getMessage()).contains("agent.yaml:8: notifications[0].events[0]: unknown event 'sync-exploded'");
  }

  @Test
  void aTargetWhoseGitTokenChangedInItsFileIsNotTheSameTargetThoughItsEntryIs() throws IOException {
    Files.writeString(dir.resolve("git-token"), "first\n");
    String yaml = """
        targets:
          - name: web
            source:
              url: https://e/r.git
              credentials: {token: {file: git-token}}
            provider: {type: files, directory: /srv}
        """;
    TargetConfig running = load(yaml).targets().get(0);
    assertThat(load(yaml).targets().get(0).sameAs(running)).as("nothing changed").isTrue();
    Files.writeString(dir.resolve("git-token"), "rotated\n");
    TargetConfig next = load(yaml).targets().get(0);
    assertThat(next.definition()).isEqualTo(running.definition());
    assertThat(next.sameAs(running)).as("the token a reload reads is another: the target restarts").isFalse();
  }

  @Test
  void aTargetWhoseSshKeyWasReplacedInItsFileIsNotTheSameTargetThoughItsEntryIs() throws IOException {
    // the key is read when the target starts: a reload must restart it to use a replaced key, as for a token
    Files.writeString(dir.resolve("id_ed25519"), "first key\n");
    Files.writeString(dir.resolve("known_hosts"), "");
    String yaml = """
        targets:
          - name: web
            source:
              url: ssh://git@git.example.com/ops.git
              credentials: {sshKey: id_ed25519}
              knownHosts: known_hosts
            provider: {type: files, directory: /srv}
        """;
    TargetConfig running = load(yaml).targets().get(0);
    assertThat(running.credentials().sshKeyDigest()).hasSize(64);
    assertThat(load(yaml).targets().get(0).sameAs(running)).as("nothing changed").isTrue();
    Files.writeString(dir.resolve("id_ed25519"), "rotated key\n");
    TargetConfig next = load(yaml).targets().get(0);
    assertThat(next.definition()).isEqualTo(running.definition());
    assertThat(next.sameSecretsAs(running)).as("the key a reload reads is another: the target restarts").isFalse();
    assertThat(next.sameAs(running)).isFalse();
  }

  @Test
  void aNotifierEventItWouldNeverSendIsRefusedAtItsLine() {
    String targets = """
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
        notifications:
        """;
    assertThat(error(targets + """
          - type: webhook
            url: https://h.example.com/
            events: [sync-failed,
                     sync-started]
            minSeverity: error
        """).getMessage()).contains("agent.yaml:9: notifications[0].events[1]: sync-started is of severity info, below"
            + " minSeverity error (line 10): it would never be sent; remove it or lower minSeverity");
    assertThat(error(targets + """
          - type: gitlab
            project: acme/ops
            token: {env: HOOK_SECRET}
            events: [drift-detected]
        """).getMessage()).contains("agent.yaml:9: notifications[0].events[0]: a gitlab notifier posts no commit status"
            + " for drift-detected");
    assertThatCode(() -> load(targets + """
          - type: webhook
            url: https://h.example.com/
            events: [drift-detected, sync-failed]
            minSeverity: warning
          - type: github
            repository: acme/ops
            token: {env: HOOK_SECRET}
            events: [sync-started, sync-failed]
        """)).doesNotThrowAnyException();
  }

  @Test
  void aNotifierWithAnEmptyEventsOrTargetsListIsRefusedAtItsLineNotSentEverything() {
    // the filter reads an empty set as all: events: [] (meant as none, or a template listing none) sent every event
    String head = """
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
        notifications:
          - type: webhook
            url: https://h.example.com/
        """;
    ConfigException events = error(head + "    events: []\n");
    assertThat(events.getMessage()).contains("agent.yaml:8: notifications[0].events: an empty list would send every"
        + " event, as no 'events' key does: remove the key to send every event (or remove the notifier to send"
        + " nothing), or list what to send");
    assertThat(error(head + "    minSeverity: warning\n    targets: [ ]\n").getMessage())
        .contains("agent.yaml:9: notifications[0].targets: an empty list would send every target's notifications");
    assertThat(error(head + "    targets:\n      []\n").line()).as("the key's line").isEqualTo(8);
    assertThatCode(() -> load(head + "    events: [sync-failed]\n    targets: [web]\n")).doesNotThrowAnyException();
    assertThatCode(() -> load(head)).as("no key: every event, every target").doesNotThrowAnyException();
  }

  @Test
  void anEmptyFileOrOneWithoutTargetsIsRefusedNamingTheFile() {
    Path f = dir.resolve("agent.yaml");
    for (String truncated : new String[] {"", "# only a comment\n", "agent:\n  stateDir: state\n", "targets:\n"}) {
      ConfigException e = error(truncated);
      assertThat(e.file()).isEqualTo(f);
      assertThat(e.getMessage()).as("%s", truncated).startsWith(f.toString())
          .contains("a truncated file would stop every target").contains("targets: []");
    }
    assertThat(error("").getMessage()).contains("the file is empty");
    assertThat(error("agent: {watchConfig: true}\n").getMessage()).contains("no 'targets'");
    assertThat(error("agent: {}\ntargets:\n").line()).isEqualTo(2);
  }

  @Test
  void secretErrorsSayWhatIsWrongInWords() throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets: []
        notifications:
          - type: webhook
            url: https://hooks.example.com/x
            secret: {env: EMPTYV}
        """);
    ConfigException empty = catchThrowableOfType(ConfigException.class,
        () -> AgentConfig.load(f, factories, Map.of("EMPTYV", ""), true));
    assertThat(empty.getMessage()).contains("agent.yaml:5: notifications[0].secret: the environment variable EMPTYV is "
        + "set but empty");
    ConfigException unset = catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories, Map.of(),
        true));
    assertThat(unset.getMessage()).contains("the environment variable EMPTYV is not set");
    assertThat(error("""
        targets: []
        notifications:
          - type: webhook
            url: https://hooks.example.com/x
            secret: {file: missing-secret}
        """).getMessage()).endsWith("cannot read the secret file " + dir.resolve("missing-secret") + ": it does not exist")
        .doesNotContain("Exception");
  }

  @Test
  void aForgeNotifierTakesItsOwnStatusContext() throws IOException {
    AgentConfig c = load("""
        targets: []
        notifications:
          - type: github
            repository: acme/ops
            token: {env: GIT_TOKEN}
            context: gitops-staging/{target}
          - type: gitlab
            project: acme/ops
            token: {env: GIT_TOKEN}
        """);
    assertThat(c.notifiers()).extracting(NotifierConfig::context).containsExactly("gitops-staging/{target}", null);
    try (dev.gitops.notify.Notifier n = c.notifiers().get(0).create(env)) {
      assertThat(((dev.gitops.notify.CommitStatusNotifier) n).contextOf("web")).isEqualTo("gitops-staging/web");
    }
    // the limit holds for the context posted: {target} replaced by the longest name it applies to
    String twoTargets = """
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/web}
          - name: a-target-whose-name-is-30-char
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/long}
        notifications:
          - type: gitlab
            project: acme/ops
            token: {env: GIT_TOKEN}
        """;
    String longContext = "    context: " + "x".repeat(240) + "/{target}\n";
    assertThat(error(twoTargets + longContext).getMessage()).contains("agent.yaml:12: notifications[0].context: the"
        + " status context for target 'a-target-whose-name-is-30-char' would be 271 characters, more than the 255 a"
        + " forge keeps: shorten the context (or the target's name)");
    assertThat(load(twoTargets + longContext + "    targets: [web]\n").notifiers().get(0).context())
        .as("a notifier for the short name only").endsWith("/{target}");
    assertThat(error("""
        targets: []
        notifications:
          - type: github
            repository: acme/ops
            token: {env: GIT_TOKEN}
            context: "gitops\\t{target}"
        """).getMessage()).contains("agent.yaml:6: notifications[0].context: a status context is 1 to 255 characters"
        + " without control characters, got 'gitops?{target}'");
    assertThat(error("""
        targets: []
        notifications:
          - type: webhook
            url: https://hooks.example.com/x
            context: x
        """).getMessage()).contains("agent.yaml:5: notifications[0]").contains("context");
  }

  @Test
  void aWebhookUrlWithoutAUsableHostOrPortIsRefusedAtItsKeyNeverShowingPathOrQuery() {
    for (String url : new String[] {"http://alert_receiver:18080/services/T000/B000/S3CRET", "http:///path?token=S3CRET",
        "https://hooks.example.com:99999/S3CRET"}) {
      assertThat(error("""
          targets: []
          notifications:
            - type: webhook
              url: %s
          """.formatted(url)).getMessage()).as(url).contains("agent.yaml:4: notifications[0].url: ")
          .doesNotContain("S3CRET");
    }
    assertThat(error("""
        targets: []
        notifications:
          - type: webhook
            url: http://alert_receiver:18080/services/T000/B000/S3CRET
        """).getMessage()).contains("notifications[0].url: has no host a client can connect to: 'alert_receiver:18080'");
    assertThat(error("""
        targets: []
        notifications:
          - type: github
            repository: acme/ops
            token: {env: GIT_TOKEN}
            apiUrl: https://github.example.com:99999/api/v3
        """).getMessage()).contains("agent.yaml:6: notifications[0].apiUrl: has port 99999");
  }

  @Test
  void aForgeTokenOrWebhookSecretLosesOneLineBreakAtItsEndAndIsRefusedWithAnyOtherControlCharacter() throws Exception {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets: []
        notifications:
          - type: github
            repository: acme/ops
            token: {env: GH}
            apiUrl: http://127.0.0.1:1/
          - type: gitlab
            project: acme/ops
            token: {file: gitlab-token}
          - type: webhook
            url: http://127.0.0.1:1/hook
            secret: {env: HOOK}
        """);
    Files.writeString(dir.resolve("gitlab-token"), "glpat-S3CRET\r");
    for (String line : new String[] {"\n", "\r\n", "\r"}) {
      AgentConfig c = AgentConfig.load(f, factories, Map.of("GH", "ghp_S3CRET" + line, "HOOK", "h00k" + line), true);
      assertThat(c.notifiers()).hasSize(3);
      for (NotifierConfig n : c.notifiers()) {
        n.create(Map.of("GH", "ghp_S3CRET" + line, "HOOK", "h00k" + line)).close();
      }
      assertThat(c.notifiers().get(2).secret().resolveLine(Map.of("HOOK", "h00k" + line))).isEqualTo("h00k");
    }
    for (String bad : new String[] {"ghp_S3\nCRET", "ghp_S3CRET\n\n", "ghp_S3CRET\u0000", "\n"}) {
      ConfigException e = catchThrowableOfType(ConfigException.class,
          () -> AgentConfig.load(f, factories, Map.of("GH", bad, "HOOK", "h00k"), true));
      assertThat(e).as(bad).isNotNull();
      assertThat(e.getMessage()).contains("agent.yaml:5: notifications[0].token: the environment variable GH holds")
          .doesNotContain("S3");
    }
    Files.writeString(dir.resolve("gitlab-token"), "glpat-S3CRET\n\n");
    assertThat(catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories,
        Map.of("GH", "ghp", "HOOK", "h00k"), true)).getMessage())
        .contains("agent.yaml:9: notifications[1].token: the secret file " + dir.resolve("gitlab-token")
            + " holds a control character (a line feed) at character 13 of 13").doesNotContain("S3CRET");
  }

  @Test
  void aForgeTokenAHeaderCannotCarryIsRefusedAtItsLineWhenTheFileLoads() throws Exception {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets: []
        notifications:
          - type: gitlab
            project: acme/ops
            token: {env: GL}
        """);
    // a byte order mark an editor put first: the notifier was made, and dropped every status
    assertThat(catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories,
        Map.of("GL", "\uFEFFglpat-S3CRET"), true)).getMessage())
        .contains("agent.yaml:5: notifications[0].token: the environment variable GL: the token holds a character that"
            + " is not ASCII (U+FEFF, a byte order mark) at character 1 of 13").doesNotContain("S3CRET");
  }

  @Test
  void aGitTokenOrPasswordLosesOneLineBreakAtItsEndAndIsRefusedWithAnyOtherControlCharacter() throws Exception {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, """
        targets:
          - name: web
            source:
              url: https://git.example.com/ops.git
              credentials: {token: {env: GIT_TOKEN}}
            provider: {type: files, directory: live}
          - name: api
            source:
              url: https://git.example.com/api.git
              credentials: {username: bot, password: {env: GIT_PASSWORD}}
            provider: {type: files, directory: live-api}
        """);
    for (String line : new String[] {"\n", "\r\n", "\r"}) {
      assertThat(AgentConfig.load(f, factories, Map.of("GIT_TOKEN", "ghp_S3CRET" + line, "GIT_PASSWORD", "pw" + line),
          true).targets()).hasSize(2);
    }
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories,
        Map.of("GIT_TOKEN", "ghp_S3\nCRET", "GIT_PASSWORD", "pw"), true));
    assertThat(e.getMessage()).contains("agent.yaml:5: targets[0].source.credentials.token: the environment variable"
        + " GIT_TOKEN holds a control character (a line feed)").doesNotContain("S3");
    e = catchThrowableOfType(ConfigException.class, () -> AgentConfig.load(f, factories,
        Map.of("GIT_TOKEN", "ghp_S3CRET", "GIT_PASSWORD", "p\u0000w\n"), true));
    assertThat(e.getMessage()).contains("targets[1].source.credentials.password: the environment variable GIT_PASSWORD"
        + " holds a control character (U+0000)");
  }

  @Test
  void aBadWebhookUrlIsNamedByItsSchemeAndHostOnlyNeverItsPathOrQuery() {
    String bad = error("""
        targets: []
        notifications:
          - type: webhook
            url: ftp://hooks.example.com/services/T0/B0/s3cr3tT0ken?key=k3y
        """).getMessage();
    assertThat(bad).contains("agent.yaml:4: notifications[0].url: must be an http or https URL, got "
        + "'ftp://hooks.example.com'").doesNotContain("s3cr3tT0ken").doesNotContain("k3y");
    String malformed = error("""
        targets: []
        notifications:
          - type: webhook
            url: "https://hooks.example.com/services/s3cr3t T0ken"
        """).getMessage();
    assertThat(malformed).contains("agent.yaml:4: notifications[0].url: not a URL: Illegal character in path at "
        + "character").doesNotContain("s3cr3t");
  }

  @Test
  void aForgeNotifierWithoutItsTokenIsRefusedAtLoad() {
    assertThat(error("""
        targets: []
        notifications:
          - type: github
            repository: acme/ops
        """).getMessage()).contains("agent.yaml:3: notifications[0].token: required: the GitHub token");
    assertThat(error("""
        targets: []
        notifications:
          - type: gitlab
            project: acme/ops
        """).getMessage()).contains("agent.yaml:3: notifications[0].token: required: the GitLab token");
  }

  @Test
  void aKeyWrittenWithoutAValueIsRefusedNotTakenForTheDefault() {
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
            interval:
        """).getMessage()).contains("agent.yaml:5: targets[0].interval: has no value");
    assertThat(error("""
        agent:
          maxConcurrentSyncs:
        targets: []
        """).getMessage()).contains("agent.yaml:2: agent.maxConcurrentSyncs: has no value");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git, ref: }
            provider: {type: files, directory: /srv}
        """).getMessage()).contains("targets[0].source.ref: has no value");
  }

  @Test
  void aRequiredKeyWrittenWithoutAValueIsSaidToBeRequiredNotToHaveADefault() {
    String target = """
        targets:
          - name: %s
            source: {url: %s}
            provider: {type: %s, directory: %s}
        """;
    // a required key has no default: "remove the key for the default" would be wrong
    assertThat(error(target.formatted("web", "", "files", "/srv")).getMessage())
        .contains("agent.yaml:3: targets[0].source.url: has no value; required: the Git repository")
        .doesNotContain("default");
    assertThat(error(target.formatted("web", "https://e/r.git", "", "/srv")).getMessage())
        .contains("agent.yaml:4: targets[0].provider.type: has no value; required: the kind of live system")
        .doesNotContain("default");
    assertThat(error(target.formatted("", "https://e/r.git", "files", "/srv")).getMessage())
        .contains("agent.yaml:2: targets[0].name: has no value; required: the target's name")
        .doesNotContain("default");
    // a provider factory's required option too
    assertThat(error(target.formatted("web", "https://e/r.git", "files", "")).getMessage())
        .contains("agent.yaml:4: targets[0].provider.directory: has no value; required").doesNotContain("default");
    assertThat(error("""
        targets: []
        notifications:
          - type: github
            repository: acme/ops
            token:
        """).getMessage()).contains("agent.yaml:5: notifications[0].token: has no value; required: the GitHub token")
        .doesNotContain("default");
    assertThat(error("""
        targets: []
        notifications:
          - type: webhook
            url:
        """).getMessage()).contains("agent.yaml:4: notifications[0].url: has no value; required: the http or https"
        + " URL").doesNotContain("default");
    assertThat(error("""
        targets: []
        notifications:
          - type: webhook
            url: https://hooks.example.com/x
            secret: {env: }
        """).getMessage()).contains("agent.yaml:5: notifications[0].secret.env: has no value; required: the name of"
        + " the environment variable").doesNotContain("default");
    // an optional key keeps the hint
    assertThat(error(target.formatted("web", "https://e/r.git", "files", "/srv") + "    interval:\n").getMessage())
        .contains("targets[0].interval: has no value (remove the key for the default)");
  }

  @Test
  void aSectionOrListWrittenWithoutAValueIsRefusedNotTakenForAbsent() {
    String web = """
        targets:
          - name: web
            source:
              url: https://e/r.git
              credentials:
            provider: {type: files, directory: /srv}
        """;
    // credentials: with nothing under it would silently sync without credentials
    assertThat(error(web).getMessage()).contains("agent.yaml:5: targets[0].source.credentials: has no value");
    assertThat(error(web.replace("      credentials:\n", "") + "    policies:\n").getMessage())
        .contains("agent.yaml:6: targets[0].policies: has no value");
    assertThat(error("agent:\ntargets: []\n").getMessage()).contains("agent.yaml:1: agent: has no value");
    assertThat(error("targets: []\nnotifications:\n").getMessage())
        .contains("agent.yaml:2: notifications: has no value");
    assertThat(error("""
        targets:
          - name: web
            source:
            provider: {type: files, directory: /srv}
        """).getMessage()).contains("agent.yaml:3: targets[0].source: has no value");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider:
        """).getMessage()).contains("agent.yaml:4: targets[0].provider: has no value");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv, structured: }
        """).getMessage()).contains("agent.yaml:4: targets[0].provider.structured: has no value");
    // a webhook's secret: with no value would send unsigned bodies; events: would send every event
    String hook = """
        targets: []
        notifications:
          - type: webhook
            url: https://hooks.example.com/x
            %s:
        """;
    assertThat(error(hook.formatted("secret")).getMessage()).contains("agent.yaml:5: notifications[0].secret: has no value");
    assertThat(error(hook.formatted("events")).getMessage()).contains("agent.yaml:5: notifications[0].events: has no value");
    assertThat(error(hook.formatted("targets")).getMessage()).contains("agent.yaml:5: notifications[0].targets: has no value");
    assertThat(error("""
        targets:
          -
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
        """).getMessage()).contains("agent.yaml:2: targets[0]: has no value");
    // targets: keeps its own message
    assertThat(error("targets:\n").getMessage()).contains("'targets' has no value: a truncated file");
  }

  /**
   * A tag of its own ({@code !env}, {@code !secret}, as other tools read them) was dropped without
   * a word and the value read as written: {@code url: !env REPO_URL} became the local path
   * REPO_URL, {@code interval: !custom 5m} five minutes. YAML's own tags ({@code !!str}) are fine.
   */
  @Test
  void aValueWithATagOfItsOwnIsRefusedAtItsLineNotReadAsIfTheTagWereNotThere() throws IOException {
    String target = """
        targets:
          - name: web
            source: {url: %s}
            provider: {type: files, directory: /srv}
            interval: %s
        """;
    ConfigException url = error(target.formatted("!env REPO_URL", "5m"));
    assertThat(url.line()).isEqualTo(3);
    assertThat(url.getMessage()).contains("agent.yaml:3: targets[0].source.url: a YAML tag (!env) is not supported")
        .contains("{env: NAME}");
    assertThat(error(target.formatted("https://e/r.git", "!custom 5m")).getMessage())
        .contains("agent.yaml:5: targets[0].interval: a YAML tag (!custom) is not supported");
    assertThat(error(target.formatted("https://e/r.git", "5m") + "    policies: !strict {detectOnly: true}\n")
        .getMessage()).contains("agent.yaml:6: targets[0].policies: a YAML tag (!strict) is not supported");
    assertThat(load(target.formatted("!!str https://e/r.git", "!!str 5m")).targets().get(0).interval())
        .isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void valuesYamlCannotCarryAreRefusedNamingTheField() {
    String target = """
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
            %s
        """;
    ConfigException binary = error(target.formatted("interval: !!binary aGVsbG8="));
    assertThat(binary.getMessage()).contains("agent.yaml:5: targets[0].interval: ").contains("!!binary")
        .doesNotContain("VALUE_EMBEDDED_OBJECT");
    ConfigException complex = error(target.formatted("? [a, b]\n    : 1"));
    assertThat(complex.getMessage()).contains("agent.yaml:5: targets[0]: ").contains("complex")
        .doesNotContain("Event").doesNotContain("snakeyaml");
    assertThat(error("""
        agent:
          maxConcurrentSyncs: 99999999999999999999
        targets: []
        """).getMessage()).contains("agent.yaml:2: agent.maxConcurrentSyncs: must be a whole number from 1 to 1024, got"
        + " 99999999999999999999");
    assertThat(error(target.formatted("policies: {maxDeletions: 18446744073709551621}")).getMessage())
        .as("not read as 5, its low 64 bits")
        .contains("agent.yaml:5: targets[0].policies.maxDeletions: must be a whole number from 0 to");
  }

  @Test
  void aSyncIntervalOrBackoffBelowOneSecondIsRefused() throws IOException {
    String target = """
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
            %s
        """;
    assertThat(error(target.formatted("interval: 1ms")).getMessage())
        .contains("agent.yaml:5: targets[0].interval: must be at least 1s").contains("got 1ms");
    assertThat(error(target.formatted("maxBackoff: 500ms")).getMessage())
        .contains("agent.yaml:5: targets[0].maxBackoff: must be at least 1s").contains("got 500ms");
    assertThat(error(target.formatted("interval: PT0.5S")).getMessage()).contains("targets[0].interval: must be at least 1s");
    TargetConfig t = load(target.formatted("interval: 1s\n    maxBackoff: 1000ms")).targets().get(0);
    assertThat(t.interval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(t.maxBackoff()).isEqualTo(Duration.ofSeconds(1));
  }

  /**
   * {@code callTimeout: 1ms} (a slip for 1m) cut off every listing and observation, {@code
   * syncTimeout: 1ms} every apply, {@code source.timeout: 1ms} every fetch: the target ran and never
   * synced, said only in WARN lines every interval. They were accepted.
   */
  @Test
  void aTimeoutBelowOneSecondIsRefusedAtItsLine() throws IOException {
    String target = """
        targets:
          - name: web
            source: {url: https://e/r.git, %s}
            provider: {type: files, directory: /srv}
            %s
        """;
    assertThat(error(target.formatted("path: web", "callTimeout: 1ms")).getMessage())
        .contains("agent.yaml:5: targets[0].callTimeout: must be at least 1s: it bounds each provider call")
        .contains("got 1ms");
    assertThat(error(target.formatted("path: web", "syncTimeout: 999ms")).getMessage())
        .contains("agent.yaml:5: targets[0].syncTimeout: must be at least 1s: it bounds the whole apply of a plan")
        .contains("got 999ms");
    assertThat(error(target.formatted("timeout: PT0.01S", "prune: true")).getMessage())
        .contains("agent.yaml:3: targets[0].source.timeout: must be at least 1s: it bounds connecting to the"
            + " repository").contains("got PT0.01S");
    TargetConfig t = load(target.formatted("timeout: 1s", "callTimeout: 1000ms\n    syncTimeout: 1s")).targets().get(0);
    assertThat(t.callTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(t.syncTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(t.gitTimeout()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void aStuckAfterBelowThreeOfTheShortestIntervalsIsRefusedNotRaisedWithoutAWord() throws IOException {
    String file = """
        agent:
          stuckAfter: %s
        targets: []
        """;
    assertThat(error(file.formatted("1ms")).getMessage())
        .contains("agent.yaml:2: agent.stuckAfter: must be at least 3s").contains("three of its intervals")
        .contains("got 1ms");
    assertThat(error(file.formatted("2999ms")).getMessage()).contains("agent.stuckAfter: must be at least 3s");
    assertThat(load(file.formatted("3s")).stuckAfter()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void aBackoffLongerThanStuckAfterIsRefusedNamingBothLinesNotReportedStuckWhileItWaits() throws IOException {
    // a failing target waits up to maxBackoff x (1 + jitter): longer than stuckAfter, /readyz said stuck meanwhile
    String file = """
        agent:
          stuckAfter: %s
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv}
            interval: 1m
            %s
        """;
    assertThat(error(file.formatted("15m", "maxBackoff: 20m")).getMessage()).contains("agent.yaml:8: targets[0]"
        + ".maxBackoff: target 'web' waits up to 22m after failures (maxBackoff 20m stretched by jitter 0.1), longer"
        + " than it may go without a finished sync before it is stuck (15m, agent.stuckAfter (line 2)): it would be"
        + " reported stuck while it waits out its backoff; make maxBackoff at most 818s on target 'web', or"
        + " stuckAfter longer");
    // jitter counts: 14m is 15m24s at most with 0.1, and 14m at most without
    assertThat(error(file.formatted("15m", "maxBackoff: 14m")).line()).isEqualTo(8);
    assertThat(load(file.formatted("15m", "maxBackoff: 14m\n    jitter: 0")).targets().get(0).maxBackoff())
        .isEqualTo(Duration.ofMinutes(14));
    // a target that writes no maxBackoff gets the longest that fits under a stuckAfter written short (10m at most)
    assertThat(load(file.formatted("5m", "jitter: 0.1")).targets().get(0).maxBackoff()).isEqualTo(Duration.ofSeconds(272));
    assertThat(load(file.formatted("5m", "interval: 4m\n    jitter: 0").replace("    interval: 1m\n", ""))
        .targets().get(0).maxBackoff()).as("three intervals, 12m, are the stuck time").isEqualTo(Duration.ofMinutes(10));
    assertThat(load(file.formatted("3s", "jitter: 0.5")).targets().get(0).maxBackoff()).isEqualTo(Duration.ofSeconds(120));
    // three intervals longer than stuckAfter are what the target waits before it is stuck
    assertThat(error(file.formatted("5m", "maxBackoff: 5m\n    interval: 2m\n    jitter: 0.5").replace(
        "    interval: 1m\n", "")).getMessage()).contains("targets[0].maxBackoff: target 'web' waits up to 450s")
        .contains("before it is stuck (6m, three of its intervals (interval 2m, line 8; longer than agent.stuckAfter"
            + " 5m)): it would be reported stuck");
    assertThat(load(file.formatted("5m", "maxBackoff: 4m\n    interval: 2m").replace("    interval: 1m\n", ""))
        .targets()).hasSize(1);
    // the defaults agree: 10m, with the largest jitter 15m, is no longer than stuckAfter's 15m
    assertThat(load(file.replace("agent:\n  stuckAfter: %s\n", "").formatted("jitter: 0.5")).targets()).hasSize(1);
  }

  @Test
  void yamlAliasesAndMergeKeysAreRefusedNotReadAsTheAnchorsName() {
    // Jackson reads *repo as the string "repo": the second target would sync from the local path ./repo
    assertThat(error("""
        targets:
          - name: web
            source: {url: &repo https://e/r.git, ref: main}
            provider: {type: files, directory: /srv/web}
          - name: api
            source: {url: *repo, ref: main}
            provider: {type: files, directory: /srv/api}
        """).getMessage()).contains("agent.yaml:6: targets[1].source.url: YAML aliases (*repo) are not supported");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: &files {type: files, directory: /srv/web}
          - <<: {source: {url: https://e/r.git}}
            name: api
            provider: {type: files, directory: /srv/api}
        """).getMessage()).contains("agent.yaml:5: targets[1].<<: YAML merge keys (<<) are not supported");
  }

  @Test
  void aNumberYamlReadsOtherwiseThanWrittenIsRefusedWhereAStringIsMeant() throws IOException {
    for (String ref : new String[] {"1.10", "010", "0x1F", "1_000"}) {
      assertThat(error("""
          targets:
            - name: web
              source: {url: https://e/r.git, ref: %s}
              provider: {type: files, directory: /srv/web}
          """.formatted(ref)).getMessage()).as(ref).contains("agent.yaml:3: targets[0].source.ref: YAML reads " + ref
          + " as the number").contains("quote it (\"" + ref + "\")");
    }
    AgentConfig c = load("""
        targets:
          - name: "007"
            source: {url: https://e/r.git, ref: '1.10', path: 2024}
            provider: {type: files, directory: /srv/web}
            owner: 42
        """);
    assertThat(c.targets().get(0)).satisfies(t -> {
      assertThat(t.name()).isEqualTo("007");
      assertThat(t.ref()).isEqualTo("1.10");
      assertThat(t.path()).isEqualTo("2024");
      assertThat(t.owner()).isEqualTo("42");
    });
  }

  /**
   * YAML 1.1 reads {@code no}, {@code off}, {@code yes} and {@code on} as booleans: where a string
   * is meant, the error said {@code must be a string, got false} (a target named {@code no}), or
   * {@code no target is named 'false'} (a notifier's {@code targets: [no]}), naming nothing that
   * was written. A boolean key still takes them.
   */
  @Test
  void aWordYamlReadsAsABooleanIsRefusedWhereAStringIsMeantSayingHowItWasRead() throws IOException {
    assertThat(error("""
        targets:
          - name: no
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/web}
        """).getMessage()).contains("agent.yaml:2: targets[0].name: YAML reads no as the boolean false; quote it"
        + " (\"no\")");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/web, structured: ["*.json", on]}
        """).getMessage()).contains("agent.yaml:4: targets[0].provider.structured[1]: YAML reads on as the boolean true");
    assertThat(error("""
        targets:
          - name: "no"
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/web}
        notifications:
          - type: webhook
            url: https://hooks.example.com/gitops
            targets: [no]
        """).getMessage()).contains("agent.yaml:8: notifications[0].targets[0]: YAML reads no as the boolean false");
    AgentConfig c = load("""
        targets:
          - name: "no"
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/web}
            prune: off
        notifications:
          - type: webhook
            url: https://hooks.example.com/gitops
            targets: ["no"]
        """);
    assertThat(c.targets().get(0).name()).isEqualTo("no");
    assertThat(c.targets().get(0).prune()).as("a boolean key takes YAML 1.1's words").isFalse();
    assertThat(c.notifiers().get(0).filter().targets()).containsExactly("no");
  }

  @Test
  void aSourcePathTheSourceWouldRefuseRefusesTheFileAtItsLine() throws IOException {
    String[][] cases = {{"../..", "path must not contain '..' or backslashes: '../..'"},
        {"/etc", "path must be relative to the repository root: '/etc'"},
        {"'a\\b'", "path must not contain '..' or backslashes: 'a\\b'"}};
    for (String[] c : cases) {
      assertThat(error("""
          targets:
            - name: web
              source:
                url: https://e/r.git
                path: %s
              provider: {type: files, directory: /srv/web}
          """.formatted(c[0])).getMessage()).as(c[0]).endsWith("agent.yaml:5: targets[0].source.path: " + c[1]);
    }
  }

  @Test
  void aStateDirectoryOrStoreWhereAFileStandsIsRefusedAtItsLine() throws IOException {
    Files.writeString(dir.resolve("afile"), "x");
    assertThat(error("""
        agent: {stateDir: ./afile}
        targets: []
        """).getMessage()).endsWith("agent.yaml:1: agent.stateDir: " + dir.resolve("afile") + " exists and is not a"
            + " directory");
    assertThat(error("""
        targets:
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/web}
            store: afile
        """).getMessage()).endsWith("agent.yaml:5: targets[0].store: " + dir.resolve("afile") + " exists and is not a"
            + " directory");
  }

  @Test
  void anExplicitEmptyListIsAnAgentWithoutTargets() throws IOException {
    AgentConfig c = load("targets: []\n");
    assertThat(c.targets()).isEmpty();
    assertThat(c.stateDir()).isEqualTo(dir.resolve(".gitops-agent"));
    assertThat(Set.of(c.maxConcurrentSyncs())).containsExactly(4);
  }

  @Test
  void twoFilesTargetsCannotShareADirectoryNorNestOneInTheOther() throws IOException {
    String target = """
          - name: %s
            source: {url: https://e/r.git}
            provider: {type: files, directory: %s}
        """;
    ConfigException same = error("targets:\n" + target.formatted("a", "live/web") + target.formatted("b", "./live/web/"));
    assertThat(same.line()).isEqualTo(7);
    assertThat(same.getMessage()).contains("agent.yaml:7: targets[1].provider: target 'b' would write")
        .contains("that target 'a' writes: each target needs its own");
    ConfigException inside = error("targets:\n" + target.formatted("a", "live") + target.formatted("b", "live/web"));
    assertThat(inside.getMessage()).contains("targets[1].provider: target 'b' would write " + dir.resolve("live/web"))
        .contains(", inside ").contains("that target 'a' writes");
    ConfigException around = error("targets:\n" + target.formatted("a", "live/web") + target.formatted("b", "live"));
    assertThat(around.getMessage()).contains("target 'b' would write " + dir.resolve("live") + ", which holds ");
    // through a link: the same directory by another name
    Files.createDirectories(dir.resolve("live/web"));
    Files.createSymbolicLink(dir.resolve("alias"), dir.resolve("live"));
    assertThat(error("targets:\n" + target.formatted("a", "live/web") + target.formatted("b", "alias/web")).getMessage())
        .contains("target 'b' would write " + dir.resolve("alias/web")).contains("that target 'a' writes");
    // siblings, and a name that merely starts with another's, are fine
    assertThat(load("targets:\n" + target.formatted("a", "live/web") + target.formatted("b", "live/web2")
        + target.formatted("c", "live/api")).targets()).hasSize(3);
  }

  @Test
  void aStoreInsideWhatItsLocalRepositorySyncReadsOrInItsGitDirectoryIsRefusedAtItsLine() throws IOException {
    Path repo = Files.createDirectories(dir.resolve("ops/.git")).getParent();
    Files.createDirectories(repo.resolve("web"));
    String target = """
        agent: {stateDir: %s}
        targets:
          - name: t
            source: {%surl: ops}
            provider: {type: files, directory: live}
        %s""";
    for (String[] c : new String[][] {{"", "ops/st", "inside the working tree " + repo},
        {"path: web, ", "ops/web/st", "inside the directory 'web' (" + repo.resolve("web") + ")"},
        {"", "ops/.git/st", "inside the Git directory"}}) {
      ConfigException e = error(target.formatted("state", c[0], "    store: " + c[1] + "\n"));
      assertThat(e.line()).as("%s", (Object) c).isEqualTo(6);
      assertThat(e.getMessage()).contains("agent.yaml:6: targets[0].store: " + dir.resolve(c[1]) + " is " + c[2])
          .contains("choose a directory outside the repository");
    }
    // the default store, under a state directory in the repository, is named at its target
    ConfigException byDefault = error(target.formatted("ops/state", "", ""));
    assertThat(byDefault.getMessage()).contains("agent.yaml:3: targets[0]: target 't': its store "
        + dir.resolve("ops/state/targets/t") + " (the default, <agent.stateDir>/targets/t) is inside the working tree "
        + repo).contains("give it a 'store:' key, or move agent.stateDir");
    // beside what the target reads, and with a remote repository, a store may be anywhere
    assertThat(load(target.formatted("state", "path: web, ", "    store: ops/build/st\n")).targets()).hasSize(1);
    assertThat(load(target.formatted("state", "", "    store: ops/st\n").replace("url: ops",
        "url: https://example.com/ops.git")).targets()).hasSize(1);
  }

  /**
   * Each store's real path is resolved once: the check that no two targets share a store resolved
   * every earlier target's store again for each target, n² / 2 file system look-ups (a file of
   * 1,500 targets took 30 s to load, at every start, reload and {@code gitops status}).
   */
  @Test
  void aFileOfManyTargetsResolvesEachPathItComparesAFewTimesNotOncePerOtherTarget() throws IOException {
    int n = 200;
    StringBuilder targets = new StringBuilder("targets:\n");
    for (int i = 0; i < n; i++) {
      targets.append("  - name: t").append(i).append("\n    source: {url: https://e/r.git}\n")
          .append("    provider: {type: files, directory: live/t").append(i).append("}\n");
    }
    long before = AgentConfig.REAL_PATHS.sum();
    assertThat(load(targets.toString()).targets()).hasSize(n);
    assertThat(AgentConfig.REAL_PATHS.sum() - before).as("real paths resolved for %s targets", n)
        .isLessThanOrEqualTo(10L * n);
  }

  /**
   * The agent writes each target's status file as {@code <stateDir>/status/<target>.json}: a store
   * there would have them written among its own files, and a target named {@code meta} would
   * replace the store's {@code meta.json} with its status after every sync (the store then refuses
   * every write as corrupt). It was accepted.
   */
  @Test
  void aStoreOnOrInsideTheAgentsStatusDirectoryIsRefusedAtItsLine() throws IOException {
    String target = """
          - name: meta
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/meta}
            store: %s
        """;
    ConfigException on = error("agent: {stateDir: state}\ntargets:\n" + target.formatted("state/status"));
    assertThat(on.line()).isEqualTo(6);
    assertThat(on.getMessage()).contains("agent.yaml:6: targets[0].store: target 'meta' would keep its store "
        + dir.resolve("state/status") + " in the agent's status directory " + dir.resolve("state/status"))
        .contains("meta.json");
    assertThat(error("agent: {stateDir: state}\ntargets:\n" + target.formatted("state/status/x/")).getMessage())
        .contains("targets[0].store: target 'meta' would keep its store " + dir.resolve("state/status/x")
            + " in the agent's status directory");
    // through a link, by another name
    Files.createDirectories(dir.resolve("state/status"));
    Files.createSymbolicLink(dir.resolve("alias"), dir.resolve("state"));
    assertThat(error("agent: {stateDir: state}\ntargets:\n" + target.formatted("alias/status")).getMessage())
        .contains("targets[0].store: target 'meta' would keep its store " + dir.resolve("alias/status")
            + " in the agent's status directory");
    // beside it, or holding it (the status files are then in a directory of the store's that it never reads): fine
    assertThat(load("agent: {stateDir: state}\ntargets:\n" + target.formatted("state/statuses")).targets()).hasSize(1);
    assertThat(load("agent: {stateDir: state}\ntargets:\n" + target.formatted("state")).targets()).hasSize(1);
  }

  /**
   * {@code store: <stateDir>/agent.lock} loaded on a first start (the lock file not made yet); then
   * the agent made the lock file and the target failed when it started, "cannot create the store
   * directory", naming no line, while the agent ran on.
   */
  @Test
  void aStoreOnTheAgentsLockFileIsRefusedAtItsLineBeforeTheFileExists() throws IOException {
    String target = """
          - name: web
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/web}
            store: %s
        """;
    ConfigException on = error("agent: {stateDir: state}\ntargets:\n" + target.formatted("state/agent.lock"));
    assertThat(on.line()).isEqualTo(6);
    assertThat(on.getMessage()).contains("agent.yaml:6: targets[0].store: target 'web' would keep its store "
        + dir.resolve("state/agent.lock") + " on the agent's lock file " + dir.resolve("state/agent.lock"));
    assertThat(error("agent: {stateDir: state}\ntargets:\n" + target.formatted("state/agent.lock/s")).getMessage())
        .contains("targets[0].store: target 'web' would keep its store " + dir.resolve("state/agent.lock/s")
            + " inside the agent's lock file");
    // through a link, by another name
    Files.createDirectories(dir.resolve("state"));
    Files.createSymbolicLink(dir.resolve("alias"), dir.resolve("state"));
    assertThat(error("agent: {stateDir: state}\ntargets:\n" + target.formatted("alias/agent.lock")).getMessage())
        .contains("targets[0].store: target 'web' would keep its store " + dir.resolve("alias/agent.lock")
            + " on the agent's lock file");
    // beside it: fine
    assertThat(load("agent: {stateDir: state}\ntargets:\n" + target.formatted("state/agent.locks")).targets())
        .hasSize(1);
  }

  @Test
  void twoTargetsCannotShareAStoreNorKeepOneInsideTheOtherByAnyName() throws IOException {
    String target = """
          - name: %s
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/%s}
            store: %s
        """;
    // one directory written two ways: a trailing slash and a '..'
    ConfigException same = error("targets:\n" + target.formatted("a", "a", "stores/one")
        + target.formatted("b", "b", "stores/x/../one/"));
    assertThat(same.line()).isEqualTo(9);
    assertThat(same.getMessage()).contains("agent.yaml:9: targets[1].store: target 'b' would share the store "
        + dir.resolve("stores/one") + " with target 'a' (line 2)");
    ConfigException inside = error("targets:\n" + target.formatted("a", "a", "stores/one")
        + target.formatted("b", "b", "stores/one/b"));
    assertThat(inside.getMessage()).contains("agent.yaml:9: targets[1].store: target 'b' would keep its store "
        + dir.resolve("stores/one/b") + " inside the store " + dir.resolve("stores/one") + " of target 'a' (line 2)");
    ConfigException around = error("targets:\n" + target.formatted("a", "a", "stores/one/a")
        + target.formatted("b", "b", "stores/one"));
    assertThat(around.getMessage()).contains("agent.yaml:9: targets[1].store: target 'b' would keep its store "
        + dir.resolve("stores/one") + ", which holds the store " + dir.resolve("stores/one/a") + " of target 'a'");
    // through links: the same directory, or one inside it, by another name
    Files.createDirectories(dir.resolve("stores/one"));
    Files.createDirectories(dir.resolve("elsewhere"));
    Files.createSymbolicLink(dir.resolve("alias"), dir.resolve("stores"));
    Files.createSymbolicLink(dir.resolve("elsewhere/up"), dir.resolve("stores/one"));
    assertThat(error("targets:\n" + target.formatted("a", "a", "stores/one") + target.formatted("b", "b", "alias/one/"))
        .getMessage()).contains("target 'b' would share the store " + dir.resolve("alias/one") + " with target 'a'");
    assertThat(error("targets:\n" + target.formatted("a", "a", "stores/one") + target.formatted("b", "b",
        "elsewhere/up/b")).getMessage()).contains("target 'b' would keep its store " + dir.resolve("elsewhere/up/b")
        + " inside the store " + dir.resolve("stores/one") + " of target 'a'");
    // a store written out and another target's default store (<stateDir>/targets/<name>)
    String defaulted = """
          - name: %s
            source: {url: https://e/r.git}
            provider: {type: files, directory: /srv/%s}
        """;
    ConfigException intoDefault = error("targets:\n" + defaulted.formatted("a", "a")
        + target.formatted("b", "b", ".gitops-agent/targets/a/b"));
    assertThat(intoDefault.getMessage()).contains("agent.yaml:8: targets[1].store: target 'b' would keep its store")
        .contains("inside the store " + dir.resolve(".gitops-agent/targets/a") + " of target 'a' (line 2)");
    ConfigException aroundDefault = error("targets:\n" + target.formatted("a", "a", ".gitops-agent/targets")
        + defaulted.formatted("b", "b"));
    assertThat(aroundDefault.line()).as("b's entry: its store is its default").isEqualTo(6);
    assertThat(aroundDefault.getMessage()).contains("targets[1].store: target 'b' would keep its store "
        + dir.resolve(".gitops-agent/targets/b") + " inside the store " + dir.resolve(".gitops-agent/targets")
        + " of target 'a' (line 2)");
    // siblings, and a name that merely starts with another's, are fine
    assertThat(load("targets:\n" + target.formatted("a", "a", "stores/one") + target.formatted("b", "b", "stores/one2")
        + defaulted.formatted("c", "c")).targets()).hasSize(3);
  }

  @Test
  void aStoreOnOrInsideAnotherTargetsFilesDirectoryOrHoldingItIsRefusedNamingBothTargetsAndTheLine()
      throws IOException {
    String target = """
          - name: %s
            source: {url: https://e/r.git}
            provider: {type: files, directory: %s}
            store: %s
        """;
    // b's store inside a's files directory: a's syncs would prune or overwrite b's records
    ConfigException inside = error("targets:\n" + target.formatted("a", "live", "stores/a")
        + target.formatted("b", "www", "live/state"));
    assertThat(inside.line()).isEqualTo(9);
    assertThat(inside.getMessage()).contains("agent.yaml:9: targets[1].store: target 'b' would keep its store "
        + dir.resolve("live/state") + " inside the directory " + dir.resolve("live") + " that target 'a' writes")
        .contains("(target 'a' is at line 2)");
    // the same, the other way round: b's files directory holds a's store
    ConfigException holds = error("targets:\n" + target.formatted("a", "www", "live/state")
        + target.formatted("b", "live", "stores/b"));
    assertThat(holds.getMessage()).contains("agent.yaml:8: targets[1].provider: target 'b' would write "
        + dir.resolve("live") + ", which holds the store " + dir.resolve("live/state") + " of target 'a'")
        .contains("(target 'a' is at line 2)");
    // a's store is b's files directory, under another name (a link)
    Files.createDirectories(dir.resolve("live"));
    Files.createSymbolicLink(dir.resolve("alias"), dir.resolve("live"));
    ConfigException on = error("targets:\n" + target.formatted("a", "www", "alias")
        + target.formatted("b", "live", "stores/b"));
    assertThat(on.getMessage()).contains("target 'b' would write " + dir.resolve("live") + " on the store "
        + dir.resolve("alias") + " of target 'a'");
    // b's files directory inside a's store
    ConfigException intoStore = error("targets:\n" + target.formatted("a", "www", "stores/a")
        + target.formatted("b", "stores/a/files", "stores/b"));
    assertThat(intoStore.getMessage()).contains("targets[1].provider: target 'b' would write "
        + dir.resolve("stores/a/files") + " inside the store " + dir.resolve("stores/a") + " of target 'a'");
    // a default store (<stateDir>/targets/b) inside another target's directory that holds the state directory
    // is fine: that directory excludes the state directory
    assertThat(load("agent: {stateDir: live/.agent}\ntargets:\n" + target.formatted("a", "live", "stores/a") + """
          - name: b
            source: {url: https://e/r.git}
            provider: {type: files, directory: www}
        """).targets()).hasSize(2);
    // a target's own store inside its own directory is excluded from it, and siblings are fine
    assertThat(load("targets:\n" + target.formatted("a", "live", "live/.state")
        + target.formatted("b", "live2", "live-state")).targets()).hasSize(2);
  }

  @Test
  void aFilesTargetOnTheAgentsStateDirectoryOrInsideItIsRefusedAtItsLine() throws IOException {
    Files.createDirectories(dir.resolve("state"));
    Files.createSymbolicLink(dir.resolve("alias"), dir.resolve("state"));
    String yaml = """
        agent: {stateDir: state}
        targets:
          - name: t
            source: {url: https://e/r.git}
            provider: {type: files, directory: %s}
        """;
    for (String[] c : new String[][] {{"state", "is the agent's state directory"}, {"./state/", "is the agent's state"
        + " directory"}, {"alias", "is the agent's state directory"},
        {"state/www", "is inside the agent's state directory"}, {"alias/www", "is inside the agent's state directory"},
        {"state2/../state/www", "is inside the agent's state directory"}}) {
      ConfigException e = error(yaml.formatted(c[0]));
      assertThat(e.line()).as(c[0]).isEqualTo(5);
      assertThat(e.getMessage()).as(c[0]).contains("agent.yaml:5: targets[0].provider.directory: ").contains(c[1])
          .contains(dir.resolve("state").toString()).contains("agent.stateDir");
    }
    // one that holds the state directory (here the default, .gitops-agent beside the file) never touches it
    assertThat(load("""
        targets:
          - name: t
            source: {url: https://e/r.git}
            provider: {type: files, directory: .}
        """).targets()).hasSize(1);
    // beside it is fine
    assertThat(load(yaml.formatted("www")).targets()).hasSize(1);
    assertThat(load(yaml.formatted("state2")).targets()).hasSize(1);
  }

  @Test
  void aNotifierUrlWithCredentialsIsRefusedWithoutRepeatingThem() {
    for (String url : new String[] {"https://alice:s3cret-pw@hooks.example.com/gitops",
        "https://alice:s3cret-pw@with@hooks.example.com/gitops", "https://s3cret-pw@hooks.example.com/gitops",
        "http://alice:s3cret%40pw@127.0.0.1:8080/gitops"}) {
      ConfigException e = error("""
          targets: []
          notifications:
            - type: webhook
              url: "%s"
          """.formatted(url));
      assertThat(e.line()).as(url).isEqualTo(4);
      assertThat(e.getMessage()).as(url).contains("agent.yaml:4: notifications[0].url: ")
          .contains("credentials in the URL").contains("'secret: {env: NAME}'")
          .doesNotContain("s3cret").doesNotContain("alice");
    }
    ConfigException forge = error("""
        targets: []
        notifications:
          - type: github
            repository: acme/ops
            token: {env: HOOK_SECRET}
            apiUrl: https://bot:ghp_s3cret@github.example.com/api/v3
        """);
    assertThat(forge.getMessage()).contains("agent.yaml:6: notifications[0].apiUrl: ")
        .contains("credentials in the URL").contains("'token: {env: NAME}'").doesNotContain("s3cret").doesNotContain("bot:");
  }

  @Test
  void aFilesTargetOnItsOwnStoreOrInsideItIsRefusedAtItsLine() {
    for (String directory : new String[] {"stores/web", "stores/web/live"}) {
      ConfigException e = error("""
          targets:
            - name: web
              source: {url: https://e/r.git}
              provider: {type: files, directory: %s}
              store: stores/web
          """.formatted(directory));
      assertThat(e.line()).as(directory).isEqualTo(4);
      assertThat(e.getMessage()).as(directory).contains("agent.yaml:4: targets[0].provider.directory: ")
          .contains(dir.resolve("stores/web").toString());
    }
  }

  @Test
  void aHugeFileIsRefusedAfterReadingNoMoreThanTheLimit() throws Exception {
    Path huge = dir.resolve("huge.yaml");
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength((long) Integer.MAX_VALUE + 4096);  // sparse: reading it all would not even fit an array
    }
    ConfigException e = catchThrowableOfType(() -> AgentConfig.read(huge), ConfigException.class);
    assertThat(e).hasMessage(huge + ": larger than 1048576 bytes: not an agent configuration");
    Path limit = dir.resolve("limit.yaml");
    Files.write(limit, new byte[ConfigNode.MAX_BYTES]);
    assertThat(AgentConfig.read(limit)).hasSize(ConfigNode.MAX_BYTES);
  }

  @Test
  void aFifoOrADeviceIsRefusedWithoutBeingReadOrWaitedOn() throws Exception {
    Path fifo = dir.resolve("agent.yaml");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && mkfifo.exitValue() == 0).isTrue();
    ConfigException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5),
        () -> catchThrowableOfType(() -> AgentConfig.read(fifo), ConfigException.class));
    assertThat(e).hasMessage(fifo + ": not a regular file (a device, FIFO or socket): an agent configuration is a file");
    Path zero = Path.of("/dev/zero");
    if (Files.exists(zero)) {
      assertThat(org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5),
          () -> catchThrowableOfType(() -> AgentConfig.read(zero), ConfigException.class)))
          .hasMessageContaining("not a regular file");
    }
    assertThat(catchThrowableOfType(() -> AgentConfig.read(dir), ConfigException.class))
        .hasMessage(dir + ": not a regular file (a directory): an agent configuration is a file");
  }
}
