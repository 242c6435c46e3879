package dev.gitops.k8s.internal;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * The API server's rules for the names of built-in kinds, so that the decoder can refuse a name at
 * its file and line instead of the server refusing it at apply time: most kinds want a DNS
 * subdomain (RFC 1123: lowercase letters, digits, {@code -} and {@code .}, at most 253
 * characters), a Namespace a DNS label (at most 63, no {@code .}), a Service a DNS-1035 label
 * (a label starting with a letter), a CronJob a subdomain of at most 52 characters (its Jobs add
 * 11); RBAC objects, CertificateSigningRequests and APIServices take any name that is a path
 * segment ({@code system:controller:...}), which the decoder checks for every kind.
 */
public final class Names {

  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern LABEL_1035 = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** The kinds whose names follow another rule than a DNS subdomain. */
  private static final Map<String, Rule> RULES = Map.ofEntries(
      Map.entry(KindTable.NAMESPACE, Rule.LABEL),
      Map.entry("/Service", Rule.LABEL_1035),
      Map.entry("batch/CronJob", Rule.CRONJOB),
      Map.entry("storage.k8s.io/CSIDriver", Rule.CSI_DRIVER),
      Map.entry("rbac.authorization.k8s.io/Role", Rule.PATH_SEGMENT),
      Map.entry("rbac.authorization.k8s.io/RoleBinding", Rule.PATH_SEGMENT),
      Map.entry("rbac.authorization.k8s.io/ClusterRole", Rule.PATH_SEGMENT),
      Map.entry("rbac.authorization.k8s.io/ClusterRoleBinding", Rule.PATH_SEGMENT),
      Map.entry("certificates.k8s.io/CertificateSigningRequest", Rule.PATH_SEGMENT),
      Map.entry("apiregistration.k8s.io/APIService", Rule.PATH_SEGMENT));

  private enum Rule { SUBDOMAIN, LABEL, LABEL_1035, CRONJOB, CSI_DRIVER, PATH_SEGMENT }

  private Names() {}

  /**
   * Why the API server would refuse {@code name} for an object of the built-in key type {@code
   * type}, as a phrase to follow "metadata.name", or null when it would not (or {@code type} is not
   * built in: a custom kind's server decides).
   */
  public static String problem(String type, String name) {
    if (KindTable.builtIn(type).isEmpty()) {
      return null;
    }
    String kind = KindInfo.kindOfType(type);
    return switch (RULES.getOrDefault(type, Rule.SUBDOMAIN)) {
      case SUBDOMAIN -> subdomain(name, 253, kind);
      case CRONJOB -> subdomain(name, 52, kind + " (its Jobs' names add 11 characters to it, and a Job's name is a"
          + " label value of its pods)");
      case CSI_DRIVER -> subdomain(name.toLowerCase(java.util.Locale.ROOT), 63, kind);
      case LABEL -> label(name, LABEL, "a DNS label (RFC 1123: lowercase letters, digits and '-', starting and ending"
          + " with a letter or digit, at most 63 characters, no '.')", kind);
      case LABEL_1035 -> label(name, LABEL_1035, "a DNS-1035 label (lowercase letters, digits and '-', starting with a"
          + " letter and ending with a letter or digit, at most 63 characters, no '.')", kind);
      case PATH_SEGMENT -> null;
    };
  }

  /**
   * Why the API server would refuse {@code name} for a custom resource (an object of a kind a
   * CustomResourceDefinition defines), or null: apiextensions-apiserver validates the metadata of
   * every custom resource with {@code NameIsDNSSubdomain}, whatever the CRD says.
   */
  public static String customProblem(String type, String name) {
    return subdomain(name, 253, KindInfo.kindOfType(type) + " (as for every custom resource)");
  }

  /** What {@code metadata.annotations} may hold in all, keys and values counted in bytes ({@code TotalAnnotationSizeLimitB}). */
  public static final long MAX_ANNOTATIONS_BYTES = 256 * 1024;

  private static final Pattern QUALIFIED_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final String QUALIFIED_RULE = "letters, digits, '-', '_' and '.', starting and ending with a letter or"
      + " digit, at most 63 characters";

  /**
   * Why the API server would refuse {@code key} as a label key, or null: an optional prefix that is
   * a DNS subdomain of at most 253 characters and a {@code /}, then a name of at most 63 characters
   * of letters, digits, {@code -}, {@code _} and {@code .}, starting and ending with a letter or
   * digit ({@code app.kubernetes.io/name}, {@code tier}).
   */
  public static String labelKeyProblem(String key) {
    return qualifiedName(key, key);
  }

  /**
   * Why the API server would refuse {@code key} as an annotation key, or null: the rule of a label
   * key, except that the server checks it in lower case (a prefix may have upper-case letters).
   */
  public static String annotationKeyProblem(String key) {
    return qualifiedName(key, key.toLowerCase(java.util.Locale.ROOT));
  }

  /**
   * Why the API server would refuse {@code value} as a label value, or null: empty, or at most 63
   * characters of letters, digits, {@code -}, {@code _} and {@code .}, starting and ending with a
   * letter or digit.
   */
  public static String labelValueProblem(String value) {
    if (value.length() > 63) {
      return "is " + value.length() + " characters long: a label value has at most 63";
    }
    return value.isEmpty() || QUALIFIED_NAME.matcher(value).matches() ? null
        : "is not a label value (empty, or " + QUALIFIED_RULE + ")" + qualifiedDetail(value);
  }

  /** {@code shown} is the key as written, {@code key} what is checked (the API server lower-cases annotation keys). */
  private static String qualifiedName(String shown, String key) {
    String[] parts = key.split("/", -1);
    if (parts.length > 2) {
      return "has more than one '/': a key is an optional DNS subdomain prefix, a '/' and a name";
    }
    String name = parts[parts.length - 1];
    if (parts.length == 2) {
      String prefix = parts[0];
      if (prefix.isEmpty()) {
        return "has an empty prefix before '/'";
      }
      if (prefix.length() > 253) {
        return "has a prefix of " + prefix.length() + " characters: a prefix is a DNS subdomain of at most 253";
      }
      if (!SUBDOMAIN.matcher(prefix).matches()) {
        return "has a prefix '" + shown.substring(0, Math.min(prefix.length(), 80)) + "' that is not a DNS subdomain (RFC"
            + " 1123: lowercase letters, digits, '-' and '.', each part between dots starting and ending with a letter"
            + " or digit)" + detail(prefix);
      }
    }
    if (name.isEmpty()) {
      return "has an empty name" + (parts.length == 2 ? " after '/'" : "");
    }
    if (name.length() > 63) {
      return "has a name part of " + name.length() + " characters: at most 63";
    }
    return QUALIFIED_NAME.matcher(name).matches() ? null
        : "has a name part that is not " + QUALIFIED_RULE + qualifiedDetail(name);
  }

  /** What a name part or label value has wrong. */
  private static String qualifiedDetail(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
        return " ('" + c + "' is not allowed)";
      }
    }
    return " (it must start and end with a letter or digit)";
  }

  /**
   * Why the API server would refuse {@code name} as the name of a port (an IANA service name, its
   * {@code IsValidPortName}: a container port's name, a named {@code targetPort}, a probe's or an
   * Ingress backend's port by name), or null: at most 15 characters of lowercase letters, digits and
   * {@code -}, at least one letter, not starting or ending with {@code -}, no {@code --}.
   */
  public static String portNameProblem(String name) {
    if (name.isEmpty()) {
      return "is empty";
    }
    if (name.length() > 15) {
      return "is " + name.length() + " characters long: at most 15";
    }
    boolean letter = false;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        return "has upper-case '" + c + "': write it in lower case";
      }
      if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
        return "has '" + c + "', which is not allowed";
      }
      letter |= c >= 'a' && c <= 'z';
    }
    if (!letter) {
      return "has no letter";
    }
    if (name.startsWith("-") || name.endsWith("-")) {
      return "starts or ends with '-'";
    }
    return name.contains("--") ? "has '--'" : null;
  }

  /** Whether {@code name} is a DNS label (RFC 1123) of at most 63 characters, as a namespace's name is. */
  public static boolean isLabel(String name) {
    return name.length() <= 63 && LABEL.matcher(name).matches();
  }

  private static String subdomain(String name, int max, String kind) {
    String rule = "a DNS subdomain (RFC 1123: lowercase letters, digits, '-' and '.', each part between dots starting"
        + " and ending with a letter or digit) of at most " + max + " characters";
    if (name.length() > max) {
      return "is " + name.length() + " characters long: the API server wants " + rule + " for a " + kind;
    }
    return SUBDOMAIN.matcher(name).matches() ? null
        : "is not " + rule + ", which the API server wants for a " + kind + detail(name);
  }

  private static String label(String name, Pattern p, String rule, String kind) {
    if (name.length() > 63) {
      return "is " + name.length() + " characters long: the API server wants " + rule + " for a " + kind;
    }
    return p.matcher(name).matches() ? null : "is not " + rule + ", which the API server wants for a " + kind
        + detail(name);
  }

  /** What a name that is not a subdomain has wrong, the way a reader would fix it. */
  private static String detail(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        return " (upper-case '" + c + "': write it in lower case)";
      }
      if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.')) {
        return " ('" + c + "' is not allowed)";
      }
    }
    return "";
  }
}
