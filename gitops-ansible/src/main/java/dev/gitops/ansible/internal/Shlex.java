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
   * The words of {@code line}.
   *
   * @throws IllegalArgumentException "No closing quotation" or "No escaped character", as Python says
   */
  public static List<String> split(String line) {
    List<String> out = new ArrayList<>();
    int[] pos = {0};
    while (true) {
      String token = readToken(line, pos);
      if (token == null) {
        return out;
      }
      out.add(token);
    }
  }

  /** One token, or null at the end; {@code pos[0]} is the read position. */
  private static String readToken(String s, int[] pos) {
    StringBuilder token = new StringBuilder();
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
