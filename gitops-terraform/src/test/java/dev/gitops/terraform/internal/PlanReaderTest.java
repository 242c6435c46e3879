package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.ResourceKey;
import dev.gitops.terraform.TerraformException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The plan representation (show -json, format 1.2) read into the SDK's changes. */
class PlanReaderTest {

  static final String[] SECRETS = {"s3cr3t-old-pw", "s3cr3t-new-pw", "tok-9f8e7d6c5b"};

  static byte[] resource(String name) {
    try (InputStream in = PlanReaderTest.class.getResourceAsStream("/dev/gitops/terraform/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static ResourceKey key(String type, String scope, String name) {
    return ResourceKey.of("tf", type, scope, name);
  }

  final PlanReader.Parsed mixed = PlanReader.read("tf", resource("plan-mixed.json"));
  final Map<ResourceKey, Change> byKey = mixed.changes().stream().collect(Collectors.toMap(Change::key, c -> c));

  @Test
  void everyActionIsMappedByScanningTheActionList() {
    assertThat(byKey.get(key("aws_instance", "", "web")).action()).isEqualTo(Action.UPDATE);
    assertThat(byKey.get(key("aws_db_instance", "", "db")).action()).isEqualTo(Action.REPLACE);
    assertThat(byKey.get(key("aws_db_instance", "", "db")).reason()).contains("destroy, then create");
    assertThat(byKey.get(key("aws_security_group", "", "sg")).action()).isEqualTo(Action.REPLACE);
    assertThat(byKey.get(key("aws_security_group", "", "sg")).reason()).contains("create the new object, then destroy")
        .contains("-replace");
    assertThat(byKey.get(key("aws_s3_bucket", "", "logs")).action()).isEqualTo(Action.CREATE);
    assertThat(byKey.get(key("aws_instance", "", "old")).action()).isEqualTo(Action.DELETE);
    assertThat(byKey.get(key("aws_instance", "", "old")).reason()).contains("no longer in the configuration");
    assertThat(byKey.get(key("random_pet", "", "name")).action()).isEqualTo(Action.NOOP);
    assertThat(byKey.get(key("null_resource", "", "kept")).action()).isEqualTo(Action.FORGET);
    assertThat(byKey.get(key("data.aws_ami", "", "ubuntu")).action()).isEqualTo(Action.READ);
    assertThat(byKey.get(key("data.aws_ami", "", "ubuntu")).reason()).contains("known only after apply");
    assertThat(byKey.get(key("aws_subnet", "module.net", "a[\"eu-west-1a\"]")).action()).isEqualTo(Action.CREATE);
    assertThat(byKey.get(key("aws_instance", "", "count[1]")).action()).isEqualTo(Action.CREATE);
    assertThat(PlanReader.action(List.of("create", "forget"), false)).isEqualTo(Action.CREATE);
    assertThat(PlanReader.action(List.of("delete", "create"), false)).isEqualTo(Action.REPLACE);
    assertThat(PlanReader.action(List.of("create", "delete"), false)).isEqualTo(Action.REPLACE);
    assertThat(PlanReader.action(List.of("no-op"), true)).isEqualTo(Action.UPDATE);
  }

  @Test
  void aMoveKeepsThePreviousKeyAndIsAppliedAsAStateChange() {
    Change moved = byKey.get(key("aws_instance", "", "moved"));
    assertThat(moved.previousKey()).isEqualTo(key("aws_instance", "", "before_move"));
    assertThat(moved.action()).isEqualTo(Action.UPDATE);
    assertThat(moved.reason()).contains("moved from aws_instance.before_move");
  }

  @Test
  void replacePathsAndActionReasonsExplainTheReplace() {
    Change db = byKey.get(key("aws_db_instance", "", "db"));
    assertThat(db.reason()).contains("an attribute cannot be updated in place").contains("/engine_version");
  }

  @Test
  void unknownAndSensitiveMasksBecomeTheChangesMasks() {
    Change db = byKey.get(key("aws_db_instance", "", "db"));
    assertThat(db.sensitive()).containsExactly(FieldPath.of("password"));
    assertThat(db.unknown()).containsExactlyInAnyOrder(FieldPath.of("id"), FieldPath.of("endpoint"));
    assertThat(db.target().get("password").asText()).isEqualTo("(sensitive)");
    assertThat(db.live().get("password").asText()).isEqualTo("(sensitive)");
    FieldChange pw = db.fields().stream().filter(f -> f.path().equals(FieldPath.of("password"))).findFirst()
        .orElseThrow();
    assertThat(pw.sensitive()).isTrue();
    assertThat(db.fields()).filteredOn(f -> f.path().equals(FieldPath.of("endpoint"))).singleElement()
        .satisfies(f -> assertThat(f.after().asText()).isEqualTo(Masks.KNOWN_AFTER_APPLY));
    Change web = byKey.get(key("aws_instance", "", "web"));
    assertThat(web.fields()).extracting(f -> f.path().toString())
        .containsExactlyInAnyOrder("/instance_type", "/tags/team");
  }

  @Test
  void driftIsFlaggedOnTheChangeAndListedApart() {
    Change web = byKey.get(key("aws_instance", "", "web"));
    assertThat(web.drift()).isTrue();
    assertThat(web.reason()).contains("changed outside Terraform at [/instance_type]");
    assertThat(mixed.drift()).singleElement().satisfies(d -> {
      assertThat(d.key()).isEqualTo(key("aws_instance", "", "web"));
      assertThat(d.drift()).isTrue();
    });
  }

  @Test
  void outputChangesAreKeysOfTheirOwn() {
    Change url = byKey.get(key("output", "", "url"));
    assertThat(url.action()).isEqualTo(Action.CREATE);
    assertThat(url.unknown()).containsExactly(FieldPath.of("value"));
    assertThat(url.fields()).as("only the value known after apply, no empty document added at the root")
        .singleElement().satisfies(f -> {
          assertThat(f.path()).isEqualTo(FieldPath.of("value"));
          assertThat(f.after().asText()).isEqualTo(Masks.KNOWN_AFTER_APPLY);
        });
    Change pw = byKey.get(key("output", "", "db_password"));
    assertThat(pw.action()).isEqualTo(Action.UPDATE);
    assertThat(pw.sensitive()).containsExactly(FieldPath.of("value"));
    assertThat(pw.target().get("value").asText()).isEqualTo("(sensitive)");
    assertThat(byKey.get(key("output", "", "name")).action()).isEqualTo(Action.NOOP);
    assertThat(byKey.get(key("output", "", "gone")).action()).as("nothing is destroyed").isEqualTo(Action.FORGET);
    assertThat(mixed.keysByAddress()).containsEntry("output.url", key("output", "", "url"))
        .containsEntry("module.net.aws_subnet.a[\"eu-west-1a\"]", key("aws_subnet", "module.net", "a[\"eu-west-1a\"]"));
  }

  @Test
  void noSensitiveValueSurvivesInAnyChangeAndEverySecretIsKnownForScrubbing() {
    StringBuilder all = new StringBuilder();
    for (Change c : mixed.changes()) {
      all.append(c).append(c.live()).append(c.desired()).append(c.target()).append(c.fields()).append(c.reason());
    }
    mixed.drift().forEach(all::append);
    for (String s : SECRETS) {
      assertThat(all.toString()).doesNotContain(s);
      assertThat(mixed.secrets()).as("sensitive values and variables are scrubbed from messages").contains(s);
    }
    assertThat(mixed.secrets()).doesNotContain("eu-west-1");
  }

  /**
   * Recorded from Terraform 1.11.4: {@code terraform_data.s} takes a sensitive variable, {@code
   * terraform_data.url} a string built around it. Terraform marks their {@code input} only; their
   * computed {@code output} comes back unmarked, in plain text, before and after.
   */
  @Test
  void aValueHoldingASecretIsHiddenWhereTerraformLeftItUnmarked() {
    PlanReader.Parsed real = PlanReader.read("tf", resource("plan-secret-copies-1.11.json"));
    Map<ResourceKey, Change> changes = real.changes().stream().collect(Collectors.toMap(Change::key, c -> c));
    Change s = changes.get(key("terraform_data", "", "s"));
    Change url = changes.get(key("terraform_data", "", "url"));
    assertThat(s.sensitive()).contains(FieldPath.of("input"), FieldPath.of("output"));
    assertThat(url.sensitive()).contains(FieldPath.of("input"), FieldPath.of("output"));
    assertThat(s.live().get("output").asText()).isEqualTo("(sensitive)");
    assertThat(url.live().get("output").asText()).isEqualTo("(sensitive)");
    assertThat(s.fields()).filteredOn(f -> f.path().equals(FieldPath.of("output"))).singleElement()
        .satisfies(f -> {
          assertThat(f.sensitive()).isTrue();
          assertThat(f.before().asText()).isEqualTo("(sensitive)");
        });
    StringBuilder all = new StringBuilder();
    for (Change c : real.changes()) {
      if (!c.key().type().equals("output")) {
        all.append(c).append(c.live()).append(c.desired()).append(c.target()).append(c.fields()).append(c.reason());
      }
    }
    assertThat(all.toString()).doesNotContain("s3cr3t-old-pw").doesNotContain("s3cr3t-new-pw");
    assertThat(real.secrets()).contains("s3cr3t-old-pw", "s3cr3t-new-pw");
    Change plain = changes.get(key("terraform_data", "", "plain"));
    assertThat(plain.sensitive()).as("a value that holds no secret stays shown").isEmpty();
    assertThat(plain.live().get("output").asText()).isEqualTo("nothing secret here");
    // An output is the configuration's declared interface: one declassified there (nonsensitive) stays shown.
    Change declassified = changes.get(key("output", "", "declassified"));
    assertThat(declassified.sensitive()).isEmpty();
    assertThat(declassified.live().get("value").asText()).isEqualTo("s3cr3t-old-pw");
  }

  @Test
  void aSecretTheProviderKnowsIsHiddenWhereverAResourceHoldsIt() {
    PlanReader.Parsed read = PlanReader.read("tf", resource("plan-secret-copies-1.11.json"),
        dev.gitops.core.redact.Scrubber.of(List.of("nothing secret")));
    Change plain = read.changes().stream().filter(c -> c.key().equals(key("terraform_data", "", "plain")))
        .findFirst().orElseThrow();
    assertThat(plain.sensitive()).containsExactlyInAnyOrder(FieldPath.of("input"), FieldPath.of("output"));
    assertThat(plain.toString() + plain.live() + plain.target() + plain.fields()).doesNotContain("nothing secret");
  }

  @Test
  void completeApplyableAndErroredAreRead() {
    assertThat(mixed.complete()).isTrue();
    assertThat(mixed.applyable()).isTrue();
    PlanReader.Parsed incomplete = PlanReader.read("tf", resource("plan-incomplete.json"));
    assertThat(incomplete.complete()).isFalse();
    assertThat(incomplete.deferred()).isEqualTo(1);
    assertThat(PlanReader.read("tf", resource("plan-errored.json")).errored()).isTrue();
    assertThat(PlanReader.read("tf", resource("plan-noop.json")).hasChanges()).isFalse();
  }

  @Test
  void anyFormatOneIsReadAndAnotherMajorVersionIsRefusedNamingIt() {
    assertThat(PlanReader.read("tf", resource("plan-format-1.7.json")).changes()).hasSize(4);
    assertThatThrownBy(() -> PlanReader.read("tf", resource("plan-format-2.json")))
        .isInstanceOf(TerraformException.class).hasMessageContaining("format_version '2.0'")
        .hasMessageContaining("1.x");
  }

  @Test
  void anActionWordItDoesNotKnowRefusesThePlan() throws IOException {
    ObjectNode plan = (ObjectNode) FakeJson.read(resource("plan-create.json"));
    ((ArrayNode) plan.get("resource_changes").get(0).get("change").get("actions")).removeAll().add("teleport");
    assertThatThrownBy(() -> PlanReader.read("tf", FakeJson.bytes(plan))).isInstanceOf(TerraformException.class)
        .hasMessageContaining("'teleport'").hasMessageContaining("random_pet.name");
  }

  @Test
  void invalidJsonIsReportedWithoutQuotingIt() {
    byte[] bad = "{\"format_version\": \"1.2\", \"variables\": {\"pw\": s3cr3t-new-pw}}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> PlanReader.read("tf", bad)).isInstanceOf(TerraformException.class)
        .hasMessageContaining("not valid JSON").hasMessageNotContaining("s3cr3t");
  }

  /** JSON helpers for editing fixtures in a test. */
  static final class FakeJson {
    static JsonNode read(byte[] b) throws IOException {
      return PlanReader.JSON.readTree(b);
    }

    static byte[] bytes(JsonNode n) throws IOException {
      return PlanReader.JSON.writeValueAsBytes(n);
    }
  }

  @Test
  void aPlanAndAStateHoldingAStringLongerThanJacksonsDefaultLimitAreRead() {
    // a local_file's content or a filebase64() of a 16 MB archive: Terraform prints it whole, and Jackson's default
    // limit for untrusted input (20,000,000 characters) refused the plan ('is not valid JSON') and the state
    String big = "x".repeat(21_000_000);
    String plan = new String(resource("plan-destroy.json"), StandardCharsets.UTF_8).replace("\"happy-cat\"",
        "\"" + big + "\"");
    assertThat(plan).contains(big);
    PlanReader.Parsed parsed = PlanReader.read("tf", plan.getBytes(StandardCharsets.UTF_8));
    assertThat(parsed.changes()).isNotEmpty();
    String state = new String(resource("state-after.tfstate"), StandardCharsets.UTF_8).replace("\"happy-cat\"",
        "\"" + big + "\"");
    assertThat(state).contains(big);
    StateReader.TfState read = StateReader.v4("tf", state.getBytes(StandardCharsets.UTF_8), "the state");
    assertThat(read.objects().get(key("random_pet", "", "name")).attributes().path("id").asText())
        .hasSize(big.length());
  }

  @Test
  void aPlanNestedDeeperThanJacksonReadsIsRefusedNamingItNotWithANullPointer() {
    String deep = "{\"format_version\": \"1.2\", \"x\": " + "[".repeat(5000) + "]".repeat(5000) + "}";
    assertThatThrownBy(() -> PlanReader.read("tf", deep.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(TerraformException.class).hasMessageContaining("not valid JSON");
  }

  @Test
  void aSensitiveMaskOfAKindTerraformDoesNotWriteHidesTheValueItMarks() {
    // a binary (a wrapper, another version) printing "after_sensitive": "true" or 1: read as false, it showed the value
    String plan = "{\"format_version\": \"1.2\", \"resource_changes\": [{\"address\": \"x.y\", \"mode\": \"managed\","
        + " \"type\": \"x\", \"name\": \"y\", \"change\": {\"actions\": [\"create\"], \"before\": null,"
        + " \"after\": {\"pw\": \"s3cr3t-new-pw\", \"n\": \"tok-9f8e7d6c5b\"}, \"after_unknown\": {},"
        + " \"after_sensitive\": {\"pw\": \"true\", \"n\": 1}}}],"
        + " \"output_changes\": {\"o\": {\"actions\": [\"create\"], \"before\": null, \"after\": \"s3cr3t-old-pw\","
        + " \"after_unknown\": false, \"before_sensitive\": false, \"after_sensitive\": \"yes\"}},"
        + " \"complete\": true, \"applyable\": true, \"errored\": false}";
    PlanReader.Parsed parsed = PlanReader.read("tf", plan.getBytes(StandardCharsets.UTF_8));
    assertThat(parsed.changes()).hasSize(2);
    for (String secret : SECRETS) {
      assertThat(parsed.changes().toString()).doesNotContain(secret);
      assertThat(parsed.secrets()).contains(secret);
    }
  }

  @Test
  void anInstanceKeyThatIsNeitherAWholeNumberNorAStringIsRefusedNotTakenForAnotherInstances() {
    // read as text, {"a": 1} was the key "" (x[""]), true the key "true" (x["true"]): another instance's address
    for (String index : List.of("{\"a\": 1}", "true", "[1]", "1.5")) {
      String plan = "{\"format_version\": \"1.2\", \"resource_changes\": [{\"address\": \"x.y\", \"mode\":"
          + " \"managed\", \"type\": \"x\", \"name\": \"y\", \"index\": " + index + ", \"change\": {\"actions\":"
          + " [\"create\"], \"before\": null, \"after\": {}}}], \"complete\": true, \"applyable\": true}";
      assertThatThrownBy(() -> PlanReader.read("tf", plan.getBytes(StandardCharsets.UTF_8))).as(index)
          .isInstanceOf(TerraformException.class).hasMessageContaining("neither a whole number nor a string");
    }
    assertThat(Addresses.index(dev.gitops.api.Documents.nodes().numberNode(3))).isEqualTo("[3]");
    assertThat(Addresses.index(dev.gitops.api.Documents.nodes().textNode("3"))).isEqualTo("[\"3\"]");
  }
}
