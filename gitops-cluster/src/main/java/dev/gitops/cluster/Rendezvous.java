package dev.gitops.cluster;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Rendezvous (highest random weight) hashing: every member scores every target and the highest
 * score wins. No member assigns targets to the others, and every member computes the same answer
 * from the same membership. When a member joins it takes only the targets it now wins, and when
 * one leaves only its own targets move: about 1/M of them either way.
 *
 * <pre>{@code
 * Optional<String> owner = Rendezvous.owner("payments", Set.of("m1", "m2", "m3"));
 * }</pre>
 */
public final class Rendezvous {

  private Rendezvous() {}

  /** The member {@code target} belongs to among {@code members}; empty when there are none. */
  public static Optional<String> owner(String target, Collection<String> members) {
    Objects.requireNonNull(target, "target");
    String best = null;
    long bestScore = 0;
    for (String m : members) {
      long s = score(m, target);
      // ties (vanishingly rare) go to the smaller name, so that every member agrees
      if (best == null || Long.compareUnsigned(s, bestScore) > 0
          || (s == bestScore && m.compareTo(best) < 0)) {
        best = m;
        bestScore = s;
      }
    }
    return Optional.ofNullable(best);
  }

  /** Every target's member, in the targets' order; empty when there are no members. */
  public static Map<String, String> assign(Collection<String> targets, Collection<String> members) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String t : targets) {
      owner(t, members).ifPresent(m -> out.put(t, m));
    }
    return out;
  }

  /** The weight of (member, target): FNV-1a over both names, finished with SplitMix64's mixer. */
  static long score(String member, String target) {
    long h = 0xcbf29ce484222325L;
    h = fnv(h, member);
    h = (h ^ 0xff) * 0x100000001b3L;  // a separator no UTF-8 text contains: ("ab","c") differs from ("a","bc")
    h = fnv(h, target);
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    h ^= h >>> 31;
    return h;
  }

  private static long fnv(long h, String s) {
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return h;
  }
}
