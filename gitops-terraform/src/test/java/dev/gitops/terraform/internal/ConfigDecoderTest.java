package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.DecodeException;
import dev.gitops.api.Resource;
import dev.gitops.api.spi.SourceFile;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the decoder takes from the repository, and the module sources it refuses. */
class ConfigDecoderTest {

  private final ConfigDecoder decoder = new ConfigDecoder("tf", "live/prod");

  private List<Resource> decode(String path, String text) {
    return decoder.decode(new SourceFile(path, "blob", text.getBytes(StandardCharsets.UTF_8), "main@sha1:abc"));
  }

  @Test
  void dataFilesAreCopiedButTerraformsOwnFilesAreNot() {
    assertThat(decoder.claims("live/prod/main.tf")).isTrue();
    assertThat(decoder.claims("live/prod/data.txt")).as("file()").isTrue();
    assertThat(decoder.claims("live/prod/templates/user.tftpl")).as("templatefile()").isTrue();
    assertThat(decoder.claims("live/prod/terraform.tfstate")).isFalse();
    assertThat(decoder.claims("live/prod/terraform.tfstate.backup")).isFalse();
    assertThat(decoder.claims("live/prod/.terraform/modules/modules.json")).isFalse();
    assertThat(decoder.claims("live/modules/x/main.tf")).isFalse();
    assertThat(decode("live/prod/bin.dat", "\u0000ok")).hasSize(1);
    assertThat(decoder.decode(new SourceFile("live/prod/logo.png", "b", new byte[] {(byte) 0x89, (byte) 0xff, 0},
        "r"))).as("not UTF-8: not copied").isEmpty();
  }

  @Test
  void aModuleFromOutsideTheConfigurationIsRefusedNamingFileLineAndModule() {
    assertThatThrownBy(() -> decode("live/prod/main.tf", "locals {}\n\nmodule \"vpc\" {\n  source = \"../../modules/vpc\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("live/prod/main.tf").hasMessageContaining("4")
        .hasMessageContaining("module \"vpc\"").hasMessageContaining("../../modules/vpc")
        .hasMessageContaining("leaves the configuration directory live/prod");
    assertThatThrownBy(() -> decode("live/prod/mods/a/main.tf", "module \"b\" {\n  source = \"../../../x\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("module \"b\"");
    assertThatThrownBy(() -> decode("live/prod/main.tf", "module \"up\" {\n  source = \"../prod/modules/db\"\n}\n"))
        .as("in the working directory '../prod' is a directory of the host, whatever the repository holds")
        .isInstanceOf(DecodeException.class).hasMessageContaining("module \"up\"");
    assertThatThrownBy(() -> decode("live/prod/main.tf", "module \"h\" {\n  source = \"/srv/modules/h\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("a path on the host");
    assertThatThrownBy(() -> decode("live/prod/main.tf.json", "{\"module\": {\"j\": {\"source\": \"../j\"}}}"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("module \"j\"");
  }

  @Test
  void aModuleUnderABareLabelOrBehindACommentedOutSourceIsRefusedToo() {
    // HCL takes 'module vpc {' for 'module "vpc" {'; a comment is not the source Terraform reads
    assertThatThrownBy(() -> decode("live/prod/main.tf", "module vpc {\n  source = \"../vpc\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("module \"vpc\"").hasMessageContaining("../vpc");
    assertThatThrownBy(() -> decode("live/prod/main.tf",
        "module \"h\" {\n  /*\n  source = \"./ok\"\n  */\n  # source = \"./ok\"\n  source = \"../h\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("module \"h\"").hasMessageContaining("../h")
        .hasMessageContaining("main.tf:6");
    // Terraform reads a backslash in a local source as a slash, on every platform: ..\\x is ../x
    assertThatThrownBy(() -> decode("live/prod/main.tf", "module \"w\" {\n  source = \"..\\\\w\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("module \"w\"");
    assertThatThrownBy(() -> decode("live/prod/main.tf.json", "{\"module\": {\"wj\": {\"source\": \".\\\\..\\\\..\\\\wj\"}}}"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("module \"wj\"");
    assertThat(decode("live/prod/main.tf", "# module \"old\" {\n#   source = \"../old\"\n# }\n"))
        .as("a commented-out module is no module").hasSize(1);
  }

  @Test
  void aModuleCopiedInFromAHostPathThroughAUrlOrAForcedGetterIsRefused() {
    // init copies these from the host into .terraform/modules: not the revision's either
    for (String source : List.of("file:///srv/modules/h", "git::file:///srv/repo//m", "git::/srv/repo", "git::../repo",
        "file::./x")) {
      assertThatThrownBy(() -> decode("live/prod/main.tf", "module \"h\" {\n  source = \"" + source + "\"\n}\n"))
          .as(source).isInstanceOf(DecodeException.class).hasMessageContaining("is a path on the host");
    }
    assertThat(decode("live/prod/main.tf", "module \"g\" {\n  source = \"git::https://example.com/m.git?ref=v1\"\n}\n"
        + "module \"s\" {\n  source = \"s3::https://s3.amazonaws.com/b/m.zip\"\n}\n")).hasSize(1);
  }

  @Test
  void modulesInsideTheConfigurationAndRemoteOnesAreAccepted() {
    assertThat(decode("live/prod/main.tf", """
        module "net" {
          source = "./modules/net"
        }
        module "reg" {
          source  = "terraform-aws-modules/vpc/aws"
          version = "5.0.0"
        }
        """)).hasSize(1);
    assertThat(decode("live/prod/modules/net/main.tf", "module \"sib\" {\n  source = \"../db\"\n}\n")).hasSize(1);
  }

  @Test
  void openTofuFilesAreCheckedForModulesFromOutsideAsTerraformFilesAre() {
    assertThatThrownBy(() -> decode("live/prod/main.tofu", "module \"vpc\" {\n  source = \"../../modules/vpc\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("live/prod/main.tofu")
        .hasMessageContaining("module \"vpc\"");
    assertThatThrownBy(() -> decode("live/prod/main.tofu.json",
        "{\"module\": {\"vpc\": {\"source\": \"/srv/modules/vpc\"}}}"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("live/prod/main.tofu.json")
        .hasMessageContaining("/srv/modules/vpc");
    assertThat(decode("live/prod/main.tofu", "module \"vpc\" {\n  source = \"./modules/vpc\"\n}\n")).hasSize(1);
  }

  @Test
  void aJsonModuleGivenTwiceOrInAListIsCheckedAsTerraformReadsIt() {
    // HCL's JSON syntax: "module" given twice is both blocks, and a block type's value may be a list of objects;
    // terraform 1.11.4's init copies such a host module in (modules.json: file:///srv/modules/x)
    String twice = "{\n  \"module\": {\"host\": {\"source\": \"/srv/modules/x\"}},\n"
        + "  \"module\": {\"ok\": {\"source\": \"./local\"}}\n}\n";
    assertThatThrownBy(() -> decode("live/prod/main.tf.json", twice)).isInstanceOf(DecodeException.class)
        .hasMessageContaining("live/prod/main.tf.json").hasMessageContaining("2")
        .hasMessageContaining("module \"host\"").hasMessageContaining("/srv/modules/x");
    assertThatThrownBy(() -> decode("live/prod/main.tf.json",
        "{\"module\": [{\"listed\": {\"source\": \"../../x\"}}]}")).isInstanceOf(DecodeException.class)
        .hasMessageContaining("module \"listed\"").hasMessageContaining("leaves the configuration directory");
  }

  @Test
  void aJsonFileWhoseRootIsAListOfObjectsIsCheckedAsOneBodyAndAnyOtherListIsRefused() {
    // terraform 1.11.4 reads [{...}, {...}] as one body (init resolves the host module ../x); it refuses a root
    // list holding anything but objects ("Incorrect JSON value type")
    String listed = "[\n  {\"variable\": {\"a\": {}}},\n  {\"module\": {\"host\": {\"source\": \"../../x\"}}}\n]\n";
    assertThatThrownBy(() -> decode("live/prod/main.tf.json", listed)).isInstanceOf(DecodeException.class)
        .hasMessageContaining("live/prod/main.tf.json").hasMessageContaining("module \"host\"")
        .hasMessageContaining("leaves the configuration directory");
    assertThat(decode("live/prod/ok.tf.json", "[{\"module\": {\"m\": {\"source\": \"./m\"}}}, {}]")).hasSize(1);
    assertThat(decode("live/prod/empty.tf.json", "[]")).hasSize(1);
    assertThatThrownBy(() -> decode("live/prod/bad.tf.json", "[\n  {\"variable\": {\"a\": {}}},\n  1\n]"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("live/prod/bad.tf.json")
        .hasMessageContaining(":3").hasMessageContaining("element [1]").hasMessageContaining("a number");
    assertThatThrownBy(() -> decode("live/prod/nested.tf.json", "[[{\"module\": {\"h\": {\"source\": \"/srv\"}}}]]"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("live/prod/nested.tf.json")
        .hasMessageContaining("element [0]").hasMessageContaining("a list");
  }

  @Test
  void aConfigurationFileThatIsNotUtf8IsRefusedAtTheLineAndOffsetOfItsFirstBadByte() {
    // Latin-1 'é' (0xe9) on line 3, at byte 24: the file was refused "at line 0"
    byte[] latin1 = "locals {}\n\nvariable \"caf\u00e9\" {}\n".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(latin1[24] & 0xff).isEqualTo(0xe9);
    assertThatThrownBy(() -> decoder.decode(new SourceFile("live/prod/main.tf", "b", latin1, "r")))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().path()).isEqualTo("live/prod/main.tf");
          assertThat(e.origin().line()).isEqualTo(3);
          assertThat(e.getMessage()).contains("offset 24").contains("0xe9").contains("not valid UTF-8");
        });
    // a sequence cut short at the end of the file: its first byte
    byte[] cut = "a = 1\nb = \"\u00e9".getBytes(StandardCharsets.UTF_8);
    byte[] shorter = java.util.Arrays.copyOf(cut, cut.length - 1);
    assertThatThrownBy(() -> decoder.decode(new SourceFile("live/prod/x.tf.json", "b", shorter, "r")))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().line()).isEqualTo(2);
          assertThat(e.getMessage()).contains("offset " + (shorter.length - 1));
        });
  }

  @Test
  void aModuleSourceWrittenAsAnExpressionIsRefusedAtItsLineAndAnEscapedOneIsReadAsTerraformReadsIt() {
    // terraform 1.11.4's init resolves each of these to ../x, from the host: the scan read none of them as a source
    // that leaves, so only the check of modules.json after init stopped it
    for (String source : List.of("(\"../x\")", "\"..${\"/x\"}\"", "\"../${\"x\"}\"", "\"%{if true}../x%{endif}\"",
        "<<EOT\n../x\nEOT", "format(\"../%s\", \"x\")", "\"./ok\" # then\n  source = \"../x\"")) {
      assertThatThrownBy(() -> decode("live/prod/main.tf", "locals {}\nmodule \"e\" {\n  count = 1\n  source = "
          + source + "\n}\n")).as(source).isInstanceOfSatisfying(DecodeException.class, e -> {
            assertThat(e.origin().path()).isEqualTo("live/prod/main.tf");
            assertThat(e.origin().line()).isIn(4, 5);
            assertThat(e.getMessage()).contains("module \"e\"");
          });
    }
    assertThatThrownBy(() -> decode("live/prod/main.tf", "module \"e\" {\n  source = (\"../x\")\n}\n"))
        .hasMessageContaining("main.tf:2").hasMessageContaining("not a literal string ((\"../x\"))");
    // an HCL escape is what Terraform reads: \u002e is a dot, $${ a literal ${ (no interpolation)
    assertThatThrownBy(() -> decode("live/prod/main.tf", "module \"u\" {\n  source = \"\\u002e./x\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("main.tf:2").hasMessageContaining("\"../x\"")
        .hasMessageContaining("leaves the configuration directory");
    assertThat(decode("live/prod/main.tf", "module \"d\" {\n  source = \"./m/$${x}\" // a dir named ${x}\n}\n"))
        .hasSize(1);
    // one line, a source in a nested object (an argument's, not the module's), and a heredoc of another argument
    assertThatThrownBy(() -> decode("live/prod/main.tf", "module \"one\" { source = \"../x\" }\n"))
        .hasMessageContaining("module \"one\"").hasMessageContaining("leaves");
    assertThat(decode("live/prod/main.tf", """
        module "n" {
          settings = {
            source = var.where
          }
          doc = <<EOT
          source = ("../x")
          EOT
          source = "./modules/n"
        }
        """)).hasSize(1);
  }

  @Test
  void aJsonModuleSourceIsItsStringsValueAtItsLineAndAnotherValueIsRefused() {
    // JSON: Terraform takes the string as written (no template), escapes decoded; the line was looked up by the
    // decoded text, which "\u002e./x" does not hold, so it was 0
    assertThatThrownBy(() -> decode("live/prod/main.tf.json",
        "{\n  \"module\": {\n    \"u\": {\n      \"source\": \"\\u002e./x\"\n    }\n  }\n}\n"))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().line()).isEqualTo(4);
          assertThat(e.getMessage()).contains("module \"u\"").contains("leaves the configuration directory");
        });
    assertThatThrownBy(() -> decode("live/prod/main.tf.json", "{\"module\": {\"l\": {\n\"source\": [\"../x\"]}}}"))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().line()).isEqualTo(2);
          assertThat(e.getMessage()).contains("module \"l\"").contains("a list");
        });
    assertThatThrownBy(() -> decode("live/prod/main.tf.json", "[{},\n{\"module\": {\"o\": {\"source\": {\"a\": 1}}}}]"))
        .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.origin().line()).isEqualTo(2));
    assertThat(decode("live/prod/ok.tf.json", "{\"module\": {\"m\": {\"source\": \"./m/${x}\"}}}")).hasSize(1);
  }

  @Test
  void aModuleOnTheFirstLineOfAFileWithAByteOrderMarkIsChecked() {
    // terraform 1.11.4 reads the file behind the mark, and init resolves the module ../x from the host
    assertThatThrownBy(() -> decode("live/prod/main.tf", "\uFEFFmodule \"m\" {\n  source = \"../x\"\n}\n"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("main.tf:2").hasMessageContaining("module \"m\"");
  }
}
