package dev.gitops.api;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Selects resource keys by glob over each part ({@code *} any run of characters, {@code ?} one).
 *
 * <pre>{@code
 * KeySelector secrets = KeySelector.of("k8s", "v1/Secret", "*", "*");
 * secrets.matches(ResourceKey.of("k8s", "v1/Secret", "prod", "db"));   // true
 * KeySelector.ANY.matches(key);                                        // true
 * }</pre>
 */
public record KeySelector(String provider, String type, String scope, String name) {

  /** Matches every key. */
  public static final KeySelector ANY = new KeySelector("*", "*", "*", "*");

  /** Validates the globs. */
  public KeySelector {
    Objects.requireNonNull(provider, "provider");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(name, "name");
  }

  /** A selector with a glob for each part of the key. */
  public static KeySelector of(String provider, String type, String scope, String name) {
    return new KeySelector(provider, type, scope, name);
  }

  /** Selects every key of one provider and type. */
  public static KeySelector type(String provider, String type) {
    return new KeySelector(provider, type, "*", "*");
  }

  /** Whether {@code key} is selected. */
  public boolean matches(ResourceKey key) {
    return glob(provider, key.provider()) && glob(type, key.type())
        && glob(scope, key.scope()) && glob(name, key.name());
  }

  private static boolean glob(String glob, String value) {
    if (glob.equals("*")) {
      return true;
    }
    if (glob.indexOf('*') < 0 && glob.indexOf('?') < 0) {
      return glob.equals(value);
    }
    StringBuilder re = new StringBuilder();
    for (char c : glob.toCharArray()) {
      if (c == '*') {
        re.append(".*");
      } else if (c == '?') {
        re.append('.');
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return value.matches(re.toString());
  }
}
