package dev.gitops.core.render;

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
import dev.gitops.core.plan.PlanCodec;
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
    return Change.builder(key, action).fields(List.of(fields)).flags(flags).reason(reason).build();
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
        Change.noop(Resource.of(file("same.txt"), Documents.emptyObject()), null, "in sync"));
  }

  @Test
  void aSingleLineValueShowsBidiOverridesC1ControlsAndTagCharactersEscaped() {
    // JSON escapes C0 controls only; a right-to-left override, a C1 CSI and a tag character are escaped here
    assertThat(PlanRenderer.value(text("A\u202eB\u009b31mC\n"), false)).isEqualTo("\"A\\u202eB\\u009b31mC\\n\"");
    assertThat(PlanRenderer.printable("tag\udb40\udc41.conf")).isEqualTo("tag\\udb40\\udc41.conf");
    assertThat(PlanRenderer.printable("caf\u00e9 \ud83d\ude00")).as("letters and emoji stay").isEqualTo("caf\u00e9 \ud83d\ude00");
    assertThat(PlanRenderer.printable("a\tb")).as("a tab in a value stays").isEqualTo("a\tb");
    assertThat(PlanRenderer.printableName("a\tb")).as("a tab in a name is shown").isEqualTo("a\\tb");
    String out = PlanRenderer.text(plan(change(file("one.conf"), Action.UPDATE, "edited", Set.of(),
        new FieldChange(FieldPath.parse("/content"), text("safe\n"), text("safe\u202eevil\n"), false))));
    assertThat(out).contains("/content: \"safe\\n\" -> \"safe\\u202eevil\\n\"").doesNotContain("\u202e");
  }

  @Test
  void aChangePastTheFirst200CharactersOfALongLineIsShownAroundWhereItIs() {
    StringBuilder hosts = new StringBuilder("allowed_hosts=");
    for (int i = 0; i < 20; i++) {
      hosts.append(i == 0 ? "" : ",").append("host").append(i < 10 ? "0" : "").append(i).append(".example.com");
    }
    String before = hosts + "\n";
    String after = hosts + ",attacker.evil.com\n";
    String out = PlanRenderer.text(plan(change(file("hosts.conf"), Action.UPDATE, "edited", Set.of(),
        new FieldChange(FieldPath.parse("/content"), text(before), text(after), false))));
    String line = out.lines().filter(l -> l.contains("/content:")).findFirst().orElseThrow();
    assertThat(line.substring(line.indexOf(" -> "))).contains(",attacker.evil.com");
    assertThat(line.substring(0, line.indexOf(" -> "))).doesNotContain("attacker").endsWith("~ /content: …om,host18.example.com,host19.example.com\\n\"");
    // short values, and a long one that differs early, are shown from their start as before
    assertThat(PlanRenderer.values(text("a"), text("b"), false)).containsExactly("\"a\"", "\"b\"");
    assertThat(PlanRenderer.values(text("x" + before), text("y" + before), false))
        .satisfiesExactly(b -> assertThat(b).startsWith("\"x"), a -> assertThat(a).startsWith("\"y"));
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
  void appendChangesWritesTheChangeTextLineByLineAndSurfacesTheWritersFailure() {
    StringBuilder sb = new StringBuilder();
    PlanRenderer.appendChanges(sample(), sb);
    assertThat(sb.toString()).isEqualTo(PlanRenderer.changesText(sample()))
        .startsWith("  + files:file::motd.txt\n      # create: not in the live system\n      + /mode: \"0644\"\n")
        .contains("      ~ /content:\n          " + "  name=shop\n          - port=8080\n          + port=9090\n")
        .doesNotContain("hunter2").doesNotContain("same.txt");
    assertThat(PlanRenderer.text(sample())).contains("\n\n" + sb + "\n");

    java.io.Writer failing = new java.io.Writer() {
      private int left = 40;

      @Override
      public void write(char[] buf, int off, int len) throws java.io.IOException {
        left -= len;
        if (left < 0) {
          throw new java.io.IOException("disk full");
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> PlanRenderer.appendChanges(sample(), failing))
        .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("disk full");
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
    Change c = Change.builder(file("db.conf"), Action.UPDATE)
        .fields(List.of(new FieldChange(FieldPath.parse("/auth/password"), text("old-secret"), text("new-secret"), false)))
        .reason("changed").sensitive(Set.of(FieldPath.parse("/auth"))).build();
    assertThat(PlanRenderer.text(plan(c))).contains("(sensitive)").doesNotContain("old-secret").doesNotContain("new-secret");
  }

  @Test
  void jsonIsThePlanFileWithSecretsHashedAndReadsBack() {
    Change c = Change.builder(file("db.conf"), Action.UPDATE)
        .fields(List.of(new FieldChange(FieldPath.parse("/auth/password"), text("old-secret"), text("new-secret"), false)))
        .reason("changed").sensitive(Set.of(FieldPath.parse("/auth"))).build();
    byte[] key = "0123456789abcdef0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    String json = PlanRenderer.json(plan(c), key);
    assertThat(json).isEqualTo(PlanCodec.toJson(plan(c), key) + "\n")
        .doesNotContain("old-secret").doesNotContain("new-secret").contains("hmac-sha256:");
    assertThat(PlanCodec.fromJson(json).changes()).extracting(Change::key).containsExactly(file("db.conf"));
  }

  @Test
  void unchangedResourcesAreLeftOut() {
    assertThat(PlanRenderer.text(sample())).doesNotContain("same.txt");
    assertThat(PlanRenderer.markdown(sample())).doesNotContain("same.txt");
  }

  @Test
  void aPlanWithoutChangesSaysSo() {
    Plan quiet = plan(Change.builder(file("same.txt"), Action.NOOP).reason("in sync").build());
    assertThat(PlanRenderer.text(quiet)).contains("No changes").contains("Plan: 0 to create");
    assertThat(PlanRenderer.markdown(quiet)).contains("No changes").doesNotContain("```");
  }

  @Test
  void aPlanWithoutChangesThatIsIncompleteNeverSaysNoChangesAndNamesWhatIsMissing() {
    TreeMap<String, String> unobserved = new TreeMap<>();
    unobserved.put("plan of provider 'tf'", "could not plan: the state is locked\nby root");
    Plan incomplete = new Plan("feedc0ffee1234567890", REV, List.of(), new TreeMap<>(), new TreeMap<>(),
        new TreeMap<>(), new TreeMap<>(), new java.util.TreeSet<>(), unobserved, new TreeMap<>());
    assertThat(PlanRenderer.text(incomplete)).doesNotContain("No changes")
        .contains("? plan of provider 'tf'  (could not plan: the state is locked by root: nothing is pruned while it"
            + " is unknown)")
        .contains("(incomplete: 0 unknown, without plan of provider 'tf')");
    assertThat(PlanRenderer.markdown(incomplete)).doesNotContain("No changes")
        .contains("| `?` | plan of provider \\'tf\\' | unknown | could not plan\\: the state is locked by root |");
  }

  @Test
  void headerShortensTheRevisionAndPlanId() {
    assertThat(PlanRenderer.text(sample())).startsWith("Plan feedc0ffee12 for main@sha1:0123456789ab\n");
    assertThat(PlanRenderer.shortRevision("v1.2@sha1:" + SHA)).isEqualTo("v1.2@sha1:0123456789ab");
    assertThat(PlanRenderer.shortRevision("fixed")).isEqualTo("fixed");
    // a branch may be named with a bidi override (Git refuses only ASCII control characters)
    assertThat(PlanRenderer.shortRevision("main\u202egnp.exe@sha1:" + SHA))
        .isEqualTo("main\\u202egnp.exe@sha1:0123456789ab");
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

  /** File names (keys), paths, reasons and a ref name an attacker controls, each trying another way into Markdown. */
  private static final List<String> HOSTILE = List.of(
      "evil\n| `+` | injected row | create | ok |",
      "pipe|in|name.txt",
      "tick`s``and```fences.txt",
      "`leading-tick",
      "<img src=x onerror=alert(1)>.txt",
      "# heading.txt",
      "[click](https://example.com/x) and ![img](https://example.com/p.png)",
      "**bold** _em_ ~~strike~~ <b>html</b> &amp;",
      "line\r\nbreak\u2028sep\u202ereversed",
      "</details><script>alert(1)</script>",
      "tab\tin name.txt");

  private static Plan hostilePlan() {
    List<Change> changes = new java.util.ArrayList<>();
    for (String name : HOSTILE) {
      changes.add(change(file(name), Action.UPDATE, "reason about " + name, Set.of(),
          new FieldChange(FieldPath.root().field(name), text("before " + name), text("after " + name), false)));
    }
    return new Plan("feedc0ffee1234567890", "ma`in|<b>#@sha1:" + SHA, changes, new TreeMap<>(), new TreeMap<>(),
        new TreeMap<>(), new TreeMap<>(), new TreeSet<>(List.of(file("unknown\n# gone"))));
  }

  @Test
  void markdownKeepsHostileNamesPathsAndReasonsInsideTheirCells() {
    Plan plan = hostilePlan();
    String md = PlanRenderer.markdown(plan);
    org.commonmark.node.Node doc = org.commonmark.parser.Parser.builder()
        .extensions(List.of(org.commonmark.ext.gfm.tables.TablesExtension.create())).build().parse(md);
    List<org.commonmark.node.Node> nodes = new java.util.ArrayList<>();
    collect(doc, nodes);

    List<org.commonmark.node.Heading> headings = ofType(nodes, org.commonmark.node.Heading.class);
    assertThat(headings).singleElement().satisfies(h ->
        assertThat(literal(h)).isEqualTo("gitops plan feedc0ffee12 for ma`in|<b>#@sha1:0123456789ab"));
    assertThat(ofType(nodes, org.commonmark.node.Link.class)).isEmpty();
    assertThat(ofType(nodes, org.commonmark.node.Image.class)).isEmpty();
    assertThat(ofType(nodes, org.commonmark.node.Emphasis.class)).isEmpty();
    assertThat(ofType(nodes, org.commonmark.node.StrongEmphasis.class)).as("only the summary is bold")
        .singleElement().satisfies(b -> assertThat(literal(b)).isEqualTo(plan.summary()));
    assertThat(ofType(nodes, org.commonmark.node.HtmlInline.class)).isEmpty();
    assertThat(ofType(nodes, org.commonmark.node.HtmlBlock.class)).extracting(org.commonmark.node.HtmlBlock::getLiteral)
        .allSatisfy(html -> assertThat(html).matches("(?s)(<details open><summary>Changes in detail</summary>|</details>)\\s*"));

    List<org.commonmark.ext.gfm.tables.TableRow> rows = ofType(nodes, org.commonmark.ext.gfm.tables.TableRow.class);
    assertThat(rows).as("a header row, one row per change and one per unknown key").hasSize(1 + HOSTILE.size() + 1);
    for (int i = 0; i < HOSTILE.size(); i++) {
      List<org.commonmark.node.Node> cells = children(rows.get(i + 1));
      assertThat(cells).hasSize(4);
      assertThat(literal(cells.get(1))).isEqualTo(PlanRenderer.printableName(file(HOSTILE.get(i)).toString()));
      assertThat(literal(cells.get(3))).isEqualTo(PlanRenderer.oneLine("reason about " + HOSTILE.get(i)));
    }
    assertThat(literal(children(rows.get(rows.size() - 1)).get(1))).isEqualTo("files:file::unknown\\n# gone");

    List<org.commonmark.node.FencedCodeBlock> fences = ofType(nodes, org.commonmark.node.FencedCodeBlock.class);
    assertThat(fences).singleElement().satisfies(f -> {
      assertThat(f.getInfo()).isEqualTo("diff");
      String[] lines = f.getLiteral().split("\n");
      assertThat(lines).hasSize(PlanRenderer.lines(plan).size());
      for (String name : HOSTILE) {
        assertThat(lines).contains("~ " + PlanRenderer.printableName(file(name).toString()));
      }
    });
  }

  @Test
  void textShowsHostileNamesOnOneLineEach() {
    String text = PlanRenderer.text(hostilePlan());
    for (String line : text.split("\n", -1)) {
      assertThat(line).doesNotContain("\r").doesNotContain("\u2028").doesNotContain("\u202e");
      assertThat(line.isEmpty() || line.startsWith("  ") || line.startsWith("Plan")).as(line).isTrue();
    }
    assertThat(text).contains("  ~ files:file::evil\\n| `+` | injected row | create | ok |\n");
  }

  private static void collect(org.commonmark.node.Node n, List<org.commonmark.node.Node> out) {
    out.add(n);
    for (org.commonmark.node.Node c = n.getFirstChild(); c != null; c = c.getNext()) {
      collect(c, out);
    }
  }

  private static List<org.commonmark.node.Node> children(org.commonmark.node.Node n) {
    List<org.commonmark.node.Node> out = new java.util.ArrayList<>();
    for (org.commonmark.node.Node c = n.getFirstChild(); c != null; c = c.getNext()) {
      out.add(c);
    }
    return out;
  }

  private static <T> List<T> ofType(List<org.commonmark.node.Node> nodes, Class<T> type) {
    return nodes.stream().filter(type::isInstance).map(type::cast).toList();
  }

  /** The text a reader sees in {@code n}: text, code spans and line breaks, nothing else. */
  private static String literal(org.commonmark.node.Node n) {
    StringBuilder sb = new StringBuilder();
    List<org.commonmark.node.Node> all = new java.util.ArrayList<>();
    collect(n, all);
    for (org.commonmark.node.Node x : all) {
      if (x instanceof org.commonmark.node.Text t) {
        sb.append(t.getLiteral());
      } else if (x instanceof org.commonmark.node.Code c) {
        sb.append(c.getLiteral());
      } else if (x instanceof org.commonmark.node.SoftLineBreak || x instanceof org.commonmark.node.HardLineBreak) {
        sb.append('\n');
      }
    }
    return sb.toString();
  }
}
