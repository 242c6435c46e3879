package dev.gitops.core.redact;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.Outcome;
import dev.gitops.api.PatchOp;
import dev.gitops.api.PathPattern;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RedactorTest {

  static final ResourceKey KEY = ResourceKey.of("k8s", "v1/Secret", "prod", "db");
  static final MergeRules RULES = MergeRules.builder()
      .keyedList("/env", KeyField.of("name"))
      .sensitive("/data/*", KeySelector.type("k8s", "v1/Secret"))
      .build();
  static final byte[] STORE_KEY = "store-key".getBytes(StandardCharsets.UTF_8);

  static JsonNode j(String s) {
    try {
      return Documents.freeze(new ObjectMapper().readTree(s.replace('\'', '"')));
    } catch (Exception e) {
      throw new IllegalArgumentException(s, e);
    }
  }

  static Change delete(JsonNode live) {
    return Change.builder(KEY, Action.DELETE).live(live).reason("removed from Git").build();
  }

  @Test
  void completeMasksTheLiveDocumentOfADelete() {
    Change c = Redactor.complete(delete(j("{'data':{'pw':'p1','user':'u'},'kind':'Secret'}")), RULES, Set.of(), STORE_KEY);
    assertThat(c.sensitive()).containsExactlyInAnyOrder(FieldPath.of("data", "pw"), FieldPath.of("data", "user"));
    JsonNode shown = Redactor.marking().redact(c).live();
    assertThat(shown.get("data").get("pw").textValue()).isEqualTo(Redactor.MARKER);
    assertThat(shown.get("kind").textValue()).isEqualTo("Secret");
  }

  @Test
  void marksOfAnyResourceCountForEveryDocument() {
    Resource was = Resource.builder(ResourceKey.of("m", "thing", "", "a")).document(j("{'auth':{'token':'t'}}"))
        .sensitive(Set.of(PathPattern.of("/auth/token"))).build();
    Resource now = Resource.of(was.key(), j("{'auth':{}}"));
    Change update = Change.builder(was.key(), Action.UPDATE).desired(now).live(j("{'auth':{'token':'t'}}"))
        .target(j("{'auth':{}}")).patch(List.of(PatchOp.remove("/auth/token")))
        .fields(List.of(new FieldChange(FieldPath.of("auth", "token"), j("'t'"), null, false))).reason("1 field differs")
        .build();
    Change c = Redactor.complete(update, MergeRules.defaults(), Redactor.marks(now, was, null), STORE_KEY);
    assertThat(c.fields()).singleElement().satisfies(f -> assertThat(f.sensitive()).isTrue());
    assertThat(Redactor.marking().redact(c).fields().get(0).before().textValue()).isEqualTo(Redactor.MARKER);
  }

  @Test
  void withoutRulesOrMarksAChangeIsReturnedAsIs() {
    Change c = delete(j("{'data':{'pw':'p'}}"));
    assertThat(Redactor.complete(c, MergeRules.defaults(), Set.of(), STORE_KEY)).isSameAs(c);
    assertThat(Redactor.marking().redact(c)).isSameAs(c);
  }

  @Test
  void hashingShowsKeyedHashesThatMatchForEqualValues() {
    Change c = Redactor.complete(delete(j("{'data':{'a':'same','b':'same','c':'other'}}")), RULES, Set.of(), STORE_KEY);
    JsonNode shown = Redactor.hashing(STORE_KEY).redact(c).live().get("data");
    assertThat(shown.get("a").textValue()).startsWith("hmac-sha256:").isEqualTo(shown.get("b").textValue())
        .isNotEqualTo(shown.get("c").textValue());
  }

  @Test
  void patchValuesAreHiddenAtBelowAndAboveAMaskedPathOnly() {
    Change c = Change.builder(KEY, Action.UPDATE).live(j("{}")).patch(List.of(
        PatchOp.add("/data", j("{'pw':'p-above','user':'u-above'}")),
        PatchOp.replace("/data/pw", j("'p-at'")),
        PatchOp.add("/env/0", j("{'name':'TOKEN','value':'kept'}")),
        PatchOp.add("/kind", j("'Secret'")))).reason("").sensitive(Set.of(FieldPath.of("data", "pw"))).build();
    List<PatchOp> ops = Redactor.marking().redact(c).patch();
    assertThat(ops.get(0).value()).isEqualTo(j("{'pw':'(sensitive)','user':'u-above'}"));
    assertThat(ops.get(1).value()).isEqualTo(j("'(sensitive)'"));
    assertThat(ops.get(2).value()).isEqualTo(j("{'name':'TOKEN','value':'kept'}"));
    assertThat(ops.get(3).value()).isEqualTo(j("'Secret'"));
  }

  @Test
  void patchIntoAKeyedListIsHiddenWhateverTheIndex() {
    FieldPath token = FieldPath.parse("/env/[name=TOKEN]/value");
    Change c = Change.builder(KEY, Action.UPDATE).live(j("{}")).patch(List.of(
        PatchOp.replace("/env/3/value", j("'v-at'")),
        PatchOp.add("/env/1", j("{'name':'TOKEN','value':'v-above'}")))).reason("").sensitive(Set.of(token)).build();
    List<PatchOp> ops = Redactor.marking().redact(c).patch();
    assertThat(Documents.canonicalJson(ops.get(0).value())).doesNotContain("v-at");
    assertThat(Documents.canonicalJson(ops.get(1).value())).doesNotContain("v-above").contains("TOKEN");
  }

  @Test
  void aMaskedSetElementHidesItsWholeList() {
    MergeRules rules = MergeRules.builder().setList("/tokens").sensitive("/tokens/*", KeySelector.ANY).build();
    Change c = Redactor.complete(delete(j("{'tokens':['tok-a','tok-b'],'kind':'x'}")), rules, Set.of(), STORE_KEY);
    assertThat(c.sensitive()).isNotEmpty();
    JsonNode shown = Redactor.marking().redact(c).live();
    assertThat(shown).isEqualTo(j("{'tokens':'(sensitive)','kind':'x'}"));
  }

  @Test
  void anOutcomeQuotingASecretHidesItInEveryFormAndKeepsTheRest() {
    Change c = Redactor.complete(delete(j("{'data':{'pw':'line-one\\nline-two','user':'u1'},'kind':'Secret'}")),
        RULES, Set.of(), STORE_KEY);
    String quoted = "refused {\"pw\":\"line-one\\nline-two\"} for Secret; logs: line-one / line-two / line-one\nline-two; user u1";
    Outcome o = Redactor.marking().redact(c, Outcome.permanentFailure(quoted, null));
    assertThat(o.message()).doesNotContain("line-one").doesNotContain("line-two").contains(Redactor.MARKER)
        .startsWith("refused ").contains("for Secret; logs: ")
        .as("a value shorter than %d characters is left", Scrubber.SHORTEST).endsWith("user u1");
    assertThat(o.kind()).isEqualTo(Outcome.Kind.PERMANENT);
  }

  @Test
  void anOutcomeOfAChangeWithNothingSensitiveIsTheSameInstance() {
    Change plain = Change.builder(ResourceKey.of("m", "thing", "", "a"), Action.DELETE).live(j("{'pw':'not-masked'}"))
        .reason("").build();
    Outcome o = Outcome.permanentFailure("pw not-masked refused", new IllegalStateException("not-masked"));
    assertThat(Redactor.marking().redact(plain, o)).isSameAs(o);
    Change masked = Redactor.complete(delete(j("{'data':{'pw':'p-secret'}}")), RULES, Set.of(), STORE_KEY);
    Outcome unrelated = Outcome.permanentFailure("quota exceeded", new IllegalStateException("quota"));
    assertThat(Redactor.marking().redact(masked, unrelated)).isSameAs(unrelated);
  }

  @Test
  void aCauseQuotingASecretIsCopiedWithItsTypeKeyAndTrace() {
    Change c = Redactor.complete(delete(j("{'data':{'pw':'p-secret-1'}}")), RULES, Set.of(), STORE_KEY);
    IllegalStateException root = new IllegalStateException("server said p-secret-1 is invalid");
    ProviderException thrown = new ProviderException(KEY, "apply of p-secret-1 failed", true, root);
    Outcome o = Redactor.marking().redact(c, Outcome.transientFailure(thrown.getMessage(), thrown));
    assertThat(o.toString()).doesNotContain("p-secret-1");
    assertThat(o.cause()).isInstanceOf(ProviderException.class).hasMessage(KEY + ": apply of (sensitive) failed");
    ProviderException copy = (ProviderException) o.cause();
    assertThat(copy.key()).isEqualTo(KEY);
    assertThat(copy.isRetryable()).isTrue();
    assertThat(copy.getStackTrace()).isEqualTo(thrown.getStackTrace());
    assertThat(copy.getCause()).hasMessage("java.lang.IllegalStateException: server said (sensitive) is invalid");
    assertThat(copy.getCause().getStackTrace()).isEqualTo(root.getStackTrace());

    Outcome conflict = Redactor.marking().redact(c, Outcome.conflict("modified: p-secret-1"));
    assertThat(conflict.isConflict()).isTrue();
    assertThat(conflict.toString()).doesNotContain("p-secret-1");
  }
}
