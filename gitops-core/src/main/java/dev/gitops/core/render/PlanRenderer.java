package dev.gitops.core.render;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.redact.Redactor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders a {@link Plan} for people, the way {@code terraform plan} does: one block per change
 * with its action symbol ({@code +} create, {@code ~} update, {@code -} delete, {@code -/+}
 * replace, {@code !} skip), key and reason, then one line per changed field with its
 * key-addressed path and {@code before -> after}. Multi-line text values are shown as a line
 * diff. Every change goes through {@link Redactor}, so values under a sensitive path are shown as
 * {@code (sensitive)} whatever the action. Names, paths, reasons and text lines are shown with
 * control characters escaped; in Markdown every one of them is escaped or fenced, so a hostile
 * file name cannot add a row, a heading, a link or HTML to a pull-request comment.
 *
 * <p>These are the renderings the {@code gitops} command-line tool prints ({@code gitops plan},
 * {@code gitops diff --format text|markdown|json}); an embedding application gets the same output
 * with one call:
 *
 * <pre>{@code
 * Plan plan = reconciler.plan();
 * log.info("{}", PlanRenderer.text(plan));                    // terraform-plan style
 * String comment = PlanRenderer.markdown(plan);               // for a pull-request comment
 * String artifact = PlanRenderer.json(plan, store.secretKey()); // the reviewable plan file
 * }</pre>
 */
public final class PlanRenderer {

  /** What a sensitive value is shown as. */
  public static final String SENSITIVE = Redactor.MARKER;

  private static final int MAX_VALUE_CHARS = 200;
  private static final int MAX_VALUE_LINES = 200;
  private static final int CONTEXT = 2;
  private static final Pattern SHA = Pattern.compile("(sha1:[0-9a-f]{12})[0-9a-f]{28}");
  /** A line break and the blanks around it (compiled once: {@link #oneLine} runs per change of a plan). */
  private static final Pattern LINE_BREAK = Pattern.compile("\\s*\\R\\s*");

  /** One rendered line: a symbol, a depth and the text. */
  record Line(String symbol, int depth, String text) {}

  private PlanRenderer() {}

  /**
   * The plan as text: a header, every change that does something or is skipped (with why), and
   * the summary. "No changes" only when every change is a NOOP and the plan is complete: a
   * skipped change (an object we did not create, a replace that prune forbids) is listed even
   * when nothing else would change.
   */
  public static String text(Plan plan) {
    StringBuilder sb = new StringBuilder();
    sb.append("Plan ").append(shortId(plan.id())).append(" for ").append(shortRevision(plan.revision())).append('\n');
    if (plan.isQuiet()) {
      sb.append("No changes: the live system matches the desired state.\n");
    } else {
      sb.append('\n').append(changesText(plan)).append('\n');
    }
    sb.append("Plan: ").append(plan.summary()).append('\n');
    return sb.toString();
  }

  /** Only the change blocks of the plan, as text (empty when nothing changes). */
  public static String changesText(Plan plan) {
    StringBuilder sb = new StringBuilder();
    appendChanges(plan, sb);
    return sb.toString();
  }

  /**
   * Appends the text {@link #changesText} returns to {@code out} line by line as each change is
   * rendered, without building the whole text first (a first sync of 10,000 files prints about
   * 12 MB of it):
   *
   * <pre>{@code
   * java.io.PrintWriter out = new java.io.PrintWriter(System.out);
   * PlanRenderer.appendChanges(plan, out);
   * out.flush();
   * }</pre>
   *
   * @throws UncheckedIOException when {@code out} throws
   */
  public static void appendChanges(Plan plan, Appendable out) {
    lines(plan, l -> {
      try {
        for (int i = 0; i < 1 + 2 * l.depth(); i++) {
          out.append("  ");
        }
        if (l.symbol().isEmpty()) {
          out.append("  ");
        } else {
          out.append(l.symbol()).append(' ');
        }
        out.append(l.text()).append('\n');
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /**
   * The plan as Markdown for a pull-request comment: a heading, the summary, a table of the
   * changes and a fenced {@code diff} block with the field changes.
   */
  public static String markdown(Plan plan) {
    StringBuilder sb = new StringBuilder();
    sb.append("### gitops plan ").append(code(shortId(plan.id()), false)).append(" for ")
        .append(code(shortRevision(plan.revision()), false)).append("\n\n");
    sb.append("**").append(plan.summary()).append("**\n\n");
    List<Change> shown = shown(plan);
    if (plan.isQuiet()) {
      sb.append("No changes: the live system matches the desired state.\n");
      return sb.toString();
    }
    sb.append("| | Resource | Action | Why |\n|:-:|---|---|---|\n");
    for (Change c : shown) {
      sb.append("| `").append(symbol(c.action())).append("` | ").append(code(printableName(c.key().toString()), true)).append(" | ")
          .append(c.action().name().toLowerCase(Locale.ROOT)).append(flags(c)).append(" | ")
          .append(cell(c.reason())).append(" |\n");
    }
    for (ResourceKey k : plan.unknown()) {
      sb.append("| `?` | ").append(code(printableName(k.toString()), true)).append(" | unknown | could not be observed |\n");
    }
    plan.unobserved().forEach((what, why) -> sb.append("| `?` | ").append(cell(what)).append(" | unknown | ")
        .append(cell(why)).append(" |\n"));
    StringBuilder diff = new StringBuilder();
    lines(plan, l -> {
      // A diff block colours lines by their first character: a replace is both, shown as '!'.
      String sym = l.symbol().isEmpty() ? " " : l.symbol().equals("-/+") ? "!" : l.symbol().substring(0, 1);
      diff.append(sym).append(' ').append("  ".repeat(2 * l.depth())).append(l.text()).append('\n');
    });
    String fence = "`".repeat(Math.max(3, longestBacktickRun(diff) + 1));
    sb.append("\n<details open><summary>Changes in detail</summary>\n\n");
    sb.append(fence).append("diff\n").append(diff).append(fence).append("\n\n</details>\n");
    return sb.toString();
  }

  /**
   * The plan as the JSON review artifact {@link PlanCodec#toJson} writes (sensitive values hashed
   * under {@code secretKey}, so the text never holds a secret), ending in a line break like the
   * other renderings. {@link PlanCodec#fromJson} reads it back for {@code Reconciler.apply}.
   */
  public static String json(Plan plan, byte[] secretKey) {
    return PlanCodec.toJson(plan, secretKey) + "\n";
  }

  /** The action's symbol: {@code +} {@code ~} {@code -} {@code -/+} {@code !} and so on. */
  public static String symbol(Action a) {
    return switch (a) {
      case CREATE -> "+";
      case UPDATE -> "~";
      case DELETE -> "-";
      case REPLACE -> "-/+";
      case SKIP -> "!";
      case READ -> "<=";
      case FORGET -> "#";
      case NOOP -> " ";
    };
  }

  /**
   * A revision with its commit id cut to 12 hex digits: {@code main@sha1:0123456789ab}, {@link
   * #printable} (Git allows a bidi override in a branch name, and a remote names its default branch).
   */
  public static String shortRevision(String revision) {
    Matcher m = SHA.matcher(revision);
    return printable(m.replaceAll("$1"));
  }

  /** The first 12 characters of a plan id. */
  public static String shortId(String id) {
    return id.length() <= 12 ? id : id.substring(0, 12);
  }

  /**
   * A field value for display: canonical JSON, cut short after 200 characters; {@link #SENSITIVE}
   * when {@code sensitive}, whatever the value.
   */
  public static String value(JsonNode v, boolean sensitive) {
    if (sensitive) {
      return SENSITIVE;
    }
    // JSON escapes C0 controls only: a bidi override or a C1 control in a value is escaped here
    String s = printable(Documents.canonicalJson(v));
    return s.length() <= MAX_VALUE_CHARS ? s : s.substring(0, MAX_VALUE_CHARS) + "…";
  }

  /**
   * {@code before} and {@code after} for display, each as {@link #value} ({@code (absent)} for a
   * null side); when both are cut short before where they first differ, each shows the stretch
   * around that place instead ({@code …} on the side cut), so that a change past the first 200
   * characters of a long line is seen. The plan's field lines and {@code status}'s drift lines use it.
   */
  public static List<String> values(JsonNode before, JsonNode after, boolean sensitive) {
    if (sensitive || before == null || after == null) {
      return List.of(before == null ? "(absent)" : value(before, sensitive),
          after == null ? "(absent)" : value(after, sensitive));
    }
    String b = printable(Documents.canonicalJson(before));
    String a = printable(Documents.canonicalJson(after));
    int at = 0;
    int common = Math.min(a.length(), b.length());
    while (at < common && a.charAt(at) == b.charAt(at)) {
      at++;
    }
    int from = at < MAX_VALUE_CHARS - DIFF_CONTEXT ? 0 : at - DIFF_CONTEXT;
    return List.of(window(b, from), window(a, from));
  }

  /** How much of a long value is shown before the place where it first differs from the other side. */
  private static final int DIFF_CONTEXT = 40;

  /** {@code s} from {@code from}, at most 200 characters, {@code …} marking each side cut. */
  private static String window(String s, int from) {
    int to = Math.min(s.length(), from + MAX_VALUE_CHARS);
    return (from > 0 ? "…" : "") + s.substring(from, to) + (to < s.length() ? "…" : "");
  }

  /** The changes worth showing: everything but NOOPs. */
  private static List<Change> shown(Plan plan) {
    List<Change> out = new ArrayList<>();
    for (Change c : plan.changes()) {
      if (c.action() != Action.NOOP) {
        out.add(c);
      }
    }
    return out;
  }

  static List<Line> lines(Plan plan) {
    List<Line> out = new ArrayList<>();
    lines(plan, out::add);
    return out;
  }

  /** Hands each rendered line of {@code plan} to {@code out}, in order. */
  private static void lines(Plan plan, Consumer<Line> out) {
    // The redactor flags every field at, above or below a sensitive path and hides its values.
    for (Change c : shown(Redactor.marking().redact(plan))) {
      out.accept(new Line(symbol(c.action()), 0, printableName(c.key().toString())
          + (c.previousKey() != null ? " (moved from " + printableName(c.previousKey().toString()) + ")" : "")));
      out.accept(new Line("#", 1, c.action().name().toLowerCase(Locale.ROOT) + flags(c)
          + (c.reason().isEmpty() ? "" : ": " + oneLine(c.reason()))));
      for (FieldChange f : c.fields()) {
        field(out, f, f.sensitive());
      }
    }
    for (ResourceKey k : plan.unknown()) {
      out.accept(new Line("?", 0, printableName(k.toString()) + "  (could not be observed: nothing is pruned while a key is unknown)"));
    }
    // a failed search for marked objects, a planning provider that could not plan
    plan.unobserved().forEach((what, why) -> out.accept(new Line("?", 0, oneLine(what) + "  (" + oneLine(why)
        + ": nothing is pruned while it is unknown)")));
  }

  private static void field(Consumer<Line> out, FieldChange f, boolean sensitive) {
    String sym = String.valueOf(f.symbol());
    String path = printable(f.path().toString());
    JsonNode before = f.before();
    JsonNode after = f.after();
    boolean multiLine = !sensitive && (isMultiLine(before) || isMultiLine(after));
    if (!multiLine) {
      String text = switch (f.symbol()) {
        case '+' -> path + ": " + value(after, sensitive);
        case '-' -> path + ": " + value(before, sensitive);
        default -> path + ": " + String.join(" -> ", values(before, after, sensitive));
      };
      out.accept(new Line(sym, 1, text));
      return;
    }
    out.accept(new Line(sym, 1, path + ":"));
    List<String> b = before != null && before.isTextual() ? LineDiff.lines(before.asText())
        : before == null ? List.of() : List.of(value(before, false));
    List<String> a = after != null && after.isTextual() ? LineDiff.lines(after.asText())
        : after == null ? List.of() : List.of(value(after, false));
    List<LineDiff.Line> diff = LineDiff.diff(b, a);
    int shownLines = 0;
    for (int i = 0; i < diff.size(); i++) {
      LineDiff.Line l = diff.get(i);
      if (l.op() == ' ' && !nearChange(diff, i)) {
        int j = i;
        while (j < diff.size() && diff.get(j).op() == ' ' && !nearChange(diff, j)) {
          j++;
        }
        out.accept(new Line("", 2, "... " + (j - i) + " unchanged line" + (j - i == 1 ? "" : "s")));
        i = j - 1;
        continue;
      }
      if (shownLines++ >= MAX_VALUE_LINES) {
        out.accept(new Line("", 2, "... " + (diff.size() - i) + " more lines"));
        break;
      }
      out.accept(new Line(l.op() == ' ' ? "" : String.valueOf(l.op()), 2, printable(l.text())));
    }
  }

  private static boolean nearChange(List<LineDiff.Line> diff, int i) {
    for (int k = Math.max(0, i - CONTEXT); k <= Math.min(diff.size() - 1, i + CONTEXT); k++) {
      if (diff.get(k).op() != ' ') {
        return true;
      }
    }
    return false;
  }

  private static boolean isMultiLine(JsonNode v) {
    return v != null && v.isTextual() && v.asText().indexOf('\n') >= 0 && v.asText().indexOf('\n') < v.asText().length() - 1;
  }

  private static String flags(Change c) {
    List<String> names = new ArrayList<>();
    for (Change.Flag f : Change.Flag.values()) {
      if (c.has(f)) {
        names.add(switch (f) {
          case DRIFT -> "drifted";
          case CONFLICT -> "conflict";
          case TAKEOVER -> "takeover";
          case ADOPT -> "adopted";
          case ORPHAN -> "orphan";
          case DELETED_OUT_OF_BAND -> "deleted out of band";
          case HELD_BACK -> "held back";
        });
      }
    }
    return names.isEmpty() ? "" : " (" + String.join(", ", names) + ")";
  }

  /**
   * {@code s} on one {@link #printable} line: line breaks and the blanks around them become one
   * space. For text from a repository or a live system (an error message that quotes a file name,
   * a provider's reason) printed where one line is expected:
   *
   * <pre>{@code
   * Outcome failed = Outcome.permanentFailure("cannot write app/x.conf:\n  disk full", null);
   * log.warn("{} failed: {}", PlanRenderer.printable(key.toString()), PlanRenderer.oneLine(failed.message()));
   * }</pre>
   */
  public static String oneLine(String s) {
    return printable(LINE_BREAK.matcher(s.strip()).replaceAll(" "));
  }

  /**
   * Whether {@code codePoint} does not show as itself on a terminal: a control, format, line or
   * paragraph separator character ({@link #printable} escapes them, a tab aside).
   */
  public static boolean isHidden(int codePoint) {
    int type = Character.getType(codePoint);
    return type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR;
  }

  /**
   * {@code s} with control and format characters written as escapes ({@code \n}, {@code \u202e},
   * {@code \u001b}): a name with a line break cannot forge a line of a diff or of a report, a bidi
   * override cannot reorder what a reviewer reads, and a terminal escape sequence cannot redraw the
   * operator's screen. A tab stays. Returns {@code s} itself when it has nothing to escape.
   *
   * <pre>{@code
   * String shown = PlanRenderer.printable("app/new\nline.conf");   // app/new\nline.conf, one line
   * }</pre>
   */
  public static String printable(String s) {
    return escaped(s, false);
  }

  /**
   * {@link #printable} for a name (a resource key, a file name): a tab is escaped too ({@code \t}),
   * since in a name it reads as spaces that are not there.
   *
   * <pre>{@code
   * String shown = PlanRenderer.printableName("files:file::tab\tx.txt");   // files:file::tab\tx.txt
   * }</pre>
   */
  public static String printableName(String s) {
    return escaped(s, true);
  }

  private static String escaped(String s, boolean tab) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); ) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f) {  // printable ASCII, most of any text: no table lookup
        if (sb != null) {
          sb.append(c);
        }
        i++;
        continue;
      }
      // by code point: a format character outside the BMP (a tag character) is a surrogate pair
      int cp = s.codePointAt(i);
      int n = Character.charCount(cp);
      boolean hidden = (tab || cp != '\t') && isHidden(cp);
      if (hidden && sb == null) {
        sb = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      if (!hidden) {
        if (sb != null) {
          sb.append(s, i, i + n);
        }
      } else if (cp == '\n') {
        sb.append("\\n");
      } else if (cp == '\r') {
        sb.append("\\r");
      } else if (cp == '\t') {
        sb.append("\\t");
      } else {
        for (int k = i; k < i + n; k++) {
          sb.append(String.format("\\u%04x", (int) s.charAt(k)));
        }
      }
      i += n;
    }
    return sb == null ? s : sb.toString();
  }

  /**
   * Prose for a Markdown table cell: one printable line with every ASCII punctuation character
   * backslash-escaped, so nothing in it (a name, a path, a reason) can open a link, an image, an
   * HTML tag, emphasis, a code span or a new cell.
   */
  private static String cell(String s) {
    String line = oneLine(s);
    StringBuilder sb = new StringBuilder(line.length() + 16);
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c < 128 && PUNCTUATION.indexOf(c) >= 0) {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }

  private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

  /**
   * A Markdown code span holding {@code s} verbatim (made printable): its backtick fence is longer
   * than any backtick run inside, padded with a space where the text starts or ends with a backtick
   * or a space; in a table cell a pipe is escaped, which GFM undoes inside code spans.
   */
  private static String code(String s, boolean inTable) {
    String t = printable(s);
    if (inTable) {
      t = t.replace("|", "\\|");
    }
    String fence = "`".repeat(longestBacktickRun(t) + 1);
    boolean pad = !t.isEmpty() && (t.charAt(0) == '`' || t.charAt(t.length() - 1) == '`'
        || t.charAt(0) == ' ' || t.charAt(t.length() - 1) == ' ');
    return pad ? fence + " " + t + " " + fence : fence + t + fence;
  }

  private static int longestBacktickRun(CharSequence s) {
    int best = 0;
    int run = 0;
    for (int i = 0; i < s.length(); i++) {
      run = s.charAt(i) == '`' ? run + 1 : 0;
      best = Math.max(best, run);
    }
    return best;
  }
}
