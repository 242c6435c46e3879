package dev.gitops.ansible.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Python's {@code shlex.split(line, comments=True)} in POSIX mode, which Ansible's INI inventory
 * uses to cut a host line into the host pattern and its {@code key=value} words. Ported state for
 * state so quoting, escapes and comments split exactly as Ansible splits them.
 */
public final class Shlex {

  private static final String WHITESPACE = " \t\r\n";
  private static final String QUOTES = "'\"";
  private static final char ESCAPE = '\\';
  private static final char ESCAPED_QUOTE = '"';
  private static final char COMMENT = '#';

  private Shlex() {}

  /**
   * A line that cannot be split: its message is Python's ("No closing quotation", "No escaped
   * character"); the words read before the one that failed and that word's text so far tell where,
   * for a message that need not show the line.
   */
  public static final class SplitError extends IllegalArgumentException {
    private final List<String> wordsBefore;
    private final String unfinished;

    SplitError(String message, List<String> wordsBefore, String unfinished) {
      super(message);
      this.wordsBefore = List.copyOf(wordsBefore);
      this.unfinished = unfinished;
    }

    /** The words read before the one that failed. */
    public List<String> wordsBefore() {
      return wordsBefore;
    }

    /** The text read of the word that failed, quotes removed. */
    public String unfinished() {
      return unfinished;
    }
  }

  /**
   * The words of {@code line}.
   *
   * @throws SplitError "No closing quotation" or "No escaped character", as Python says
   */
  public static List<String> split(String line) {
    List<String> out = new ArrayList<>();
    int[] pos = {0};
    while (true) {
      StringBuilder word = new StringBuilder();
      String token;
      try {
        token = readToken(line, pos, word);
      } catch (IllegalArgumentException e) {
        throw new SplitError(e.getMessage(), out, word.toString());
      }
      if (token == null) {
        return out;
      }
      out.add(token);
    }
  }

  /** One token, or null at the end; {@code pos[0]} is the read position, {@code token} the word so far. */
  private static String readToken(String s, int[] pos, StringBuilder token) {
    boolean quoted = false;
    char state = ' ';
    char escapedState = ' ';
    while (true) {
      int next = pos[0] < s.length() ? s.charAt(pos[0]++) : -1;
      if (state == ' ') {
        if (next < 0) {
          return token.length() > 0 || quoted ? token.toString() : null;
        } else if (WHITESPACE.indexOf(next) >= 0) {
          if (token.length() > 0 || quoted) {
            return token.toString();
          }
        } else if (next == COMMENT) {
          skipLine(s, pos);
        } else if (next == ESCAPE) {
          escapedState = 'a';
          state = ESCAPE;
        } else if (QUOTES.indexOf(next) >= 0) {
          state = (char) next;
        } else {
          token.append((char) next);
          state = 'a';
        }
      } else if (QUOTES.indexOf(state) >= 0) {
        quoted = true;
        if (next < 0) {
          throw new IllegalArgumentException("No closing quotation");
        }
        if (next == state) {
          state = 'a';
        } else if (next == ESCAPE && state == ESCAPED_QUOTE) {
          escapedState = state;
          state = ESCAPE;
        } else {
          token.append((char) next);
        }
      } else if (state == ESCAPE) {
        if (next < 0) {
          throw new IllegalArgumentException("No escaped character");
        }
        // in quotes, only the quote itself or the escape character may be escaped
        if (QUOTES.indexOf(escapedState) >= 0 && next != state && next != escapedState) {
          token.append(state);
        }
        token.append((char) next);
        state = escapedState;
      } else {
        // state 'a': inside a word
        if (next < 0) {
          return token.toString();
        } else if (WHITESPACE.indexOf(next) >= 0) {
          state = ' ';
          if (token.length() > 0 || quoted) {
            return token.toString();
          }
        } else if (next == COMMENT) {
          skipLine(s, pos);
          state = ' ';
          if (token.length() > 0 || quoted) {
            return token.toString();
          }
        } else if (QUOTES.indexOf(next) >= 0) {
          state = (char) next;
        } else if (next == ESCAPE) {
          escapedState = 'a';
          state = ESCAPE;
        } else {
          token.append((char) next);
        }
      }
    }
  }

  private static void skipLine(String s, int[] pos) {
    int nl = s.indexOf('\n', pos[0]);
    pos[0] = nl < 0 ? s.length() : nl + 1;
  }
}
