package dev.gitops.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parser of the Prometheus text exposition format (version 0.0.4), enough for tests: samples with
 * their labels, and the {@code # TYPE} of each family. A line that is neither a comment nor a
 * well-formed sample fails the test.
 */
public final class PrometheusText {

  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)(?:\\s+-?\\d+)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  /** One sample. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples;
  private final Map<String, String> types;

  private PrometheusText(List<Sample> samples, Map<String, String> types) {
    this.samples = samples;
    this.types = types;
  }

  /** Parses a scrape. */
  public static PrometheusText parse(String text) {
    List<Sample> samples = new ArrayList<>();
    Map<String, String> types = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("# TYPE ")) {
        String[] f = line.split(" ");
        types.put(f[2], f[3]);
        continue;
      }
      if (line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("a Prometheus sample line: %s", line).isTrue();
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        int end = 0;
        while (l.find() && l.start() == end) {
          labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\"));
          end = l.end();
        }
        assertThat(end).as("labels of %s", line).isEqualTo(m.group(2).length());
      }
      samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
    }
    return new PrometheusText(samples, types);
  }

  /** Every sample. */
  public List<Sample> samples() {
    return samples;
  }

  /** The {@code # TYPE} of a family, by the name of a sample of it (a counter's {@code _total} suffix stripped). */
  public String type(String sampleName) {
    String t = types.get(sampleName);
    return t != null ? t : types.get(sampleName.replaceFirst("_total$", ""));
  }

  /** The value of the one sample named {@code name} whose labels include all of {@code labels} and {@code more}. */
  public double value(String name, Map<String, String> labels, Map<String, String> more) {
    Map<String, String> want = new HashMap<>(labels);
    want.putAll(more);
    List<Sample> found = samples.stream()
        .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(want.entrySet())).toList();
    assertThat(found).as("samples %s%s", name, want).hasSize(1);
    return found.get(0).value();
  }
}
