package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The factories and the builder of {@link Change}: which resource is Git's and which the last-applied one. */
class ChangeTest {

  static final ResourceKey KEY = ResourceKey.of("p", "thing", "a");

  static JsonNode doc(String field, int value) {
    return Documents.object(Map.of(field, Documents.nodes().numberNode(value)));
  }

  static final Resource IN_GIT = Resource.builder(KEY).document(doc("x", 2)).wave(1).build();
  static final Resource LAST_APPLIED = Resource.builder(KEY).document(doc("x", 1)).wave(3).build();

  @Test
  void declaredAtNamesTheFileAndLineOrWhereTheObjectWasLastApplied() {
    Resource inFile = Resource.builder(KEY).origin(Origin.of("apps/a.yaml", 12, "main@sha1:abc")).document(doc("x", 2))
        .build();
    Change update = Change.update(inFile, doc("x", 1), "differs");
    Change delete = Change.delete(inFile, doc("x", 1), "removed from Git");

    assertThat(Origin.of("apps/a.yaml", 12, "r").declaredAt()).isEqualTo("declared at apps/a.yaml:12");
    assertThat(Origin.of("apps/a.yaml", 0, "r").declaredAt()).isEqualTo("declared at apps/a.yaml");
    assertThat(Origin.NONE.declaredAt()).isEqualTo("declared in code, in no file");
    assertThat(update.declaredAt()).isEqualTo("declared at apps/a.yaml:12");
    assertThat(delete.declaredAt()).isEqualTo("no longer in Git (last applied from main@sha1:abc), declared at apps/a.yaml:12");
    // no file: no place to name
    assertThat(Change.update(IN_GIT, doc("x", 1), "differs").declaredAt()).isEmpty();
    assertThat(Change.builder(KEY, Action.SKIP).reason("orphan").build().declaredAt()).isEmpty();
    assertThat(Outcome.skipped(update.withAction(Action.SKIP, "its policy forbids update")).message())
        .isEqualTo("its policy forbids update; declared at apps/a.yaml:12");
    assertThat(Outcome.skipped(Change.skip(IN_GIT, null, "held back")).message()).isEqualTo("held back");
  }

  @Test
  void factoriesForAResourceInGitSetItsDocumentAsDesired() {
    for (Change c : List.of(Change.create(IN_GIT, "r"), Change.update(IN_GIT, doc("x", 1), "r"),
        Change.replace(IN_GIT, doc("x", 1), "r"), Change.noop(IN_GIT, doc("x", 2), "r"),
        Change.skip(IN_GIT, doc("x", 1), "r"))) {
      assertThat(c.key()).isEqualTo(KEY);
      assertThat(c.resource()).isSameAs(IN_GIT);
      assertThat(c.desired()).as(c.action().name()).isEqualTo(IN_GIT.document());
      assertThat(c.lastApplied()).isNull();
    }
    assertThat(Change.create(IN_GIT, "r").action()).isEqualTo(Action.CREATE);
    assertThat(Change.create(IN_GIT, "r").live()).isNull();
    assertThat(Change.update(IN_GIT, doc("x", 1), "r").action()).isEqualTo(Action.UPDATE);
    assertThat(Change.replace(IN_GIT, doc("x", 1), "r").action()).isEqualTo(Action.REPLACE);
    assertThat(Change.noop(IN_GIT, doc("x", 2), "r").action()).isEqualTo(Action.NOOP);
    assertThat(Change.skip(IN_GIT, doc("x", 1), "r").action()).isEqualTo(Action.SKIP);
  }

  @Test
  void aDeleteCarriesTheLastAppliedResourceAndNoDesiredDocument() {
    Change d = Change.delete(LAST_APPLIED, doc("x", 5), "removed from Git");
    assertThat(d.action()).isEqualTo(Action.DELETE);
    assertThat(d.desired()).isNull();
    assertThat(d.resource()).isSameAs(LAST_APPLIED);
    assertThat(d.lastApplied()).isSameAs(LAST_APPLIED);
    assertThat(d.live()).isEqualTo(doc("x", 5));
    assertThat(d.target()).isNull();
  }

  @Test
  void theBuilderSaysWhichResourceItIs() {
    Change kept = Change.builder(KEY, Action.NOOP).lastApplied(LAST_APPLIED).reason("dropped").build();
    assertThat(kept.desired()).isNull();
    assertThat(kept.lastApplied()).isSameAs(LAST_APPLIED);

    Change planned = Change.builder(KEY, Action.CREATE).desiredDocument(doc("x", 7)).target(doc("x", 7))
        .reason("planned by the provider").build();
    assertThat(planned.resource()).isNull();
    assertThat(planned.lastApplied()).isNull();
    assertThat(planned.desired()).isEqualTo(doc("x", 7));
  }

  @Test
  void toBuilderKeepsEveryComponentAndRewritesOnlyWhatIsSet() {
    Change c = Change.builder(KEY, Action.UPDATE).previousKey(ResourceKey.of("p", "thing", "old")).desired(IN_GIT)
        .live(doc("x", 1)).target(doc("x", 2)).patch(List.of(PatchOp.replace("/x", Documents.nodes().numberNode(2))))
        .fields(List.of(new FieldChange(FieldPath.of("x"), Documents.nodes().numberNode(1),
            Documents.nodes().numberNode(2), false)))
        .flags(EnumSet.of(Change.Flag.DRIFT)).reason("1 field differs").sensitive(Set.of(FieldPath.of("pw")))
        .unknown(Set.of(FieldPath.of("id"))).build();
    assertThat(c.toBuilder().build()).isEqualTo(c);
    Change skipped = c.toBuilder().action(Action.SKIP).reason("held back").build();
    assertThat(skipped).isEqualTo(c.withAction(Action.SKIP, "held back"));
    assertThat(skipped.fields()).isEqualTo(c.fields());
    assertThat(skipped.previousKey()).isEqualTo(c.previousKey());
    assertThat(c.withFlag(Change.Flag.CONFLICT).flags()).containsExactlyInAnyOrder(Change.Flag.DRIFT, Change.Flag.CONFLICT);
  }

  @Test
  void aMissingPartIsNamed() {
    assertThatThrownBy(() -> Change.builder(KEY, Action.CREATE).build()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("reason").hasMessageContaining(KEY.toString());
    assertThatThrownBy(() -> Change.create(null, "r")).isInstanceOf(NullPointerException.class).hasMessage("desired");
    assertThatThrownBy(() -> Change.delete(null, null, "r")).isInstanceOf(NullPointerException.class)
        .hasMessage("lastApplied");
    assertThatThrownBy(() -> Change.update(IN_GIT, null, null)).isInstanceOf(NullPointerException.class)
        .hasMessage("reason");
    assertThatThrownBy(() -> Change.builder(null, Action.CREATE)).isInstanceOf(NullPointerException.class)
        .hasMessage("key");
    assertThatThrownBy(() -> Change.builder(KEY, null)).isInstanceOf(NullPointerException.class).hasMessage("action");
    assertThatThrownBy(() -> Change.builder(KEY, Action.CREATE).patch(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("patch");
  }
}
