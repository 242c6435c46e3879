package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.gitops.api.Documents;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StoredResource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The snapshot's second half read on a thread of its own ({@link StoreSnapshot.SecondHalf}) gives
 * exactly what the read in order gives: the content, or the damage and its offset. Its start is
 * found by the text of an entry's start, which a document holds too ({@code [{"key":"a"},{"key":
 * ...]}): such a start is never taken.
 */
class StoreSnapshotSplitTest {

  private static final Path FILE = Path.of("/store/snapshot");

  /** {@code n} entries; with {@code keyLists}, documents holding arrays of objects whose first field is "key". */
  private static byte[] snapshot(int n, boolean keyLists, long seed, int pendingCount) {
    Random random = new Random(seed);
    TreeMap<ResourceKey, StoredResource> inventory = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      ResourceKey key = ResourceKey.of("files", "file", "", "conf/f" + i + ".conf");
      StringBuilder doc = new StringBuilder("{\"content\":\"" + "x".repeat(random.nextInt(keyLists ? 30 : 300)) + "\"");
      if (keyLists) {
        // most of the snapshot's bytes: the first entry-like text after its middle is inside a list
        doc.append(",\"items\":[");
        int items = 20 + random.nextInt(10);
        for (int j = 0; j < items; j++) {
          doc.append(j == 0 ? "" : ",").append("{\"key\":\"k").append(j).append("\",\"path\":\"p\"}");
        }
        doc.append("]");
      }
      doc.append("}");
      Resource r = Resource.builder(key).document(doc(doc.toString()))
          .origin(Origin.of("conf/f" + i + ".conf", 1, "main@sha1:" + seed)).build();
      StoredResource.InSync proof = random.nextBoolean() ? null : new StoredResource.InSync("d" + i, "r", "v" + i);
      inventory.put(key, new StoredResource(r, i + 1, "main@sha1:" + seed, proof));
    }
    TreeMap<ResourceKey, Resource> pending = new TreeMap<>();
    for (int i = 0; i < pendingCount; i++) {
      ResourceKey key = ResourceKey.of("files", "file", "", "conf/p" + i + ".conf");
      pending.put(key, Resource.of(key, doc("{\"content\":\"pending " + i + "\"}")));
    }
    return StoreSnapshot.encode(n + 7L, inventory, pending);
  }

  private static com.fasterxml.jackson.databind.JsonNode doc(String json) {
    try {
      return Documents.freeze(StoreCodec.MAPPER.readTree(json));
    } catch (Exception e) {
      throw new IllegalArgumentException(json, e);
    }
  }

  private static void assertSameAsInOrder(byte[] bytes) throws Exception {
    StoreSnapshot.Content inOrder = StoreSnapshot.decode(bytes, FILE, Integer.MAX_VALUE);
    StoreSnapshot.Content split = StoreSnapshot.decode(bytes, FILE, 0);
    assertThat(split.serial()).isEqualTo(inOrder.serial());
    assertThat(split.inventory()).isEqualTo(inOrder.inventory());
    assertThat(split.pending()).isEqualTo(inOrder.pending());
  }

  @Property(tries = 40)
  void bothHalvesReadWhatTheReadInOrderReads(@ForAll @IntRange(min = 0, max = 120) int n,
      @ForAll boolean keyLists, @ForAll long seed, @ForAll @IntRange(min = 0, max = 3) int pending) throws Exception {
    assertSameAsInOrder(snapshot(n, keyLists, seed, pending));
  }

  @Test
  void aStartInsideADocumentIsNeverTakenAndAnEntrysStartIs() throws Exception {
    byte[] plain = snapshot(200, false, 1, 1);
    StoreSnapshot.SecondHalf entry = StoreSnapshot.SecondHalf.start(plain, plain.length, FILE);
    assertThat(entry).isNotNull();
    StoreSnapshot.SecondHalf.Read read = entry.await();
    assertThat(read).as("read in full from an entry's start").isNotNull();
    TreeMap<ResourceKey, StoredResource> all = StoreSnapshot.decode(plain, FILE, Integer.MAX_VALUE).inventory();
    assertThat(read.entries()).containsExactlyElementsOf(all.tailMap(read.entries().get(0).resource().key()).values());
    assertThat(read.pending()).hasSize(1);
    assertSameAsInOrder(plain);

    // every document holds "},{"key":"": the first such text after the middle is inside one
    byte[] lists = snapshot(200, true, 2, 0);
    StoreSnapshot.SecondHalf inside = StoreSnapshot.SecondHalf.start(lists, lists.length, FILE);
    assertThat(inside).isNotNull();
    String before = new String(lists, inside.from - 40, 40, StandardCharsets.UTF_8);
    assertThat(before).as("found inside a document's list").contains("\"path\":\"p\"");
    assertThat(inside.await()).as("not read as entries: a lone object and a closing bracket follow").isNull();
    assertSameAsInOrder(lists);
  }

  /** The payload of {@code bytes} with every {@code from} replaced by {@code to}, framed again with a valid checksum. */
  private static byte[] rewritten(byte[] bytes, String from, String to) {
    String payload = new String(bytes, StoreSnapshot.HEADER, bytes.length - StoreSnapshot.HEADER, StandardCharsets.UTF_8);
    assertThat(payload).contains(from);
    byte[] changed = payload.replace(from, to).getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[StoreSnapshot.HEADER + changed.length];
    System.arraycopy(changed, 0, out, StoreSnapshot.HEADER, changed.length);
    return StoreSnapshot.framed(out, java.nio.ByteBuffer.wrap(bytes).getLong(8));
  }

  @Test
  void damageInEitherHalfIsTheDamageTheReadInOrderFindsAtItsOffset() throws Exception {
    byte[] bytes = snapshot(200, false, 3, 2);
    Map<String, byte[]> damaged = new java.util.LinkedHashMap<>();
    // a key of the first half again in the second (entry and resource key: only the duplicate is wrong)
    damaged.put("a key of both halves", rewritten(bytes, "conf/f98.conf\"", "conf/f1.conf\""));
    damaged.put("a key twice in the second half", rewritten(bytes, "conf/f98.conf\"", "conf/f99.conf\""));
    damaged.put("a key twice in the first half", rewritten(bytes, "conf/f11.conf\"", "conf/f10.conf\""));
    damaged.put("a serial that is not a number, second half", rewritten(bytes, "\"serial\":99,", "\"serial\":\"x\","));
    damaged.put("a serial that is not a number, first half", rewritten(bytes, "\"serial\":2,", "\"serial\":\"x\","));
    damaged.put("a pending key twice", rewritten(bytes, "conf/p1.conf\"", "conf/p0.conf\""));
    damaged.put("a document that is not JSON, second half",
        rewritten(bytes, "f98.conf\",\"document\":{", "f98.conf\",\"document\":["));
    damaged.put("trailing content", rewritten(bytes, "]}", "]},{}"));
    for (Map.Entry<String, byte[]> e : damaged.entrySet()) {
      Throwable inOrder = catchThrowable(() -> StoreSnapshot.decode(e.getValue(), FILE, Integer.MAX_VALUE));
      assertThat(inOrder).as(e.getKey()).isInstanceOf(StoreSnapshot.DamageException.class);
      assertThatThrownBy(() -> StoreSnapshot.decode(e.getValue(), FILE, 0)).as(e.getKey())
          .isInstanceOf(StoreSnapshot.DamageException.class).hasMessage(inOrder.getMessage());
    }
    assertThat(Arrays.equals(bytes, rewritten(bytes, "x", "x"))).as("the framing is encode's").isTrue();
  }
}
