package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** What the variable reader finds in the root module's declarations and in variable files. */
class VariableFilesTest {

  private static SortedMap<String, String> files(String name, String text) {
    SortedMap<String, String> out = new TreeMap<>();
    out.put(name, text);
    return out;
  }

  @Test
  void aBlockLabelWithoutQuotesDeclaresTheVariableAsTerraformTakesIt() {
    // HCL takes a block label as a quoted string or as a bare identifier: 'variable pw {' is what 'variable "pw" {' is
    String tf = """
        variable pw {
          type      = string
          sensitive = true
        }
        variable names {
          type = list(string)
        }
        variable "quoted" {
          sensitive = true
          type      = map(string)
        }
        """;
    assertThat(VariableFiles.sensitiveDeclared(files("vars.tf", tf))).containsExactly("pw", "quoted");
    assertThat(VariableFiles.complexTyped(files("vars.tf", tf))).containsExactly("names", "quoted");
  }

  @Test
  void onlyTheBlocksOwnTypeAndSensitiveCountNotOnesInADefaultOrAValidation() {
    String tf = """
        variable "labels" {
          default = {
            type      = "web"
            sensitive = true
          }
          type = map(string)
        }
        variable "name" {
          validation {
            condition     = length(var.name) > 0
            error_message = "type = list is not a name"
          }
          default = {
            type = list
          }
          type = string
        }
        """;
    assertThat(VariableFiles.complexTyped(files("vars.tf", tf))).containsExactly("labels");
    assertThat(VariableFiles.sensitiveDeclared(files("vars.tf", tf))).isEmpty();
  }

  @Test
  void aJsonDeclarationWrittenAsAListOfBlocksIsReadToo() {
    // Terraform takes {"variable": [{"pw": [{...}]}]} as it takes {"variable": {"pw": {...}}}
    String json = "{\"variable\": [{\"pw\": [{\"type\": \"string\", \"sensitive\": true}]},"
        + " {\"names\": {\"type\": \"list(string)\"}}]}";
    assertThat(VariableFiles.sensitiveDeclared(files("vars.tf.json", json))).containsExactly("pw");
    assertThat(VariableFiles.complexTyped(files("vars.tf.json", json))).containsExactly("names");
  }

  @Test
  void sensitiveGivenAsTheStringTrueIsSensitiveAsTerraformConvertsIt() {
    assertThat(VariableFiles.sensitiveDeclared(files("vars.tf", "variable \"a\" {\n  sensitive = \"true\"\n}\n"
        + "variable \"b\" { sensitive=true }\nvariable \"c\" {\n  sensitive = false\n}\n"))).containsExactly("a", "b");
  }

  @Test
  void aCommentIsNotADeclaration() {
    assertThat(VariableFiles.sensitiveDeclared(files("vars.tf", "variable \"a\" {\n  # sensitive = true\n}\n"
        + "# variable \"b\" {\n#   sensitive = true\n# }\n"))).isEmpty();
  }

  @Test
  void aVariableOfTypeAnyTakesAnHclValueAsMinusVarDoes() {
    // terraform -var parses a value as HCL for every type but a primitive one: 'any' included
    assertThat(VariableFiles.complexTyped(files("vars.tf", "variable \"a\" {\n  type = any\n}\n"
        + "variable \"s\" {\n  type = string\n}\nvariable \"u\" {}\n"))).containsExactly("a");
    assertThat(VariableFiles.complexTyped(files("vars.tf.json", "{\"variable\": {\"a\": {\"type\": \"any\"},"
        + " \"s\": {\"type\": \"string\"}}}"))).containsExactly("a");
  }

  @Test
  void aStringLiteralIsReadWithHclsEscapesInOnePass() {
    Set<String> pw = Set.of("pw");
    // the value is a, backslash, n, b: an escaped backslash followed by an n is no newline
    assertThat(VariableFiles.values("terraform.tfvars", "pw = \"a\\\\nb\"\n", pw)).containsExactly("a\\nb");
    assertThat(VariableFiles.values("terraform.tfvars", "pw = \"q\\\"t\\\\\"\n", pw)).containsExactly("q\"t\\");
    // $${ and %%{ are a literal ${ and %{
    assertThat(VariableFiles.values("terraform.tfvars", "pw = \"x$${y}%%{z}\"\n", pw)).containsExactly("x${y}%{z}");
    assertThat(VariableFiles.values("terraform.tfvars", "pw = \"caf\\u00e9\"\n", pw)).containsExactly("café");
  }

  @Test
  void variablesDeclaredInOpenTofuFilesAreRead() {
    SortedMap<String, String> files = new TreeMap<>();
    files.put("vars.tofu", "variable \"pw\" {\n  sensitive = true\n}\nvariable \"names\" {\n  type = list(string)\n}\n");
    files.put("more.tofu.json", "{\"variable\": {\"token\": {\"sensitive\": true, \"type\": \"map(string)\"}}}");
    files.put("modules/m/vars.tofu", "variable \"inner\" {\n  sensitive = true\n}\n");
    assertThat(VariableFiles.sensitiveDeclared(files)).containsExactly("pw", "token");
    assertThat(VariableFiles.complexTyped(files)).containsExactly("names", "token");
  }

  @Test
  void aJsonBlockTypeGivenTwiceDeclaresTheVariablesOfBoth() {
    // Terraform (HCL's JSON syntax) reads a property given twice as both blocks, not the last only
    // (terraform 1.11.4 plans with token and names declared here); a JSON reader kept the last
    String json = """
        {
          "variable": {"token": {"type": "string", "sensitive": true}},
          "variable": {"names": {"type": "list(string)"}},
          "variable": [{"other": {"default": "x"}}]
        }
        """;
    assertThat(VariableFiles.sensitiveDeclared(files("main.tf.json", json))).containsExactly("token");
    assertThat(VariableFiles.complexTyped(files("main.tf.json", json))).containsExactly("names");
  }

  @Test
  void aJsonFileWhoseRootIsAListOfObjectsDeclaresTheVariablesOfEach() {
    // terraform 1.11.4 reads [{...}, {...}] as one body: pw is sensitive and names a list(string) there
    String json = """
        [
          {"variable": {"pw": {"type": "string", "sensitive": true}}},
          {"variable": {"names": {"type": "list(string)"}}},
          {"variable": [{"other": {"default": "x"}}]}
        ]
        """;
    assertThat(VariableFiles.sensitiveDeclared(files("main.tf.json", json))).containsExactly("pw");
    assertThat(VariableFiles.complexTyped(files("main.tf.json", json))).containsExactly("names");
    assertThat(VariableFiles.sensitiveDeclared(files("bad.tf.json", "[{\"variable\": {\"pw\": {\"sensitive\": true}}}, 1]")))
        .as("refused by Terraform (and the decoder)").isEmpty();
  }

  @Test
  void aJsonVariableFileWhoseRootIsAListHasItsValuesLearnedForTerraformsErrorQuotesThem() {
    // terraform 1.11.4 refuses it ("A JSON object is required here") quoting the line: [{"pw": "s3cret"}]
    assertThat(VariableFiles.values("terraform.tfvars.json", "[{\"pw\": \"s3cret\"}, {\"pw\": [\"b\"]}, 2]",
        Set.of("pw"))).containsExactly("s3cret", "b");
  }

  @Test
  void aFileStartingWithAByteOrderMarkIsReadFromItsFirstLineAsTerraformReadsIt() {
    // terraform 1.11.4 reads a .tf and a .tfvars behind a UTF-8 byte order mark, and quotes that first line in an
    // error ('1: \uFEFFpw = "s3cret-bom" x'): the scan missed the declaration and the value on it
    String tf = "\uFEFFvariable \"pw\" {\n  type      = list(string)\n  sensitive = true\n}\n";
    assertThat(VariableFiles.sensitiveDeclared(files("vars.tf", tf))).containsExactly("pw");
    assertThat(VariableFiles.complexTyped(files("vars.tf", tf))).containsExactly("pw");
    assertThat(VariableFiles.values("terraform.tfvars", "\uFEFFpw = \"s3cret-bom\" x\n", Set.of("pw")))
        .containsExactly("s3cret-bom");
    assertThat(VariableFiles.values("x.tfvars.json", "\uFEFF{\"pw\": \"s3cret-json\"}", Set.of("pw")))
        .as("Terraform refuses it, quoting the line").containsExactly("s3cret-json");
  }
}
