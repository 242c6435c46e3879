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

  @Example
  void amountsPastTheSuffixesAreWrittenAsTheApiServerWritesThem() {
    // the server's ParseQuantity and String: no cap on decimal amounts, an exponent past E, a binary cap at 2^63-1
    String[][] cases = {{"1e30", "1e30"}, {"1E30", "1e30"}, {"1e+30", "1e30"}, {"+1E+030", "1e30"},
        {"1" + "0".repeat(30), "1e30"}, {"1000E", "1e21"}, {"100E", "100E"}, {"123" + "0".repeat(40), "1230e39"},
        {"1.5e28", "15e27"}, {"1e-200", "1e-9"}, {"-1e-200", "-1e-9"}, {"0.0000000000001", "1n"}, {"1E-3", "1e-3"}, {"8Ei", "9223372036854775807"},
        {"99999999999999Ei", "9223372036854775807"}, {"7Ei", "7Ei"}, {"1e4294967296", "1"},
        {"1e9223372036854775807", "100e-3"}, {"1" + "0".repeat(200000) + "m", "100e199995"}};
    for (String[] c : cases) {
      assertThat(Quantities.canonical(c[0])).as(c[0].length() > 40 ? c[0].substring(0, 40) : c[0]).hasValue(c[1]);
      assertThat(Quantities.isQuantity(c[0])).isTrue();
    }
    // an exponent past 64 bits: the server refuses the suffix
    assertThat(Quantities.canonical("1e9223372036854775808")).isEmpty();
    assertThat(Quantities.isQuantity("1e99999999999999999999")).isFalse();
    // a number in a quantity field: what kubectl sends for it (an integer of 64 bits as is, else a double as Go writes it)
    assertThat(Quantities.canonical(new java.math.BigDecimal("1E+30"))).isEqualTo("1e30");
    assertThat(Quantities.canonical(new java.math.BigDecimal("1" + "0".repeat(30)))).isEqualTo("1e30");
    assertThat(Quantities.canonical(new java.math.BigDecimal("100000000000000000000"))).isEqualTo("100E");
    assertThat(Quantities.canonical(new java.math.BigDecimal("18446744073709551615"))).isEqualTo("18446744073709551615");
    assertThat(Quantities.canonical(new java.math.BigDecimal("0.5"))).isEqualTo("500m");
    assertThat(Quantities.canonical(new java.math.BigDecimal("1E-7"))).isEqualTo("100e-9");
    assertThat(Quantities.canonical(new java.math.BigDecimal("2"))).isEqualTo("2");
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

  @Example
  void valuesAreTheAmountsTheServerComparesRoundedAsItReadsThem() {
    assertThat(Quantities.value("500m")).hasValue(new java.math.BigDecimal("0.5"));
    assertThat(Quantities.value("1Ki")).hasValue(new java.math.BigDecimal("1024"));
    assertThat(Quantities.value("1.5Gi").orElseThrow()).isEqualByComparingTo("1610612736");
    assertThat(Quantities.value("1e3").orElseThrow()).isEqualByComparingTo("1000");
    assertThat(Quantities.value("0.0000000001").orElseThrow()).as("up to 1n").isEqualByComparingTo("0.000000001");
    assertThat(Quantities.value("99999999999999Ei").orElseThrow()).as("capped").isEqualByComparingTo("9223372036854775807");
    assertThat(Quantities.value("-1")).hasValue(java.math.BigDecimal.ONE.negate());
    assertThat(Quantities.value("lots")).isEmpty();
  }

  @Property
  void valuesCompareAsTheAmountsDo(@ForAll @LongRange(min = -1_000_000_000L, max = 1_000_000_000L) long a,
      @ForAll @LongRange(min = -1_000_000_000L, max = 1_000_000_000L) long b, @ForAll @IntRange(min = 0, max = 2) int form) {
    // the same amounts in milli-units, written in three forms the server reads alike
    java.util.function.LongFunction<String> write = switch (form) {
      case 0 -> n -> n + "m";
      case 1 -> n -> java.math.BigDecimal.valueOf(n, 3).toPlainString();
      default -> n -> n + "e-3";
    };
    int compared = Quantities.value(write.apply(a)).orElseThrow().compareTo(Quantities.value(b + "m").orElseThrow());
    assertThat(Integer.signum(compared)).as(a + " vs " + b).isEqualTo(Long.compare(a, b));
  }

  @Property
  void aValueIsTheValueOfItsCanonicalText(@ForAll("quantities") String q) {
    assertThat(Quantities.value(Quantities.canonical(q).orElseThrow())).as(q).isEqualTo(Quantities.value(q));
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
