package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.FloatNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/**
 * A digest does not depend on the JDK: a double is written as the shortest decimal that reads back
 * as it, computed from its exact binary value, not by {@code Double.toString}, whose text JDK 17
 * gives differently for some values (JDK-4511638).
 */
class CanonicalNumbersAcrossJdksTest {

  static String text(JsonNode n) {
    return Documents.canonicalJson(Documents.freeze(n));
  }

  /**
   * The expected texts are the shortest decimals that round to each value, the closest of them
   * (with a two-digit one when one digit is enough and it is closer), as JDK 19 and later print
   * them (checked against JDK 25's Double.toString); JDK 17 prints 1.0E-323, 1.58E-322 and 1.0118E-320.
   */
  @Test
  void aDoubleIsWrittenAsItsShortestDecimalComputedFromItsExactValueNotAsThisJdkPrintsIt() {
    // 2 x 4.94e-324 = 9.88e-324: 9.9E-324 reads back as it and is closer than 1.0E-323
    assertThat(text(DoubleNode.valueOf(Double.longBitsToDouble(2)))).isEqualTo("9.9E-324");
    // 32 x 4.94e-324 = 1.581e-322: two digits (1.6E-322) read back as it
    assertThat(text(DoubleNode.valueOf(Double.longBitsToDouble(32)))).isEqualTo("1.6E-322");
    assertThat(text(DoubleNode.valueOf(Double.longBitsToDouble(2048)))).isEqualTo("1.012E-320");
    assertThat(text(DoubleNode.valueOf(Double.MIN_VALUE))).isEqualTo("4.9E-324");
    assertThat(text(DoubleNode.valueOf(0.1))).isEqualTo("0.1");
    assertThat(text(DoubleNode.valueOf(0.001))).isEqualTo("0.001");
    assertThat(text(DoubleNode.valueOf(-1.0E-5))).isEqualTo("-1.0E-5");
    assertThat(text(DoubleNode.valueOf(12345678.5))).isEqualTo("1.23456785E7");
    assertThat(text(DoubleNode.valueOf(0.1 + 0.2))).isEqualTo("0.30000000000000004");
  }

  @Test
  void integralDoublesKeepTheirIntegerTextAndZeroNanAndInfinityAreDeliberate() {
    // JDK 17 prints 1e23 as 9.999999999999999E22: the integer is the double's exact value
    assertThat(text(DoubleNode.valueOf(1.0E23))).isEqualTo("99999999999999991611392");
    assertThat(text(DoubleNode.valueOf(1.0E16))).isEqualTo("10000000000000000");
    assertThat(text(DoubleNode.valueOf(2.0))).isEqualTo("2");
    assertThat(text(DoubleNode.valueOf(-0.0))).as("-0.0 is the number 0").isEqualTo("0");
    assertThat(Documents.digest(DoubleNode.valueOf(-0.0))).isEqualTo(Documents.digest(IntNode.valueOf(0)));
    assertThat(text(DoubleNode.valueOf(Double.NaN))).isEqualTo("NaN");
    assertThat(text(DoubleNode.valueOf(Double.NEGATIVE_INFINITY))).isEqualTo("-Infinity");
    assertThat(text(FloatNode.valueOf(Float.POSITIVE_INFINITY))).isEqualTo("Infinity");
  }

  @Test
  void aFloatIsItsShortestDecimalOrWhenIntegralItsExactValueOnEveryJdk() {
    assertThat(text(FloatNode.valueOf(0.1f))).isEqualTo("0.1");
    assertThat(Documents.digest(FloatNode.valueOf(0.1f))).isEqualTo(Documents.digest(DoubleNode.valueOf(0.1)));
    // JDK 17's Float.toString writes 4.76666528E8, later JDKs 4.7666653E8: the float is the integer 476666528
    assertThat(text(FloatNode.valueOf(4.76666528E8f))).isEqualTo("476666528");
    // a float whose shortest decimal only later JDKs print: 1.4E-45 is Float.MIN_VALUE on both
    assertThat(text(FloatNode.valueOf(Float.MIN_VALUE))).isEqualTo("1.4E-45");
  }

  @Test
  void numericallyEqualValuesOfEveryNodeTypeDigestEqual() {
    JsonNode[][] equal = {
        {IntNode.valueOf(5), LongNode.valueOf(5), DecimalNode.valueOf(new BigDecimal("5.000")), DoubleNode.valueOf(5.0),
            FloatNode.valueOf(5f)},
        {DecimalNode.valueOf(new BigDecimal("0.25")), DoubleNode.valueOf(0.25), FloatNode.valueOf(0.25f)},
        {LongNode.valueOf(10_000_000_000_000_000L), DecimalNode.valueOf(new BigDecimal("1E+16")), DoubleNode.valueOf(1e16)},
        // JDK 17 turned the decimal into no double (BigDecimal.valueOf printed 1.58E-322), so it digested apart
        {DecimalNode.valueOf(new BigDecimal("1.6E-322")), DoubleNode.valueOf(Double.longBitsToDouble(32))},
        {DecimalNode.valueOf(new BigDecimal("9.9E-324")), DoubleNode.valueOf(Double.longBitsToDouble(2))},
    };
    for (JsonNode[] same : equal) {
      for (JsonNode n : same) {
        assertThat(Documents.digest(n)).as(n.getClass().getSimpleName() + " " + n + " vs " + same[0])
            .isEqualTo(Documents.digest(same[0]));
        assertThat(Documents.freeze(n)).isEqualTo(Documents.freeze(same[0]));
      }
    }
    // a decimal that is no double's shortest text stays exact, apart from the nearest double
    assertThat(text(DecimalNode.valueOf(new BigDecimal("0.10000000000000000001")))).isEqualTo("0.10000000000000000001");
  }

  /**
   * The routine other modules use for a double's text or value (a file written, a YAML float read):
   * JDK 17's {@code Double.toString} gives 1.9999999999999998E23, 9.999999999999999E22, 1.0E-323 and
   * 1.58E-322 for the first four, and BigDecimal.valueOf the values of those texts.
   */
  @Test
  void theShortestDecimalAndTextOfADoubleAreTheSameOnEveryJdk() {
    assertThat(Documents.doubleText(2.0E23)).isEqualTo("2.0E23");
    assertThat(Documents.doubleText(1.0E23)).isEqualTo("1.0E23");
    assertThat(Documents.doubleText(Double.longBitsToDouble(2))).isEqualTo("9.9E-324");
    assertThat(Documents.doubleText(Double.longBitsToDouble(32))).isEqualTo("1.6E-322");
    assertThat(Documents.doubleText(8.41E21)).isEqualTo("8.41E21");
    assertThat(Documents.doubleText(0.1 + 0.2)).isEqualTo("0.30000000000000004");
    assertThat(Documents.doubleText(1000.5)).isEqualTo("1000.5");
    assertThat(Documents.doubleText(-0.0)).isEqualTo("-0.0");
    assertThat(Documents.shortestDecimal(2.0E23)).isEqualByComparingTo("2E+23");
    assertThat(Documents.shortestDecimal(1.0E23)).isEqualByComparingTo("1E+23");
    assertThat(Documents.shortestDecimal(Double.longBitsToDouble(32))).isEqualByComparingTo("1.6E-322");
    assertThat(Documents.shortestDecimal(-2.82879384806159E17)).isEqualByComparingTo("-2.82879384806159E+17");
    assertThat(Documents.shortestDecimal(0.1)).isEqualByComparingTo("0.1");
    assertThat(Documents.shortestDecimal(-0.0)).isEqualByComparingTo("0");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Documents.shortestDecimal(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NaN");
  }
}
