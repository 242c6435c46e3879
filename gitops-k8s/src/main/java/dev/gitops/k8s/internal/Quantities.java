package dev.gitops.k8s.internal;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kubernetes resource quantities ({@code 500m}, {@code 1Gi}, {@code 1e3}) in the canonical form
 * the API server stores: the same amount always has the same text, so {@code 1000m} and {@code
 * 1} are both {@code "1"} and {@code 1Gi} and {@code 1024Mi} are both {@code "1Gi"}. The rules
 * are the API machinery's ({@code resource.ParseQuantity} and {@code Quantity.String}): the format
 * of the input is kept (binary, decimal or exponent), amounts are rounded up to nano units, a
 * binary amount over 2^63-1 is capped there (a decimal one is not capped), the largest suffix that
 * leaves an integer mantissa is chosen, a decimal amount past {@code E} (10^18) is written with an
 * exponent ({@code 1e21}, as the API machinery writes it since it stopped printing {@code 1} for
 * it), and binary amounts below 1024, not whole or not a multiple of 1024 fall back to decimal. The
 * last is where this departs from the server's own text: it prints {@code 937.5Ki} as {@code
 * 960000}, which it reads back as decimal and prints as {@code 960k}; here both are {@code 960k},
 * so the canonical form of a canonical form is itself and a field set to {@code 937.5Ki} does not
 * drift. An exponent is any 64-bit integer, as the server reads it ({@code 1e30}, {@code 1E-200});
 * one past that is not a quantity.
 *
 * <pre>{@code
 * Quantities.canonical("0.5");     // Optional["500m"]
 * Quantities.canonical("2048Ki");  // Optional["2Mi"]
 * Quantities.canonical("1E30");    // Optional["1e30"]
 * Quantities.canonical("lots");    // Optional.empty()
 * }</pre>
 */
public final class Quantities {

  private static final Pattern QUANTITY =
      Pattern.compile("([+-]?)(\\d+\\.?\\d*|\\.\\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\\d+)?");
  private static final String[] BINARY = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  private static final BigInteger K1024 = BigInteger.valueOf(1024);
  /** Where the API machinery caps a binary amount ({@code maxAllowed}). */
  private static final BigInteger MAX_BINARY = BigInteger.valueOf(Long.MAX_VALUE);
  private static final BigInteger MAX_UNSIGNED = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
  private static final BigInteger MIN_SIGNED = BigInteger.valueOf(Long.MIN_VALUE);

  private enum Format { BINARY, DECIMAL, EXPONENT }

  private Quantities() {}

  /**
   * Whether the API server takes {@code text} for a quantity (surrounding whitespace aside): an
   * optionally signed decimal number, then nothing, a binary suffix ({@code Ki} ... {@code Ei}), a
   * decimal one ({@code n u m k M G T P E}) or an exponent ({@code e3}, {@code E-200}) that is a
   * 64-bit integer. Every such text has a {@link #canonical(String)} form.
   */
  public static boolean isQuantity(String text) {
    return canonical(text).isPresent();
  }

  /** The canonical text of {@code text}, or empty when it is not a quantity the API server takes. */
  public static Optional<String> canonical(String text) {
    return parse(text).map(p -> format(p.negative(), p.amount(), p.exponent(), p.format()));
  }

  /**
   * The amount {@code text} stands for as the API server holds it ({@code 500m} is 0.5, {@code 1Ki}
   * 1024; read from its canonical text, so rounded up to {@code 1n} and capped as the server's
   * parse does), or empty when it is not a quantity the API server takes, or its exponent is past
   * what a comparison can hold. For comparing quantities as the server does ({@code Quantity.Cmp}):
   * a limit below its request.
   *
   * <pre>{@code
   * Quantities.value("1500m").get().compareTo(Quantities.value("2").get());  // -1
   * }</pre>
   */
  public static Optional<BigDecimal> value(String text) {
    return canonical(text).flatMap(Quantities::parse).flatMap(p -> {
      if (p.exponent() < -Integer.MAX_VALUE || p.exponent() > Integer.MAX_VALUE) {
        return Optional.empty();
      }
      BigDecimal v = new BigDecimal(p.amount(), (int) -p.exponent());
      return Optional.of(p.negative() ? v.negate() : v);
    });
  }

  /** A quantity read: its sign, the amount times 10 to the exponent, and the form its canonical text takes. */
  private record Parsed(boolean negative, BigInteger amount, long exponent, Format format) {}

  private static Optional<Parsed> parse(String text) {
    Matcher m = QUANTITY.matcher(text.trim());
    if (!m.matches()) {
      return Optional.empty();
    }
    String number = m.group(2);
    int dot = number.indexOf('.');
    String digits = dot < 0 ? number : number.substring(0, dot) + number.substring(dot + 1);
    long exponent = dot < 0 ? 0 : -(number.length() - dot - 1);
    String suffix = m.group(3) == null ? "" : m.group(3);
    Format format = Format.DECIMAL;
    BigInteger scale = BigInteger.ONE;
    if (suffix.endsWith("i")) {
      format = Format.BINARY;
      scale = K1024.pow(java.util.Arrays.asList(BINARY).indexOf(suffix));
    } else if (suffix.startsWith("e") || suffix.startsWith("E") && suffix.length() > 1) {
      format = Format.EXPONENT;
      try {
        // the server reads the exponent as a 64-bit integer and keeps its low 32 bits (Go's int32())
        exponent += (int) Long.parseLong(suffix.substring(1));
      } catch (NumberFormatException e) {
        return Optional.empty();  // past 64 bits: the server refuses the suffix
      }
    } else if (!suffix.isEmpty()) {
      exponent += decimalExponent(suffix);
    }
    int end = digits.length();
    while (end > 1 && digits.charAt(end - 1) == '0') {
      end--;  // trailing zeros go into the exponent here, where they cost nothing (a digit string may be long)
    }
    exponent += digits.length() - end;
    BigInteger amount = new BigInteger(digits.substring(0, end)).multiply(scale);
    return Optional.of(new Parsed(m.group(1).equals("-"), amount, exponent, format));
  }

  /**
   * The canonical text of a JSON number written where a quantity belongs ({@code cpu: 2}), as the
   * API server stores what kubectl sends for it: an integer of 64 bits as written, any other number
   * as the nearest double, written as Go writes one ({@code 1e+30} from {@code 1e30} or {@code
   * 1000000000000000000000000000000}, {@code 0.5}), which the server reads as a quantity.
   */
  public static String canonical(BigDecimal number) {
    BigDecimal n = number.stripTrailingZeros();
    // kubectl's YAML reader keeps an int64 or a uint64 as written, and reads any other number as a double
    if (n.scale() <= 0 && n.precision() - n.scale() <= 20 && n.toBigInteger().compareTo(MAX_UNSIGNED) <= 0
        && n.toBigInteger().compareTo(MIN_SIGNED) >= 0) {
      return format(n.signum() < 0, n.unscaledValue().abs(), -n.scale(), Format.DECIMAL);
    }
    double d = n.doubleValue();
    if (Double.isInfinite(d)) {
      // past a double, kubectl's YAML reader keeps the number's text, a decimal quantity
      return format(n.signum() < 0, n.unscaledValue().abs(), -(long) n.scale(), Format.DECIMAL);
    }
    BigDecimal nearest = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    double abs = Math.abs(d);
    // Go's encoding/json writes a float64 with an exponent below 1e-6 and from 1e21 on
    Format format = abs != 0 && (abs < 1e-6 || abs >= 1e21) ? Format.EXPONENT : Format.DECIMAL;
    return format(nearest.signum() < 0, nearest.unscaledValue().abs(), -(long) nearest.scale(), format);
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

  /** The text of {@code amount * 10^exponent}, negated when {@code negative}, in {@code format}. */
  private static String format(boolean negative, BigInteger amount, long exponent, Format format) {
    if (amount.signum() == 0) {
      return "0";
    }
    // the server keeps nano precision and rounds anything finer up (away from zero)
    if (exponent < -9) {
      long finer = -9 - exponent;
      if (3 * finer >= amount.bitLength()) {
        amount = BigInteger.ONE;  // 10^finer > 8^finer >= 2^bitLength > amount: below 1n, rounded up to it
      } else {
        BigInteger[] qr = amount.divideAndRemainder(BigInteger.TEN.pow((int) finer));
        amount = qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
      }
      exponent = -9;
    }
    String sign = negative ? "-" : "";
    if (format == Format.BINARY) {
      // capped at 2^63-1; an exponent of 19 or more is past it with any amount
      if (exponent >= 19 || exponent >= 0 && amount.multiply(BigInteger.TEN.pow((int) exponent)).compareTo(MAX_BINARY) > 0) {
        amount = MAX_BINARY;
        exponent = 0;
      }
      BigInteger v = exponent >= 0 ? amount.multiply(BigInteger.TEN.pow((int) exponent)) : null;
      if (v == null && amount.mod(BigInteger.TEN.pow((int) -exponent)).signum() == 0) {
        v = amount.divide(BigInteger.TEN.pow((int) -exponent));
      }
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
    // mantissa * 10^exp, no factor of ten in the mantissa, then exp down to a multiple of 3
    BigInteger thousand = BigInteger.valueOf(1000);
    BigInteger[] qr = amount.divideAndRemainder(thousand);
    while (qr[1].signum() == 0) {
      amount = qr[0];
      exponent += 3;
      qr = amount.divideAndRemainder(thousand);
    }
    while (amount.mod(BigInteger.TEN).signum() == 0) {
      amount = amount.divide(BigInteger.TEN);
      exponent++;
    }
    int rem = (int) Math.floorMod(exponent, 3L);
    if (rem != 0) {
      amount = amount.multiply(BigInteger.TEN.pow(rem));
      exponent -= rem;
    }
    if (format == Format.EXPONENT || exponent > 18) {
      // past E no decimal suffix is left: the API machinery writes the exponent
      return sign + amount + (exponent == 0 ? "" : "e" + exponent);
    }
    String suffix = switch ((int) exponent) {
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
      default -> throw new IllegalStateException("exponent " + exponent);
    };
    return sign + amount + suffix;
  }
}
