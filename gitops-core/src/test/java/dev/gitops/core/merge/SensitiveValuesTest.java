package dev.gitops.core.merge;

import static dev.gitops.core.merge.ThreeWayMergeTest.j;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.FieldPath;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.PathPattern;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.internal.redact.SensitiveValues;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SensitiveValuesTest {

  static final ResourceKey SECRET = ResourceKey.of("k8s", "v1/Secret", "prod", "db");
  static final ResourceKey MAP = ResourceKey.of("k8s", "v1/ConfigMap", "prod", "db");
  static final byte[] KEY = "store-key".getBytes(StandardCharsets.UTF_8);
  static final MergeRules RULES = MergeRules.builder()
      .atomicMap("/data")
      .keyedList("/env", KeyField.of("name"))
      .sensitive("/data/*", KeySelector.type("k8s", "v1/Secret"))
      .build();

  @Test
  void findsSensitivePathsOnlyForSelectedResources() {
    JsonNode doc = j("{'data':{'user':'u','pw':'p'},'kind':'Secret'}");
    assertThat(ThreeWayMerge.sensitivePaths(SECRET, doc, RULES, Set.of(), SensitiveValues.processKey()))
        .containsExactlyInAnyOrder(FieldPath.of("data", "user"), FieldPath.of("data", "pw"));
    assertThat(ThreeWayMerge.sensitivePaths(MAP, doc, RULES, Set.of(), SensitiveValues.processKey())).isEmpty();
  }

  @Test
  void findsExtraPatternsInsideKeyedLists() {
    JsonNode doc = j("{'env':[{'name':'TOKEN','value':'t'},{'name':'MODE','value':'m'}]}");
    assertThat(ThreeWayMerge.sensitivePaths(MAP, doc, RULES, Set.of(PathPattern.of("/env/[name=TOKEN]/value")),
        SensitiveValues.processKey()))
        .containsExactly(FieldPath.parse("/env/[name=TOKEN]/value"));
  }

  @Test
  void hashReplacesValuesWithKeyedHashes() {
    JsonNode doc = j("{'data':{'pw':'p','user':'u'}}");
    JsonNode hashed = SensitiveValues.hash(doc, Set.of(FieldPath.of("data", "pw")), KEY);
    String h = hashed.get("data").get("pw").textValue();
    assertThat(h).startsWith("hmac-sha256:").hasSize("hmac-sha256:".length() + 64);
    assertThat(hashed.get("data").get("user").textValue()).isEqualTo("u");
    assertThat(SensitiveValues.hash(doc, Set.of(FieldPath.of("data", "pw")), "other".getBytes(StandardCharsets.UTF_8))
        .get("data").get("pw").textValue()).isNotEqualTo(h);
    assertThat(hashed.toString()).doesNotContain("\"p\"");
  }

  @Test
  void hashFindsKeyedElements() {
    JsonNode doc = j("{'env':[{'name':'A','value':'1'},{'name':'TOKEN','value':'secret'}]}");
    JsonNode hashed = SensitiveValues.hash(doc, Set.of(FieldPath.parse("/env/[name=TOKEN]/value")), KEY);
    assertThat(hashed.get("env").get(1).get("value").textValue()).startsWith("hmac-sha256:");
    assertThat(hashed.get("env").get(0).get("value").textValue()).isEqualTo("1");
  }

  @Test
  void revealPutsBackDesiredValueWhenUnchanged() {
    JsonNode l = j("{'data':{'pw':'p'}}");
    Set<FieldPath> s = ThreeWayMerge.sensitivePaths(SECRET, l, RULES, Set.of(), SensitiveValues.processKey());
    JsonNode stored = SensitiveValues.hash(l, s, KEY);
    assertThat(SensitiveValues.reveal(stored, j("{'data':{'pw':'p'}}"), j("{'data':{'pw':'live'}}"), KEY)).isEqualTo(l);
  }

  @Test
  void revealFallsBackToLiveWhenGitChanged() {
    JsonNode stored = SensitiveValues.hash(j("{'data':{'pw':'old'}}"), Set.of(FieldPath.of("data", "pw")), KEY);
    JsonNode revealed = SensitiveValues.reveal(stored, j("{'data':{'pw':'new'}}"), j("{'data':{'pw':'old'}}"), KEY);
    assertThat(revealed).isEqualTo(j("{'data':{'pw':'old'}}"));
  }

  @Test
  void revealLeavesHashWhenBothChangedSoTheMergeSeesChangeAndDrift() {
    JsonNode stored = SensitiveValues.hash(j("{'data':{'pw':'old'}}"), Set.of(FieldPath.of("data", "pw")), KEY);
    JsonNode revealed = SensitiveValues.reveal(stored, j("{'data':{'pw':'new'}}"), j("{'data':{'pw':'hand'}}"), KEY);
    assertThat(revealed).isEqualTo(stored);
    MergeResult r = new ThreeWayMerge(RULES).merge(SECRET, revealed, j("{'data':{'pw':'new'}}"), j("{'data':{'pw':'hand'}}"));
    assertThat(r.drift()).containsExactly(FieldPath.of("data"));
    assertThat(r.target()).isEqualTo(j("{'data':{'pw':'new'}}"));
  }

  @Test
  void revealFindsElementsOfListsWhateverTheirOrder() {
    JsonNode l = j("{'env':[{'name':'A','value':'1'},{'name':'TOKEN','value':'secret'}]}");
    JsonNode stored = SensitiveValues.hash(l, Set.of(FieldPath.parse("/env/[name=TOKEN]/value")), KEY);
    JsonNode d = j("{'env':[{'name':'TOKEN','value':'secret'},{'name':'A','value':'1'}]}");
    assertThat(SensitiveValues.reveal(stored, d, null, KEY)).isEqualTo(l);
  }

  @Test
  void redactReplacesValuesForDisplay() {
    JsonNode doc = j("{'data':{'pw':'p'},'x':1}");
    assertThat(SensitiveValues.redact(doc, Set.of(FieldPath.of("data", "pw")))).isEqualTo(j("{'data':{'pw':'(sensitive)'},'x':1}"));
  }

  static final MergeRules GROUPS = MergeRules.builder()
      .setList("/groups")
      .setList("/public")
      .keyedList("/users", KeyField.of("name"))
      .setList("/users/*/roles")
      .sensitive("/groups/*", KeySelector.ANY)
      .sensitive("/users", KeySelector.ANY)
      .build();

  /** Every path a merge reports, and the sensitive paths found, as text. */
  private static String allPaths(MergeResult r, Set<FieldPath> found) {
    StringBuilder sb = new StringBuilder();
    r.fields().forEach(f -> sb.append(f.path()).append('\n'));
    r.owned().forEach(p -> sb.append(p).append('\n'));
    r.drift().forEach(p -> sb.append(p).append('\n'));
    r.conflicts().forEach(p -> sb.append(p).append('\n'));
    r.takeovers().forEach(p -> sb.append(p).append('\n'));
    found.forEach(p -> sb.append(p).append('\n'));
    return sb.toString();
  }

  @Test
  void pathsNameSecretElementsByKeyedHashesNeverByValue() {
    JsonNode l = j("{'groups':['admins-7f3','ops'],'public':['p1'],'users':[{'name':'alice-93','roles':['root-x1']}]}");
    JsonNode d = j("{'groups':['ops','wheel-55a'],'public':['p2'],'users':[{'name':'bob-21','roles':['dev-q9']}]}");
    JsonNode v = j("{'groups':['admins-7f3','ops','byhand-0c'],'public':['p1'],'users':[{'name':'alice-93','roles':['root-x2']}]}");
    ThreeWayMerge merge = new ThreeWayMerge(GROUPS, KEY);
    MergeResult r = merge.merge(MAP, l, d, v);
    String paths = allPaths(r, ThreeWayMerge.sensitivePaths(MAP, d, GROUPS, Set.of(), KEY))
        + allPaths(merge.merge(MAP, l, d, null), ThreeWayMerge.sensitivePaths(MAP, v, GROUPS, Set.of(), KEY));
    for (String secret : new String[] {"admins-7f3", "wheel-55a", "byhand-0c", "alice-93", "bob-21", "root-x1", "root-x2", "dev-q9"}) {
      assertThat(paths).as("paths").doesNotContain(secret);
    }
    // Non-secret elements keep their readable paths; the same element has the same path in every report.
    assertThat(r.fields()).extracting(f -> f.path().toString()).contains("/public/[=p1]", "/public/[=p2]");
    FieldPath admins = FieldPath.root().field("groups").append(SensitiveValues.hashedSegment(KEY, "[=admins-7f3]"));
    FieldPath ops = FieldPath.root().field("groups").append(SensitiveValues.hashedSegment(KEY, "[=ops]"));
    assertThat(r.owned()).contains(admins, ops).doesNotContain(FieldPath.parse("/groups/[=ops]"));
    assertThat(r.fields()).filteredOn(f -> f.path().equals(admins)).singleElement()
        .satisfies(f -> assertThat(f.sensitive()).isTrue());
    assertThat(r.fields()).allSatisfy(f -> assertThat(f.sensitive()).isEqualTo(!f.path().toString().startsWith("/public")));
  }

  @Test
  void hashedPathsRoundTripResolveAndMatchRulesWrittenWithValues() {
    MergeRules rules = GROUPS.toBuilder().ignore("/groups/[=byhand-0c]", KeySelector.ANY).build();
    ThreeWayMerge merge = new ThreeWayMerge(rules, KEY);
    JsonNode d = j("{'groups':['ops']}");
    MergeResult r = merge.merge(MAP, d, d, j("{'groups':['ops','byhand-0c','x']}"));
    // The ignore rule names the element by value: it still matches the element, whose path is hashed.
    assertThat(r.target()).isEqualTo(j("{'groups':['ops','byhand-0c','x']}"));
    FieldPath x = FieldPath.root().field("groups").append(SensitiveValues.hashedSegment(KEY, "[=x]"));
    FieldPath parsed = FieldPath.parse(x.toString());
    assertThat(parsed).isEqualTo(x);
    RuleCursor root = RuleCursor.root(new RuleCursor.Compiled(rules, MAP, Set.of(), KEY));
    assertThat(KeyedPaths.resolve(j("{'groups':['ops','x']}"), parsed, root)).isEqualTo(j("'x'"));
    // A stored document is hashed at hashed paths, and the value found again by reveal.
    JsonNode doc = j("{'groups':['ops','x'],'users':[{'name':'alice-93'}]}");
    Set<FieldPath> found = ThreeWayMerge.sensitivePaths(MAP, doc, rules, Set.of(), KEY);
    JsonNode stored = SensitiveValues.hash(doc, found, KEY);
    assertThat(stored.toString()).doesNotContain("\"x\"").doesNotContain("alice-93").doesNotContain("ops");
    assertThat(SensitiveValues.reveal(stored, doc, null, KEY)).isEqualTo(doc);
  }

  @Test
  void aKeyedElementWhoseKeyFieldIsSensitiveIsNamedByHash() {
    MergeRules rules = MergeRules.builder().keyedList("/tokens", KeyField.of("id"))
        .sensitive("/tokens/*/id", KeySelector.ANY).build();
    JsonNode doc = j("{'tokens':[{'id':'tok-5150','scope':'read'}]}");
    Set<FieldPath> found = ThreeWayMerge.sensitivePaths(MAP, doc, rules, Set.of(), KEY);
    assertThat(found).singleElement().asString().startsWith("/tokens/[#hmac:").endsWith("]/id");
    JsonNode stored = SensitiveValues.hash(doc, found, KEY);
    assertThat(stored.toString()).doesNotContain("tok-5150").contains("read");
    MergeResult r = new ThreeWayMerge(rules, KEY).merge(MAP, doc, j("{'tokens':[{'id':'tok-5150','scope':'write'}]}"), doc);
    assertThat(r.fields()).singleElement().satisfies(f -> assertThat(f.path().toString()).doesNotContain("tok-5150"));
  }
}
