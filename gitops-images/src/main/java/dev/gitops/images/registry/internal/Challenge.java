package dev.gitops.images.registry.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One authentication challenge of a {@code WWW-Authenticate} header (RFC 7235): a scheme and its
 * parameters, such as {@code Bearer realm="https://auth.example.com/token",service="registry",
 * scope="repository:team/web:pull"}.
 */
public record Challenge(String scheme, Map<String, String> params) {

  /** A challenge; the scheme is kept lower-case. */
  public Challenge {
    scheme = scheme.toLowerCase(Locale.ROOT);
    params = Map.copyOf(params);
  }

  /** A parameter's value (names are case-insensitive), if present. */
  public Optional<String> param(String name) {
    return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT)));
  }

  /** Every challenge in the header values, in order; unparseable parts are skipped. */
  public static List<Challenge> parse(List<String> headerValues) {
    List<Challenge> out = new ArrayList<>();
    for (String value : headerValues) {
      parseOne(value, out);
    }
    return out;
  }

  private static void parseOne(String h, List<Challenge> out) {
    int i = 0;
    int n = h.length();
    String scheme = null;
    Map<String, String> params = new LinkedHashMap<>();
    while (i < n) {
      while (i < n && (h.charAt(i) == ' ' || h.charAt(i) == ',' || h.charAt(i) == '\t')) {
        i++;
      }
      int start = i;
      while (i < n && h.charAt(i) != '=' && h.charAt(i) != ' ' && h.charAt(i) != '\t' && h.charAt(i) != ',') {
        i++;
      }
      String token = h.substring(start, i);
      if (token.isEmpty()) {
        break;
      }
      // RFC 7235 allows blanks around a parameter's '=' (auth-param = token BWS "=" BWS value)
      int eq = i;
      while (eq < n && (h.charAt(eq) == ' ' || h.charAt(eq) == '\t')) {
        eq++;
      }
      if (eq < n && h.charAt(eq) == '=') {
        i = eq + 1;
        while (i < n && (h.charAt(i) == ' ' || h.charAt(i) == '\t')) {
          i++;
        }
        String v;
        if (i < n && h.charAt(i) == '"') {
          StringBuilder sb = new StringBuilder();
          i++;
          while (i < n && h.charAt(i) != '"') {
            if (h.charAt(i) == '\\' && i + 1 < n) {
              i++;
            }
            sb.append(h.charAt(i++));
          }
          i++;  // closing quote
          v = sb.toString();
        } else {
          int vs = i;
          while (i < n && h.charAt(i) != ',' && h.charAt(i) != ' ' && h.charAt(i) != '\t') {
            i++;
          }
          v = h.substring(vs, i);
        }
        if (scheme != null) {
          params.put(token.toLowerCase(Locale.ROOT), v);
        }
      } else {
        // a bare token starts a new challenge
        if (scheme != null) {
          out.add(new Challenge(scheme, params));
          params = new LinkedHashMap<>();
        }
        scheme = token;
      }
    }
    if (scheme != null) {
      out.add(new Challenge(scheme, params));
    }
  }
}
