package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** What init depends on: found in HCL by a scanner that knows strings, comments and heredocs. */
class InitInputsTest {

  static final String MAIN = """
      # a comment with a { brace
      terraform {
        required_providers {
          random = { source = "hashicorp/random", version = "~> 3.5" }
        }
        backend "s3" {
          bucket = "state-${"x"}-bucket" // not } the end
        }
      }

      resource "random_pet" "name" {
        length = 2
        keepers = {
          note = <<-EOT
            a heredoc with } and { and "quotes
            EOT
        }
      }

      /* provider "fake" { } */
      provider "aws" {
        region = var.region
      }

      module "net" {
        source  = "./modules/net"
        version = "1.0.0"
      }
      """;

  static SortedMap<String, String> files(String main) {
    SortedMap<String, String> m = new TreeMap<>();
    m.put("main.tf", main);
    return m;
  }

  @Test
  void topLevelBlocksAreFoundPastStringsCommentsAndHeredocs() {
    List<InitInputs.Block> blocks = InitInputs.blocks(MAIN);
    assertThat(blocks).extracting(InitInputs.Block::type)
        .containsExactly("terraform", "resource", "provider", "module");
    assertThat(blocks.get(1).labels()).containsExactly("random_pet", "name");
    assertThat(blocks.get(3).body()).contains("./modules/net");
    assertThat(InitInputs.backend(files(MAIN))).isEqualTo("s3");
    assertThat(InitInputs.backend(files("resource \"a_b\" \"c\" {}\n"))).isEmpty();
  }

  @Test
  void onlyWhatInitDependsOnChangesTheDigest() {
    String base = InitInputs.digest(files(MAIN), "terraform 1.9.5");
    assertThat(InitInputs.digest(files(MAIN.replace("length = 2", "length = 3")), "terraform 1.9.5"))
        .as("an attribute of a resource").isEqualTo(base);
    assertThat(InitInputs.digest(files(MAIN.replace("~> 3.5", "~> 3.6")), "terraform 1.9.5"))
        .as("a provider requirement").isNotEqualTo(base);
    assertThat(InitInputs.digest(files(MAIN.replace("1.0.0", "1.1.0")), "terraform 1.9.5"))
        .as("a module version").isNotEqualTo(base);
    assertThat(InitInputs.digest(files(MAIN + "\nresource \"google_x\" \"y\" {}\n"), "terraform 1.9.5"))
        .as("a resource of a provider not used before").isNotEqualTo(base);
    assertThat(InitInputs.digest(files(MAIN + "\nresource \"random_id\" \"y\" {}\n"), "terraform 1.9.5"))
        .as("another resource of a provider already used").isEqualTo(base);
    SortedMap<String, String> withLock = files(MAIN);
    withLock.put(InitInputs.LOCK_FILE, "provider \"registry.terraform.io/hashicorp/random\" { version = \"3.5.1\" }");
    assertThat(InitInputs.digest(withLock, "terraform 1.9.5")).as("the lock file").isNotEqualTo(base);
    assertThat(InitInputs.digest(files(MAIN), "tofu 1.8.0")).as("the binary").isNotEqualTo(base);
    SortedMap<String, String> json = new TreeMap<>();
    json.put("main.tf.json", "{\"resource\":{\"random_pet\":{\"a\":{\"length\":2}}}}");
    SortedMap<String, String> json2 = new TreeMap<>();
    json2.put("main.tf.json", "{\"resource\":{\"random_pet\":{\"a\":{\"length\":5}}}}");
    assertThat(InitInputs.digest(json, "x")).isEqualTo(InitInputs.digest(json2, "x"));
  }

  @Test
  void openTofuFilesAreConfigurationWhereverTerraformsAre() {
    assertThat(InitInputs.isHcl("main.tf")).isTrue();
    assertThat(InitInputs.isHcl("modules/net/main.tofu")).isTrue();
    assertThat(InitInputs.isHcl("main.tf.json")).isFalse();
    assertThat(InitInputs.isHcl("x.tfvars")).isFalse();
    assertThat(InitInputs.isJson("main.tf.json")).isTrue();
    assertThat(InitInputs.isJson("main.tofu.json")).isTrue();
    assertThat(InitInputs.isJson("main.tf")).isFalse();
    assertThat(InitInputs.isJson("x.tfvars.json")).isFalse();
    assertThat(InitInputs.isConfiguration("versions.tofu")).isTrue();
    assertThat(InitInputs.isConfiguration("data.txt")).isFalse();

    SortedMap<String, String> tofu = new TreeMap<>();
    tofu.put("main.tofu", MAIN);
    assertThat(InitInputs.backend(tofu)).as("a backend in a .tofu file").isEqualTo("s3");
    SortedMap<String, String> tofuJson = new TreeMap<>();
    tofuJson.put("backend.tofu.json", "{\"terraform\":{\"backend\":{\"gcs\":{}}}}");
    assertThat(InitInputs.backend(tofuJson)).isEqualTo("gcs");

    String base = InitInputs.digest(tofu, "tofu 1.8.0");
    SortedMap<String, String> changed = new TreeMap<>();
    changed.put("main.tofu", MAIN.replace("~> 3.5", "~> 3.6"));
    assertThat(InitInputs.digest(changed, "tofu 1.8.0")).as("a provider requirement in a .tofu file")
        .isNotEqualTo(base);
    SortedMap<String, String> attribute = new TreeMap<>();
    attribute.put("main.tofu", MAIN.replace("length = 2", "length = 3"));
    assertThat(InitInputs.digest(attribute, "tofu 1.8.0")).as("an attribute of a resource").isEqualTo(base);
    SortedMap<String, String> json = new TreeMap<>();
    json.put("main.tofu.json", "{\"terraform\":{\"required_providers\":{\"random\":{\"version\":\"3.5\"}}}}");
    SortedMap<String, String> json2 = new TreeMap<>();
    json2.put("main.tofu.json", "{\"terraform\":{\"required_providers\":{\"random\":{\"version\":\"3.6\"}}}}");
    assertThat(InitInputs.digest(json, "x")).isNotEqualTo(InitInputs.digest(json2, "x"));
  }

  @Test
  void aRootModuleHasConfigurationOnlyWithAConfigurationFileAtItsRoot() {
    SortedMap<String, String> files = new TreeMap<>();
    assertThat(InitInputs.hasRootConfiguration(files)).isFalse();
    files.put("README.md", "docs");
    files.put("terraform.tfvars", "x = 1");
    files.put("modules/net/main.tf", "resource \"a_b\" \"c\" {}");
    files.put(InitInputs.LOCK_FILE, "");
    assertThat(InitInputs.hasRootConfiguration(files)).as("a module's files, variables, docs, the lock file")
        .isFalse();
    for (String root : List.of("main.tf", "main.tf.json", "main.tofu", "main.tofu.json")) {
      SortedMap<String, String> with = new TreeMap<>(files);
      with.put(root, "");
      assertThat(InitInputs.hasRootConfiguration(with)).as(root).isTrue();
    }
  }

  @Test
  void aJsonBlockTypeGivenTwiceIsWhatInitDependsOnInBoth() {
    // a module or a provider's resource in the first of two "module" or "resource" properties is Terraform's too
    String base = "{\"module\": {\"a\": {\"source\": \"./a\"}}, \"module\": {\"b\": {\"source\": \"./b\"}},"
        + " \"resource\": {\"terraform_data\": {\"x\": {}}}, \"resource\": {\"terraform_data\": {\"y\": {}}}}";
    String movedModule = base.replace("./a", "./c");
    String newProvider = base.replace("{\"terraform_data\": {\"x\": {}}}", "{\"aws_s3_bucket\": {\"x\": {}}}");
    String digest = InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json", base)), "tf");
    assertThat(InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json", movedModule)), "tf")).isNotEqualTo(digest);
    assertThat(InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json", newProvider)), "tf")).isNotEqualTo(digest);
    String listed = "{\"resource\": [{\"terraform_data\": {\"x\": {}}}]}";
    assertThat(InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json", listed)), "tf"))
        .isNotEqualTo(InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json",
            listed.replace("terraform_data", "aws_s3_bucket"))), "tf"));
  }

  @Test
  void aJsonFileWhoseRootIsAListOfObjectsIsWhatInitDependsOnInEach() {
    // terraform 1.11.4 reads [{...}, {...}] as one body: its modules, providers and backend are init's
    String base = "[{\"module\": {\"a\": {\"source\": \"./a\"}}}, {\"resource\": {\"terraform_data\": {\"x\": {}}}},"
        + " {\"terraform\": {\"backend\": {\"s3\": {}}}}]";
    String digest = InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json", base)), "tf");
    assertThat(InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json", base.replace("./a", "./c"))), "tf"))
        .isNotEqualTo(digest);
    assertThat(InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json",
        base.replace("terraform_data", "aws_s3_bucket"))), "tf")).isNotEqualTo(digest);
    assertThat(InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf.json",
        base.replace("{\"x\": {}}", "{\"x\": {\"input\": 1}}"))), "tf")).as("not init's").isEqualTo(digest);
    assertThat(InitInputs.backend(new TreeMap<>(java.util.Map.of("main.tf.json", base)))).isEqualTo("s3");
  }

  @Test
  void aTerraformBlockOnTheFirstLineOfAFileWithAByteOrderMarkIsWhatInitDependsOn() {
    String tf = "\uFEFFterraform {\n  required_providers {\n    random = { version = \"~> 3.5\" }\n  }\n"
        + "  backend \"s3\" {}\n}\n";
    String digest = InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf", tf)), "tf");
    assertThat(InitInputs.digest(new TreeMap<>(java.util.Map.of("main.tf", tf.replace("3.5", "3.6"))), "tf"))
        .as("a provider requirement changed: init runs again").isNotEqualTo(digest);
    assertThat(InitInputs.backend(new TreeMap<>(java.util.Map.of("main.tf", tf)))).isEqualTo("s3");
  }
}
