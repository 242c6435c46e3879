package dev.gitops.core.internal.plan;

import static dev.gitops.core.internal.plan.StubProvider.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class DigestsTest {

  private static final ResourceKey A = ResourceKey.of("s", "thing", "a");
  private static final ResourceKey B = ResourceKey.of("s", "thing", "b");
  private final Digests digests = new Digests();
  /** How many times {@link #counting} was applied: each time a document is digested afresh. */
  private final AtomicInteger views = new AtomicInteger();
  private final UnaryOperator<JsonNode> counting = d -> {
    views.incrementAndGet();
    return d;
  };

  @Test
  void digestsAreCanonicalAndAbsentIsADash() {
    JsonNode one = Documents.freeze(json("{'b':1.0,'a':[1]}"));
    JsonNode same = Documents.freeze(json("{'a':[1],'b':1}"));
    assertThat(digests.of(Digests.Role.DESIRED, A, one)).isEqualTo(Documents.digest(one))
        .isEqualTo(digests.of(Digests.Role.LIVE, B, same));
    assertThat(digests.of(Digests.Role.DESIRED, A, Documents.freeze(json("{'a':[2]}"))))
        .isNotEqualTo(Documents.digest(one));
    assertThat(digests.of(Digests.Role.PLAN_TARGET, A, null)).isEqualTo("-");
  }

  @Test
  void aFrozenDocumentIsDigestedOncePerKeyAndRole() {
    JsonNode doc = Documents.freeze(json("{'x':1}"));
    String first = digests.of(Digests.Role.LIVE, A, doc, null, counting);
    assertThat(digests.of(Digests.Role.LIVE, A, doc, null, counting)).isEqualTo(first);
    assertThat(views).as("the second call reuses the memo").hasValue(1);
    digests.of(Digests.Role.LIVE, A, Documents.freeze(json("{'x':1}")), null, counting);
    assertThat(views).as("another instance is digested again").hasValue(2);
  }

  @Test
  void theViewIsWhatIsDigested() {
    JsonNode doc = Documents.freeze(json("{'x':1,'status':'busy'}"));
    JsonNode stripped = Documents.freeze(json("{'x':1}"));
    assertThat(digests.of(Digests.Role.LIVE, A, doc, null, d -> stripped)).isEqualTo(Documents.digest(stripped));
  }

  /**
   * One document instance seen again under another view (a live object unchanged in an informer's
   * cache, at a commit whose rules ignore another field) is viewed and digested again: the memo
   * gave the digest of its first view, so a long-lived planner's fingerprints differed from a fresh
   * one's once the rules changed.
   */
  @Test
  void theSameInstanceUnderAnotherViewIsDigestedThroughThatView() {
    JsonNode doc = Documents.freeze(json("{'x':1,'status':'busy'}"));
    JsonNode stripped = Documents.freeze(json("{'x':1}"));
    Object rules = "rules ignoring /status";
    Object none = "rules ignoring nothing";
    assertThat(digests.of(Digests.Role.LIVE, A, doc, rules, d -> stripped)).isEqualTo(Documents.digest(stripped));
    assertThat(digests.of(Digests.Role.LIVE, A, doc, none, d -> d)).isEqualTo(Documents.digest(doc));
    assertThat(digests.of(Digests.Role.LIVE, A, doc, none, counting))
        .as("the same view again: the memo serves it").isEqualTo(Documents.digest(doc));
    assertThat(views).hasValue(0);
  }

  @Test
  void aMutableDocumentIsNeverRemembered() {
    ObjectNode doc = (ObjectNode) json("{'x':1}");
    String before = digests.of(Digests.Role.DESIRED, A, doc);
    doc.put("x", 2);
    assertThat(digests.of(Digests.Role.DESIRED, A, doc)).isNotEqualTo(before).isEqualTo(Documents.digest(doc));
  }

  @Test
  void retainForgetsKeysThatAreGone() {
    JsonNode doc = Documents.freeze(json("{'x':1}"));
    digests.of(Digests.Role.LIVE, A, doc, null, counting);
    digests.of(Digests.Role.LIVE, B, doc, null, counting);
    digests.retain(Set.of(B));
    digests.of(Digests.Role.LIVE, B, doc, null, counting);
    assertThat(views).as("B is still remembered").hasValue(2);
    digests.of(Digests.Role.LIVE, A, doc, null, counting);
    assertThat(views).as("A was forgotten").hasValue(3);
  }

  @Test
  void aResourceReDatedFromOneDigestedInAnotherRoleTakesItsDigestAndAnyOtherDifferenceIsDigested() {
    JsonNode doc = Documents.freeze(json("{'x':1}"));
    Resource stored = new Resource(A, doc, new Origin("a.yaml", 3, "main@sha1:1"), new TreeSet<>(), 0,
        ManagementPolicy.ALL, Set.of());
    String digest = digests.resource(Digests.Role.STORED, stored);
    assertThat(digest).isEqualTo(stored.digest());
    assertThat(digests.resourcesHashed()).isEqualTo(1);

    Resource redated = new Resource(A, doc, new Origin("a.yaml", 3, "main@sha1:2"), stored.dependsOn(), 0,
        ManagementPolicy.ALL, Set.of());
    assertThat(digests.resource(Digests.Role.DESIRED, redated)).isEqualTo(digest).isEqualTo(redated.digest());
    assertThat(digests.resourcesHashed()).as("the origin is no part of the digest").isEqualTo(1);

    // the same document under another wave, or an equal document of another instance: digested
    Resource waved = new Resource(A, doc, redated.origin(), stored.dependsOn(), 1, ManagementPolicy.ALL, Set.of());
    assertThat(digests.resource(Digests.Role.PENDING, waved)).isEqualTo(waved.digest()).isNotEqualTo(digest);
    Resource copy = new Resource(A, Documents.freeze(json("{'x':1}")), redated.origin(), stored.dependsOn(), 0,
        ManagementPolicy.ALL, Set.of());
    assertThat(digests.resource(Digests.Role.LIVE, copy)).isEqualTo(digest);
    assertThat(digests.resourcesHashed()).isEqualTo(3);
  }
}
