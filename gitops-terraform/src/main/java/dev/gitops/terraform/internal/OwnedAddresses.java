package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The addresses in the record of the objects gitops manages in a working directory ({@code
 * .gitops-terraform/owned.json}), read in Terraform's spelling of instance keys ({@link
 * Addresses#quote}: the key <code>${a}</code> is {@code x["$${a}"]}), whatever spelling wrote them.
 *
 * <p>Records written before the provider quoted keys as Terraform does hold them in the old
 * spelling, where only a quote, a backslash and {@code \n}, {@code \r}, {@code \t} were escaped
 * ({@code x["${a}"]}, a control character as itself): such an entry is read back as the key it
 * holds and spelled anew, so an object recorded as gitops's stays gitops's. An entry both spellings
 * read, as two different keys (only <code>$${</code> or <code>%%{</code> does that), is the new
 * spelling's in a record that says it was written in it ({@value #SPELLING}); otherwise the state
 * decides, and when it cannot, the entry is kept as written, with a warning. An entry neither
 * spelling reads (hand-edited, not a string) is kept as it is and warned of, never dropped.
 *
 * <pre>{@code
 * ObjectNode record = Documents.nodes().objectNode();
 * record.putArray("addresses").add("terraform_data.x[\"${a}\"]");  // the old spelling of the key ${a}
 * OwnedAddresses owned = OwnedAddresses.read(record, Set.of(), "owned.json");
 * owned.contains("terraform_data.x[\"$${a}\"]");  // true: Terraform's spelling of that key
 * ObjectNode rewritten = owned.toRecord();          // in Terraform's spelling, saying so
 * }</pre>
 */
public final class OwnedAddresses {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OwnedAddresses.class);

  /** The field of a record saying that its addresses are spelled as Terraform quotes instance keys. */
  public static final String SPELLING = "addressSpelling";
  /** Its value: Terraform's quoting of instance keys ({@link Addresses#quote}). */
  public static final String TERRAFORM = "terraform";

  private final ObjectNode record;
  private final SortedSet<String> addresses;
  private final List<JsonNode> unreadable;
  private final boolean respelled;

  private OwnedAddresses(ObjectNode record, SortedSet<String> addresses, List<JsonNode> unreadable,
      boolean respelled) {
    this.record = record;
    this.addresses = addresses;
    this.unreadable = unreadable;
    this.respelled = respelled;
  }

  /**
   * Reads the {@code addresses} of {@code record}.
   *
   * @param inState the addresses of the objects of the state (Terraform's spelling), which decide
   *     what an entry both spellings read, as different keys, holds in a record that does not say
   * @param where the record's file, for warnings
   */
  public static OwnedAddresses read(ObjectNode record, Set<String> inState, Object where) {
    boolean saysTerraform = TERRAFORM.equals(record.path(SPELLING).asText(""));
    SortedSet<String> addresses = new TreeSet<>();
    List<JsonNode> unreadable = new ArrayList<>();
    boolean respelled = !saysTerraform;
    JsonNode list = record.path("addresses");
    if (!list.isMissingNode() && !list.isArray()) {
      LOG.warn("the record {} holds 'addresses' that are not a list ({}): kept as it is; it counts no object as"
          + " gitops's, so a destroy of one is held back until it is declared in Git again", where, list);
      unreadable.add(list);
      return new OwnedAddresses(record, addresses, unreadable, false);
    }
    for (JsonNode entry : list) {
      if (!entry.isTextual()) {
        LOG.warn("the record {} holds an entry that is not an address ({}): kept as it is", where, entry);
        unreadable.add(entry);
        continue;
      }
      String written = entry.asText();
      String read = spelled(written, saysTerraform, inState, where);
      respelled |= !read.equals(written);
      addresses.add(read);
    }
    return new OwnedAddresses(record, addresses, unreadable, respelled);
  }

  /** {@code written} in Terraform's spelling, as {@link #read} takes it. */
  private static String spelled(String written, boolean saysTerraform, Set<String> inState, Object where) {
    int open = quotedKeyStart(written);
    if (open < 0) {
      return written;  // no string key (none, or a number): both spellings are the same
    }
    String prefix = written.substring(0, open);
    String inner = written.substring(open + 1, written.length() - 2);
    String asNew = VariableFiles.unescape(inner);
    boolean newReads = Addresses.quote(asNew).equals("\"" + inner + "\"");
    String asOld = oldUnquote(inner);
    String fromOld = asOld == null ? null : prefix + Addresses.quote(asOld) + "]";
    if (fromOld == null || fromOld.equals(written)) {
      if (!newReads) {
        LOG.warn("the record {} holds '{}', which reads as no instance key of Terraform's: kept as it is", where,
            written);
      }
      return written;
    }
    if (!newReads || !saysTerraform && inState.contains(fromOld) && !inState.contains(written)) {
      return fromOld;  // the old spelling's (x["${a}"]), spelled as Terraform does (x["$${a}"])
    }
    if (!saysTerraform && !(inState.contains(written) && !inState.contains(fromOld))) {
      LOG.warn("the record {} holds '{}', which is either '{}' (as written before gitops quoted keys as Terraform"
          + " does) or itself, and the state does not say which: kept as written", where, written, fromOld);
    }
    return written;
  }

  /**
   * Where the quoted instance key that ends {@code address} starts (its opening quote, after a
   * {@code [}), or -1 when it does not end with one.
   */
  private static int quotedKeyStart(String address) {
    if (!address.endsWith("\"]")) {
      return -1;
    }
    int open = -1;
    int close = -1;
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      if (open > close) {  // inside a quoted key
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          close = i;
        }
      } else if (c == '"') {
        open = i;
      }
    }
    return close == address.length() - 2 && open > 0 && address.charAt(open - 1) == '[' ? open : -1;
  }

  /**
   * The key {@code inner} holds in the spelling of records written before keys were quoted as
   * Terraform does: a quote, a backslash, a line feed, a carriage return and a tab escaped, every
   * other character as itself. Null when {@code inner} is not in that spelling.
   */
  static String oldUnquote(String inner) {
    StringBuilder out = new StringBuilder(inner.length());
    for (int i = 0; i < inner.length(); i++) {
      char c = inner.charAt(i);
      if (c == '"') {
        return null;
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (++i == inner.length()) {
        return null;
      }
      switch (inner.charAt(i)) {
        case '"' -> out.append('"');
        case '\\' -> out.append('\\');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        default -> {
          return null;
        }
      }
    }
    return out.toString();
  }

  /** Whether {@code address} (Terraform's spelling) is in the record. */
  public boolean contains(String address) {
    return addresses.contains(address);
  }

  /** The addresses read, in Terraform's spelling, sorted (entries no spelling reads are among them as written). */
  public Set<String> addresses() {
    return Collections.unmodifiableSortedSet(addresses);
  }

  /** Adds {@code address}; whether it was not there. */
  public boolean add(String address) {
    return addresses.add(address);
  }

  /** Removes {@code address}; whether it was there. */
  public boolean remove(String address) {
    return addresses.remove(address);
  }

  /** Whether the record on disk spells its addresses otherwise than {@link #toRecord} would, or does not say how. */
  public boolean respelled() {
    return respelled;
  }

  /**
   * The record to write: its other fields as read, its addresses in Terraform's spelling, sorted,
   * then the entries kept as they were, and {@value #SPELLING} saying so.
   */
  public ObjectNode toRecord() {
    ObjectNode out = record.deepCopy();
    ArrayNode list = out.putArray("addresses");
    addresses.forEach(list::add);
    unreadable.forEach(list::add);
    out.put(SPELLING, TERRAFORM);
    return out;
  }
}
