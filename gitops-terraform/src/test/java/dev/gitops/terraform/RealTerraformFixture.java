package dev.gitops.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.terraform.internal.Binary;
import dev.gitops.testkit.TempGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tests against a real {@code terraform} (or {@code tofu}) binary share: the binary found
 * on {@code PATH} (each test is skipped, saying so, where there is none), a Git repository with a
 * configuration of built-in {@code terraform_data} resources (no provider plugin, so no registry)
 * and a file fed by its outputs, the provider and reconciler built on them, and a way to change
 * things outside the engine. Two classes hold the tests, so that the two test forks share them.
 */
abstract class RealTerraformFixture {

  static final String SECRET = "tf-real-s3cr3t-9c1d";

  @TempDir
  Path tmp;

  String binary;
  TempGitRepo repo;
  Path workDir;
  Path target;
  final List<SyncEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void findTheBinary() throws Exception {
    binary = onPath("terraform").or(() -> onPath("tofu")).orElse(null);
    Assumptions.assumeTrue(binary != null, "no terraform or tofu binary on PATH");
    workDir = tmp.resolve("work");
    target = Files.createDirectories(tmp.resolve("target"));
    repo = TempGitRepo.in(Files.createDirectories(tmp.resolve("repo")));
    repo.write("infra/main.tf", config("hello"));
    // a root output, and a resource's attribute of a dynamic type (the state file wraps it as {value, type})
    repo.write("app.conf", "greeting=${outputs:tf:output::greeting:value}\n"
        + "follower=${outputs:tf:terraform_data::follower:output}\n");
    repo.commit("infra and app");
  }

  /** {@code name} as the provider would find it on PATH ({@link Binary#locate}), if it is there. */
  static Optional<String> onPath(String name) {
    try {
      return Optional.of(Binary.locate(name, System.getenv().getOrDefault("PATH", "")).path().toString());
    } catch (TerraformException e) {
      return Optional.empty();
    }
  }

  static String config(String greeting) {
    return """
        variable "greeting" {
          type    = string
          default = "%s"
        }
        variable "token" {
          type      = string
          sensitive = true
        }
        resource "terraform_data" "greeting" {
          input = var.greeting
        }
        resource "terraform_data" "follower" {
          input            = "${terraform_data.greeting.output}-follower"
          triggers_replace = [var.greeting]
        }
        resource "terraform_data" "token" {
          input = var.token
        }
        output "greeting" {
          value = terraform_data.greeting.output
        }
        output "token" {
          value     = var.token
          sensitive = true
        }
        """.formatted(greeting);
  }

  /** The provider of these tests: no version check, an empty CLI configuration, the secret as a sensitive variable. */
  TerraformProvider.Builder builder() throws Exception {
    Path rc = tmp.resolve("terraformrc");
    Files.writeString(rc, "");
    return TerraformProvider.builder(workDir).configDirectory("infra").binary(binary)
        .sensitiveVariable("token", SECRET)
        .environment("CHECKPOINT_DISABLE", "1").environment("TF_CLI_CONFIG_FILE", rc.toString());
  }

  TerraformProvider provider() throws Exception {
    return builder().build();
  }

  Reconciler reconciler(TerraformProvider tf) throws Exception {
    return reconciler(tf, SyncOptions.defaults());
  }

  Reconciler reconciler(TerraformProvider tf, SyncOptions options) throws Exception {
    return Reconciler.builder()
        .options(options)
        .source(GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build())
        .decoder("infra/**", tf.decoder().orElseThrow())
        .provider(tf)
        .provider(LocalFilesProvider.builder(target).build())
        .store(FileStateStore.open(tmp.resolve("state")))
        .listener(events::add)
        .build();
  }

  static ResourceKey data(String name) {
    return ResourceKey.of("tf", "terraform_data", "", name);
  }

  /** Runs the binary in the working directory, as someone changing things outside the engine would. */
  void outside(String... args) throws Exception {
    List<String> argv = new java.util.ArrayList<>(List.of(binary));
    argv.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(argv).directory(workDir.toFile()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("outside.log").toFile());
    pb.environment().put("CHECKPOINT_DISABLE", "1");
    pb.environment().put("TF_CLI_CONFIG_FILE", tmp.resolve("terraformrc").toString());
    pb.environment().put("TF_VAR_token", SECRET);
    Process p = pb.start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(tmp.resolve("outside.log"))).isZero();
  }

  /** A variable that reaches only a provisioner: no resource document shows it, the plan must still pin it. */
  void commitProvisionerConfig() throws Exception {
    repo.write("infra/prov.tf", """
        variable "cmd" {
          type    = string
          default = "true"
        }
        variable "pw" {
          type      = string
          default   = "unset"
          sensitive = true
        }
        resource "terraform_data" "prov" {
          input = "fixed"
          provisioner "local-exec" {
            command = "echo ${var.cmd} > ${path.module}/ran.txt"
          }
        }
        """).commit("a provisioner");
  }

  /** Why the last sync did not succeed: the plan's unobserved reasons and the failed outcomes. */
  static String why(SyncResult r) {
    return r.plan().unobserved() + " " + r.outcomes().values().stream().map(Outcome::message).toList();
  }

  /** A configuration whose apply fails in a provisioner after writing a resource and an output. */
  void commitFailingProvisioner() throws Exception {
    repo.write("infra/main.tf", """
        variable "token" {
          type      = string
          sensitive = true
        }
        resource "terraform_data" "a" {
          input = "a"
        }
        resource "terraform_data" "fail" {
          input      = "f"
          depends_on = [terraform_data.a]
          provisioner "local-exec" {
            command = "sh ${path.module}/deploy.sh"
          }
        }
        output "a" {
          value = terraform_data.a.output
        }
        """);
    repo.write("infra/deploy.sh", "echo step 1 ok\necho step 2 ok\necho \"ERROR: quota exceeded for project X\" >&2\n"
        + "exit 3\n");
    repo.write("app.conf", "static\n");
    repo.commit("a provisioner that fails");
  }

  /**
   * Commits a sensitive variable {@code pw} opened by {@code declaration} and a check whose failure
   * message quotes it, syncs with {@code provider} (which sets it), and asserts the sync succeeds and
   * that no warning shows {@code pw}.
   */
  void assertACheckQuotingItNeverShows(String declaration, String pw, TerraformProvider.Builder provider)
      throws Exception {
    repo.write("infra/pw.tf", declaration + """

          type      = string
          sensitive = true
        }
        check "pw" {
          assert {
            condition     = var.pw == "nope"
            error_message = "pw is ${nonsensitive(var.pw)} wrong"
          }
        }
        """).commit("a check that quotes a secret: " + declaration);
    List<TerraformEvent> seen = new CopyOnWriteArrayList<>();
    try (Reconciler reconciler = reconciler(provider.listener(seen::add).build())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(seen).filteredOn(TerraformEvent::isWarning).isNotEmpty()
        .allSatisfy(e -> assertThat(e.message()).doesNotContain(pw));
  }
}
