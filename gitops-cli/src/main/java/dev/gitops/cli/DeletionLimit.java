package dev.gitops.cli;

import dev.gitops.core.plan.DeletionBudget;
import picocli.CommandLine;

/**
 * The value of {@code --max-deletions}: a count of resources ({@code 10}) or a percentage of what
 * gitops owns per provider ({@code 25%}), never both.
 *
 * @param value the count, or the percentage (0 to 100)
 * @param percent whether {@code value} is a percentage
 */
record DeletionLimit(int value, boolean percent) {

  /** The flag, as errors and refusals name it. */
  static final String FLAG = "--max-deletions";

  /** {@code budget} limited by this. */
  DeletionBudget applyTo(DeletionBudget budget) {
    return percent ? budget.withMaxPercent(value) : budget.withMaxCount(value);
  }

  @Override
  public String toString() {
    return value + (percent ? "%" : "");
  }

  /** Parses {@code 10} or {@code 25%}; anything else is refused (picocli names the flag). */
  static DeletionLimit parse(String text) {
    String t = text == null ? "" : text.strip();
    boolean percent = t.endsWith("%");
    String digits = percent ? t.substring(0, t.length() - 1) : t;
    if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9') || digits.length() > 9) {
      throw new IllegalArgumentException("'" + text + "' is neither a whole number of resources (for example 10) nor"
          + " a percentage of what gitops owns (for example 25%)");
    }
    int value = Integer.parseInt(digits);
    if (percent && value > 100) {
      throw new IllegalArgumentException("'" + text + "' is over 100%");
    }
    return new DeletionLimit(value, percent);
  }

  /** picocli's hook; its message is printed as the one-line usage error. */
  static final class Converter implements CommandLine.ITypeConverter<DeletionLimit> {
    @Override
    public DeletionLimit convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
