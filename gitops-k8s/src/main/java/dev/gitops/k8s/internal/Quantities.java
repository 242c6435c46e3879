package dev.gitops.k8s.internal;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kubernetes resource quantities ({@code 500m}, {@code 1Gi}, {@code 1e3}) in the canonical form
 * the API server stores: the same amount always has the same text, so {@code 1000m} and {@code
 * 1} are both {@code "1"} and {@code 1Gi} and {@code 1024Mi} are both {@code "1Gi"}. The rules
 * are the API machinery's: the format of the input is kept (binary, decimal or exponent), amounts
 * are rounded up to nano units, the largest suffix that leaves an integer mantissa is chosen, and
 * binary amounts below 1024, not whole or not a multiple of 1024 fall back to decimal. The last is
 * where this departs from the server's own text: it prints {@code 937.5Ki} as {@code 960000}, which
 * it reads back as decimal and prints as {@code 960k}; here both are {@code 960k}, so the canonical
 * form of a canonical form is itself and a field set to {@code 937.5Ki} does not drift.
 *
 * <pre>{@code
 * Quantities.canonical("0.5");     // Optional["500m"]
 * Quantities.canonical("2048Ki");  // Optional["2Mi"]
 * Quantities.canonical("lots");    // Optional.empty()
 * }</pre>
 */
public final class Quantities {

  private static final Pattern QUANTITY =
      Pattern.compile("([+-]?)(\\d+\\.?\\d*|\\.\\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\\d+)?");
  private static final String[] BINARY = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  private static final BigInteger K1024 = BigInteger.valueOf(1024);
  private static final BigDecimal NANO_LIMIT = new BigDecimal("1E+27");

  private enum Format { BINARY, DECIMAL, EXPONENT }

  private Quantities() {}

  /**
   * Whether {@code text} is written as a quantity, as the API server parses one (surrounding
   * whitespace aside): an optionally signed decimal number, then nothing, a binary suffix ({@code
   * Ki} ... {@code Ei}), a decimal one ({@code n u m k M G T P E}) or an exponent ({@code e3}).
   * Not whether the amount is in range: {@link #canonical(String)} may still be empty for it.
   */
  public static boolean isQuantity(String text) {
    return QUANTITY.matcher(text.trim()).matches();
  }

  /** The canonical text of {@code text}, or empty when it is not a quantity. */
  public static Optional<String> canonical(String text) {
    Matcher m = QUANTITY.matcher(text.trim());
    if (!m.matches()) {
      return Optional.empty();
    }
    BigDecimal amount = new BigDecimal(m.group(2).endsWith(".") ? m.group(2) + "0" : m.group(2));
    if (m.group(1).equals("-")) {
      amount = amount.negate();
    }
    String suffix = m.group(3) == null ? "" : m.group(3);
    Format format = Format.DECIMAL;
    if (suffix.endsWith("i")) {
      format = Format.BINARY;
      int power = java.util.Arrays.asList(BINARY).indexOf(suffix);
      amount = amount.multiply(new BigDecimal(K1024.pow(power)));
    } else if (suffix.startsWith("e") || suffix.startsWith("E")) {
      format = Format.EXPONENT;
      int exp;
      try {
        exp = Integer.parseInt(suffix.substring(1).replace("+", ""));
      } catch (NumberFormatException e) {
        return Optional.empty();  // an exponent beyond int is not a quantity the server accepts either
      }
      if (Math.abs(exp) > 100) {
        return Optional.empty();
      }
      amount = amount.scaleByPowerOfTen(exp);
    } else if (!suffix.isEmpty()) {
      amount = amount.scaleByPowerOfTen(decimalExponent(suffix));
    }
    if (amount.abs().compareTo(NANO_LIMIT) > 0) {
      return Optional.empty();
    }
    return Optional.of(format(amount, format));
  }

  /** The canonical text of a JSON number written where a quantity belongs ({@code cpu: 2}). */
  public static String canonical(BigDecimal number) {
    return format(number, Format.DECIMAL);
  }

  private static int decimalExponent(String suffix) {
    return switch (suffix) {
      case "n" -> -9;
      case "u" -> -6;
      case "m" -> -3;
      case "k" -> 3;
      case "M" -> 6;
      case "G" -> 9;
      case "T" -> 12;
      case "P" -> 15;
      case "E" -> 18;
      default -> throw new IllegalArgumentException(suffix);
    };
  }

  private static String format(BigDecimal amount, Format format) {
    // the server keeps nano precision and rounds anything finer up (away from zero)
    BigDecimal a = amount.setScale(9, RoundingMode.UP).stripTrailingZeros();
    if (a.signum() == 0) {
      return "0";
    }
    String sign = a.signum() < 0 ? "-" : "";
    a = a.abs();
    if (format == Format.BINARY) {
      BigInteger v = a.scale() <= 0 ? a.toBigIntegerExact() : null;  // a has no trailing zeros
      if (v != null && v.mod(K1024).signum() == 0) {
        int power = 0;
        while (power < BINARY.length - 1 && v.mod(K1024).signum() == 0) {
          v = v.divide(K1024);
          power++;
        }
        return sign + v + BINARY[power];
      }
      // below 1024, not whole, or not a multiple of 1024 (937.5Ki): the server prints it without a
      // binary suffix and reads that text back as decimal, so the decimal form is the one every
      // text of the amount ends at
      format = Format.DECIMAL;
    }
    // mantissa * 10^exp with exp a multiple of 3 and the mantissa an integer, exp as large as possible
    BigInteger unscaled = a.unscaledValue();
    int exp = -a.scale();
    int rem = Math.floorMod(exp, 3);
    if (rem != 0) {
      unscaled = unscaled.multiply(BigInteger.TEN.pow(rem));
      exp -= rem;
    }
    BigInteger thousand = BigInteger.valueOf(1000);
    int max = format == Format.EXPONENT ? Integer.MAX_VALUE : 18;
    while (exp < max && unscaled.mod(thousand).signum() == 0 && unscaled.signum() != 0) {
      unscaled = unscaled.divide(thousand);
      exp += 3;
    }
    if (format == Format.EXPONENT) {
      return sign + unscaled + (exp == 0 ? "" : "e" + exp);
    }
    while (exp > 18) {
      unscaled = unscaled.multiply(thousand);
      exp -= 3;
    }
    String suffix = switch (exp) {
      case -9 -> "n";
      case -6 -> "u";
      case -3 -> "m";
      case 0 -> "";
      case 3 -> "k";
      case 6 -> "M";
      case 9 -> "G";
      case 12 -> "T";
      case 15 -> "P";
      case 18 -> "E";
      default -> throw new IllegalStateException("exponent " + exp);
    };
    return sign + unscaled + suffix;
  }
}
