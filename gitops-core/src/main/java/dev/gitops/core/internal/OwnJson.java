package dev.gitops.core.internal;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * JSON that gitops wrote itself (its state stores, plan files) is read without Jackson's limits for
 * untrusted input: a store holds whatever documents a sync applied (a 21 MB file as one string, a
 * 1,500-digit number, a field name of 60,000 characters, arrays nested 998 deep inside the record's
 * own levels), and what it wrote it must read back, or every later sync of the target fails on a
 * store it calls corrupt. Input from Git is bounded where it is decoded, not here.
 *
 * <pre>{@code
 * ObjectMapper mapper = OwnJson.trusting(new ObjectMapper());
 * }</pre>
 */
public final class OwnJson {

  /** No bound on a number's digits, a string's or a name's length, or the depth of nesting. */
  public static final StreamReadConstraints READ = StreamReadConstraints.builder()
      .maxNumberLength(Integer.MAX_VALUE)
      .maxStringLength(Integer.MAX_VALUE)
      .maxNameLength(Integer.MAX_VALUE)
      .maxNestingDepth(Integer.MAX_VALUE)
      .build();

  /** No bound on the depth of nesting written (a record's levels come on top of its document's). */
  public static final StreamWriteConstraints WRITE = StreamWriteConstraints.builder()
      .maxNestingDepth(Integer.MAX_VALUE)
      .build();

  private OwnJson() {}

  /** {@code mapper}, its factory set to read and write without those bounds. */
  public static <M extends ObjectMapper> M trusting(M mapper) {
    mapper.getFactory().setStreamReadConstraints(READ);
    mapper.getFactory().setStreamWriteConstraints(WRITE);
    return mapper;
  }
}
