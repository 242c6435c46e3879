package dev.gitops.images.registry.internal;

/**
 * A text a regular expression may read only so many characters of: Java's regexes backtrack, and
 * a pattern such as {@code (.*a){12}$} over a 31-character tag runs for hours, where Flux's Go
 * regexes are linear. Every {@link #charAt} counts; past the budget it throws {@link Exhausted}.
 *
 * <pre>{@code
 * java.util.regex.Pattern pattern = java.util.regex.Pattern.compile("(.*a){12}$");
 * try {
 *   pattern.matcher(new BoundedText("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-", BoundedText.DEFAULT_STEPS)).find();
 * } catch (BoundedText.Exhausted e) {
 *   log.warn("the pattern is too slow on this tag");
 * }
 * }</pre>
 */
public final class BoundedText implements CharSequence {

  /** Characters read per match: far beyond what any sane pattern needs on a tag (at most 128 characters). */
  public static final long DEFAULT_STEPS = 2_000_000;

  /** The budget ran out. */
  public static final class Exhausted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Exhausted(long steps) {
      super("more than " + steps + " steps", null, false, false);
    }
  }

  private final String text;
  private final long budget;
  private long steps;

  /** {@code text}, of which at most {@code budget} characters may be read. */
  public BoundedText(String text, long budget) {
    this.text = text;
    this.budget = budget;
  }

  @Override
  public char charAt(int index) {
    if (++steps > budget) {
      throw new Exhausted(budget);
    }
    return text.charAt(index);
  }

  @Override
  public int length() {
    return text.length();
  }

  @Override
  public CharSequence subSequence(int start, int end) {
    return text.subSequence(start, end);  // groups read after the match: no budget needed
  }

  @Override
  public String toString() {
    return text;
  }
}
