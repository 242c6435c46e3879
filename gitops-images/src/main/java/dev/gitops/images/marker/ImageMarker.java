package dev.gitops.images.marker;

import java.util.Objects;

/**
 * One marked scalar in a YAML file: where it is (file, line, column, its path in the document),
 * the marker's policy reference as written, its current value and quoting style, and the object
 * (Kubernetes {@code kind/namespace/name}) that holds it.
 *
 * <pre>{@code
 * for (ImageMarker m : MarkedYaml.parse("apps/web.yaml", bytes).markers()) {
 *   // apps/web.yaml:21 spec.template.spec.containers[0].image = registry.example.com/team/web:v1.2.3 (apps:web)
 *   log.info("{} {} = {} ({})", m.location(), m.path(), m.value(), m.setter());
 * }
 * }</pre>
 *
 * @param file the file's path in the repository
 * @param line 1-based line of the scalar
 * @param column 1-based column of the scalar (code points)
 * @param document 0-based index of the YAML document in the file
 * @param path the scalar's path in its document, such as {@code spec.template.spec.containers[0].image}
 * @param setter the marker's value, such as {@code apps:web} or {@code apps:web:tag}
 * @param value the scalar's current value
 * @param style how the scalar is written
 * @param object {@code kind/name} or {@code kind/namespace/name} of the document, or "" when it has none
 * @param start offset (chars) of the scalar's first character, quotes included
 * @param end offset (chars) just past the scalar's last character, quotes included
 */
public record ImageMarker(String file, int line, int column, int document, String path, String setter, String value,
    Style style, String object, int start, int end) {

  /** How a scalar is written. */
  public enum Style {
    /** Unquoted. */
    PLAIN,
    /** In single quotes. */
    SINGLE_QUOTED,
    /** In double quotes. */
    DOUBLE_QUOTED
  }

  /** A marker. */
  public ImageMarker {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(setter, "setter");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(style, "style");
    Objects.requireNonNull(object, "object");
  }

  /** The same scalar in another version of the file: same file, document, path and setter. */
  public boolean sameSlot(ImageMarker other) {
    return file.equals(other.file) && document == other.document && path.equals(other.path) && setter.equals(other.setter);
  }

  /** {@code file:line}. */
  public String location() {
    return file + ":" + line;
  }
}
