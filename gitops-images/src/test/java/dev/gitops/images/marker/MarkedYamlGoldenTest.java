package dev.gitops.images.marker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.images.policy.ImageChoice;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files: each {@code golden/<case>.in.yaml}, with every marker set from {@link #CHOICES},
 * must equal {@code golden/<case>.out.yaml} byte for byte — and so must the same pair with CRLF
 * line ends, without the final newline, and both.
 */
class MarkedYamlGoldenTest {

  static final Map<String, ImageChoice> CHOICES = Map.of(
      "apps:web", new ImageChoice("apps:web", "registry.example.com/team/web", "v1.2.4", Optional.empty(), 1, 0, 0),
      "apps:edge", new ImageChoice("apps:edge", "registry.example.com/team/web", "latest",
          Optional.of("sha256:" + "b".repeat(64)), 1, 0, 0),
      "apps:num", new ImageChoice("apps:num", "ghcr.io/org/job", "1.10", Optional.empty(), 1, 0, 0));

  static List<Arguments> cases() {
    Map<String, UnaryOperator<String>> variants = new LinkedHashMap<>();
    variants.put("as written", s -> s);
    variants.put("CRLF", s -> s.replace("\n", "\r\n"));
    variants.put("no final newline", s -> s.substring(0, s.length() - 1));
    variants.put("CRLF, no final newline", s -> s.replace("\n", "\r\n").substring(0, s.replace("\n", "\r\n").length() - 2));
    return List.of("deployment", "values").stream()
        .flatMap(c -> variants.entrySet().stream().map(v -> Arguments.of(c, v.getKey(), v.getValue())))
        .toList();
  }

  @ParameterizedTest(name = "{0} ({1})")
  @MethodSource("cases")
  void onlyTheMarkedScalarsChange(String name, String variant, UnaryOperator<String> transform) throws IOException {
    byte[] in = transform.apply(read(name + ".in.yaml")).getBytes(StandardCharsets.UTF_8);
    byte[] expected = transform.apply(read(name + ".out.yaml")).getBytes(StandardCharsets.UTF_8);

    assertThat(MarkedYaml.mayHoldMarkers(in)).isTrue();
    MarkedYaml yaml = MarkedYaml.parse(name + ".yaml", in);
    assertThat(yaml.problems()).isEmpty();
    byte[] out = yaml.withValues(valuesFor(yaml));

    assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo(new String(expected, StandardCharsets.UTF_8));
    assertThat(out).isEqualTo(expected);
    // and the edit is stable: the result's markers already hold the chosen values
    MarkedYaml again = MarkedYaml.parse(name + ".yaml", out);
    assertThat(again.withValues(valuesFor(again))).isEqualTo(out);
    for (ImageMarker m : again.markers()) {
      Setter s = Setter.resolve(m.setter(), CHOICES.keySet()).orElseThrow();
      assertThat(m.value()).isEqualTo(s.valueFor(CHOICES.get(s.policy())).orElseThrow());
    }
  }

  static Map<ImageMarker, String> valuesFor(MarkedYaml yaml) {
    Map<ImageMarker, String> values = new LinkedHashMap<>();
    for (ImageMarker m : yaml.markers()) {
      Setter s = Setter.resolve(m.setter(), CHOICES.keySet()).orElseThrow(() -> new AssertionError("unknown " + m));
      values.put(m, s.valueFor(CHOICES.get(s.policy())).orElseThrow());
    }
    return values;
  }

  static String read(String resource) throws IOException {
    try (InputStream in = MarkedYamlGoldenTest.class.getResourceAsStream("/golden/" + resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
