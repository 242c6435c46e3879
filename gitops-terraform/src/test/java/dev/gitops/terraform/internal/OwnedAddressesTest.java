package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.core.LogCapture;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The record of owned objects read in Terraform's spelling of instance keys, whichever spelling
 * wrote it: the old one (only a quote, a backslash and line ends escaped) is read as the key it
 * holds, an entry both read as different keys is decided by the record or the state, and nothing
 * is ever dropped.
 */
class OwnedAddressesTest {

  private static ObjectNode record(boolean saysTerraform, Object... entries) {
    ObjectNode r = Documents.nodes().objectNode();
    var list = r.putArray("addresses");
    for (Object e : entries) {
      if (e instanceof String s) {
        list.add(s);
      } else {
        list.add((Integer) e);
      }
    }
    r.put("takeOver", "adopted");
    if (saysTerraform) {
      r.put(OwnedAddresses.SPELLING, OwnedAddresses.TERRAFORM);
    }
    return r;
  }

  private static OwnedAddresses read(ObjectNode record, String... inState) {
    return OwnedAddresses.read(record, Set.of(inState), "owned.json");
  }

  @Test
  void anEntryInTheOldSpellingIsReadAsTheKeyItHoldsAndSpelledAsTerraformDoes() {
    OwnedAddresses o = read(record(false, "x[\"${a}\"]", "x[\"%{if}\"]", "x[\"a\u0001b\"]", "x[\"q\\\"\\\\\\n\"]",
        "module.m[\"$${k}\"].x[\"${a}\"]", "x[1]", "x", "data.d.e[\"v\"]"));
    assertThat(o.addresses()).containsExactlyInAnyOrder("x[\"$${a}\"]", "x[\"%%{if}\"]", "x[\"a\\u0001b\"]",
        "x[\"q\\\"\\\\\\n\"]", "module.m[\"$${k}\"].x[\"$${a}\"]", "x[1]", "x", "data.d.e[\"v\"]");
    assertThat(o.respelled()).isTrue();
    // each is the address Terraform gives the key it holds
    assertThat(o.contains("x" + Addresses.index(Documents.nodes().textNode("${a}")))).isTrue();
    assertThat(o.contains("x" + Addresses.index(Documents.nodes().textNode("a\u0001b")))).isTrue();
    ObjectNode written = o.toRecord();
    assertThat(written.path(OwnedAddresses.SPELLING).asText()).isEqualTo("terraform");
    assertThat(written.path("takeOver").asText()).isEqualTo("adopted");
    assertThat(read(written).addresses()).as("read back as written").isEqualTo(o.addresses());
    assertThat(read(written).respelled()).isFalse();
  }

  @Test
  void anEntryBothSpellingsReadDifferentlyIsTheRecordsSpellingOrTheStatesOrKeptAsWritten() {
    // x["$${a}"] is the key ${a} in Terraform's spelling, the key $${a} in the old one (Terraform's x["$$${a}"])
    String entry = "x[\"$${a}\"]";
    String old = "x[\"$$${a}\"]";
    assertThat(read(record(true, entry), old).addresses()).as("the record says").containsExactly(entry);
    assertThat(read(record(false, entry), old).addresses()).as("the state says").containsExactly(old);
    assertThat(read(record(false, entry), entry).addresses()).as("the state says").containsExactly(entry);
    try (LogCapture logs = LogCapture.of(OwnedAddresses.class, "WARN")) {
      assertThat(read(record(false, entry)).addresses()).as("nothing says: as written").containsExactly(entry);
      assertThat(read(record(false, entry), entry, old).addresses()).containsExactly(entry);
      assertThat(logs.lines()).hasSize(2).allSatisfy(l -> assertThat(l).contains("owned.json").contains(entry)
          .contains(old).contains("kept as written"));
    }
  }

  @Test
  void anEntryNoSpellingReadsIsKeptAsItIsAndWarnedOf() {
    try (LogCapture logs = LogCapture.of(OwnedAddresses.class, "WARN")) {
      OwnedAddresses o = read(record(false, "x[\"\\q\"]", 7, "x[\"ok\"]"));
      assertThat(o.addresses()).containsExactlyInAnyOrder("x[\"\\q\"]", "x[\"ok\"]");
      assertThat(o.toRecord().path("addresses").toString()).isEqualTo("[\"x[\\\"\\\\q\\\"]\",\"x[\\\"ok\\\"]\",7]");
      assertThat(logs.lines()).hasSize(2);
      ObjectNode notAList = Documents.nodes().objectNode();
      notAList.put("addresses", "x");
      OwnedAddresses none = read(notAList);
      assertThat(none.addresses()).isEmpty();
      assertThat(none.toRecord().path("addresses").toString()).as("kept").isEqualTo("[\"x\"]");
      assertThat(logs.lines()).hasSize(3);
    }
  }

  @Test
  void theOldSpellingIsReadAsTheOldCodeWroteIt() {
    assertThat(OwnedAddresses.oldUnquote("a\\\"b\\\\c\\nd\\re\\tf${g}\u0001")).isEqualTo("a\"b\\c\nd\re\tf${g}\u0001");
    for (String notOld : List.of("\\u0001", "\\q", "a\"b", "x\\")) {
      assertThat(OwnedAddresses.oldUnquote(notOld)).as(notOld).isNull();
    }
  }
}
