package dev.gitops.examples;

import dev.gitops.testkit.ProviderConformanceSuite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Every code sample of the javadoc ({@code <pre>{@code ...}</pre>} in the main sources of every
 * module the BOM publishes, and of the examples) and every {@code ```java} block of the README, of
 * docs/*.md and of every module's README.md compiles, as written, against the test classpath. So no
 * sample can rot.
 *
 * <p>A javadoc sample that is not Java says what it is, {@code <pre class="language-X">{@code
 * ...}</pre>}, and is checked as that: {@code yaml} and {@code xml} must parse, {@code sql} must
 * run on an empty in-memory H2 database. {@code shell} (a command line) and {@code text} (an HTTP
 * exchange, program output) are the only kinds taken unchecked, and only for text that is no code
 * of this project's languages: never mark Java as text. A {@code <pre>} without {@code {@code} is
 * refused, so no sample slips past.
 *
 * <p>How a Java sample is compiled: a sample that declares a type (it starts with {@code class},
 * {@code record}, {@code interface}, {@code enum}, or modifiers before one) becomes a member of its
 * own interface; any other sample becomes the body of a method that may throw. Every sample sees
 * every package of the published modules, common JDK, Jackson and Micrometer packages, the type
 * its javadoc documents with the package and nested types beside it, the types other samples
 * declare (the README's conformance test uses the {@code KeyValueProvider} of {@code Provider}'s
 * javadoc), and the names listed in {@link #CONTEXT}: what a sample takes as given, such as {@code
 * reconciler} or {@code key}.
 */
class CodeSamplesTest {

  private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

  /**
   * The public javadoc that is checked: the main sources of every module the BOM publishes, and of
   * the embedding examples. Read from the BOM, so a new module is checked as soon as it is published.
   */
  private static final List<String> MODULES = Stream.concat(publishedModules().stream(), Stream.of("examples")).toList();

  private static final Pattern JAVADOC_SAMPLE =
      Pattern.compile("<pre(?: class=\"language-(\\w+)\")?>\\{@code\\n(.*?)\\}</pre>", Pattern.DOTALL);
  private static final Pattern MARKDOWN_SAMPLE = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern TYPE_DECLARATION = Pattern.compile(
      "^(?:@\\w+\\s+)*(?:(?:public|protected|private|abstract|final|static|sealed|non-sealed)\\s+)*"
          + "(?:class|interface|record|enum)\\s+(\\w+)");

  /**
   * What every sample imports: every package of the published modules' main sources (found in their
   * source trees), then common JDK, Jackson and Micrometer packages. The examples' own package is
   * left out: its {@code KeyValueProvider} would clash with the one {@code Provider}'s javadoc
   * declares, which the README's conformance test uses (a sample of the examples sees its own
   * package, as every javadoc sample does).
   */
  private static final String IMPORTS = reactorPackages(publishedModules()).stream()
      .map(p -> "import " + p + ".*;\n").collect(Collectors.joining()) + """
      import static org.assertj.core.api.Assertions.*;
      import com.fasterxml.jackson.databind.*;
      import com.fasterxml.jackson.databind.node.*;
      import io.micrometer.core.instrument.*;
      import io.micrometer.prometheusmetrics.*;
      import java.net.*;
      import java.net.http.*;
      import java.nio.charset.StandardCharsets;
      import java.nio.file.*;
      import java.time.*;
      import java.util.*;
      import java.util.concurrent.*;
      import java.util.concurrent.atomic.*;
      import java.util.function.*;
      import org.slf4j.Logger;
      """;

  /**
   * The names samples take as given (never initialised: samples are compiled, not run). A sample
   * may declare a local of the same name, which hides the given.
   */
  static final String CONTEXT = """
      // the engine and what it calls
      Reconciler reconciler;
      Plan plan;
      Change change;
      StateStore store;
      StoredState stored;
      PlanInput input;
      GitSource gitSource;
      Provider provider, real, filesProvider, settingsProvider;
      SyncListener listener;
      ExecutionHooks storeHooks;
      dev.gitops.core.apply.Executor executor;  // not java.util.concurrent's
      Collection<ResourceKey> keys;
      CallContext ctx;
      DocumentMapping settingsMapping;
      // values
      ResourceKey key, brokenKey, flakyKey, stuckKey, hiddenKey, hostKey;
      Resource resource, web, db, desiredResource, lastAppliedResource;
      JsonNode document, live, desired, nextDesired, lastApplied, merged, container, expected;
      MergeRules rules;
      SourceFile file;
      Map<String, byte[]> filesByPath;
      byte[] bytes, storeKey;
      String sha, blobId, url, revision, source;
      Path dir, storeDir, out, repository, target, state, planFile, dockerConfig, tmp;
      // the other modules
      Agent agent;
      dev.gitops.agent.spi.Placement placement;
      Map<String, ProviderFactory> factories;
      ConfigNode options;
      Path kubeconfig;
      io.etcd.jetcd.Client etcdClient;
      Coordinator coordinator;
      ClusterMember member;
      String context, namespace;
      io.fabric8.kubernetes.client.KubernetesClient client;
      MeterRegistry registry;
      ImageUpdater updater;
      GitWriteBack writeBack;
      RegistryClient registryClient;
      List<ImagePolicy> policies;
      Map<String, ImageChoice> choices;
      ImageChoice choice;
      TerraformProvider tf;
      String planId, currentRevision, repoUrl, binary;
      Path workDir;

      abstract boolean holderIsGone(String lockHolder);
      TempGitRepo repo;
      // and the rest
      Logger log;
      Exception cause;
      Future<?> request;
      AtomicInteger calls;
      HttpCall httpCall;

      /** A call that another thread may abort. */
      interface HttpCall {
        void run();

        void abort();
      }
      """;

  /** One sample: where it is, its language and its text. */
  record Sample(String origin, String language, String code, String topLevelType) {

    String className() {
      return "Sample_" + origin.replaceAll("[^A-Za-z0-9]", "_");
    }

    boolean declaresAType() {
      return TYPE_DECLARATION.matcher(withoutPreamble(code)).find();
    }

    @Override
    public String toString() {
      return origin;
    }
  }

  private static List<Sample> samples;
  private static Map<String, List<String>> errorsByClass;

  /** Where every sample is compiled to, for the class's tests. */
  @TempDir static Path classes;

  @TestFactory
  Stream<DynamicTest> everyJavaSampleCompilesAsWritten() {
    Map<String, List<String>> errors = compileAll();
    return samples().stream().filter(s -> s.language().equals("java")).map(s -> DynamicTest.dynamicTest(s.origin(),
        () -> assertThat(errors.getOrDefault(s.className(), List.of()))
            .as("sample at %s does not compile:%n%s", s.origin(), source(s, javaSamples()))
            .isEmpty()));
  }

  @TestFactory
  Stream<DynamicTest> everyOtherSampleIsWhatItSays() {
    return samples().stream().filter(s -> !s.language().equals("java")).map(s -> DynamicTest.dynamicTest(s.origin(),
        () -> check(s)));
  }

  /** Checks a sample that is not Java as what its language says. */
  static void check(Sample s) throws Exception {
    switch (s.language()) {
      case "yaml" -> assertThat(new YAMLMapper().readTree(s.code())).as(s.origin()).isNotNull();
      case "xml" -> DocumentBuilderFactory.newInstance().newDocumentBuilder()
          .parse(new ByteArrayInputStream(s.code().getBytes(StandardCharsets.UTF_8)));
      case "sql" -> {
        try (Connection db = DriverManager.getConnection("jdbc:h2:mem:");
             Statement sql = db.createStatement()) {
          sql.execute(s.code());
        }
      }
      case "shell", "text" -> {
        // a command line or program output: nothing to compile or parse (never Java, see the class's javadoc)
      }
      default -> throw new AssertionError(s.origin() + ": unknown sample language '" + s.language()
          + "' (java is the default; yaml, xml, sql, shell and text are known)");
    }
  }

  @Test
  void everyPreBlockOfTheJavadocIsASample() throws IOException {
    Pattern pre = Pattern.compile("<pre[ >].*");
    List<String> bare = new ArrayList<>();
    for (String module : MODULES) {
      try (Stream<Path> files = Files.walk(ROOT.resolve(module).resolve("src/main/java"))) {
        for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
          String text = Files.readString(f);
          Matcher m = pre.matcher(text);
          while (m.find()) {
            if (!JAVADOC_SAMPLE.matcher(text).region(m.start(), text.length()).lookingAt()) {
              bare.add(ROOT.relativize(f) + ":" + (text.substring(0, m.start()).split("\n", -1).length) + ": " + m.group());
            }
          }
        }
      }
    }
    assertThat(bare).as("<pre> blocks that are no sample: write <pre>{@code or <pre class=\"language-X\">{@code")
        .isEmpty();
  }

  @Test
  void aSampleOfAnUnknownLanguageOrBadYamlOrSqlFails() {
    assertThatThrownBy(() -> check(new Sample("A.java:1", "perl", "print 1;\n", null))).hasMessageContaining("A.java:1");
    assertThatThrownBy(() -> check(new Sample("B.java:1", "yaml", "a: [1\n", null))).isNotNull();
    assertThatThrownBy(() -> check(new Sample("C.java:1", "sql", "CREATE TABLE t (a NUMBR(\n", null))).isNotNull();
  }

  @Test
  void theSamplesOfTheEntryPointsAndTheReadmeAreAllFound() {
    List<String> origins = samples().stream().map(Sample::origin).toList();
    assertThat(origins).as("samples found").hasSizeGreaterThan(120);
    for (String file : List.of("Provider.java", "Reconciler.java", "ReconcileLoop.java", "GitSource.java",
        "LocalFilesProvider.java", "FileStateStore.java", "PlanCodec.java", "YamlManifestDecoder.java",
        "SyncOptions.java", "SyncEvent.java", "ProviderConformanceSuite.java", "KubernetesProvider.java",
        "AnsibleProvider.java", "ImageUpdater.java", "Agent.java", "SyncMetrics.java", "WebhookNotifier.java")) {
      assertThat(origins).as("a sample of %s", file).anyMatch(o -> o.contains("/" + file + ":"));
    }
    for (String readme : List.of("gitops-notify/README.md", "gitops-terraform/README.md", "gitops-k8s/README.md")) {
      assertThat(origins).as("a sample of %s", readme).anyMatch(o -> o.startsWith(readme + ":"));
    }
    assertThat(samples().stream().filter(s -> s.origin().startsWith("README.md:")).map(Sample::code))
        .as("README's java blocks: embedding, Ansible, image automation, conformance, Kubernetes")
        .anyMatch(c -> c.contains("readme-example: begin"))
        .anyMatch(c -> c.contains("AnsibleProvider.builder()"))
        .anyMatch(c -> c.contains("ImageUpdater.builder()"))
        .anyMatch(c -> c.contains("extends ProviderConformanceSuite<"))
        .anyMatch(c -> c.contains("KubernetesProvider.fromKubeconfig("));
  }

  @Test
  void theReadmeConformanceTestPassesForTheKeyValueProviderOfProvidersJavadoc() throws Exception {
    assertThat(compileAll()).as("every sample compiles").isEmpty();
    Sample readme = samples().stream()
        .filter(s -> s.origin().startsWith("README.md:") && s.code().contains("extends ProviderConformanceSuite<"))
        .findFirst().orElseThrow();
    Matcher type = TYPE_DECLARATION.matcher(withoutPreamble(readme.code()));
    assertThat(type.find()).isTrue();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
      Class<?> test = loader.loadClass("samples." + readme.className() + "$" + type.group(1));
      SummaryGeneratingListener listener = new SummaryGeneratingListener();
      List<String> passed = new java.util.concurrent.CopyOnWriteArrayList<>();
      org.junit.platform.launcher.TestExecutionListener names = new org.junit.platform.launcher.TestExecutionListener() {
        @Override
        public void executionFinished(org.junit.platform.launcher.TestIdentifier id,
            org.junit.platform.engine.TestExecutionResult result) {
          if (result.getStatus() == org.junit.platform.engine.TestExecutionResult.Status.SUCCESSFUL
              && id.getSource().orElse(null) instanceof org.junit.platform.engine.support.descriptor.MethodSource m) {
            passed.add(m.getMethodName());
          }
        }
      };
      LauncherFactory.create().execute(
          LauncherDiscoveryRequestBuilder.request().selectors(DiscoverySelectors.selectClass(test)).build(), listener,
          names);
      TestExecutionSummary summary = listener.getSummary();
      StringWriter failures = new StringWriter();
      summary.printFailuresTo(new PrintWriter(failures), 5);
      long contract = java.util.Arrays.stream(ProviderConformanceSuite.class.getMethods())
          .filter(m -> m.isAnnotationPresent(Test.class)).count();
      assertThat(summary.getTestsFoundCount()).as("every test of the suite runs").isEqualTo(contract);
      assertThat(summary.getTotalFailureCount()).as("failures:%n%s", failures).isZero();
      // the snippet plans nothing itself (the planning contract is for providers with a ProviderPlanner) and
      // simulates no unobservable object: those tests are skipped by an assumption; with its modify() the
      // update tests run, the version token's among them, and the rest pass
      assertThat(passed).contains("updateConverges", "versionTokenChangesWhenTheObjectChanges");
      assertThat(summary.getTestsSucceededCount()).isGreaterThanOrEqualTo(contract / 2);
      assertThat(summary.getTestsSucceededCount() + summary.getTestsAbortedCount()).isEqualTo(contract);
    }
  }

  @Test
  void aSampleThatDoesNotCompileIsReportedWithItsOrigin() throws IOException {
    // the harness itself: a broken sample must fail, naming where it is
    Sample broken = new Sample("Broken.java:1", "java", "Plan p = reconciler.plan(;\n", null);
    Sample fine = new Sample("Fine.java:1", "java", "Plan p = reconciler.plan();\n", null);
    Sample unknown = new Sample("Unknown.java:1", "java", "reconciler.frobnicate();\n", null);
    Map<String, List<String>> errors = compile(List.of(broken, fine, unknown), tmpClasses());
    assertThat(errors.keySet()).containsExactlyInAnyOrder(broken.className(), unknown.className());
    assertThat(errors.get(unknown.className())).singleElement().asString().contains("frobnicate");
  }

  // ------------------------------------------------------------------------------ collecting

  private static synchronized List<Sample> samples() {
    if (samples == null) {
      List<Sample> out = new ArrayList<>();
      for (String module : MODULES) {
        try (Stream<Path> files = Files.walk(ROOT.resolve(module).resolve("src/main/java"))) {
          for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
            out.addAll(javadocSamples(f));
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      List<Path> markdown = new ArrayList<>(List.of(ROOT.resolve("README.md")));
      try (Stream<Path> docs = Files.list(ROOT.resolve("docs"));
           Stream<Path> modules = Files.list(ROOT)) {
        docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(markdown::add);
        // every module's README, published or not
        modules.map(m -> m.resolve("README.md")).filter(Files::isRegularFile).sorted().forEach(markdown::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      markdown.forEach(f -> out.addAll(markdownSamples(f)));
      samples = List.copyOf(out);
    }
    return samples;
  }

  /**
   * The gitops artifacts the BOM manages: the published modules, each a directory of the reactor
   * (the BOM also pins the libraries they use, under other group ids).
   */
  static List<String> publishedModules() {
    try {
      org.w3c.dom.Element bom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
          .parse(ROOT.resolve("gitops-bom/pom.xml").toFile()).getDocumentElement();
      org.w3c.dom.Element managed = (org.w3c.dom.Element) bom.getElementsByTagName("dependencyManagement").item(0);
      org.w3c.dom.NodeList dependencies = managed.getElementsByTagName("dependency");
      List<String> out = new ArrayList<>();
      for (int i = 0; i < dependencies.getLength(); i++) {
        org.w3c.dom.Element dependency = (org.w3c.dom.Element) dependencies.item(i);
        if (dependency.getElementsByTagName("groupId").item(0).getTextContent().trim().equals("dev.gitops")) {
          out.add(dependency.getElementsByTagName("artifactId").item(0).getTextContent().trim());
        }
      }
      return out;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the modules of gitops-bom/pom.xml", e);
    }
  }

  /** The packages of the modules' main sources: each directory that holds a class. */
  static List<String> reactorPackages(List<String> modules) {
    List<String> out = new ArrayList<>();
    for (String module : modules) {
      Path sources = ROOT.resolve(module).resolve("src/main/java");
      try (Stream<Path> files = Files.walk(sources)) {
        files.filter(f -> f.toString().endsWith(".java") && !f.getFileName().toString().contains("-info"))
            .map(f -> sources.relativize(f.getParent()).toString().replace(java.io.File.separatorChar, '.'))
            .distinct().sorted().forEach(out::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  private static List<Sample> javadocSamples(Path file) throws IOException {
    String text = Files.readString(file);
    String origin = ROOT.relativize(file).toString().replace('\\', '/');
    String pkg = matchOrEmpty(Pattern.compile("(?m)^package ([\\w.]+);"), text);
    String top = matchOrEmpty(Pattern.compile("(?m)^public (?:(?:abstract|final|sealed)\\s+)*(?:class|interface|record|enum)\\s+(\\w+)"), text);
    List<Sample> out = new ArrayList<>();
    Matcher m = JAVADOC_SAMPLE.matcher(text);
    while (m.find()) {
      int line = text.substring(0, m.start()).split("\n", -1).length;
      String code = m.group(2).lines().map(l -> l.replaceFirst("^\\s*\\* ?", "")).collect(Collectors.joining("\n"))
          // "}{@code " lets a sample hold "*/" (as in "settings/**}{@code /*.yaml"): javadoc shows it joined
          .replaceAll("\\}\\{@code\\s?", "") + "\n";
      String language = m.group(1) == null ? "java" : m.group(1).toLowerCase(Locale.ROOT);
      out.add(new Sample(origin + ":" + line, language, code, top.isEmpty() ? null : pkg + "." + top));
    }
    return out;
  }

  private static List<Sample> markdownSamples(Path file) {
    try {
      String text = Files.readString(file);
      String origin = ROOT.relativize(file).toString().replace('\\', '/');
      List<Sample> out = new ArrayList<>();
      Matcher m = MARKDOWN_SAMPLE.matcher(text);
      while (m.find()) {
        int line = text.substring(0, m.start()).split("\n", -1).length;
        out.add(new Sample(origin + ":" + line, "java", m.group(1), null));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String matchOrEmpty(Pattern p, String text) {
    Matcher m = p.matcher(text);
    return m.find() ? m.group(1) : "";
  }

  /** {@code code} without its leading comments and imports (a sample may start with its imports). */
  private static String withoutPreamble(String code) {
    return code.replaceAll("(?s)^(\\s*(//[^\\n]*\\n|/\\*.*?\\*/|import [^\\n]*\\n))*\\s*", "");
  }

  // ------------------------------------------------------------------------------ compiling

  private static List<Sample> javaSamples() {
    return samples().stream().filter(s -> s.language().equals("java")).toList();
  }

  /** The source {@code s} compiles as, among the samples of {@code unit}. */
  static String source(Sample s, List<Sample> unit) {
    StringBuilder imports = new StringBuilder(IMPORTS);
    StringBuilder body = new StringBuilder();
    for (String line : s.code().lines().toList()) {
      if (line.startsWith("import ")) {
        imports.append(line).append('\n');  // a README block may start with its imports
      } else {
        body.append(line).append('\n');
      }
    }
    if (s.topLevelType() != null) {
      String pkg = s.topLevelType().substring(0, s.topLevelType().lastIndexOf('.'));
      imports.append("import ").append(pkg).append(".*;\n");  // the types beside it
      imports.append("import ").append(s.topLevelType()).append(".*;\n");  // the file's nested types
      // the type the javadoc documents wins over a namesake another sample declares
      imports.append("import ").append(s.topLevelType()).append(";\n");
    }
    for (Sample other : unit) {
      if (other.declaresAType()) {
        imports.append("import samples.").append(other.className()).append(".*;\n");
      }
    }
    String wrapped = s.declaresAType()
        ? "public interface " + s.className() + " {\n" + body + "}\n"
        : "public abstract class " + s.className() + " {\n" + CONTEXT
            + "\n  void sample() throws Exception {\n" + body + "\n  }\n}\n";
    return "package samples;\n\n" + imports + "\n" + wrapped;
  }

  private static synchronized Map<String, List<String>> compileAll() {
    if (errorsByClass == null) {
      errorsByClass = compile(javaSamples(), classes);
    }
    return errorsByClass;
  }

  private static Path tmpClasses() throws IOException {
    return Files.createDirectories(classes.resolve("other-" + System.nanoTime()));
  }

  /** Compiles the samples in one run into {@code out}; returns the errors per sample class (none: absent). */
  private static Map<String, List<String>> compile(List<Sample> toCompile, Path out) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    List<JavaFileObject> units = new ArrayList<>();
    for (Sample s : toCompile) {
      String src = source(s, toCompile);
      units.add(new SimpleJavaFileObject(URI.create("string:///samples/" + s.className() + ".java"),
          JavaFileObject.Kind.SOURCE) {
        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
          return src;
        }
      });
    }
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
      // -XDshould-stop.ifError=FLOW: one broken sample does not hide the errors of the others
      boolean ok = javac.getTask(null, files, diagnostics, List.of("-proc:none", "-XDshould-stop.ifError=FLOW",
          "-Xmaxerrs", "100000", "-cp", System.getProperty("java.class.path"), "-d", out.toString()), null, units).call();
      Map<String, List<String>> errors = new HashMap<>();
      for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
        if (d.getKind() == Diagnostic.Kind.ERROR) {
          String name = d.getSource() == null ? "(no file)" : Path.of(d.getSource().toUri().getPath()).getFileName()
              .toString().replace(".java", "");
          errors.computeIfAbsent(name, k -> new ArrayList<>())
              .add("line " + d.getLineNumber() + ": " + d.getMessage(Locale.ROOT));
        }
      }
      assertThat(ok || !errors.isEmpty()).as("javac failed without saying why").isTrue();
      return errors;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
