package dev.gitops.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The consumer project (consumer/, built by maven-invoker-plugin against the published coordinates)
 * holds a copy of the README's embedding example and the README's dependency lines: this keeps the
 * copies equal, so what the consumer proves is what the README shows.
 */
class ReadmeCopyTest {

  private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
  private static final Pattern BLOCK =
      Pattern.compile("// readme-example: begin\\n(.*?)// readme-example: end", Pattern.DOTALL);
  private static final Pattern ARTIFACT = Pattern.compile("<artifactId>(gitops-[a-z0-9-]+)</artifactId>");

  @Test
  void theConsumerRunsTheReadmeEmbeddingExampleVerbatim() throws IOException {
    String readme = read("README.md");
    String consumer = read("examples/consumer/src/main/java/com/example/consumer/ReadmeExample.java");
    assertThat(block(consumer)).as("consumer's ReadmeExample between the readme-example markers")
        .isEqualTo(block(readme));
    Matcher imports = Pattern.compile("```java\\n((?:import [^\\n]+\\n)+)").matcher(readme);
    assertThat(imports.find()).as("README's embedding block starts with imports").isTrue();
    assertThat(consumer.lines().toList()).containsAll(imports.group(1).lines().toList());
  }

  @Test
  void theReadmeShowsOneDependencyLinePerBomModuleAndTheConsumerUsesThemAll() throws IOException {
    Set<String> bom = artifacts(read("gitops-bom/pom.xml"));
    assertThat(bom).contains("gitops-api", "gitops-core", "gitops-git-ssh", "gitops-git-signatures", "gitops-testkit");
    String readme = read("README.md");
    int from = readme.indexOf("## Add it to your build");
    assertThat(from).as("README has an 'Add it to your build' section").isNotNegative();
    String section = readme.substring(from, readme.indexOf("\n## ", from + 1));
    Set<String> shown = artifacts(section);
    assertThat(shown).as("README's dependency lines").containsAll(bom).contains("gitops-bom");
    assertThat(bom).as("every module the README shows is in the BOM").containsAll(without(shown, "gitops-bom"));
    assertThat(artifacts(read("examples/consumer/pom.xml"))).as("the consumer's dependencies").containsAll(bom);
  }

  /**
   * The BOM manages exactly the reactor's modules that are deployed (those whose pom does not set
   * {@code maven.deploy.skip}): a module added to the build and left out of the BOM would reach users
   * without a managed version, and one the BOM names but the build no longer deploys would not
   * resolve.
   */
  @Test
  void theBomManagesEveryDeployedModuleOfTheReactorAndNoOther() throws IOException {
    Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(read("pom.xml"));
    Set<String> deployed = new LinkedHashSet<>();
    while (modules.find()) {
      String module = modules.group(1).trim();
      String pom = read(module + "/pom.xml");
      if (!module.equals("gitops-bom") && !pom.contains("<maven.deploy.skip>true</maven.deploy.skip>")) {
        Matcher id = Pattern.compile("</parent>\\s*<artifactId>([^<]+)</artifactId>").matcher(pom);
        assertThat(id.find()).as("%s/pom.xml names its artifactId after its parent", module).isTrue();
        deployed.add(id.group(1));
      }
    }
    assertThat(deployed).as("the reactor's deployed modules").contains("gitops-core", "gitops-testkit")
        .doesNotContain("examples", "benchmarks", "gitops-cli");
    assertThat(without(artifacts(read("gitops-bom/pom.xml")), "gitops-bom")).as("the gitops artifacts gitops-bom/pom.xml manages")
        .containsExactlyInAnyOrderElementsOf(deployed);
  }

  private static String read(String path) throws IOException {
    return Files.readString(ROOT.resolve(path));
  }

  /** The text between the markers, without its common indentation. */
  private static String block(String text) {
    Matcher m = BLOCK.matcher(text);
    assertThat(m.find()).as("readme-example markers").isTrue();
    return String.join("\n", m.group(1).lines().toList()).stripIndent().strip();
  }

  private static Set<String> artifacts(String xml) {
    Set<String> found = new LinkedHashSet<>();
    Matcher m = ARTIFACT.matcher(xml);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }

  private static Set<String> without(Set<String> set, String element) {
    Set<String> copy = new LinkedHashSet<>(set);
    copy.remove(element);
    return copy;
  }
}
