package dev.gitops.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class QuantitiesProperties {

  @Example
  void knownCanonicalForms() {
    String[][] cases = {{"1000m", "1"}, {"1", "1"}, {"0.5", "500m"}, {"1.5", "1500m"}, {"2000", "2k"},
        {"1500", "1500"}, {"1Gi", "1Gi"}, {"1024Mi", "1Gi"}, {"1.5Gi", "1536Mi"}, {"512", "512"}, {"0.5Ki", "512"},
        {"100Ki", "100Ki"}, {"1e3", "1e3"}, {"1000e0", "1e3"}, {"0", "0"}, {"0Gi", "0"}, {"-1500m", "-1500m"},
        {"0.0000000001", "1n"}, {"12M", "12M"}, {"12000k", "12M"},
        // binary, whole, not a multiple of 1024: decimal, as the server reads its own suffix-less text back
        {"937.5Ki", "960k"}, {"960000", "960k"}, {"1.5Ki", "1536"}, {"1025", "1025"}, {"-937.5Ki", "-960k"},
        {"1.5Mi", "1536Ki"}};
    for (String[] c : cases) {
      assertThat(Quantities.canonical(c[0])).as(c[0]).hasValue(c[1]);
    }
    assertThat(Quantities.canonical("lots")).isEmpty();
    assertThat(Quantities.canonical("1Xi")).isEmpty();
  }

  @Property
  void canonicalFormIsStable(@ForAll("quantities") String q) {
    String once = Quantities.canonical(q).orElseThrow();
    assertThat(Quantities.canonical(once)).as(q).hasValue(once);
  }

  @Property
  void equalAmountsOfOneFormatHaveOneText(@ForAll @LongRange(min = 1, max = 1_000_000_000L) long n,
      @ForAll @IntRange(min = 0, max = 3) int power) {
    String[] binary = {"Ki", "Mi", "Gi", "Ti", "Pi"};
    String[] decimal = {"k", "M", "G", "T", "P"};
    assertThat(Quantities.canonical(n * 1024 + binary[power])).isEqualTo(Quantities.canonical(n + binary[power + 1]));
    assertThat(Quantities.canonical(n * 1000 + decimal[power])).isEqualTo(Quantities.canonical(n + decimal[power + 1]));
    assertThat(Quantities.canonical(n * 1000 + "m")).isEqualTo(Quantities.canonical(Long.toString(n)));
  }

  @Provide
  Arbitrary<String> quantities() {
    Arbitrary<String> number = Combinators.combine(Arbitraries.longs().between(0, 10_000_000),
        Arbitraries.integers().between(0, 6)).as((n, scale) -> new java.math.BigDecimal(java.math.BigInteger.valueOf(n), scale)
        .toPlainString());
    Arbitrary<String> suffix = Arbitraries.of("", "Ki", "Mi", "Gi", "Ti", "n", "u", "m", "k", "M", "G", "e3", "e-3", "E6");
    return Combinators.combine(Arbitraries.of("", "-"), number, suffix).as((s, n, x) -> s + n + x);
  }
}
