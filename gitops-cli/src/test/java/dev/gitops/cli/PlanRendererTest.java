package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PlanRendererTest {

  private static final String SHA = "0123456789abcdef0123456789abcdef01234567";
  private static final String REV = "main@sha1:" + SHA;

  private static JsonNode text(String s) {
    return Documents.nodes().textNode(s);
  }

  private static ResourceKey file(String name) {
    return ResourceKey.of("files", "file", "", name);
  }

  private static Change change(ResourceKey key, Action action, String reason, Set<Change.Flag> flags, FieldChange... fields) {
    return new Change(key, null, action, null, null, null, null, List.of(), List.of(fields), flags, reason, Set.of(), Set.of());
  }

  private static Plan plan(Change... changes) {
    return new Plan("feedc0ffee1234567890", REV, List.of(changes), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeMap<>(), new TreeSet<>());
  }

  private static Plan sample() {
    return plan(
        change(file("motd.txt"), Action.CREATE, "not in the live system", Set.of(),
            new FieldChange(FieldPath.parse("/mode"), null, text("0644"), false)),
        change(file("app.properties"), Action.UPDATE, "the live file differs from Git", Set.of(Change.Flag.DRIFT),
            new FieldChange(FieldPath.parse("/content"), text("name=shop\nport=8080\nlog=info\n"),
                text("name=shop\nport=9090\nlog=info\n"), false),
            new FieldChange(FieldPath.parse("/password"), text("hunter2"), text("correct horse"), true)),
        change(file("old.txt"), Action.DELETE, "removed from Git", Set.of(),
            new FieldChange(FieldPath.parse("/mode"), text("0600"), null, false)),
        Change.of(file("same.txt"), Action.NOOP, Resource.of(file("same.txt"), Documents.emptyObject()), null, "in sync"));
  }

  @Test
  void textShowsActionSymbolKeyAndReasonPerChange() {
    String out = PlanRenderer.text(sample());
    assertThat(out).contains("  + files:file::motd.txt\n")
        .contains("  ~ files:file::app.properties\n")
        .contains("  - files:file::old.txt\n")
        .contains("# update (drifted): the live file differs from Git")
        .contains("# create: not in the live system");
  }

  @Test
  void textShowsFieldsWithBeforeAndAfter() {
    String out = PlanRenderer.text(sample());
    assertThat(out).contains("      + /mode: \"0644\"\n").contains("      - /mode: \"0600\"\n");
  }

  @Test
  void multiLineTextIsShownAsALineDiff() {
    String out = PlanRenderer.text(sample());
    assertThat(out).contains("      ~ /content:\n")
        .contains("          - port=8080\n")
        .contains("          + port=9090\n")
        .contains("            name=shop\n");
  }

  @Test
  void sensitiveValuesAreNeverShown() {
    String text = PlanRenderer.text(sample());
    String md = PlanRenderer.markdown(sample());
    assertThat(text).contains("~ /password: (sensitive) -> (sensitive)").doesNotContain("hunter2").doesNotContain("correct horse");
    assertThat(md).doesNotContain("hunter2").doesNotContain("correct horse");
  }

  @Test
  void valuesUnderASensitivePathOfTheChangeAreRedactedEvenIfTheFieldIsNotFlagged() {
    Change c = new Change(file("db.conf"), null, Action.UPDATE, null, null, null, null, List.of(),
        List.of(new FieldChange(FieldPath.parse("/auth/password"), text("old-secret"), text("new-secret"), false)),
        Set.of(), "changed", Set.of(FieldPath.parse("/auth")), Set.of());
    assertThat(PlanRenderer.text(plan(c))).contains("(sensitive)").doesNotContain("old-secret").doesNotContain("new-secret");
  }

  @Test
  void unchangedResourcesAreLeftOut() {
    assertThat(PlanRenderer.text(sample())).doesNotContain("same.txt");
    assertThat(PlanRenderer.markdown(sample())).doesNotContain("same.txt");
  }

  @Test
  void aPlanWithoutChangesSaysSo() {
    Plan quiet = plan(Change.of(file("same.txt"), Action.NOOP, null, null, "in sync"));
    assertThat(PlanRenderer.text(quiet)).contains("No changes").contains("Plan: 0 to create");
    assertThat(PlanRenderer.markdown(quiet)).contains("No changes").doesNotContain("```");
  }

  @Test
  void headerShortensTheRevisionAndPlanId() {
    assertThat(PlanRenderer.text(sample())).startsWith("Plan feedc0ffee12 for main@sha1:0123456789ab\n");
    assertThat(PlanRenderer.shortRevision("v1.2@sha1:" + SHA)).isEqualTo("v1.2@sha1:0123456789ab");
    assertThat(PlanRenderer.shortRevision("fixed")).isEqualTo("fixed");
  }

  @Test
  void markdownHasASummaryATableAndAFencedDiff() {
    String md = PlanRenderer.markdown(sample());
    assertThat(md).contains("**1 to create, 1 to update, 0 to replace, 1 to delete, 0 skipped, 1 unchanged**")
        .contains("| `+` | `files:file::motd.txt` | create | not in the live system |")
        .contains("| `~` | `files:file::app.properties` | update (drifted) | the live file differs from Git |")
        .contains("| `-` | `files:file::old.txt` | delete | removed from Git |")
        .contains("```diff\n+ files:file::motd.txt\n")
        .contains("\n-         port=8080\n")
        .contains("\n+         port=9090\n")
        .contains("\n~     /password: (sensitive) -> (sensitive)\n");
    assertThat(md.indexOf("```diff")).isLessThan(md.lastIndexOf("```\n"));
  }

  @Test
  void markdownEscapesPipesInCellsAndLengthensTheFenceAroundBackticks() {
    Change c = change(file("README.md"), Action.UPDATE, "a | b", Set.of(),
        new FieldChange(FieldPath.parse("/content"), text("```\nold\n```\n"), text("```\nnew\n```\n"), false));
    String md = PlanRenderer.markdown(plan(c));
    assertThat(md).contains("| a \\| b |").contains("````diff\n").endsWith("````\n\n</details>\n");
  }

  @Test
  void replaceAndSkipHaveTheirOwnSymbols() {
    String out = PlanRenderer.text(plan(
        change(file("a"), Action.REPLACE, "mode cannot change in place", Set.of(),
            new FieldChange(FieldPath.parse("/kind"), text("x"), text("y"), false)),
        change(file("b"), Action.SKIP, "owned by someone else", Set.of(Change.Flag.CONFLICT))));
    assertThat(out).contains("  -/+ files:file::a\n").contains("  ! files:file::b\n").contains("# skip (conflict): owned by someone else");
  }

  @Test
  void longUnchangedRunsAreCollapsed() {
    StringBuilder before = new StringBuilder();
    StringBuilder after = new StringBuilder();
    for (int i = 0; i < 30; i++) {
      before.append("line ").append(i).append('\n');
      after.append(i == 15 ? "LINE 15" : "line " + i).append('\n');
    }
    String out = PlanRenderer.text(plan(change(file("big.txt"), Action.UPDATE, "", Set.of(),
        new FieldChange(FieldPath.parse("/content"), text(before.toString()), text(after.toString()), false))));
    assertThat(out).contains("... 13 unchanged lines").contains("- line 15").contains("+ LINE 15")
        .contains("  line 14").doesNotContain("line 3\n");
  }
}
