package dev.gitops.images.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.images.policy.ImageChoice;
import dev.gitops.images.policy.ImagePolicy;
import dev.gitops.images.policy.TagOrder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Write-back over smart HTTP ({@code git http-backend} on loopback): commits, branches, races, conflicts. */
class GitWriteBackTest {

  static final String WEB = """
      # web: hand-written, keep every byte
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        template:
          spec:
            containers:
              - name: app
                image: registry.example.com/team/web:v1.2.3 # {"$imagepolicy": "apps:web"}

              - name: log
                image: "busybox:1.36"
      """;
  static final String API = "kind: Deployment\nmetadata: {name: api}\nimage: registry.example.com/team/api:v2.0.0 # {\"$imagepolicy\": \"apps:api\"}\r\n";
  static final String PLAIN = "kind: ConfigMap\ndata:\n  image: registry.example.com/team/web:v0.0.1\n";
  static final String OUTSIDE = "image: registry.example.com/team/web:v1.0.0 # {\"$imagepolicy\": \"apps:web\"}\n";

  @TempDir
  Path tmp;
  GitRemote remote;

  @BeforeEach
  void start() throws Exception {
    Map<String, String> files = new LinkedHashMap<>();
    files.put("apps/web.yaml", WEB);
    files.put("apps/api.yaml", API);
    files.put("apps/plain.yaml", PLAIN);
    files.put("apps/broken.yaml", "a: [never parsed: it holds no marker\n");
    files.put("apps/chart/broken-marked.yaml", "a: [1\nimage: x:1 # {\"$imagepolicy\": \"apps:web\"}\n");
    files.put("other/outside.yaml", OUTSIDE);
    files.put("README.md", "cluster\n");
    remote = GitRemote.start(tmp, files);
  }

  @AfterEach
  void stop() throws Exception {
    remote.close();
  }

  static ImageChoice choice(String policy, String image, String tag) {
    return new ImageChoice(policy, image, tag, Optional.empty(), 1, 0, 0);
  }

  static Map<String, ImageChoice> choices(String webTag, String apiTag) {
    return Map.of("apps:web", choice("apps:web", "registry.example.com/team/web", webTag),
        "apps:api", choice("apps:api", "registry.example.com/team/api", apiTag));
  }

  private GitWriteBack.Builder writer() {
    return GitWriteBack.builder(remote.url).branch("main").path("apps").author("Image Bot", "bot@example.com")
        .retryDelay(Duration.ofMillis(20));
  }

  @Test
  void commitsOnlyTheChangedMarkedFilesUnderThePathAndPushes() throws Exception {
    String before = remote.git("rev-parse", "main").trim();
    try (GitWriteBack git = writer().build()) {
      WriteResult preview = git.preview(choices("v1.2.4", "v2.0.0"));
      assertThat(preview.updates()).extracting(ImageUpdate::file).containsExactly("apps/web.yaml");
      assertThat(preview.pushed()).isFalse();
      assertThat(remote.git("rev-parse", "main").trim()).isEqualTo(before);

      WriteResult r = git.write(choices("v1.2.4", "v2.0.0"));

      assertThat(r.pushed()).isTrue();
      assertThat(r.base()).contains(before);
      assertThat(remote.git("rev-parse", "main").trim()).isEqualTo(r.commit().orElseThrow());
      assertThat(remote.git("diff", "--name-only", before, "main").trim()).isEqualTo("apps/web.yaml");
      assertThat(remote.show("main", "apps/web.yaml"))
          .isEqualTo(WEB.replace("team/web:v1.2.3", "team/web:v1.2.4"));
      assertThat(remote.show("main", "other/outside.yaml")).isEqualTo(OUTSIDE);
      // only files holding the marker field are parsed: the broken unmarked one is never read as YAML
      assertThat(r.problems()).singleElement().asString()
          .startsWith("apps/chart/broken-marked.yaml:").contains("not valid YAML");
      assertThat(r.updates()).singleElement().satisfies(u -> {
        assertThat(u.file()).isEqualTo("apps/web.yaml");
        assertThat(u.line()).isEqualTo(11);
        assertThat(u.object()).isEqualTo("Deployment/web");
        assertThat(u.oldTag()).isEqualTo("v1.2.3");
        assertThat(u.newTag()).isEqualTo("v1.2.4");
      });
      assertThat(remote.git("log", "-1", "--format=%an <%ae>|%cn|%B", "main")).isEqualTo(
          "Image Bot <bot@example.com>|Image Bot|Update images\n\n- apps/web.yaml: Deployment/web spec.template.spec"
              + ".containers[0].image: registry.example.com/team/web:v1.2.3 -> registry.example.com/team/web:v1.2.4 "
              + "(apps:web)\n\n");
      assertThat(remote.git("rev-parse", "main^").trim()).isEqualTo(before);

      WriteResult again = git.write(choices("v1.2.4", "v2.0.0"));
      assertThat(again.pushed()).isFalse();
      assertThat(again.pushAttempts()).isZero();
      assertThat(remote.git("rev-parse", "main").trim()).isEqualTo(r.commit().orElseThrow());
    }
  }

  @Test
  void aValueOrKeyHoldingALineBreakIsOneLineInTheCommitMessageAndTheUpdateNeverAForgedTrailer() throws Exception {
    // double-quoted scalars on one line may hold "\n" escapes: the marker is used, and what they held is shown escaped
    String evil = "\"key\\nX-Forged: 1\": \"registry.example.com/team/web:v1\\n\\nSigned-off-by: Mallory"
        + " <m@example.com>\" # {\"$imagepolicy\": \"apps:web\"}\n";
    remote.pushFromAnotherClient("main", "apps/evil.yaml", evil);
    try (GitWriteBack git = writer().build()) {
      WriteResult r = git.write(choices("v1.2.4", "v2.0.0"));
      ImageUpdate u = r.updates().stream().filter(x -> x.file().equals("apps/evil.yaml")).findFirst().orElseThrow();
      assertThat(u.oldValue()).contains("\n\nSigned-off-by");  // the value itself, as YAML reads it
      assertThat(u.describe()).doesNotContain("\n")
          .contains("key\\nX-Forged: 1: registry.example.com/team/web:v1\\n\\nSigned-off-by: Mallory");
      assertThat(remote.git("log", "-1", "--format=%B", "main")).contains("\n- apps/evil.yaml key\\nX-Forged: 1:"
          + " registry.example.com/team/web:v1\\n\\nSigned-off-by: Mallory <m@example.com> ->"
          + " registry.example.com/team/web:v1.2.4 (apps:web)\n");
      assertThat(remote.git("log", "-1", "--format=%(trailers)", "main").trim()).isEmpty();
      assertThat(remote.show("main", "apps/evil.yaml")).isEqualTo(evil.replace(
          "\"registry.example.com/team/web:v1\\n\\nSigned-off-by: Mallory <m@example.com>\"",
          "\"registry.example.com/team/web:v1.2.4\""));
    }
  }

  @Test
  void aLargeFileWithoutAMarkerIsNoProblemAndOneWithAMarkerIsNamed() throws Exception {
    // a CRD bundle larger than the limit (5 MiB; 4 KiB here): no marker, nothing to say, and the run does not fail
    String filler = "# " + "x".repeat(1022) + "\n";
    String bundle = "kind: CustomResourceDefinition\n" + filler.repeat(200) + "note: \"$imagepolic\"\n";
    remote.commitRaw("main", Map.of(bytes("apps/crds.yaml"), file(bundle)));
    try (GitWriteBack git = writer().maxFileSize(4096).build()) {
      WriteResult r = git.preview(choices("v1.2.4", "v2.0.0"));
      assertThat(r.problems()).noneMatch(p -> p.contains("crds.yaml"));
      assertThat(r.updates()).extracting(ImageUpdate::file).containsExactly("apps/web.yaml");

      // the field across the 64 KiB chunks it is read in, and at the end
      remote.commitRaw("main", Map.of(
          bytes("apps/crds-b.yaml"), file("x".repeat(64 * 1024 - 5) + "$imagepolicy\n" + bundle),
          bytes("apps/crds-c.yaml"), file(bundle
              + "image: registry.example.com/team/web:v1.0.0 # {\"$imagepolicy\": \"apps:web\"}\n")));
      assertThat(git.preview(choices("v1.2.4", "v2.0.0")).problems()).contains(
          "apps/crds-b.yaml: larger than 4096 bytes and holds $imagepolicy; not read",
          "apps/crds-c.yaml: larger than 4096 bytes and holds $imagepolicy; not read")
          .noneMatch(p -> p.startsWith("apps/crds.yaml"));
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void aRelativeLocalPathIsTheRepositoryThereFromTheWorkingDirectoryAsGitCloneReadsIt() throws Exception {
    // below the working directory, as `gitops images update --repo ops` names it: JGit alone resolved
    // it against the bare clone it fetches into and found no remote there ("Invalid remote")
    Path here = Files.createDirectories(Path.of("target", "write-back-" + System.nanoTime()));
    try {
      Path bare = here.resolve("cluster.git");
      assertThat(git(tmp, "clone", "-q", "--bare", remote.bare.toString(), bare.toAbsolutePath().toString())).isZero();
      String relative = bare.toString();
      assertThat(Path.of(relative).isAbsolute()).isFalse();
      try (GitWriteBack git = GitWriteBack.builder(relative).branch("main").path("apps")
          .author("Image Bot", "bot@example.com").build()) {
        WriteResult r = git.write(choices("v1.2.4", "v2.0.0"));
        assertThat(r.pushed()).isTrue();
        assertThat(revParse(bare, "main")).isEqualTo(r.commit().orElseThrow());
      }
      assertThat(GitWriteBack.transportUrl("./" + relative)).isEqualTo(bare.toAbsolutePath().normalize().toString());
      for (String url : List.of("https://git.example.com/ops.git", "git://127.0.0.1:9418/ops.git",
          "file:///srv/ops.git", remote.bare.toString())) {
        assertThat(GitWriteBack.transportUrl(url)).as(url).isEqualTo(url);
      }
    } finally {
      org.eclipse.jgit.util.FileUtils.delete(here.toFile(), org.eclipse.jgit.util.FileUtils.RECURSIVE);
    }
  }

  @Test
  void anAuthorACommitCannotHoldIsRefusedNotRewritten() {
    GitWriteBack.Builder b = GitWriteBack.builder(remote.url);
    assertThatThrownBy(() -> b.author("", "bot@example.com")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("author name must not be empty");
    assertThatThrownBy(() -> b.author("Bot\nCommitter: x <x@example.com>", "bot@example.com"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("author name 'Bot\\nCommitter");
    for (String email : List.of("a>b@example.com", "a<b@example.com", "bot@example.com\r", "bot\0@example.com")) {
      assertThatThrownBy(() -> b.author("Bot", email)).as(email).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("author email '").hasMessageEndingWith("which a commit's author line cannot hold");
    }
    assertThat(b.author("Image Bot", "")).isSameAs(b);  // git takes an empty email
  }

  @Test
  void aPushToTheBranchCheckedOutInALocalWorkingTreeIsRefusedAsGitRefusesIt() throws Exception {
    Path work = tmp.resolve("work");
    assertThat(git(tmp, "clone", "-q", "-b", "main", remote.bare.toString(), work.toString())).isZero();
    String before = revParse(work, "main");
    try (GitWriteBack git = GitWriteBack.builder(work.toString()).branch("main").path("apps")
        .author("Image Bot", "bot@example.com").build()) {
      assertThatThrownBy(() -> git.write(choices("v1.2.4", "v2.0.0"))).isInstanceOf(GitWriteException.class)
          .hasMessageContaining("push to main refused: main is checked out in the working tree at " + work)
          .hasMessageContaining("receive.denyCurrentBranch");
    }
    assertThat(revParse(work, "main")).as("the branch its working tree stands on, unmoved").isEqualTo(before);

    // another branch of that repository, or the same once its owner said so, as git pushes them
    try (GitWriteBack git = GitWriteBack.builder(work.toString()).branch("main").pushBranch("image-updates")
        .path("apps").author("Image Bot", "bot@example.com").build()) {
      assertThat(git.write(choices("v1.2.4", "v2.0.0")).pushed()).isTrue();
    }
    assertThat(git(work, "config", "receive.denyCurrentBranch", "ignore")).isZero();
    try (GitWriteBack git = GitWriteBack.builder(work.toString()).branch("main").path("apps")
        .author("Image Bot", "bot@example.com").build()) {
      WriteResult r = git.write(choices("v1.2.4", "v2.0.0"));
      assertThat(revParse(work, "main")).isEqualTo(r.commit().orElseThrow());
    }
  }

  private static int git(Path dir, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("git", "-C", dir.toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start().waitFor();
  }

  private static String revParse(Path dir, String rev) throws Exception {
    Process p = new ProcessBuilder("git", "-C", dir.toString(), "rev-parse", rev).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor()).isZero();
    return out;
  }

  @Test
  void neverDowngradesAHandWrittenNewerTagNorTheDigestBesideIt() throws Exception {
    String oldDigest = "sha256:" + "a".repeat(64);
    String newDigest = "sha256:" + "b".repeat(64);
    String values = """
        image:
          repository: registry.example.com/team/web # {"$imagepolicy": "apps:web:name"}
          tag: v1.9.0 # {"$imagepolicy": "apps:web:tag"}
          digest: %s # {"$imagepolicy": "apps:web:digest"}
        sidecar:
          tag: v1.2.0 # {"$imagepolicy": "apps:web:tag"}
        """.formatted(oldDigest);
    remote.pushFromAnotherClient("main", "apps/values.yaml", values);
    ImagePolicy web = ImagePolicy.builder("apps:web", "registry.example.com/team/web")
        .order(TagOrder.semver("^1.2")).followDigest(true).build();
    ImagePolicy api = ImagePolicy.builder("apps:api", "registry.example.com/team/api").order(TagOrder.semver("^1")).build();
    Map<String, ImageChoice> chosen = Map.of(
        "apps:web", new ImageChoice("apps:web", "registry.example.com/team/web", "v1.2.4", Optional.of(newDigest), 1, 0, 0),
        "apps:api", choice("apps:api", "registry.example.com/team/api", "v1.9.0"));
    try (GitWriteBack git = writer().build()) {
      WriteResult preview = git.preview(chosen, List.of(web, api));
      // apps/web.yaml holds v1.2.3: updated; api.yaml's v2.0.0 and values.yaml's v1.9.0 rank above the choices
      assertThat(preview.updates()).extracting(u -> u.file() + ":" + u.line())
          .containsExactly("apps/values.yaml:6", "apps/web.yaml:11");
      assertThat(preview.downgradesRefused()).extracting(d -> d.file() + ":" + d.line() + " " + d.current())
          .containsExactlyInAnyOrder("apps/api.yaml:3 registry.example.com/team/api:v2.0.0", "apps/values.yaml:3 v1.9.0",
              "apps/values.yaml:4 " + oldDigest);
      assertThat(preview.downgradesRefused()).filteredOn(d -> d.file().equals("apps/api.yaml")).singleElement()
          .satisfies(d -> assertThat(d.describe()).isEqualTo("apps/api.yaml:3 Deployment/api image (apps:api): "
              + "registry.example.com/team/api:v2.0.0 kept, not changed to registry.example.com/team/api:v1.9.0: v2.0.0 "
              + "ranks above v1.9.0, the best tag policy apps:api allows (semver ^1); never downgraded"));

      WriteResult r = git.write(chosen, List.of(web, api));
      assertThat(r.pushed()).isTrue();
      assertThat(r.downgradesRefused()).hasSize(3);
      assertThat(remote.show("main", "apps/api.yaml")).isEqualTo(API);
      assertThat(remote.show("main", "apps/values.yaml")).isEqualTo(values.replace("tag: v1.2.0", "tag: v1.2.4"));
      assertThat(remote.show("main", "apps/web.yaml"))
          .isEqualTo(WEB.replace("team/web:v1.2.3", "team/web:v1.2.4@" + newDigest));
    }
  }

  @Test
  void aPolicyNoMarkerUnderThePathNamesIsToldApart() throws Exception {
    // flux-system:web is what a Flux ImagePolicy without metadata.namespace is; the markers say apps:web
    Map<String, ImageChoice> chosen = new LinkedHashMap<>(choices("v1.2.3", "v2.0.0"));
    chosen.put("flux-system:web", choice("flux-system:web", "registry.example.com/team/web", "v1.2.4"));
    try (GitWriteBack git = writer().build()) {
      WriteResult r = git.preview(chosen);
      assertThat(r.updates()).isEmpty();
      assertThat(r.markedPolicies()).containsExactlyInAnyOrder("apps:web", "apps:api");
      dev.gitops.images.ImageUpdateResult result = new dev.gitops.images.ImageUpdateResult(
          dev.gitops.images.ImageUpdateResult.Status.PREVIEW, chosen, Map.of(), Map.of(), Optional.of(r));
      assertThat(result.unmarkedPolicies()).containsExactly("flux-system:web");
      assertThat(new dev.gitops.images.ImageUpdateResult(dev.gitops.images.ImageUpdateResult.Status.UNCHANGED, chosen,
          Map.of(), Map.of(), Optional.empty()).unmarkedPolicies()).as("Git not read: nothing known").isEmpty();
    }
    try (GitWriteBack git = writer().path("other").build()) {
      assertThat(git.preview(chosen).markedPolicies()).containsExactly("apps:web");
    }
    // a marker naming no chosen policy: its text, and the marker itself with file, line and setter apart
    try (GitWriteBack git = writer().build()) {
      WriteResult r = git.preview(Map.of("apps:web", chosen.get("apps:web")));
      assertThat(r.unresolved()).containsExactly("apps/api.yaml:3 apps:api");
      assertThat(r.unresolvedMarkers()).singleElement().satisfies(m -> {
        assertThat(m.location()).isEqualTo("apps/api.yaml:3");
        assertThat(m.setter()).isEqualTo("apps:api");
      });
    }
  }

  @Test
  void aDigestPinnedByHandThatAPolicyWithoutDigestsDropsIsSaid() throws Exception {
    String pinned = "sha256:" + "c".repeat(64);
    remote.pushFromAnotherClient("main", "apps/web.yaml", WEB.replace("team/web:v1.2.3", "team/web:v1.2.3@" + pinned));
    try (GitWriteBack git = writer().build()) {
      for (String tag : List.of("v1.2.4", "v1.2.3")) {  // a new tag, and the same tag: only the pin goes
        assertThat(git.preview(choices(tag, "v2.0.0")).updates()).as(tag).singleElement().satisfies(u -> {
          assertThat(u.digestDropped()).isTrue();
          assertThat(u.newValue()).isEqualTo("registry.example.com/team/web:" + tag);
          assertThat(u.describe()).endsWith("(apps:web); the digest " + pinned + " pinned there is dropped: the policy"
              + " does not follow digests (digestReflectionPolicy Never)");
        });
      }
    }
    try (GitWriteBack git = writer().path("other").build()) {
      assertThat(git.preview(choices("v1.2.4", "v2.0.0")).updates()).singleElement()
          .satisfies(u -> assertThat(u.digestDropped()).isFalse())
          .satisfies(u -> assertThat(u.describe()).endsWith("(apps:web)"));
    }
  }

  @Test
  void aChoiceWithoutItsPolicyCannotBeRankedAndIsRefused() throws Exception {
    try (GitWriteBack git = writer().build()) {
      assertThatThrownBy(() -> git.write(choices("v1.2.4", "v2.0.0"), List.of()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("choice of policy apps:")
          .hasMessageContaining("comes without its policy");
    }
  }

  @Test
  void pushesToAnotherBranchWithoutTouchingTheCheckoutBranch() throws Exception {
    String main = remote.git("rev-parse", "main").trim();
    try (GitWriteBack git = writer().pushBranch("image-updates").messageTemplate("images: ${count} (${policies})").build()) {
      WriteResult first = git.write(choices("v1.2.4", "v2.0.0"));
      assertThat(remote.git("rev-parse", "main").trim()).isEqualTo(main);
      assertThat(remote.git("rev-parse", "image-updates").trim()).isEqualTo(first.commit().orElseThrow());
      assertThat(remote.git("log", "-1", "--format=%B", "image-updates").trim()).isEqualTo("images: 1 (apps:web)");

      // the next write builds on the push branch: a fast-forward, nothing lost
      WriteResult second = git.write(choices("v1.2.4", "v2.1.0"));
      assertThat(second.base()).isEqualTo(first.commit());
      assertThat(remote.git("rev-parse", "image-updates^").trim()).isEqualTo(first.commit().orElseThrow());
      assertThat(remote.show("image-updates", "apps/api.yaml")).isEqualTo(API.replace("v2.0.0", "v2.1.0"));
    }
  }

  @Test
  void aPushThatLostARaceIsReappliedOnTheNewHead() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String[] theirs = new String[1];
    try (GitWriteBack git = writer().beforePush(attempt -> {
      if (calls.getAndIncrement() == 0) {
        theirs[0] = unchecked(() -> remote.pushFromAnotherClient("main", "README.md", "cluster, edited\n"));
      }
    }).build()) {
      WriteResult r = git.write(choices("v1.2.4", "v2.0.1"));

      assertThat(r.pushAttempts()).isEqualTo(2);
      assertThat(r.base()).contains(theirs[0]);
      assertThat(remote.git("rev-parse", "main^").trim()).isEqualTo(theirs[0]);
      assertThat(remote.show("main", "README.md")).isEqualTo("cluster, edited\n");
      assertThat(remote.show("main", "apps/web.yaml")).contains("team/web:v1.2.4 #");
      assertThat(remote.show("main", "apps/api.yaml")).isEqualTo(API.replace("v2.0.0", "v2.0.1"));
      assertThat(r.conflicts()).isEmpty();
    }
  }

  @Test
  void aConcurrentEditOfTheSameLineIsReportedAndNeverOverwritten() throws Exception {
    String hotfix = WEB.replace("team/web:v1.2.3", "team/web:v1.2.3-hotfix");
    AtomicInteger calls = new AtomicInteger();
    try (GitWriteBack git = writer().beforePush(attempt -> {
      if (calls.getAndIncrement() == 0) {
        unchecked(() -> remote.pushFromAnotherClient("main", "apps/web.yaml", hotfix));
      }
    }).build()) {
      WriteResult r = git.write(choices("v1.2.4", "v2.0.1"));

      assertThat(r.pushed()).isTrue();
      assertThat(remote.show("main", "apps/web.yaml")).isEqualTo(hotfix);
      assertThat(remote.show("main", "apps/api.yaml")).isEqualTo(API.replace("v2.0.0", "v2.0.1"));
      assertThat(r.updates()).extracting(ImageUpdate::policy).containsExactly("apps:api");
      assertThat(r.conflicts()).singleElement().satisfies(c -> {
        assertThat(c.file()).isEqualTo("apps/web.yaml");
        assertThat(c.found()).isEqualTo("registry.example.com/team/web:v1.2.3-hotfix");
        assertThat(c.expected()).isEqualTo("registry.example.com/team/web:v1.2.3");
        assertThat(c.ours()).isEqualTo("registry.example.com/team/web:v1.2.4");
        assertThat(c.describe()).contains("left as it is");
      });
    }
  }

  @Test
  void aWriterThatLosesEveryRaceGivesUpWithAClearError() throws Exception {
    AtomicInteger n = new AtomicInteger();
    try (GitWriteBack git = writer().maxPushAttempts(3).beforePush(attempt -> unchecked(() ->
        remote.pushFromAnotherClient("main", "README.md", "edit " + n.incrementAndGet() + "\n"))).build()) {
      assertThatThrownBy(() -> git.write(choices("v1.2.4", "v2.0.0")))
          .isInstanceOf(GitWriteException.class)
          .hasMessageContaining("lost the race 3 times")
          .hasMessageContaining(remote.url);
      assertThat(n.get()).isEqualTo(3);
      assertThat(remote.show("main", "apps/web.yaml")).isEqualTo(WEB);
    }
  }

  @Test
  void aTemplatePlaceholderOrGoTemplateThatWouldBeCommittedAsWrittenIsRefused() {
    for (String bad : List.of("${Count} images", "${ count } images", "images ${}", "${COUNT}")) {
      assertThatThrownBy(() -> writer().messageTemplate(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("unknown placeholder ${").hasMessageContaining("(known: ${count}, ${updates}, ${policies})");
    }
    // a template carried over from Flux's ImageUpdateAutomation
    assertThatThrownBy(() -> writer().messageTemplate("Update images\n{{range .Changed.Changes}}{{println .NewValue}}{{end}}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("message template: {{range .Changed.Changes}} is Go template syntax (Flux's messageTemplate), which"
            + " is not read here; use ${count}, ${updates} and ${policies}");
    assertThat(writer().messageTemplate("images: ${count} {not a template} $count { {x} }\n\n${updates}")).isNotNull();
  }

  @Test
  void aMissingBranchAndBadSettingsAreNamed() {
    try (GitWriteBack git = writer().branch("nope").build()) {
      assertThatThrownBy(() -> git.write(choices("v1", "v2")))
          .isInstanceOf(BranchNotFoundException.class).hasMessageContaining("branch nope does not exist")
          .extracting(e -> ((BranchNotFoundException) e).branch()).isEqualTo("nope");
    }
    assertThatThrownBy(() -> writer().messageTemplate("${count} ${bogus}"))
        .hasMessageContaining("unknown placeholder ${bogus}");
    assertThatThrownBy(() -> writer().path("../etc")).hasMessageContaining("stay inside the repository");
    assertThatThrownBy(() -> writer().pushBranch("a..b")).hasMessageContaining("not a valid branch name");
    for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofSeconds(-5)}) {
      assertThatThrownBy(() -> writer().timeout(bad)).as("timeout %s", bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout must be positive");
      assertThatThrownBy(() -> writer().retryDelay(bad)).as("retryDelay %s", bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retryDelay must be positive");
    }
  }

  @Test
  void anSshRemoteIsRefusedUpFrontNamingTheUrlWithoutItsPassword() {
    // the write-back configures no SSH: JGit's default session factory would read ~/.ssh
    for (String url : new String[] {"ssh://git@git.example.com/ops.git", "git+ssh://git.example.com/ops.git",
        "git@git.example.com:ops.git", "SSH://bot:s3cret@git.example.com/ops.git"}) {
      assertThatThrownBy(() -> GitWriteBack.builder(url)).as(url).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("SSH remotes are not supported for the image write-back")
          .hasMessageContaining("git.example.com").hasMessageNotContaining("s3cret");
    }
    for (String url : new String[] {"https://git.example.com/ops.git", "git://127.0.0.1/ops.git", "/srv/git/ops.git",
        "file:///srv/git/ops.git"}) {
      assertThat(GitWriteBack.builder(url)).as(url).isNotNull();
    }
  }

  @Test
  void aPathIsNormalisedAndAPathNotInTheTreeIsAnError() throws Exception {
    for (String spelled : new String[] {"./apps", "apps/", ".//apps//", "./apps/."}) {
      try (GitWriteBack git = writer().path(spelled).build()) {
        assertThat(git.preview(choices("v1.2.4", "v2.0.0")).updates()).as(spelled)
            .extracting(ImageUpdate::file).containsExactly("apps/web.yaml");
      }
    }
    try (GitWriteBack git = writer().path("apps//chart/").build()) {
      assertThat(git.preview(choices("v1.2.4", "v2.0.0")).problems()).singleElement().asString()
          .startsWith("apps/chart/broken-marked.yaml:");
    }
    try (GitWriteBack git = writer().path("./nosuchdir").build()) {
      assertThatThrownBy(() -> git.preview(choices("v1.2.4", "v2.0.0")))
          .isInstanceOf(PathNotFoundException.class)
          .hasMessageContaining("path 'nosuchdir' is not in branch main at ")
          .satisfies(e -> assertThat(((PathNotFoundException) e).path()).isEqualTo("nosuchdir"));
      assertThatThrownBy(() -> git.write(choices("v1.2.4", "v2.0.0"))).isInstanceOf(PathNotFoundException.class);
    }
  }

  static Map.Entry<org.eclipse.jgit.lib.FileMode, byte[]> file(String content) {
    return Map.entry(org.eclipse.jgit.lib.FileMode.REGULAR_FILE, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  static Map.Entry<org.eclipse.jgit.lib.FileMode, byte[]> link(String target) {
    return Map.entry(org.eclipse.jgit.lib.FileMode.SYMLINK, target.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  static byte[] latin1(String path) {
    return path.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  @Test
  void aFileNamedInAnotherEncodingThanUtf8IsUpdatedUnderItsOwnName() throws Exception {
    // "apps/café.yaml" in Latin-1: its é is the one byte e9, which is no UTF-8
    String cafe = WEB.replace("name: web", "name: cafe");
    Map<byte[], Map.Entry<org.eclipse.jgit.lib.FileMode, byte[]>> entries = new LinkedHashMap<>();
    entries.put(latin1("apps/caf\u00e9.yaml"), file(cafe));
    entries.put(latin1("apps/na\u00efve/api.yaml"), file(API));
    remote.commitRaw("main", entries);
    Map<String, byte[]> before = remote.rawTree("main");
    try (GitWriteBack git = writer().build()) {
      assertThat(git.preview(choices("v1.2.4", "v2.0.1")).updates()).extracting(ImageUpdate::file)
          .containsExactlyInAnyOrder("apps/caf\\xe9.yaml", "apps/na\\xefve/api.yaml", "apps/api.yaml", "apps/web.yaml");

      WriteResult r = git.write(choices("v1.2.4", "v2.0.1"));

      assertThat(r.pushed()).isTrue();
      assertThat(r.problems()).noneMatch(p -> p.contains("caf") || p.contains("na"));
      Map<String, byte[]> after = remote.rawTree("main");
      assertThat(after.keySet()).as("the same files, none added under a re-encoded name").isEqualTo(before.keySet());
      assertThat(new String(after.get("apps/caf\u00e9.yaml"), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo(cafe.replace("team/web:v1.2.3", "team/web:v1.2.4"));
      assertThat(new String(after.get("apps/na\u00efve/api.yaml"), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo(API.replace("v2.0.0", "v2.0.1"));
      assertThat(remote.show("main", "apps/web.yaml")).contains("team/web:v1.2.4 #");
      assertThat(remote.git("log", "-1", "--format=%B", "main")).contains("- apps/caf\\xe9.yaml: Deployment/cafe");
    }
  }

  @Test
  void aFileThatIsNotUtf8IsNamedAWarningWithoutAMarkerAndAProblemWithOneNeverHalfRead() throws Exception {
    java.nio.charset.Charset le16 = java.nio.charset.StandardCharsets.UTF_16LE;
    java.nio.charset.Charset be32 = java.nio.charset.Charset.forName("UTF-32BE");
    String bigPlain = "kind: CustomResourceDefinition\n" + ("# " + "x".repeat(1022) + "\n").repeat(5);
    Map<byte[], Map.Entry<org.eclipse.jgit.lib.FileMode, byte[]>> entries = new LinkedHashMap<>();
    entries.put(bytes("apps/u16-bom.yaml"), raw("\ufeff" + OUTSIDE, le16));
    entries.put(bytes("apps/u16be.yaml"), raw(OUTSIDE, java.nio.charset.StandardCharsets.UTF_16BE));
    entries.put(bytes("apps/u32.yaml"), raw("\ufeff" + OUTSIDE, java.nio.charset.Charset.forName("UTF-32LE")));
    entries.put(bytes("apps/u32be-plain.yaml"), raw(PLAIN, be32));
    entries.put(bytes("apps/u16-plain.yaml"), raw(PLAIN, le16));
    entries.put(bytes("apps/latin1.yaml"), raw("kind: ConfigMap\ndata: {city: M\u00fcnchen}\n", java.nio.charset.StandardCharsets.ISO_8859_1));
    entries.put(bytes("apps/big-u16.yaml"), raw("\ufeff" + bigPlain + OUTSIDE, le16));
    entries.put(bytes("apps/big-u16-plain.yaml"), raw("\ufeff" + bigPlain, le16));
    entries.put(bytes("apps/utf8-bom.yaml"), file("\ufeff" + OUTSIDE));
    remote.commitRaw("main", entries);
    Map<String, byte[]> before = remote.rawTree("main");
    try (GitWriteBack git = writer().maxFileSize(4096).build()) {
      WriteResult r = git.write(choices("v1.2.4", "v2.0.0"));

      String only = "; markers are only read in UTF-8 files, so none of its markers is used: save it as UTF-8";
      assertThat(r.problems()).contains(
          "apps/u16-bom.yaml: UTF-16LE text (it starts with a byte order mark), not UTF-8 (iconv -f UTF-16LE -t UTF-8"
              + " converts it)" + only,
          "apps/u16be.yaml: UTF-16BE text (no byte order mark, but its first character's other bytes are NUL), not"
              + " UTF-8 (iconv -f UTF-16BE -t UTF-8 converts it)" + only,
          "apps/u32.yaml: UTF-32LE text (it starts with a byte order mark), not UTF-8 (iconv -f UTF-32LE -t UTF-8"
              + " converts it)" + only,
          "apps/big-u16.yaml: larger than 4096 bytes and holds $imagepolicy; not read");
      String none = "; it mentions no $imagepolicy in its encoding and is not read for markers (markers are only read"
          + " in UTF-8 files)";
      assertThat(r.warnings()).containsExactly(
          "apps/big-u16-plain.yaml: UTF-16LE text (it starts with a byte order mark), not UTF-8 (iconv -f UTF-16LE -t"
              + " UTF-8 converts it)" + none,
          "apps/latin1.yaml: not UTF-8 text: byte 0xfc on line 2 (offset 30) is no UTF-8 sequence (Latin-1, or another"
              + " 8-bit encoding?)" + none,
          "apps/u16-plain.yaml: UTF-16LE text (no byte order mark, but its first character's other bytes are NUL), not"
              + " UTF-8 (iconv -f UTF-16LE -t UTF-8 converts it)" + none,
          "apps/u32be-plain.yaml: UTF-32BE text (no byte order mark, but its first character's other bytes are NUL),"
              + " not UTF-8 (iconv -f UTF-32BE -t UTF-8 converts it)" + none);
      // a UTF-8 byte order mark is UTF-8: its marker is used and the mark kept; no other file changed a byte
      assertThat(r.updates()).extracting(ImageUpdate::file).containsExactlyInAnyOrder("apps/web.yaml", "apps/utf8-bom.yaml");
      Map<String, byte[]> after = remote.rawTree("main");
      assertThat(new String(after.get("apps/utf8-bom.yaml"), java.nio.charset.StandardCharsets.UTF_8))
          .isEqualTo("\ufeff" + OUTSIDE.replace("v1.0.0", "v1.2.4"));
      for (String f : before.keySet()) {
        if (!f.equals("apps/utf8-bom.yaml") && !f.equals("apps/web.yaml")) {
          assertThat(after.get(f)).as(f).isEqualTo(before.get(f));
        }
      }
      // said again at the next run: a file no marker is read in is never remembered as one without markers
      assertThat(git.preview(choices("v1.2.4", "v2.0.0")).warnings()).hasSize(4);
    }
  }

  private static Map.Entry<org.eclipse.jgit.lib.FileMode, byte[]> raw(String content, java.nio.charset.Charset cs) {
    return Map.entry(org.eclipse.jgit.lib.FileMode.REGULAR_FILE, content.getBytes(cs));
  }

  @Test
  void aSymbolicLinkIsNotFollowedAndNeverPassedOverInSilence() throws Exception {
    Map<byte[], Map.Entry<org.eclipse.jgit.lib.FileMode, byte[]>> entries = new LinkedHashMap<>();
    entries.put(latin1("deploy"), link("apps"));
    entries.put(latin1("apps/outside.yaml"), link("../other/outside.yaml"));
    entries.put(latin1("apps/other"), link("../other"));
    entries.put(latin1("apps/current.yaml"), link("web.yaml"));  // read where it points, under the path
    entries.put(latin1("apps/notes"), link("../README.md"));     // no YAML: never read either way
    entries.put(latin1("apps/etc.yaml"), link("/etc/web.yaml"));  // outside the repository
    remote.commitRaw("main", entries);
    try (GitWriteBack git = writer().path("deploy/").build()) {
      assertThatThrownBy(() -> git.preview(choices("v1.2.4", "v2.0.0")))
          .isInstanceOf(PathNotFoundException.class)
          .hasMessageContaining("path 'deploy' is a symbolic link in branch main at ")
          .hasMessageContaining("(to 'apps'), and links are not followed");
    }
    try (GitWriteBack git = writer().build()) {
      WriteResult r = git.preview(choices("v1.2.4", "v2.0.0"));
      assertThat(r.updates()).extracting(ImageUpdate::file).containsExactly("apps/web.yaml");
      assertThat(r.problems()).filteredOn(p -> p.contains("symbolic link")).containsExactlyInAnyOrder(
          "apps/etc.yaml: a symbolic link (to '/etc/web.yaml'), not read: links are not followed, so the markers in"
              + " the file it points to are not updated; replace the link by that file",
          "apps/other: a symbolic link (to '../other'), not read: links are not followed, so the markers in the"
              + " directory it points to are not updated; replace the link by that directory, or widen path 'apps'"
              + " to take it in",
          "apps/outside.yaml: a symbolic link (to '../other/outside.yaml'), not read: links are not followed, so the"
              + " markers in the file it points to are not updated; replace the link by that file, or widen path"
              + " 'apps' to take it in");
    }
  }

  @Test
  void aTemporaryCloneIsMadeOnFirstUseAndRemovedOnCloseOrWhenTheUpdaterCannotBeBuilt() {
    GitWriteBack unused = writer().build();
    assertThat(unused.cacheDirectory()).isNull();
    unused.close();

    GitWriteBack git = writer().build();
    git.preview(choices("v1.2.4", "v2.0.0"));
    Path clone = git.cacheDirectory();
    assertThat(clone).isDirectory();
    dev.gitops.images.policy.ImagePolicy web = dev.gitops.images.policy.ImagePolicy.builder("apps:web",
        "registry.example.com/team/web").order(dev.gitops.images.policy.TagOrder.semver("*")).build();
    assertThatThrownBy(() -> dev.gitops.images.ImageUpdater.builder()
        .registry(dev.gitops.images.registry.RegistryClient.builder().build())
        .policy(web).policy(web).git(git).build())
        .hasMessageContaining("two image policies are named apps:web");
    assertThat(clone).doesNotExist();
  }

  @Test
  void aPushAHookRefusesKeepsWhatTheServerSaid() throws Exception {
    Path hook = remote.bare.resolve("hooks/pre-receive");
    java.nio.file.Files.writeString(hook, "#!/bin/sh\necho 'branch main is frozen until Monday (ticket OPS-42)' >&2\nexit 1\n");
    hook.toFile().setExecutable(true);
    try (GitWriteBack git = writer().build()) {
      assertThatThrownBy(() -> git.write(choices("v1.2.4", "v2.0.0")))
          .isInstanceOf(GitWriteException.class)
          .hasMessageContaining("push to main refused: REJECTED_OTHER_REASON")
          .hasMessageContaining("branch main is frozen until Monday (ticket OPS-42)");
    }
  }

  @Test
  void remoteHeadsNameBothBranches() throws Exception {
    try (GitWriteBack git = writer().pushBranch("image-updates").build()) {
      assertThat(git.remoteHeads()).containsOnlyKeys("refs/heads/main");
      git.write(choices("v1.2.4", "v2.0.0"));
      assertThat(git.remoteHeads()).containsOnlyKeys("refs/heads/main", "refs/heads/image-updates");
      assertThat(git.remoteHeads().get("refs/heads/image-updates"))
          .isEqualTo(remote.git("rev-parse", "image-updates").trim());
    }
  }

  interface IoAction<T> {
    T run() throws IOException;
  }

  static <T> T unchecked(IoAction<T> action) {
    try {
      return action.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
