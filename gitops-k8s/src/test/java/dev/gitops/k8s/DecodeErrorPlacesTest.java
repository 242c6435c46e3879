package dev.gitops.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.DecodeException;
import dev.gitops.api.Resource;
import dev.gitops.api.spi.SourceFile;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every error the decoder raises about an object of a file of several documents names the file,
 * the document (1-based, counted as the reader counts them in its own errors) and the line; and
 * the metadata the API server checks for every kind (label keys and values, annotation keys and
 * their total size, a custom resource's name) is checked when the file is decoded.
 */
class DecodeErrorPlacesTest {

  private static final String REV = "main@sha1:" + "2".repeat(40);
  /** Document 1, then an empty document 2 (a comment only, as Helm writes them): the object under test is document 3 at line 7. */
  private static final String BEFORE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\n# empty\n---\n";

  private static SourceFile file(String path, String text) {
    return new SourceFile(path, "blob-" + text.hashCode(), text.getBytes(StandardCharsets.UTF_8), REV);
  }

  private static KubernetesDecoder decoder() {
    return KubernetesDecoder.builder().build();
  }

  private static String error(String text) {
    try {
      decoder().decode(file("m.yaml", text));
    } catch (DecodeException e) {
      return e.getMessage();
    }
    throw new AssertionError("expected a DecodeException for\n" + text);
  }

  private static String cm(String metadata) {
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: " + metadata + "\n";
  }

  @Test
  void theReaderAndTheDecoderCountDocumentsAlike() {
    // a YAML error in document 3: the reader's own numbering, which the decoder's errors follow
    assertThat(error(BEFORE + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, name: b}\n"))
        .contains("m.yaml:").contains("document 3: ");
    assertThat(error(BEFORE + cm("{name: Bad}"))).startsWith("m.yaml:7@" + REV + ": document 3: ");
  }

  @Test
  void everyCheckOfAnObjectNamesItsDocumentAndLine() {
    String[][] cases = {
        {"apiVersion: v1\nmetadata: {name: a}\n", "missing kind"},
        {"kind: ConfigMap\nmetadata: {name: a}\n", "missing apiVersion"},
        {"apiVersion: 1\nkind: ConfigMap\nmetadata: {name: a}\n", "apiVersion must be a non-empty string"},
        {"apiVersion: V1/x/y\nkind: ConfigMap\nmetadata: {name: a}\n", "is not a version"},
        {"apiVersion: v1\nkind: 9Map\nmetadata: {name: a}\n", "is not a kind"},
        {"apiVersion: v1\nkind: List\nitems: {a: b}\n", "items of a List must be a list"},
        {"apiVersion: v1\nkind: ConfigMap\n", "has no metadata"},
        {cm("{generateName: a-}"), "generateName"},
        {cm("{namespace: x}"), "has no metadata.name"},
        {cm("{name: 12}"), "metadata.name must be a string"},
        {cm("{name: a/b}"), "may not contain '/'"},
        {cm("{name: Bad}"), "DNS subdomain"},
        {"apiVersion: v1\nkind: configMap\nmetadata: {name: a}\n", "kinds are case-sensitive"},
        {cm("{name: a, namespace: 3}"), "metadata.namespace must be a string"},
        {cm("{name: a, namespace: Shop}"), "not a namespace name"},
        {"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: w.example.com}\n"
            + "spec: {group: example.com, names: {plural: widgets, kind: Widget}}\n", "spec.names.plural"},
        {"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a}\n", "cannot tell whether"},
        {cm("{name: a, annotations: {gitops.dev/wave: soon}}"), "must be an integer"},
        {cm("{name: a, annotations: {gitops.dev/management: sometimes}}"), "gitops.dev/management"},
        {cm("{name: a, annotations: {gitops.dev/force-replace: \"yes\"}}"), "force-replace"},
        {cm("{name: a, annotations: {gitops.dev/depends-on: nonsense}}"), "is not a key"},
        {cm("{name: a, annotations: {gitops.dev/wave: 3}}"), "must be a string"},
        {cm("{name: a, labels: [x]}"), "metadata.labels must be a mapping"},
        {cm("{name: a, labels: {on: yes}}"), "must be a string"},
        {"apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {k: \"*\"}\n", "is not base64"},
        {cm("{name: a, labels: {\"Tier/x\": web}}"), "metadata.labels key 'Tier/x'"},
        {cm("{name: a, labels: {tier: \"-web\"}}"), "metadata.labels.tier: value '-web'"},
        {cm("{name: a, annotations: {\"a//b\": x}}"), "metadata.annotations key 'a//b'"},
    };
    for (String[] c : cases) {
      assertThat(error(BEFORE + c[0])).as(c[0]).startsWith("m.yaml:7@" + REV + ": document 3: ").contains(c[1]);
    }
  }

  @Test
  void listItemsNameTheirDocumentItemAndLine() {
    String list = "apiVersion: v1\nkind: List\nitems:\n- " + cm("{name: ok}").replace("\n", "\n  ").strip() + "\n- "
        + cm("{name: a, labels: {\"-x\": y}}").replace("\n", "\n  ").strip() + "\n";
    assertThat(error(BEFORE + list)).startsWith("m.yaml:13@" + REV + ": document 3: items[1]: ")
        .contains("metadata.labels key '-x'");
  }

  @Test
  void errorsAcrossDocumentsNameBothDocuments() {
    assertThat(error(BEFORE + cm("{name: first}"))).startsWith("m.yaml:7@" + REV + ": document 3: ")
        .contains("declared twice: first at m.yaml:1@" + REV + " (document 1)");
    assertThat(error(BEFORE + "apiVersion: v2\nkind: ConfigMap\nmetadata: {name: b}\n"))
        .startsWith("m.yaml:7@" + REV + ": document 3: ").contains("at m.yaml:1@" + REV + " (document 1)");
    String crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        + "metadata: {name: widgets.example.com}\nspec: {group: example.com, scope: Namespaced, names: {plural: widgets,"
        + " kind: Widget}, versions: [{name: v1, served: true, storage: true}]}\n---\n";
    assertThat(error(crd + "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w}\n"))
        .startsWith("m.yaml:6@" + REV + ": document 2: ").contains("(m.yaml:1@" + REV + " (document 1))")
        .contains("serves v1");
  }

  @Test
  void aFileReadAgainAtANewRevisionKeepsItsDocumentsNumbers() {
    KubernetesDecoder d = decoder();
    String text = BEFORE + "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: Upper, namespace: shop}\n";
    SourceFile first = file("w.yaml", text);
    assertThatThrownBy(() -> d.decodeTogether(List.of(first))).hasMessageStartingWith("w.yaml:7@" + REV + ": document 3: ");
    // the same blob at the next revision is not parsed again: its objects keep their places
    String next = "main@sha1:" + "3".repeat(40);
    assertThatThrownBy(() -> d.decodeTogether(List.of(new SourceFile("w.yaml", first.blobId(), first.content(), next))))
        .hasMessageStartingWith("w.yaml:7@" + next + ": document 3: ").hasMessageContaining("DNS subdomain");
  }

  @Test
  void aFileOfOneDocumentNamesNoDocument() {
    assertThat(error(cm("{name: Bad}"))).startsWith("m.yaml:1@" + REV + ": ConfigMap 'Bad'");
    assertThat(error("---\n" + cm("{name: Bad}"))).startsWith("m.yaml:2@" + REV + ": ConfigMap 'Bad'");
  }

  @Test
  void anElementOfAKeyedListWithoutItsKeyOrWithAnothersIsNamedAtItsDocumentAndLine() {
    String deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        + "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
        + "      containers: %s\n";
    // the planner's merge refused these for the whole plan, naming no file
    assertThat(error(BEFORE + String.format(deployment, "[{image: web:1}]"))).startsWith("m.yaml:7@" + REV + ": document 3: ")
        .contains("k8s:apps/Deployment:default:web").contains("/spec/template/spec/containers")
        .contains("has no key [name]");
    assertThat(error(BEFORE + String.format(deployment, "[{name: a, image: x}, {name: a, image: y}]")))
        .startsWith("m.yaml:7@" + REV + ": document 3: ").contains("same key [name=a]");
    assertThat(error(BEFORE + String.format(deployment, "[{name: a, ports: [{containerPort: 80}, {containerPort: 80, "
        + "protocol: TCP}]}]"))).contains("/spec/template/spec/containers/[name=a]/ports").contains("same key");
    assertThat(error(BEFORE + "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{name: http}]}\n"))
        .startsWith("m.yaml:7@" + REV + ": document 3: ").contains("/spec/ports").contains("has no key");
    // the same port twice under two protocols is two elements, as the server has it
    assertThat(decoder().decode(file("ok.yaml", String.format(deployment, "[{name: a, ports: [{containerPort: 53}, "
        + "{containerPort: 53, protocol: UDP}]}, {name: b}]")))).hasSize(1);
  }

  // ------------------------------------------------------------------ metadata, as the API server checks it

  @Test
  void labelKeysAreQualifiedNamesWithAnOptionalDnsSubdomainPrefix() {
    for (String ok : List.of("app", "app.kubernetes.io/name", "A_b.C-9", "x".repeat(63), "a.b/" + "x".repeat(63),
        "s".repeat(253) + "/n", "example.com/Upper")) {
      assertThat(decoder().decode(file("ok.yaml", cm("{name: a, labels: {\"" + ok + "\": v}}")))).as(ok).hasSize(1);
    }
    String[][] refused = {{"", "empty name"}, {"-a", "name part"}, {"a-", "name part"}, {"a b", "' ' is not allowed"},
        {"x".repeat(64), "64 characters"}, {"/a", "empty prefix"}, {"a/", "empty name after '/'"},
        {"a/b/c", "more than one '/'"}, {"Example.com/a", "not a DNS subdomain"}, {"ex_ample.com/a", "'_' is not allowed"},
        {"s".repeat(254) + "/n", "254 characters"}, {"a/é", "'é' is not allowed"}};
    for (String[] c : refused) {
      assertThat(error(cm("{name: a, labels: {\"" + c[0] + "\": v}}"))).as(c[0]).contains("m.yaml:1")
          .contains("metadata.labels key '").contains(c[1]);
    }
  }

  @Test
  void labelValuesAreAtMost63OfTheSameCharactersAndMayBeEmpty() {
    for (String ok : List.of("", "web", "v1.2_3-a", "x".repeat(63))) {
      assertThat(decoder().decode(file("ok.yaml", cm("{name: a, labels: {k: \"" + ok + "\"}}")))).as(ok).hasSize(1);
    }
    for (String bad : List.of("x".repeat(64), "-web", "web.", "a b", "a/b", "ü")) {
      assertThat(error(cm("{name: a, labels: {tier: \"" + bad + "\"}}"))).as(bad).contains("m.yaml:1")
          .contains("metadata.labels.tier: value '").contains("label value");
    }
  }

  @Test
  void annotationKeysFollowTheLabelKeyRuleButThePrefixIsCheckedInLowerCase() {
    assertThat(decoder().decode(file("ok.yaml", cm("{name: a, annotations: {\"Example.COM/Note\": x}}")))).hasSize(1);
    for (String bad : List.of("a b", "-a", "a/b/c", "ex_ample.com/a", "x".repeat(64))) {
      assertThat(error(cm("{name: a, annotations: {\"" + bad + "\": x}}"))).as(bad)
          .contains("metadata.annotations key '");
    }
  }

  @Test
  void annotationsOfMoreThan256KiBInAllAreRefusedWithoutQuotingThem() {
    String value = "v".repeat(128 * 1024);
    String ok = cm("{name: a, annotations: {a: " + value + ", b: " + value.substring(2) + "}}");
    assertThat(decoder().decode(file("ok.yaml", ok))).hasSize(1);  // 262,144 bytes: the limit itself
    String message = error("apiVersion: v1\nkind: Secret\nmetadata: {name: s, annotations: {a: " + value + ", b: "
        + value.substring(1) + "}}\n");
    assertThat(message).contains("m.yaml:1").contains("metadata.annotations hold 262145 bytes").contains("262144")
        .doesNotContain("vvvv").hasSizeLessThan(1_000);
  }

  @Test
  void aCustomResourcesNameIsADnsSubdomainAsApiextensionsChecksIt() {
    String crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        + "metadata: {name: widgets.example.com}\nspec: {group: example.com, scope: Namespaced, names: {plural: widgets,"
        + " kind: Widget}, versions: [{name: v1, served: true, storage: true}]}\n---\n";
    for (String bad : List.of("Upper", "a_b", "a..b", "-a", "a.-b", "a!")) {
      assertThat(error(crd + "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: \"" + bad + "\"}\n"))
          .as(bad).contains("m.yaml:6").contains("document 2").contains("metadata.name").contains("DNS subdomain")
          .contains("custom resource");
    }
    // without its CustomResourceDefinition in sight and no cluster to ask: taken for a custom resource too
    assertThat(error("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: Upper, namespace: shop}\n"))
        .contains("DNS subdomain");
    // what every kind refuses is refused first, with its own words
    assertThat(error(crd + "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: \"..\"}\n"))
        .contains("may not be '.' or '..'");
    List<Resource> ok = decoder().decode(file("ok.yaml", crd + "apiVersion: example.com/v1\nkind: Widget\n"
        + "metadata: {name: a.b-c, labels: {app.kubernetes.io/name: w}}\n"));
    assertThat(ok).hasSize(2);
  }

  /** A scope the API server does not know (a typo, another case) would be taken for Namespaced: refused at its line. */
  @Test
  void aCustomResourceDefinitionsScopeIsNamespacedOrClusterAsWritten() {
    for (String bad : List.of("cluster", "Sideways", "\"\"", "1")) {
      String crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
          + "metadata: {name: widgets.example.com}\nspec: {group: example.com, scope: " + bad + ", names: {plural:"
          + " widgets, kind: Widget}, versions: [{name: v1, served: true, storage: true}]}\n";
      assertThat(error(BEFORE + crd)).as(bad).startsWith("m.yaml:7@" + REV + ": document 3: ")
          .contains("CustomResourceDefinition widgets.example.com").contains("spec.scope is '")
          .contains("Namespaced or Cluster");
    }
    // apiextensions.k8s.io/v1 does not default the scope: the server refuses a CRD without one (v1beta1 defaulted it)
    for (String none : List.of("", "scope: null, ", "scope: , ")) {
      String crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
          + "metadata: {name: widgets.example.com}\nspec: {group: example.com, " + none + "names: {plural:"
          + " widgets, kind: Widget}, versions: [{name: v1, served: true, storage: true}]}\n";
      assertThat(error(BEFORE + crd)).as(none).startsWith("m.yaml:7@" + REV + ": document 3: ")
          .contains("CustomResourceDefinition widgets.example.com: spec.scope is required")
          .contains("Namespaced or Cluster");
    }
    assertThat(error(BEFORE + "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        + "metadata: {name: widgets.example.com}\nspec: [group: example.com]\n"))
        .startsWith("m.yaml:7@" + REV + ": document 3: ")
        .contains("CustomResourceDefinition widgets.example.com: spec must be a mapping, got a list");
    assertThat(decoder().decode(file("old.yaml", "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\n"
        + "metadata: {name: widgets.example.com}\nspec: {group: example.com, names: {plural: widgets, kind: Widget},"
        + " version: v1}\n"))).as("v1beta1 defaults it to Namespaced").hasSize(1);
    for (String good : List.of("Cluster", "Namespaced")) {
      String crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
          + "metadata: {name: widgets.example.com}\nspec: {group: example.com, scope: " + good + ", names: {plural:"
          + " widgets, kind: Widget}, versions: [{name: v1, served: true, storage: true}]}\n";
      assertThat(decoder().decode(file("ok.yaml", crd))).as(good).hasSize(1);
    }
  }

  @Test
  void generateNameIsRefusedForCustomKindsToo() {
    assertThatThrownBy(() -> decoder().decode(file("g.yaml", BEFORE
        + "apiVersion: example.com/v1\nkind: Widget\nmetadata: {generateName: w-, namespace: shop}\n")))
        .hasMessageStartingWith("g.yaml:7@" + REV + ": document 3: ").hasMessageContaining("generateName");
  }

  @Test
  void theFingerprintNamesTheNewRules() {
    assertThat(decoder().fingerprint()).contains(",v14)");
  }
}
