package dev.gitops.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gitops.api.DecodeException;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.merge.MergeResult;
import dev.gitops.core.merge.ThreeWayMerge;
import dev.gitops.k8s.internal.KubernetesRules;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class KubernetesDecoderTest {

  private static final String REV = "main@sha1:" + "1".repeat(40);
  private final KubernetesDecoder decoder = KubernetesDecoder.builder().defaultNamespace("shop").build();

  static SourceFile file(String path, String text) {
    return new SourceFile(path, "blob-" + path, text.getBytes(StandardCharsets.UTF_8), REV);
  }

  private List<Resource> decode(String path, String text) {
    return decoder.decode(file(path, text));
  }

  private DecodeException error(String path, String text) {
    try {
      decode(path, text);
    } catch (DecodeException e) {
      return e;
    }
    throw new AssertionError("expected a DecodeException for " + text);
  }

  @Test
  void keysNameGroupKindNamespaceAndName() {
    List<Resource> rs = decode("app.yaml", """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, namespace: ignored}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg}
        data: {a: "1"}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: reader}
        """);
    assertThat(rs).extracting(r -> r.key().toString()).containsExactly(
        "k8s:/Namespace::shop", "k8s:apps/Deployment:shop:web", "k8s:/ConfigMap:shop:cfg",
        "k8s:rbac.authorization.k8s.io/ClusterRole::reader");
    assertThat(rs.get(0).document().path("metadata").has("namespace")).as("cluster-scoped loses its namespace").isFalse();
    assertThat(rs.get(2).document().path("metadata").path("namespace").asText()).as("default namespace written in")
        .isEqualTo("shop");
    assertThat(rs.get(1).origin().line()).isEqualTo(5);
    assertThat(rs.get(1).origin().path()).isEqualTo("app.yaml");
  }

  @Test
  void readsJsonAndListItems() {
    List<Resource> rs = decode("list.json", """
        {"apiVersion": "v1", "kind": "List", "items": [
          {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a", "namespace": "x"}},
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}]}
        """);
    assertThat(rs).extracting(Resource::key).containsExactly(ResourceKey.of("k8s", "/Secret", "x", "a"),
        ResourceKey.of("k8s", "/Service", "shop", "b"));
  }

  @Test
  void decodedFileByFileWhatGitDeclaresFollowsTheTreeNotEveryKeyEverRead() throws Exception {
    KubernetesDecoder d = KubernetesDecoder.builder().decodeFilesTogether(false).build();
    ResourceKey a = ResourceKey.of("k8s", "/ConfigMap", "default", "a");
    ResourceKey b = ResourceKey.of("k8s", "/ConfigMap", "default", "b");
    ResourceKey c = ResourceKey.of("k8s", "/ConfigMap", "default", "c");
    try (dev.gitops.testkit.TempGitRepo repo = dev.gitops.testkit.TempGitRepo.create();
         dev.gitops.core.source.GitSource source = dev.gitops.core.source.GitSource.builder().url(repo.uri())
             .ref("main").build()) {
      dev.gitops.api.spi.Source.ReadRequest read = new dev.gitops.api.spi.Source.ReadRequest(null, List.of(d),
          new dev.gitops.api.Cancellation());
      repo.write("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
          .write("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n").commit("a and b");
      source.read(read);
      assertThat(d.originOf(b)).map(o -> o.path()).contains("b.yaml");

      // b.yaml removed: the source decodes nothing (a.yaml is cached) and says so only through treeRead
      String sha = repo.delete("b.yaml").commit("b removed");
      source.read(read);
      assertThat(d.originOf(b)).as("a removed file's key is no longer declared").isEmpty();
      assertThat(d.declared(b)).isEmpty();
      assertThat(d.originOf(a)).map(o -> o.revision()).contains("main@sha1:" + sha);
    }
    // without a source that tells the tree, a file decoded again replaces what it declared
    d.decode(file("x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"));
    d.decode(file("x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"));
    assertThat(d.originOf(c)).isPresent();
    assertThat(d.originOf(a)).as("a key gone from its file").isEmpty();
  }

  @Test
  void jsonIsReadAsKubectlReadsItAndWhatItRefusesIsNamedAtItsLine() {
    String a = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}";
    String b = "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"b\"}}";
    // a stream of objects, with or without a line between them, a byte order mark, a trailing null
    for (String text : List.of(a + "\n" + b + "\n", a + b, "\uFEFF" + a + "\n" + b, a + "\n" + b + "\nnull\n")) {
      assertThat(decode("s.json", text)).as(text).extracting(r -> r.key().name()).containsExactly("a", "b");
    }
    assertThat(decode("s.json", a + "\n\n" + b).get(1).origin().line()).isEqualTo(3);
    // a top-level array: kubectl refuses it, and so does the decoder, saying what to write instead
    assertThat(error("arr.json", "[" + a + ",\n" + b + "]").getMessage()).startsWith("arr.json:1@")
        .contains("got array").contains("one after the other").contains("\"kind\": \"List\"");
    assertThat(error("arr.yaml", "- " + a + "\n- " + b + "\n").getMessage()).contains("separated by '---'");
    // trailing garbage and a missing comma are JSON errors at their line and column
    assertThat(error("t.json", a + "\nxyz\n").getMessage()).startsWith("t.json:2@").contains("document 2: malformed JSON")
        .contains("(column 1)");
    assertThat(error("t.json", a + ",\n" + b).getMessage()).startsWith("t.json:1@").contains("malformed JSON")
        .contains("column");
    assertThat(error("t.json", a + "\n42\n").getMessage()).startsWith("t.json:2@").contains("must be a mapping, got number");
  }

  @Test
  void customResourcesTakeTheirScopeFromCrdsAnywhereInTheDesiredState() {
    String crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: clusterwidgets.example.com}
        spec:
          group: example.com
          scope: Cluster
          names: {kind: ClusterWidget, plural: clusterwidgets}
          versions: [{name: v1, served: true, storage: true}]
        """;
    String cr = "apiVersion: example.com/v1\nkind: ClusterWidget\nmetadata: {name: w}\n";
    assertThat(decoder.decodesTogether()).as("on by default: a CRD in any file decides").isTrue();
    assertThat(KubernetesDecoder.builder().decodeFilesTogether(false).build().decodesTogether()).isFalse();
    String namespacedCr = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: n}\n";
    String namespacedCrd = crd.replace("clusterwidgets", "widgets").replace("ClusterWidget", "Widget")
        .replace("Cluster", "Namespaced");
    List<Resource> rs = decoder.decodeTogether(List.of(file("apps/w.yaml", cr + "---\n" + namespacedCr),
        file("crds/w.yaml", crd + "---\n" + namespacedCrd)));
    assertThat(rs).extracting(Resource::key).contains(ResourceKey.of("k8s", "example.com/ClusterWidget", "", "w"),
        ResourceKey.of("k8s", "example.com/Widget", "shop", "n"));
    DecodeException e = error("apps/w.yaml", "# a widget\n" + cr);
    assertThat(e.getMessage()).contains("apps/w.yaml:2").contains("cannot tell whether example.com/ClusterWidget w")
        .contains("metadata.namespace");
    DecodeException nowhere = (DecodeException) org.assertj.core.api.Assertions.catchThrowable(() -> decoder.decodeTogether(
        List.of(file("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), file("b.yaml", "\n" + cr))));
    assertThat(nowhere.getMessage()).contains("b.yaml:2").contains("no CustomResourceDefinition in the desired state");
    assertThat(decode("apps/n.yaml", "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t, namespace: a}\n"))
        .extracting(Resource::key).containsExactly(ResourceKey.of("k8s", "example.com/Thing", "a", "t"));
  }

  @Test
  void twoCrdsDefiningOneKindAreAnErrorNamingBothNotAScopeTakenFromTheLast() {
    String crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: %s.example.com}\n"
        + "spec: {group: example.com, scope: %s, names: {plural: %s, kind: Widget}, versions: [{name: v1, served: true,"
        + " storage: true}]}\n";
    // the second one's names are not accepted by the server, so its objects are the first's (cluster-scoped): the
    // decoder took the scope of the last one, so the widget got the default namespace and a key no object has
    DecodeException e = assertThrows(DecodeException.class, () -> decoder.decodeTogether(List.of(
        file("a.yaml", crd.formatted("widgets", "Cluster", "widgets")),
        file("b.yaml", crd.formatted("gadgets", "Namespaced", "gadgets")
            + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"))));
    assertThat(e.getMessage()).startsWith("b.yaml:1@").contains("document 1: CustomResourceDefinition gadgets.example.com"
        + " defines the kind example.com/Widget, which CustomResourceDefinition widgets.example.com at a.yaml:1@")
        .contains("defines too");
    // one CRD twice is the duplicate it is
    assertThat(assertThrows(DecodeException.class, () -> decoder.decodeTogether(List.of(
        file("c.yaml", crd.formatted("widgets", "Cluster", "widgets")),
        file("d.yaml", crd.formatted("widgets", "Cluster", "widgets"))))).getMessage()).contains("is declared twice");
  }

  @Test
  void aTreeReadAgainReflectsTheChangedFileAndTheNewRevisionEverywhere() {
    String rev2 = "main@sha1:" + "2".repeat(40);
    SourceFile a = file("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: '1'}\n");
    SourceFile b = file("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: '1'}\n");
    decoder.decodeTogether(List.of(a, b));
    SourceFile a2 = new SourceFile("a.yaml", a.blobId(), a.content(), rev2);
    SourceFile b2 = new SourceFile("b.yaml", "blob-b2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: '2'}\n".getBytes(StandardCharsets.UTF_8), rev2);
    List<Resource> again = decoder.decodeTogether(List.of(a2, b2));
    assertThat(again).extracting(r -> r.document().at("/data/k").asText()).containsExactly("1", "2");
    assertThat(again).extracting(r -> r.origin().revision()).containsOnly(rev2);
    assertThatThrownBy(() -> decoder.decodeTogether(List.of(a2, file("c.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n"))))
        .hasMessageContaining("declared twice").hasMessageContaining(rev2.substring(0, 20));
  }

  @Test
  void badObjectsAreErrorsNamingFileAndLine() {
    assertThat(error("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: ConfigMap\nmetadata: {name: x}\n")
        .getMessage()).contains("a.yaml:5").contains("missing apiVersion");
    assertThat(error("b.yaml", "apiVersion: v1\nmetadata: {name: x}\n").getMessage()).contains("b.yaml:1").contains("missing kind");
    assertThat(error("c.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {labels: {a: b}}\n").getMessage())
        .contains("c.yaml:1").contains("Pod has no metadata.name");
    assertThat(error("d.yaml", "\n\napiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\n").getMessage())
        .contains("d.yaml:3").contains("generateName").contains("run-");
    assertThat(decode("n.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: run, generateName: null}\n"))
        .as("a null generateName is absent, as every null").hasSize(1);
    assertThat(error("e.yaml", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n").getMessage())
        .contains("e.yaml:4").contains("items[0]");
  }

  @Test
  void aNullNamespaceIsAbsentAsKubectlReadsItAndANameThatIsNoStringSaysSo() {
    assertThat(decode("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: null}\n"))
        .singleElement().satisfies(r -> {
          assertThat(r.key().scope()).isEqualTo("shop");
          assertThat(r.document().path("metadata").path("namespace").textValue()).isEqualTo("shop");
        });
    assertThat(decode("b.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: b, namespace: ~}\n"))
        .singleElement().satisfies(r -> {
          assertThat(r.key().scope()).isEmpty();
          assertThat(r.document().path("metadata").has("namespace")).isFalse();
        });
    String noName = error("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: null}\n").getMessage();
    assertThat(noName).contains("c.yaml:1").contains("ConfigMap has no metadata.name").doesNotContain("null");
    assertThat(error("d.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 1.10}\n").getMessage())
        .contains("d.yaml:1").contains("metadata.name must be a string, got 1.1").contains("quote it")
        .doesNotContain("has no metadata.name");
  }

  @Test
  void aKeyWrittenWithoutAValueIsAbsentAsKubectlReadsIt() {
    // what a template leaves when a value is empty: YAML and kubectl read these as null (absent), not ""
    Resource r = decode("a.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels:
          annotations:
        spec:
          selector: {matchLabels: {app: web}}
          strategy:
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: app
                  image: nginx
                  resources:
        """).get(0);
    for (String absent : List.of("/metadata/labels", "/spec/strategy", "/spec/template/spec/containers/0/resources")) {
      com.fasterxml.jackson.databind.JsonNode v = r.document().at(absent);
      assertThat(v.isNull() || v.isMissingNode()).as(absent + " is absent (null), got " + v).isTrue();
    }
    assertThat(decode("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n")).hasSize(1);
    assertThat(error("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: ''\n").getMessage())
        .as("a quoted empty string is a string").contains("c.yaml:1").contains("data must be a mapping");
  }

  @Test
  void namesNoObjectCanHaveAreErrorsSoNoRequestAddressesAnotherUrl() {
    String[][] cases = {{"..", "may not be '.' or '..'"}, {".", "may not be '.' or '..'"}, {"a/b", "'/' or '%'"},
        {"a%2Fb", "'/' or '%'"}, {"x".repeat(254), "longer than 253"}, {"has space", "spaces or control"}};
    for (String[] c : cases) {
      assertThat(error("n.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"" + c[0] + "\"}\n").getMessage())
          .as(c[0]).contains("n.yaml:1").contains("metadata.name").contains(c[1]);
    }
    assertThat(error("ns.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: Bad_NS}\n").getMessage())
        .contains("ns.yaml:1").contains("'Bad_NS' is not a namespace name");
    assertThat(decode("ok.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
        + "metadata: {name: \"system:controller:Weird.Name\"}\n")).hasSize(1);
  }

  @Test
  void namesTheClientWouldSendUnescapedInAUrlAreErrors() {
    // fabric8 puts the name into the URL as it is: "c#d" would read, patch or delete "c", "a?b" would address "a"
    for (String name : List.of("c#d", "a?b", "a{b", "a[b", "a<b", "a|b", "a^b", "a`b", "a\\\\b", "caf\u00e9", "a\u00a0b")) {
      assertThat(error("n.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: \""
          + name + "\"}\n").getMessage()).as(name).contains("n.yaml:1").contains("metadata.name")
          .contains("path segment of its URL");
    }
    for (String name : List.of("system:aggregate-to-admin", "a+b", "a@b", "a=b;c", "x~y_z.w")) {
      assertThat(decode("ok.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: \""
          + name + "\"}\n")).as(name).hasSize(1);
    }
  }

  @Test
  void valuesTheServerReadsAsStringsMustBeStringsNamingTheKey() {
    // YAML reads yes, on, 1.10 and 0x1F as booleans and numbers; the API server refuses them where it wants strings
    assertThat(error("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {ok: \"1\", enabled: yes}\n")
        .getMessage()).contains("cm.yaml:1").contains("data.enabled").contains("must be a string").contains("true")
        .contains("quote it");
    assertThat(error("l.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {version: 1.10}}\n")
        .getMessage()).contains("l.yaml:1").contains("metadata.labels.version").contains("1.1");
    assertThat(error("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, annotations: {prometheus.io/port: 9090}}\n")
        .getMessage()).contains("a.yaml:1").contains("metadata.annotations.prometheus.io/port").contains("9090");
    assertThat(error("m.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, annotations: [a, b]}\n")
        .getMessage()).contains("m.yaml:1").contains("metadata.annotations must be a mapping");
    // a Secret's values are never shown, not even a bad one
    DecodeException s = error("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {pin: 918273}\n");
    assertThat(s.getMessage()).contains("s.yaml:1").contains("stringData.pin").contains("must be a string")
        .doesNotContain("918273");
    DecodeException b = error("b.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\ndata: {password: hunter2-plain}\n");
    assertThat(b.getMessage()).contains("b.yaml:1").contains("data.password").contains("base64")
        .doesNotContain("hunter2");
    assertThat(error("bd.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData: {blob: \"not base64!\"}\n")
        .getMessage()).contains("binaryData.blob").contains("base64");
    // values other kinds hold are the server's (and their schema's) to judge
    assertThat(decode("w.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {replicas: 2, selector:"
        + " {matchLabels: {app: w}}, template: {metadata: {labels: {app: w}}}}\n"))
        .hasSize(1);
  }

  @Test
  void anEnvironmentValueOrArgumentThatYamlReadsAsABooleanOrNumberIsAnErrorNotAVariableSetEmpty() {
    String deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: app
                image: nginx
                env:
                - {name: MODE, value: "x"}
                - {name: RETRIES, value: %s}
        """;
    // 0 and no (false) are the zero values normalization drops: the variable was applied set to ""
    for (String v : List.of("0", "no", "off", "1.10", "8080")) {
      assertThat(error("d.yaml", deployment.formatted(v)).getMessage()).as(v).startsWith("d.yaml:1")
          .contains("Deployment web: spec.template.spec.containers[name=app].env[name=RETRIES].value must be a string,"
              + " got ").contains("quote it");
    }
    assertThat(decode("d.yaml", deployment.formatted("\"0\"")).get(0).document()
        .at("/spec/template/spec/containers/0/env/1/value").asText()).isEqualTo("0");
    assertThat(error("p.yaml", """
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          initContainers:
          - {name: init, image: busybox, command: [sleep, 5]}
          containers:
          - {name: c, image: busybox}
        """).getMessage()).contains("Pod p: spec.initContainers[name=init].command[1] must be a string, got 5");
    assertThat(error("j.yaml", """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly}
        spec:
          schedule: "0 1 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers:
                  - {name: c, image: busybox, args: [--verbose, true]}
        """).getMessage()).contains("spec.jobTemplate.spec.template.spec.containers[name=c].args[1] must be a string,"
        + " got true");
    // a custom kind's containers follow its own schema: the server's to judge
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {containers: [{name: c, env: [{name: A, value: 0}]}]}\n")).hasSize(1);
  }

  @Test
  void aValueTheApiServerRefusesForABuiltInKindsTypedFieldIsAnErrorNamingItsPath() {
    String deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: %s
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: app
                image: nginx
                ports: [{name: http, containerPort: %s}]
                resources:
                  limits: {cpu: %s, memory: %s}
        """;
    // what a real API server takes: numbers and quantities of every form
    Resource ok = decode("d.yaml", deployment.formatted("3", "80", "\"500m\"", "1.5Gi")).get(0);
    assertThat(ok.document().at("/spec/template/spec/containers/0/resources/limits/memory").asText())
        .isEqualTo("1536Mi");
    assertThat(decode("d.yaml", deployment.formatted("0", "65535", "2", "1e3"))).hasSize(1);
    String[][] refused = {
        {"3", "80", "lots", "1Gi", "spec.template.spec.containers[name=app].resources.limits.cpu: \"lots\" is not a quantity"},
        {"3", "80", "1", "1.5.5Gi", "resources.limits.memory: \"1.5.5Gi\" is not a quantity"},
        {"3", "80", "true", "1Gi", "resources.limits.cpu: true is not a quantity"},
        {"99999999999999999999", "80", "1", "1Gi", "Deployment web: spec.replicas: 99999999999999999999 is out of range:"
            + " the API server's field is a 32-bit integer"},
        {"2147483648", "80", "1", "1Gi", "spec.replicas: 2147483648 is out of range"},
        {"\"3\"", "80", "1", "1Gi", "spec.replicas: \"3\" must be an integer, not a string: write 3 without quotes"},
        {"1.5", "80", "1", "1Gi", "spec.replicas: 1.5 must be a whole number"},
        {"3", "\"80\"", "1", "1Gi", "spec.template.spec.containers[name=app].ports[name=http].containerPort: \"80\" must be"
            + " an integer, not a string: write 80 without quotes"},
        {"3", "http", "1", "1Gi", "containerPort: \"http\" must be an integer, not a string (the API server refuses"},
        {"3", "70000", "1", "1Gi", "containerPort: 70000 is not a port number (1 to 65535)"},
    };
    for (String[] c : refused) {
      assertThat(error("d.yaml", deployment.formatted(c[0], c[1], c[2], c[3])).getMessage()).as(String.join(" ", c))
          .startsWith("d.yaml:1@").contains(c[4]);
    }
    String service = """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          ports: [{name: http, port: %s, targetPort: %s}]
        """;
    assertThat(decode("s.yaml", service.formatted("80", "http"))).hasSize(1);  // a named target port
    assertThat(error("s.yaml", service.formatted("\"80\"", "8080")).getMessage())
        .contains("Service web: spec.ports[name=http].port: \"80\" must be an integer, not a string");
    assertThat(error("s.yaml", service.formatted("80", "4294967296")).getMessage())
        .contains("spec.ports[name=http].targetPort: 4294967296 is out of range");
    assertThat(error("c.yaml", """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: data}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 10 GB}}
        """).getMessage()).contains("PersistentVolumeClaim data: spec.resources.requests.storage: \"10 GB\" is not a"
        + " quantity");
    assertThat(error("q.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: many}}\n")
        .getMessage()).contains("ResourceQuota q: spec.hard.pods: \"many\" is not a quantity");
    // a custom kind's fields follow its own schema: the server's to judge
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {replicas: \"3\", containers: [{name: c, ports: [{containerPort: \"80\"}],"
        + " resources: {limits: {cpu: lots}}}]}\n")).hasSize(1);
  }

  @Test
  void aNullLabelOrAnnotationValueIsTheEmptyStringTheApiServerStoresSoTheObjectCarriesIt() {
    Resource r = decode("c.yaml", """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          labels: {app: web, canary: null}
          annotations:
            note:
        data: {a: null, b: x}
        """).get(0);
    assertThat(r.document().at("/metadata/labels/canary").isTextual()).isTrue();
    assertThat(r.document().at("/metadata/labels/canary").textValue()).isEmpty();
    assertThat(r.document().at("/metadata/annotations/note").textValue()).isEmpty();
    assertThat(r.document().at("/metadata/labels/app").textValue()).isEqualTo("web");
    assertThat(r.document().at("/data/a").textValue()).isEmpty();  // a ConfigMap's data is a map of strings too
    // so the object created carries the label, as kubectl apply's does; as null the merge took it for absent
    MergeResult create = new ThreeWayMerge(KubernetesRules.mergeRules("k8s"), new byte[32])
        .merge(r.key(), null, r.document(), null);
    assertThat(create.target().at("/metadata/labels/canary").isTextual()).isTrue();
    assertThat(create.target().at("/metadata/annotations/note").textValue()).isEmpty();
    // a custom object's metadata is decoded by the server as every object's is
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop,"
        + " labels: {x: null}}\n").get(0).document().at("/metadata/labels/x").textValue()).isEmpty();
    // one of ours without a value is the empty string too, which it never accepts
    assertThat(error("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n"
        + "    gitops.dev/wave:\n").getMessage()).startsWith("c.yaml:1@")
        .contains("annotation gitops.dev/wave must be an integer, got ''");
  }

  @Test
  void aNullInAMapOfStringsOfABuiltInKindIsTheEmptyStringTheApiServerStoresNotAnAbsentEntry() {
    List<Resource> rs = decode("all.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web, tier: null}}
          template:
            metadata:
              labels: {app: web, tier: null}
              annotations: {note: null}
            spec:
              nodeSelector: {disk: null}
              affinity:
                podAntiAffinity:
                  requiredDuringSchedulingIgnoredDuringExecution:
                  - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: null}}}
              containers: [{name: app, image: x}]
              volumes: [{name: v, csi: {driver: d.example.com, volumeAttributes: {size: null}}}]
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly}
        spec:
          schedule: "0 3 * * *"
          jobTemplate:
            metadata: {labels: {run: null}}
            spec:
              template:
                metadata: {annotations: {note: null}}
                spec: {restartPolicy: Never, containers: [{name: c, image: x}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          selector: {matchLabels: {app: db}}
          template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: x}]}}
          volumeClaimTemplates: [{metadata: {name: data, labels: {backup: null}}, spec: {accessModes: [ReadWriteOnce]}}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {selector: {app: web, tier: null}, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg}
        data: {empty: null, b: x}
        binaryData: {blob: null}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: creds}
        data: {token: null}
        stringData: {pin: null}
        ---
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: old}
        spec: {selector: {app: null}, template: {metadata: {labels: {app: ""}}, spec: {containers: [{name: c, image: x}]}}}
        ---
        apiVersion: example.com/v1
        kind: Runner
        metadata: {name: r, namespace: shop}
        spec: {template: {metadata: {labels: {x: null}}}, data: {y: null}}
        """);
    String[][] empty = {
        {"0", "/spec/selector/matchLabels/tier"}, {"0", "/spec/template/metadata/labels/tier"},
        {"0", "/spec/template/metadata/annotations/note"}, {"0", "/spec/template/spec/nodeSelector/disk"},
        {"0", "/spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/0"
            + "/labelSelector/matchLabels/app"},
        {"0", "/spec/template/spec/volumes/0/csi/volumeAttributes/size"},
        {"1", "/spec/jobTemplate/metadata/labels/run"}, {"1", "/spec/jobTemplate/spec/template/metadata/annotations/note"},
        {"2", "/spec/volumeClaimTemplates/0/metadata/labels/backup"}, {"3", "/spec/selector/tier"},
        // map[string][]byte too: Go decodes null as a nil slice, etcd's protobuf holds it as no bytes, read back as ""
        {"4", "/data/empty"}, {"4", "/binaryData/blob"}, {"5", "/data/token"}, {"5", "/data/pin"},
        {"6", "/spec/selector/app"}};
    for (String[] e : empty) {
      com.fasterxml.jackson.databind.JsonNode v = rs.get(Integer.parseInt(e[0])).document().at(e[1]);
      assertThat(v.isTextual() && v.textValue().isEmpty()).as(rs.get(Integer.parseInt(e[0])).key() + " " + e[1]
          + " is \"\", got " + v).isTrue();
    }
    // the Service is created selecting tier="", as the server's own does, and drift from it is found
    Resource service = rs.get(3);
    ThreeWayMerge merge = new ThreeWayMerge(KubernetesRules.mergeRules("k8s"), new byte[32]);
    assertThat(merge.merge(service.key(), null, service.document(), null).target().at("/spec/selector/tier").textValue())
        .isEmpty();
    com.fasterxml.jackson.databind.node.ObjectNode drifted = service.document().deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) drifted.at("/spec/selector")).put("tier", "edited");
    assertThat(merge.merge(service.key(), service.document(), service.document(), drifted).target()
        .at("/spec/selector/tier").textValue()).isEmpty();
    // a custom kind's maps follow its own schema, which its server applies
    assertThat(rs.get(7).document().at("/spec/template/metadata/labels/x").isNull()).isTrue();
    assertThat(rs.get(7).document().at("/spec/data/y").isNull()).isTrue();
  }

  @Test
  void theIntegerFieldsOfPodSpecsContainersJobsAndCronJobsAreCheckedAtTheirWidthNamingPathFileAndLine() {
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  %s\n  containers:\n  - name: app\n"
        + "    image: x\n    %s\n";
    // what a real API server takes: a whole number written with a fraction is that integer, a 64-bit field past 2^31
    Resource ok = decode("p.yaml", pod.formatted("terminationGracePeriodSeconds: 30.0",
        "securityContext: {runAsUser: 4294967296}")).get(0);
    assertThat(ok.document().at("/spec/terminationGracePeriodSeconds").isIntegralNumber()).isTrue();
    assertThat(ok.document().at("/spec/terminationGracePeriodSeconds").asText()).isEqualTo("30");
    assertThat(ok.document().at("/spec/containers/0/securityContext/runAsUser").longValue()).isEqualTo(4294967296L);
    assertThat(decode("p.yaml", pod.formatted("securityContext: {runAsUser: 0, fsGroup: 2000, supplementalGroups: [1, 2]}",
        "livenessProbe: {periodSeconds: 10, failureThreshold: 3, terminationGracePeriodSeconds: 60}"))).hasSize(1);
    String[][] refused = {
        {"terminationGracePeriodSeconds: 30.5", "tty: true",
            "Pod p: spec.terminationGracePeriodSeconds: 30.5 must be a whole number without a fraction"},
        {"activeDeadlineSeconds: \"30\"", "tty: true",
            "Pod p: spec.activeDeadlineSeconds: \"30\" must be an integer, not a string: write 30 without quotes"},
        {"activeDeadlineSeconds: 99999999999999999999", "tty: true", "spec.activeDeadlineSeconds: 99999999999999999999"
            + " is out of range: the API server's field is a 64-bit integer"},
        {"securityContext: {runAsUser: \"1000\"}", "tty: true",
            "spec.securityContext.runAsUser: \"1000\" must be an integer, not a string: write 1000 without quotes"},
        {"securityContext: {fsGroup: lots}", "tty: true", "spec.securityContext.fsGroup: \"lots\" must be an integer"},
        {"securityContext: {runAsGroup: true}", "tty: true", "spec.securityContext.runAsGroup: true must be an integer,"
            + " got a boolean"},
        {"securityContext: {supplementalGroups: [1, \"2\"]}", "tty: true",
            "spec.securityContext.supplementalGroups[1]: \"2\" must be an integer"},
        {"priority: 2147483648", "tty: true", "spec.priority: 2147483648 is out of range: the API server's field is a"
            + " 32-bit integer"},
        {"hostname: h", "securityContext: {runAsGroup: 1.5}",
            "spec.containers[name=app].securityContext.runAsGroup: 1.5 must be a whole number"},
        {"hostname: h", "livenessProbe: {periodSeconds: \"10\"}",
            "spec.containers[name=app].livenessProbe.periodSeconds: \"10\" must be an integer, not a string"},
        {"hostname: h", "readinessProbe: {failureThreshold: 3000000000}",
            "spec.containers[name=app].readinessProbe.failureThreshold: 3000000000 is out of range: the API server's"
                + " field is a 32-bit integer"},
        {"hostname: h", "startupProbe: {initialDelaySeconds: 0.5}",
            "spec.containers[name=app].startupProbe.initialDelaySeconds: 0.5 must be a whole number"},
        {"hostname: h", "startupProbe: {terminationGracePeriodSeconds: \"9\"}",
            "spec.containers[name=app].startupProbe.terminationGracePeriodSeconds: \"9\" must be an integer"},
        {"hostname: h", "lifecycle: {preStop: {sleep: {seconds: \"5\"}}}",
            "spec.containers[name=app].lifecycle.preStop.sleep.seconds: \"5\" must be an integer"},
    };
    for (String[] c : refused) {
      assertThat(error("p.yaml", pod.formatted(c[0], c[1])).getMessage()).as(c[2]).startsWith("p.yaml:1@").contains(c[2]);
    }
    // the pod specs of templates, a CronJob's job template's, and the Job and CronJob fields of their own
    String cronJob = """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly}
        spec:
          schedule: "0 3 * * *"
          startingDeadlineSeconds: %s
          jobTemplate:
            spec:
              activeDeadlineSeconds: %s
              template:
                spec:
                  restartPolicy: Never
                  terminationGracePeriodSeconds: %s
                  initContainers: [{name: init, image: x, readinessProbe: {timeoutSeconds: %s}}]
                  containers: [{name: c, image: x}]
        """;
    assertThat(decode("c.yaml", cronJob.formatted("200", "600", "30", "1"))).hasSize(1);
    assertThat(error("c.yaml", cronJob.formatted("\"200\"", "600", "30", "1")).getMessage()).startsWith("c.yaml:1@")
        .contains("CronJob nightly: spec.startingDeadlineSeconds: \"200\" must be an integer, not a string");
    assertThat(error("c.yaml", cronJob.formatted("200", "1.5", "30", "1")).getMessage())
        .contains("CronJob nightly: spec.jobTemplate.spec.activeDeadlineSeconds: 1.5 must be a whole number");
    assertThat(error("c.yaml", cronJob.formatted("200", "600", "\"30\"", "1")).getMessage())
        .contains("CronJob nightly: spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds: \"30\" must be");
    assertThat(error("c.yaml", cronJob.formatted("200", "600", "30", "1.5")).getMessage())
        .contains("spec.jobTemplate.spec.template.spec.initContainers[name=init].readinessProbe.timeoutSeconds: 1.5");
    assertThat(error("j.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  activeDeadlineSeconds: \"60\"\n"
        + "  template: {spec: {restartPolicy: Never, containers: [{name: c, image: x}]}}\n").getMessage())
        .startsWith("j.yaml:1@").contains("Job j: spec.activeDeadlineSeconds: \"60\" must be an integer, not a string");
    assertThat(error("s.yaml", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n"
        + "  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: \"1\"}}\n").getMessage())
        .contains("StatefulSet db: spec.updateStrategy.rollingUpdate.partition: \"1\" must be an integer");
    assertThat(error("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
        + "    spec:\n      securityContext: {runAsUser: \"1000\"}\n      containers: [{name: app, image: x}]\n")
        .getMessage()).contains("Deployment web: spec.template.spec.securityContext.runAsUser: \"1000\" must be");
    // a custom kind's fields follow its own schema: the server's to judge
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {terminationGracePeriodSeconds: \"30\", securityContext: {runAsUser: \"1000\"},"
        + " containers: [{name: c, livenessProbe: {periodSeconds: 1.5}}]}\n")).hasSize(1);
  }

  @Test
  void probeLifecycleServiceNetworkPolicyAndIngressPortsAreCheckedAsTheApiServerChecksThemAtFileAndLine() {
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    image: x\n"
        + "    ports: [{name: http, containerPort: 8080}]\n    %s\n";
    // what a real API server takes: a number, a port name, a gRPC port number
    assertThat(decode("p.yaml", pod.formatted("livenessProbe: {httpGet: {path: /, port: http}, periodSeconds: 5}"))).hasSize(1);
    assertThat(decode("p.yaml", pod.formatted("readinessProbe: {tcpSocket: {port: 8080}}"))).hasSize(1);
    assertThat(decode("p.yaml", pod.formatted("startupProbe: {grpc: {port: 9090, service: health}}"))).hasSize(1);
    assertThat(decode("p.yaml", pod.formatted("lifecycle: {preStop: {httpGet: {path: /stop, port: 8080.0}}}"))).hasSize(1);
    String c = "Pod p: spec.containers[name=app].";
    String[][] refused = {
        {"startupProbe: {grpc: {port: 0}}", c + "startupProbe.grpc.port: 0 is not a port number (1 to 65535)"},
        {"startupProbe: {grpc: {port: 70000}}", c + "startupProbe.grpc.port: 70000 is not a port number"},
        {"startupProbe: {grpc: {port: 9090.5}}", c + "startupProbe.grpc.port: 9090.5 must be a whole number"},
        {"startupProbe: {grpc: {port: \"9090\"}}", c + "startupProbe.grpc.port: \"9090\" must be an integer, not a"
            + " string: write 9090 without quotes"},
        {"startupProbe: {grpc: {service: health}}", c + "startupProbe.grpc.port is required"},
        {"livenessProbe: {httpGet: {path: /, port: 99999999999}}", c + "livenessProbe.httpGet.port: 99999999999 is out"
            + " of range: the API server's field is a 32-bit integer"},
        {"livenessProbe: {httpGet: {path: /, port: 8080.5}}", c + "livenessProbe.httpGet.port: 8080.5 must be a whole"},
        {"livenessProbe: {httpGet: {path: /, port: -1}}", c + "livenessProbe.httpGet.port: -1 is not a port number"},
        {"livenessProbe: {httpGet: {path: /}}", c + "livenessProbe.httpGet.port is required"},
        {"livenessProbe: {httpGet: {path: /, port: \"8080\"}}", c + "livenessProbe.httpGet.port: '8080' is not a port"
            + " name (an IANA service name: at most 15 lowercase letters, digits and '-', at least one letter, no '-' at"
            + " either end or twice in a row): it has no letter; a port number is written without quotes: 8080"},
        {"readinessProbe: {tcpSocket: {port: HTTP}}", c + "readinessProbe.tcpSocket.port: 'HTTP' is not a port name"},
        {"readinessProbe: {tcpSocket: {port: a-very-long-port-name}}", "it is 21 characters long: at most 15"},
        {"readinessProbe: {tcpSocket: {port: web--http}}", "it has '--'"},
        {"readinessProbe: {tcpSocket: {port: -web}}", "it starts or ends with '-'"},
        {"lifecycle: {postStart: {tcpSocket: {port: 0}}}", c + "lifecycle.postStart.tcpSocket.port: 0 is not a port"},
        {"lifecycle: {preStop: {httpGet: {path: /, port: web_http}}}", c + "lifecycle.preStop.httpGet.port: 'web_http'"
            + " is not a port name"},
    };
    for (String[] e : refused) {
      assertThat(error("p.yaml", pod.formatted(e[0])).getMessage()).as(e[0]).startsWith("p.yaml:1@").contains(e[1]);
    }
    assertThat(error("p.yaml", pod.replace("name: http", "name: HTTP").formatted("tty: true")).getMessage())
        .contains(c + "ports[name=HTTP].name: 'HTTP' is not a port name");
    // in a template too: a Deployment's
    assertThat(error("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n"
        + "    spec:\n      containers: [{name: app, image: x, readinessProbe: {grpc: {port: 65536}}}]\n").getMessage())
        .startsWith("d.yaml:1@")
        .contains("Deployment web: spec.template.spec.containers[name=app].readinessProbe.grpc.port: 65536 is not a port");

    // a Service's targetPort: 0 and "" are defaulted to the port by the server; anything else is checked
    String service = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{name: h, port: 80,"
        + " targetPort: %s}]\n";
    for (String ok : List.of("0", "\"\"", "8080", "http", "65535")) {
      assertThat(decode("s.yaml", service.formatted(ok))).as(ok).hasSize(1);
    }
    // and they are absent, as the server's own targetPort (the port) is to the merge: not an update at every sync
    ThreeWayMerge merge = new ThreeWayMerge(KubernetesRules.mergeRules("k8s"), new byte[32]);
    for (String unset : List.of("0", "\"\"")) {
      Resource git = decode("s.yaml", service.formatted(unset)).get(0);
      assertThat(git.document().at("/spec/ports/0").has("targetPort")).as(unset).isFalse();
      com.fasterxml.jackson.databind.node.ObjectNode stored = git.document().deepCopy();
      ((com.fasterxml.jackson.databind.node.ObjectNode) stored.at("/spec/ports/0")).put("targetPort", 80);
      assertThat(merge.merge(git.key(), git.document(), git.document(), stored).target()).as(unset).isEqualTo(stored);
    }
    assertThat(error("s.yaml", service.formatted("-8080")).getMessage()).startsWith("s.yaml:1@")
        .contains("Service web: spec.ports[name=h].targetPort: -8080 is not a port number (1 to 65535)");
    assertThat(error("s.yaml", service.formatted("65536")).getMessage()).contains("targetPort: 65536 is not a port");
    assertThat(error("s.yaml", service.formatted("80.5")).getMessage()).contains("targetPort: 80.5 must be a whole");
    assertThat(error("s.yaml", service.formatted("my_port")).getMessage()).contains("targetPort: 'my_port' is not a port");

    // a NetworkPolicy's ports
    String policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n"
        + "  podSelector: {}\n  ingress:\n  - ports: [{protocol: TCP}, %s]\n";
    for (String ok : List.of("{port: 80}", "{port: http}", "{port: 32000, endPort: 32768}", "{protocol: UDP}")) {
      assertThat(decode("n.yaml", policy.formatted(ok))).as(ok).hasSize(1);
    }
    String[][] policyRefused = {
        {"{port: 0}", "NetworkPolicy np: spec.ingress[0].ports[1].port: 0 is not a port number"},
        {"{port: \"80\"}", "spec.ingress[0].ports[1].port: '80' is not a port name"},
        {"{port: 80.5}", "spec.ingress[0].ports[1].port: 80.5 must be a whole number"},
        {"{port: 32000, endPort: 70000}", "spec.ingress[0].ports[1].endPort: 70000 is not a port number"},
        {"{port: 32000, endPort: 100}", "spec.ingress[0].ports[1].endPort: 100 is below port 32000"},
        {"{port: http, endPort: 100}", "spec.ingress[0].ports[1].endPort may be given only with a numeric port (port is"
            + " the name 'http')"},
        {"{endPort: 100}", "endPort may be given only with a numeric port (port is not given)"},
    };
    for (String[] e : policyRefused) {
      assertThat(error("n.yaml", policy.formatted(e[0])).getMessage()).as(e[0]).startsWith("n.yaml:1@").contains(e[1]);
    }
    assertThat(error("n.yaml", policy.replace("ingress", "egress").formatted("{port: -1}")).getMessage())
        .contains("spec.egress[0].ports[1].port: -1 is not a port number");

    // an Ingress backend's service port: a number or a name, one of them
    String ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n"
        + "  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: web, port: %s}}}\n";
    for (String ok : List.of("{number: 80}", "{name: http}", "{number: 0, name: http}", "{number: 80, name: ''}")) {
      assertThat(decode("i.yaml", ingress.formatted(ok))).as(ok).hasSize(1);
    }
    String path = "Ingress web: spec.rules[0].http.paths[0].backend.service.port";
    String[][] ingressRefused = {
        {"{number: 70000}", path + ".number: 70000 is not a port number"},
        {"{number: -1}", path + ".number: -1 is not a port number"},
        {"{number: 80.5}", path + ".number: 80.5 must be a whole number"},
        {"{number: \"80\"}", path + ".number: \"80\" must be an integer, not a string"},
        {"{name: Http}", path + ".name: 'Http' is not a port name"},
        {"{name: 80}", path + ".name must be a string, got 80"},
        {"{number: 80, name: http}", path + " gives both a name ('http') and a number (80): give one"},
        {"{}", path + " gives neither a number nor a name of the Service's port"},
    };
    for (String[] e : ingressRefused) {
      assertThat(error("i.yaml", ingress.formatted(e[0])).getMessage()).as(e[0]).startsWith("i.yaml:1@").contains(e[1]);
    }
    assertThat(error("i.yaml", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n"
        + "  defaultBackend: {service: {name: web, port: {number: 0}}}\n").getMessage())
        .contains("Ingress web: spec.defaultBackend.service.port gives neither a number nor a name");
    // a custom kind's ports follow its own schema
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {containers: [{name: c, livenessProbe: {grpc: {port: 0}, httpGet: {port: \"80\"}}}]}\n")).hasSize(1);
  }

  @Test
  void aMappingWhereABuiltInKindHasAListIsAnErrorNamingItsPathNotACrash() {
    // each of these threw a NullPointerException out of decode, naming no file: the checks read list elements by index
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x, %s}]}\n";
    String[][] refused = {
        {pod.formatted("env: {A: b}"), "Pod p: spec.containers[name=a].env must be a list, got a mapping"},
        {pod.formatted("args: {a: b}"), "Pod p: spec.containers[name=a].args must be a list, got a mapping"},
        {pod.formatted("command: sh -c true"), "Pod p: spec.containers[name=a].command must be a list, got string"},
        {pod.formatted("ports: {containerPort: 80}"), "Pod p: spec.containers[name=a].ports must be a list, got a mapping"},
        {"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: {port: 80}}\n",
            "Service s: spec.ports must be a list, got a mapping"},
        {"apiVersion: v1\nkind: LimitRange\nmetadata: {name: l}\nspec: {limits: {max: {cpu: 1}}}\n",
            "LimitRange l: spec.limits must be a list, got a mapping"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    // nor do the port checks of NetworkPolicies crash on a mapping where their lists are: it is named at its path
    assertThat(error("n.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
        + "spec: {podSelector: {}, ingress: {ports: {port: 80}}}\n").getMessage()).startsWith("n.yaml:1@")
        .contains("NetworkPolicy np: spec.ingress must be a list, got a mapping");
  }

  @Test
  void aScalarOrListWhereABuiltInKindHasAnObjectIsAnErrorNamingItsPath() {
    // each reached the API server, which refused it at apply time naming the object, not the file and line
    String deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels:"
        + " {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {%s}\n";
    String app = "containers: [{name: app, image: x, %s}]";
    String c = "Deployment web: spec.template.spec.containers[name=app].";
    String[][] refused = {
        {deployment.formatted(app.formatted("resources: [1]")), c + "resources must be a mapping, got a list"},
        {deployment.formatted(app.formatted("resources: 500m")), c + "resources must be a mapping, got string"},
        {deployment.formatted(app.formatted("livenessProbe: [1]")), c + "livenessProbe must be a mapping, got a list"},
        {deployment.formatted(app.formatted("readinessProbe: true")), c + "readinessProbe must be a mapping, got boolean"},
        {deployment.formatted(app.formatted("startupProbe: {httpGet: [/healthz]}")),
            c + "startupProbe.httpGet must be a mapping, got a list"},
        {deployment.formatted(app.formatted("livenessProbe: {exec: {command: cat /tmp/ok}}")),
            c + "livenessProbe.exec.command must be a list, got string"},
        {deployment.formatted(app.formatted("lifecycle: {preStop: [sleep 5]}")),
            c + "lifecycle.preStop must be a mapping, got a list"},
        {deployment.formatted(app.formatted("lifecycle: [1]")), c + "lifecycle must be a mapping, got a list"},
        {deployment.formatted(app.formatted("securityContext: [1]")), c + "securityContext must be a mapping, got a list"},
        {deployment.formatted(app.formatted("securityContext: {capabilities: {drop: ALL}}")),
            c + "securityContext.capabilities.drop must be a list, got string"},
        {deployment.formatted(app.formatted("resources: {limits: [cpu]}")), c + "resources.limits must be a mapping"},
        {deployment.formatted(app.formatted("env: [{name: A, valueFrom: [x]}]")),
            c + "env[name=A].valueFrom must be a mapping, got a list"},
        {deployment.formatted(app.formatted("env: [A=b]")), c + "env[0] must be a mapping, got string"},
        {deployment.formatted(app.formatted("volumeMounts: [/data]")), c + "volumeMounts[0] must be a mapping, got string"},
        {deployment.formatted(app.formatted("args: [{a: b}]")), c + "args[0] must be a string, got object"},
        {deployment.formatted(app.formatted("imagePullPolicy: Always") + ", securityContext: true"),
            "Deployment web: spec.template.spec.securityContext must be a mapping, got boolean"},
        {deployment.formatted(app.formatted("imagePullPolicy: Always") + ", tolerations: [x]"),
            "Deployment web: spec.template.spec.tolerations[0] must be a mapping, got string"},
        {deployment.formatted(app.formatted("imagePullPolicy: Always") + ", tolerations: [null]"),
            "Deployment web: spec.template.spec.tolerations[0] must be a mapping, got null"},
        {deployment.formatted(app.formatted("imagePullPolicy: Always") + ", affinity: [nodeAffinity]"),
            "Deployment web: spec.template.spec.affinity must be a mapping, got a list"},
        {deployment.formatted(app.formatted("imagePullPolicy: Always") + ", affinity: {nodeAffinity:"
            + " {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [zone-a]}}}"),
            "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
                + " must be a mapping, got string"},
        {deployment.formatted(app.formatted("imagePullPolicy: Always") + ", nodeSelector: [ssd]"),
            "Deployment web: spec.template.spec.nodeSelector must be a mapping, got a list"},
        {deployment.formatted(app.formatted("imagePullPolicy: Always") + ", volumes: [{name: v, configMap: c}]"),
            "Deployment web: spec.template.spec.volumes[name=v].configMap must be a mapping, got string"},
        {deployment.formatted(app.formatted("imagePullPolicy: Always") + ", resources: [1]"),
            "Deployment web: spec.template.spec.resources must be a mapping, got a list"},
        {deployment.replace("  selector: {matchLabels: {a: b}}", "  selector: [a]").formatted(app.formatted("imagePullPolicy: Always")),
            "Deployment web: spec.selector must be a mapping, got a list"},
        {deployment.replace("  selector: {matchLabels: {a: b}}", "  selector: {matchExpressions: [{key: a, operator:"
            + " In, values: a}]}").formatted(app.formatted("imagePullPolicy: Always")),
            "Deployment web: spec.selector.matchExpressions[0].values must be a list, got string"},
        {deployment.replace("metadata: {labels: {a: b}}", "metadata: [a]").formatted(app.formatted("imagePullPolicy: Always")),
            "Deployment web: spec.template.metadata must be a mapping, got a list"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x, resources: [1]}]}\n",
            "Pod p: spec.containers[name=a].resources must be a mapping, got a list"},
        {"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: '* * * * *', jobTemplate: {spec:"
            + " {template: {spec: {restartPolicy: Never, containers: [{name: a, image: x, livenessProbe: 1}]}}}}}\n",
            "CronJob c: spec.jobTemplate.spec.template.spec.containers[name=a].livenessProbe must be a mapping, got number"},
        {"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {selector: {matchLabels: {a: b}}, template:"
            + " {metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: x}]}}, volumeClaimTemplates: [{metadata:"
            + " {name: d}, spec: {accessModes: ReadWriteOnce}}]}\n",
            "StatefulSet s: spec.volumeClaimTemplates[0].spec.accessModes must be a list, got string"},
        {"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec: {resources: [1]}\n",
            "PersistentVolumeClaim d: spec.resources must be a mapping, got a list"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:").contains(e[1]);
    }
    // null is absent, as the server reads it; and the same fields are taken in their shapes
    assertThat(decode("ok.yaml", deployment.formatted(app.formatted("resources: null, livenessProbe: null,"
        + " securityContext: {capabilities: {drop: [ALL]}}, lifecycle: {preStop: {sleep: {seconds: 5}}},"
        + " readinessProbe: {exec: {command: [cat, /ok]}}, args: null")
        + ", tolerations: [{operator: Exists}], affinity: null, securityContext: {supplementalGroups: [1, 2]}"))).hasSize(1);
    // a custom kind's fields follow its own schema
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {containers: [{name: c, resources: [1], livenessProbe: 1}], tolerations: [x]}\n")).hasSize(1);
  }

  @Test
  void theListsOfNetworkPoliciesIngressesRbacWebhooksAndEndpointSlicesAreShapeCheckedNamingTheirPaths() {
    String np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec: {podSelector: {}, %s}\n";
    String ing = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec: {%s}\n";
    String role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: %s\nmetadata: {name: r}\n%s\n";
    String hook = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: v}\n"
        + "webhooks: %s\n";
    String slice = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv4\n%s\n";
    String[][] refused = {
        {np.formatted("ingress: {from: []}"), "NetworkPolicy np: spec.ingress must be a list, got a mapping"},
        {np.formatted("ingress: [allow]"), "NetworkPolicy np: spec.ingress[0] must be a mapping, got string"},
        {np.formatted("ingress: [{from: {podSelector: {}}}]"), "NetworkPolicy np: spec.ingress[0].from must be a list"},
        {np.formatted("egress: [{to: [10.0.0.0/8]}]"), "NetworkPolicy np: spec.egress[0].to[0] must be a mapping, got string"},
        {np.formatted("egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: 10.1.0.0/16}}]}]"),
            "NetworkPolicy np: spec.egress[0].to[0].ipBlock.except must be a list, got string"},
        {np.formatted("egress: [{ports: [53]}]"), "NetworkPolicy np: spec.egress[0].ports[0] must be a mapping, got number"},
        {np.formatted("policyTypes: Ingress"), "NetworkPolicy np: spec.policyTypes must be a list, got string"},
        {np.formatted("ingress: [{from: [{podSelector: [app]}]}]"),
            "NetworkPolicy np: spec.ingress[0].from[0].podSelector must be a mapping, got a list"},
        {ing.formatted("rules: {host: a.example.com}"), "Ingress web: spec.rules must be a list, got a mapping"},
        {ing.formatted("rules: [a.example.com]"), "Ingress web: spec.rules[0] must be a mapping, got string"},
        {ing.formatted("rules: [{http: {paths: {path: /}}}]"), "Ingress web: spec.rules[0].http.paths must be a list"},
        {ing.formatted("rules: [{http: {paths: [/]}}]"), "Ingress web: spec.rules[0].http.paths[0] must be a mapping"},
        {ing.formatted("rules: [{http: {paths: [{path: /, pathType: Prefix, backend: web}]}}]"),
            "Ingress web: spec.rules[0].http.paths[0].backend must be a mapping, got string"},
        {ing.formatted("tls: [{hosts: a.example.com}]"), "Ingress web: spec.tls[0].hosts must be a list, got string"},
        {role.formatted("Role", "rules: [get]"), "Role r: rules[0] must be a mapping, got string"},
        {role.formatted("Role", "rules: {verbs: [get]}"), "Role r: rules must be a list, got a mapping"},
        {role.formatted("ClusterRole", "rules: [{apiGroups: [''], resources: [pods], verbs: get}]"),
            "ClusterRole r: rules[0].verbs must be a list, got string"},
        {role.formatted("ClusterRole", "rules: [{apiGroups: [''], resources: [pods], verbs: [get, yes]}]"),
            "ClusterRole r: rules[0].verbs[1] must be a string, got true"},
        {role.formatted("Role", "rules: [{apiGroups: apps, resources: [deployments], verbs: [get]}]"),
            "Role r: rules[0].apiGroups must be a list, got string"},
        {role.formatted("Role", "rules: [{apiGroups: [''], resources: {pods: x}, verbs: [get]}]"),
            "Role r: rules[0].resources must be a list, got a mapping"},
        {role.formatted("RoleBinding", "roleRef: [view]\nsubjects: []"), "RoleBinding r: roleRef must be a mapping"},
        {role.formatted("ClusterRoleBinding", "roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}"
            + "\nsubjects: [alice]"), "ClusterRoleBinding r: subjects[0] must be a mapping, got string"},
        {hook.formatted("{name: a.example.com}"), "ValidatingWebhookConfiguration v: webhooks must be a list, got a mapping"},
        {hook.formatted("[a.example.com]"), "ValidatingWebhookConfiguration v: webhooks[0] must be a mapping, got string"},
        {hook.formatted("[{name: a.example.com, rules: [{operations: CREATE}]}]"),
            "ValidatingWebhookConfiguration v: webhooks[name=a.example.com].rules[0].operations must be a list, got string"},
        {hook.formatted("[{name: a.example.com, admissionReviewVersions: v1}]"),
            "webhooks[name=a.example.com].admissionReviewVersions must be a list, got string"},
        {slice.formatted("endpoints: [10.0.0.1]"), "EndpointSlice e: endpoints[0] must be a mapping, got string"},
        {slice.formatted("endpoints: [{addresses: 10.0.0.1}]"), "EndpointSlice e: endpoints[0].addresses must be a list"},
        {slice.formatted("ports: {port: 80}"), "EndpointSlice e: ports must be a list, got a mapping"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    assertThat(decode("ok.yaml", np.formatted("ingress: [{from: [{podSelector: {}}, {ipBlock: {cidr: 10.0.0.0/8,"
        + " except: [10.1.0.0/16]}}], ports: [{port: 80}]}], policyTypes: [Ingress]"))).hasSize(1);
    assertThat(decode("ok.yaml", role.formatted("ClusterRole", "rules: [{apiGroups: [''], resources: [pods],"
        + " verbs: ['*']}]"))).hasSize(1);
    assertThat(decode("ok.yaml", ing.formatted("rules: [{host: a.example.com, http: {paths: [{path: /, pathType:"
        + " Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]"))).hasSize(1);
    assertThat(decode("ok.yaml", slice.formatted("endpoints: [{addresses: [10.0.0.1]}]\nports: [{port: 80}]")))
        .hasSize(1);
  }

  @Test
  void aLimitBelowItsRequestIsAnErrorAsTheApiServerRefusesItANullLimitBeingZero() {
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    image: x\n"
        + "    resources: %s\n";
    String[][] refused = {
        {"{limits: {cpu: null}, requests: {cpu: 500m}}", "Pod p: spec.containers[name=app].resources: the cpu limit 0"
            + " (written null, which the API server reads as 0) is below its request 500m"},
        {"{limits: {cpu: }, requests: {cpu: 500m}}", "the cpu limit 0 (written null"},
        {"{limits: {memory: 1Gi}, requests: {memory: 2Gi}}", "the memory limit 1Gi is below its request 2Gi"},
        {"{limits: {cpu: 0.25}, requests: {cpu: 300m}}", "the cpu limit 0.25 is below its request 300m"},
        {"{limits: {memory: 900Mi}, requests: {memory: 1G}}", "the memory limit 900Mi is below its request 1G"},
    };
    for (String[] e : refused) {
      assertThat(error("p.yaml", pod.formatted(e[0])).getMessage()).as(e[0]).startsWith("p.yaml:1@").contains(e[1]);
    }
    // a pod's own resources too, and an init container's
    assertThat(error("p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  resources: {limits: {cpu: 1},"
        + " requests: {cpu: 2}}\n  containers: [{name: a, image: x}]\n").getMessage())
        .contains("Pod p: spec.resources: the cpu limit 1 is below its request 2");
    assertThat(error("p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n"
        + "  initContainers: [{name: i, image: x, resources: {limits: {cpu: 100m}, requests: {cpu: 0.2}}}]\n")
        .getMessage()).contains("Pod p: spec.initContainers[name=i].resources: the cpu limit 100m is below its request 0.2");
    // what the server takes: equal amounts written otherwise, a request without a limit, a null request (0)
    for (String ok : List.of("{limits: {cpu: 1}, requests: {cpu: 1000m}}", "{limits: {cpu: 0.5}, requests: {cpu: 500m}}",
        "{limits: {memory: 1Gi}, requests: {memory: 1024Mi}}", "{requests: {cpu: 2}}",
        "{limits: {cpu: 1}, requests: {cpu: null, memory: 1Gi}}", "{limits: {cpu: null}}")) {
      assertThat(decode("p.yaml", pod.formatted(ok))).as(ok).hasSize(1);
    }
    // a custom kind's fields follow its own schema
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {containers: [{name: c, resources: {limits: {cpu: 1}, requests: {cpu: 2}}}]}\n")).hasSize(1);
  }

  @Test
  void aMappingOrScalarWhereAPodSpecOrAContainerHasAListIsAnErrorNamingItsPath() {
    // the API server refuses each of these at apply time, naming no file; the decoder let them through
    String deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {a: b}}\n"
        + "  template:\n    metadata: {labels: {a: b}}\n    spec: {%s}\n";
    String app = "containers: [{name: app, image: x, %s}]";
    String[][] refused = {
        {deployment.formatted("containers: {name: app, image: x}"),
            "Deployment web: spec.template.spec.containers must be a list, got a mapping"},
        {deployment.formatted(app.formatted("volumeMounts: []") + ", initContainers: {name: i, image: x}"),
            "spec.template.spec.initContainers must be a list, got a mapping"},
        {deployment.formatted(app.formatted("volumeMounts: []") + ", volumes: {name: v, emptyDir: {}}"),
            "spec.template.spec.volumes must be a list, got a mapping"},
        {deployment.formatted(app.formatted("volumeMounts: []") + ", tolerations: {operator: Exists}"),
            "spec.template.spec.tolerations must be a list, got a mapping"},
        {deployment.formatted(app.formatted("volumeMounts: []") + ", imagePullSecrets: regcred"),
            "spec.template.spec.imagePullSecrets must be a list, got string"},
        {deployment.formatted(app.formatted("volumeMounts: {name: v, mountPath: /v}")),
            "Deployment web: spec.template.spec.containers[name=app].volumeMounts must be a list, got a mapping"},
        {deployment.formatted(app.formatted("envFrom: {configMapRef: {name: c}}")),
            "spec.template.spec.containers[name=app].envFrom must be a list, got a mapping"},
        {deployment.formatted("containers: app"), "spec.template.spec.containers must be a list, got string"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x}], ephemeralContainers:"
            + " {name: d, image: x}}\n", "Pod p: spec.ephemeralContainers must be a list, got a mapping"},
        {"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: '* * * * *', jobTemplate: {spec:"
            + " {template: {spec: {restartPolicy: Never, containers: {name: a, image: x}}}}}}\n",
            "CronJob c: spec.jobTemplate.spec.template.spec.containers must be a list, got a mapping"},
        {"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\nimagePullSecrets: {name: regcred}\n",
            "ServiceAccount s: imagePullSecrets must be a list, got a mapping"},
        {"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: 80}\n", "Service s: spec.ports must be a list,"
            + " got number"},
        // where an object belongs
        {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: [replicas: 1]\n",
            "Deployment web: spec must be a mapping, got a list"},
        {deployment.replace("    spec: {%s}\n", "    spec: [containers: []]\n"),
            "Deployment web: spec.template.spec must be a mapping, got a list"},
        {"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: ClusterIP\n", "Service s: spec must be a mapping,"
            + " got string"},
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: [name: c]\n", "ConfigMap: metadata must be a mapping, got a list"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    // null is absent, as the server reads it; and a custom kind's spec follows its own schema
    assertThat(decode("ok.yaml", deployment.formatted(app.formatted("volumeMounts: null, envFrom: null")
        + ", volumes: null, tolerations: null"))).hasSize(1);
    assertThat(decode("c.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a}\n"
        + "spec: [1, 2]\n")).hasSize(1);
    // a ConfigMap's data keys are no pod spec's fields
    assertThat(decode("d.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {containers: x,"
        + " volumes: y}\n")).hasSize(1);
  }

  @Test
  void theLabelsAndAnnotationKeysOfJobAndClaimTemplatesAreCheckedAsAnObjectsAre() {
    String cron = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n"
        + "  jobTemplate:\n    metadata: %s\n    spec: {template: {spec: {restartPolicy: Never, containers: [{name: a,"
        + " image: x}]}}}\n";
    String sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  selector: {matchLabels: {a: b}}\n"
        + "  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: x}]}}\n"
        + "  volumeClaimTemplates: [{metadata: %s, spec: {accessModes: [ReadWriteOnce]}}]\n";
    String[][] refused = {
        {cron.formatted("{labels: {'a b': x}}"), "CronJob c: spec.jobTemplate.metadata.labels key 'a b' has a name part"},
        {cron.formatted("{labels: {team: 'a b'}}"), "CronJob c: spec.jobTemplate.metadata.labels.team: value 'a b' is not"},
        {cron.formatted("{annotations: {'Bad Key': x}}"), "CronJob c: spec.jobTemplate.metadata.annotations key 'Bad Key'"},
        {sts.formatted("{name: d, labels: {'-x': y}}"), "StatefulSet s: spec.volumeClaimTemplates[0].metadata.labels key '-x'"},
        {sts.formatted("{name: d, labels: {x: '-y'}}"),
            "StatefulSet s: spec.volumeClaimTemplates[0].metadata.labels.x: value '-y' is not a label value"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n  volumes: [{name: v,"
            + " ephemeral: {volumeClaimTemplate: {metadata: {labels: {'a/b/c': x}}, spec: {accessModes: [ReadWriteOnce]}}}}]\n",
            "Pod p: spec.volumes[0].ephemeral.volumeClaimTemplate.metadata.labels key 'a/b/c' has more than one '/'"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    assertThat(decode("ok.yaml", cron.formatted("{labels: {app.kubernetes.io/name: nightly, tier: ''},"
        + " annotations: {example.com/note: x}}"))).hasSize(1);
    assertThat(decode("ok.yaml", sts.formatted("{name: d, labels: {app: db}}"))).hasSize(1);
  }

  @Test
  void aNegativeCountOrQuantityIsAnErrorAsTheApiServerRefusesIt() {
    String deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  %s\n  selector:"
        + " {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: app,"
        + " image: x%s}]}\n";
    String[][] refused = {
        {deployment.formatted("replicas: -1", ""), "Deployment web: spec.replicas: -1 is negative: the API server refuses"},
        {deployment.formatted("minReadySeconds: -5", ""), "Deployment web: spec.minReadySeconds: -5 is negative"},
        {deployment.formatted("revisionHistoryLimit: -1", ""), "Deployment web: spec.revisionHistoryLimit: -1 is negative"},
        {deployment.formatted("replicas: 1", ", resources: {limits: {cpu: -1}}"),
            "Deployment web: spec.template.spec.containers[name=app].resources.limits.cpu: -1 is negative"},
        {deployment.formatted("replicas: 1", ", resources: {requests: {memory: -1Gi}}"),
            "spec.template.spec.containers[name=app].resources.requests.memory: -1Gi is negative"},
        {"apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {backoffLimit: -1, template: {spec: {restartPolicy:"
            + " Never, containers: [{name: a, image: x}]}}}\n", "Job j: spec.backoffLimit: -1 is negative"},
        {"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: '* * * * *', startingDeadlineSeconds:"
            + " -10, jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}}\n",
            "CronJob c: spec.startingDeadlineSeconds: -10 is negative"},
        {"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: '* * * * *', jobTemplate: {spec:"
            + " {parallelism: -2, template: {spec: {containers: [{name: a, image: x}]}}}}}\n",
            "CronJob c: spec.jobTemplate.spec.parallelism: -2 is negative"},
        {"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {replicas: -3, selector: {matchLabels: {a: b}},"
            + " template: {metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: x}]}}}\n",
            "StatefulSet s: spec.replicas: -3 is negative"},
        {"apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: -1}}\n",
            "ResourceQuota q: spec.hard.pods: -1 is negative"},
        {"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d}\nspec: {accessModes: [ReadWriteOnce],"
            + " resources: {requests: {storage: -1Gi}}}\n", "PersistentVolumeClaim d: spec.resources.requests.storage: -1Gi"
            + " is negative"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    // zero is a count the server takes, and so is a zero quantity
    assertThat(decode("ok.yaml", deployment.formatted("replicas: 0", ", resources: {limits: {cpu: 0}}"))).hasSize(1);
    // a custom kind's fields follow its own schema
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {replicas: -1, containers: [{name: c, resources: {limits: {cpu: -1}}}]}\n")).hasSize(1);
  }

  @Test
  void aStringOrBooleanFieldOfAnotherTypeAndMalformedMetadataListsAreErrorsNamingTheirPaths() {
    // YAML reads these as numbers, booleans or strings the API server cannot decode into the field: it refused the
    // object at apply time, naming no file
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {%s}\n";
    String[][] refused = {
        {pod.formatted("containers: [{name: 5, image: x}]"), "Pod p: spec.containers[0].name must be a string, got 5"},
        {pod.formatted("containers: [{name: a, image: 5}]"), "Pod p: spec.containers[name=a].image must be a string, got 5"},
        {pod.formatted("containers: [{name: a, image: x, ports: [{containerPort: 80, name: 8080}]}]"),
            "Pod p: spec.containers[name=a].ports[0].name must be a string, got 8080"},
        {pod.formatted("containers: [{name: a, image: x, securityContext: {privileged: 'true'}}]"),
            "Pod p: spec.containers[name=a].securityContext.privileged must be true or false, got \"true\" (write it"
                + " without quotes)"},
        {pod.formatted("containers: [{name: a, image: x, volumeMounts: [{name: v, mountPath: /v, readOnly: 1}]}]"),
            "Pod p: spec.containers[name=a].volumeMounts[name=v].readOnly must be true or false, got 1"},
        {pod.formatted("containers: [{name: a, image: x}], hostNetwork: 'yes'"),
            "Pod p: spec.hostNetwork must be true or false, got \"yes\""},
        {pod.formatted("containers: [{name: a, image: x}], restartPolicy: [Never]"),
            "Pod p: spec.restartPolicy must be a string, got array"},
        {"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: 5, jobTemplate: {spec: {template:"
            + " {spec: {containers: [{name: a, image: x}]}}}}}\n", "CronJob c: spec.schedule must be a string, got 5"},
        {"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: '@daily', suspend: 'false',"
            + " jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}}\n",
            "CronJob c: spec.suspend must be true or false, got \"false\""},
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nimmutable: 'true'\n",
            "ConfigMap c: immutable must be true or false, got \"true\""},
        {"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: 5\n", "Secret s: type must be a string, got 5"},
        {"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, protocol: 6}]}\n",
            "Service s: spec.ports[0].protocol must be a string, got 6"},
        {"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec: {rules: [{host: 1.5}]}\n",
            "Ingress i: spec.rules[0].host must be a string, got 1.5"},
        // every kind's metadata, a custom one's too
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: example.com/x}\n",
            "ConfigMap c: metadata.finalizers must be a list, got string"},
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, ownerReferences: {kind: Deployment}}\n",
            "ConfigMap c: metadata.ownerReferences must be a list, got a mapping"},
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, ownerReferences: [{kind: Deployment, name: d, uid: u,"
            + " apiVersion: apps/v1, controller: 'true'}]}\n",
            "ConfigMap c: metadata.ownerReferences[name=d].controller must be true or false"},
        {"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a, finalizers: [1]}\n",
            "Widget w: metadata.finalizers[0] must be a string, got 1"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    assertThat(decode("ok.yaml", pod.formatted("containers: [{name: a, image: x, securityContext: {privileged: false}}],"
        + " hostNetwork: true, restartPolicy: Never"))).hasSize(1);
    assertThat(decode("ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [example.com/x]}\n"
        + "immutable: true\n")).hasSize(1);
    // a custom kind's other fields follow its own schema
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {schedule: 5, containers: [{name: 5, image: 5}]}\n")).hasSize(1);
  }

  @Test
  void protocolsHostAndNodePortsTolerationSecondsAndCrdShapesAreCheckedAsTheApiServerChecksThem() {
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x%s}]%s}\n";
    String crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: ws.example.com}\n"
        + "spec: {group: example.com, scope: Namespaced, names: %s, versions: %s}\n";
    String[][] refused = {
        {pod.formatted(", ports: [{containerPort: 80, protocol: tcp}]", ""),
            "Pod p: spec.containers[name=a].ports[0].protocol: 'tcp' is not a protocol: TCP, UDP or SCTP"},
        {"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 53, protocol: udp}]}\n",
            "Service s: spec.ports[0].protocol: 'udp' is not a protocol"},
        {"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {}, ingress:"
            + " [{ports: [{port: 80, protocol: Tcp}]}]}\n", "NetworkPolicy n: spec.ingress[0].ports[0].protocol: 'Tcp'"},
        {pod.formatted(", ports: [{containerPort: 80, hostPort: 70000}]", ""),
            "Pod p: spec.containers[name=a].ports[0].hostPort: 70000 is not a port number (1 to 65535)"},
        {pod.formatted(", ports: [{containerPort: 80, hostPort: -1}]", ""), "ports[0].hostPort: -1 is not a port number"},
        {"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, ports: [{port: 80, nodePort: -1}]}\n",
            "Service s: spec.ports[0].nodePort: -1 is not a port number (1 to 65535)"},
        {pod.formatted("", ", tolerations: [{operator: Exists, tolerationSeconds: 1.5}]"),
            "Pod p: spec.tolerations[0].tolerationSeconds: 1.5 must be a whole number"},
        {pod.formatted("", ", tolerations: [{operator: Exists, tolerationSeconds: 99999999999999999999}]"),
            "Pod p: spec.tolerations[0].tolerationSeconds: 99999999999999999999 is out of range"},
        {crd.formatted("[ws]", "[{name: v1, served: true, storage: true}]"),
            "CustomResourceDefinition ws.example.com: spec.names must be a mapping, got a list"},
        {crd.formatted("{plural: ws, kind: W}", "{name: v1}"),
            "CustomResourceDefinition ws.example.com: spec.versions must be a list, got a mapping"},
        {crd.formatted("{plural: ws, kind: W}", "[{name: v1, served: 'true', storage: true}]"),
            "CustomResourceDefinition ws.example.com: spec.versions[name=v1].served must be true or false"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:").contains(e[1]);
    }
    // 0 is no host port, and a node port the server allocates
    assertThat(decode("ok.yaml", pod.formatted(", ports: [{containerPort: 80, hostPort: 0, protocol: UDP}]",
        ", tolerations: [{operator: Exists, tolerationSeconds: 30}]"))).hasSize(1);
    assertThat(decode("ok.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, ports:"
        + " [{port: 80, nodePort: 0, protocol: SCTP}]}\n")).hasSize(1);
  }

  @Test
  void aDependencyOnAClusterScopedKindThatNamesANamespaceIsAnErrorNotAKeyThatNeverExists() {
    String cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {gitops.dev/depends-on: '%s'}}\n";
    String[][] refused = {
        {"/Namespace:shop:shop", "'/Namespace:shop:shop': /Namespace is cluster-scoped, so its key has no namespace:"
            + " write /Namespace::shop"},
        {"k8s:/Namespace:x:shop", "write k8s:/Namespace::shop"},
        {"rbac.authorization.k8s.io/ClusterRole:shop:view", "write rbac.authorization.k8s.io/ClusterRole::view"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", cm.formatted(e[0])).getMessage()).as(e[0]).startsWith("m.yaml:1@")
          .contains("annotation gitops.dev/depends-on: ").contains(e[1]);
    }
    assertThat(decode("ok.yaml", cm.formatted("/Namespace::shop, rbac.authorization.k8s.io/ClusterRole::view"))
        .get(0).dependsOn()).extracting(ResourceKey::toString)
        .containsExactlyInAnyOrder("k8s:/Namespace::shop", "k8s:rbac.authorization.k8s.io/ClusterRole::view");
    // a kind nobody can tell the scope of keeps the namespace written; another provider's keys are its own
    assertThat(decode("ok.yaml", cm.formatted("example.com/Widget:shop:w, files:file:x:y"))).hasSize(1);
  }

  @Test
  void servicePortNamesAndContainerNamesAcrossAPodsListsAreCheckedAsTheApiServerChecksThem() {
    String svc = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: %s}\n";
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x}], %s}\n";
    String[][] refused = {
        {svc.formatted("[{port: 80}, {port: 443}]"), "Service s: spec.ports[0].name is required: a Service with more than"
            + " one port names each of them"},
        {svc.formatted("[{port: 80, name: http}, {port: 443, name: ''}]"), "Service s: spec.ports[1].name is required"},
        {svc.formatted("[{port: 80, name: web}, {port: 443, name: web}]"),
            "Service s: spec.ports[name=web].name: 'web' names ports[0] too"},
        {svc.formatted("[{port: 80, name: http_alt}]"), "Service s: spec.ports[name=http_alt].name: 'http_alt' is not a DNS"
            + " label"},
        {pod.formatted("initContainers: [{name: a, image: y}]"), "Pod p: spec.initContainers[name=a]: the name is a"
            + " container's of spec.containers too"},
        {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {selector: {matchLabels: {a: b}}, template:"
            + " {metadata: {labels: {a: b}}, spec: {containers: [{name: a, image: x}], ephemeralContainers: [{name: a,"
            + " image: y}]}}}\n", "Deployment d: spec.template.spec.ephemeralContainers[name=a]: the name is a container's"
            + " of spec.template.spec.containers too"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    // one port needs no name; named ports with distinct DNS labels; distinct container names
    assertThat(decode("ok.yaml", svc.formatted("[{port: 80}]"))).hasSize(1);
    assertThat(decode("ok.yaml", svc.formatted("[{port: 80, name: http}, {port: 443, name: https-2}]"))).hasSize(1);
    assertThat(decode("ok.yaml", pod.formatted("initContainers: [{name: init, image: y}]"))).hasSize(1);
  }

  @Test
  void aWorkloadWhoseSelectorDoesNotSelectItsOwnPodTemplateIsAnError() {
    String deployment = "apiVersion: apps/v1\nkind: %s\nmetadata: {name: w}\nspec:\n  selector: {matchLabels: %s}\n"
        + "  template:\n    metadata: {labels: %s}\n    spec: {containers: [{name: a, image: x}]}\n";
    String[][] refused = {
        {deployment.formatted("Deployment", "{app: web}", "{app: api}"), "Deployment w: spec.selector.matchLabels asks"
            + " app=web, but spec.template.metadata.labels has app=api: the selector must select the pod template"},
        {deployment.formatted("StatefulSet", "{app: web, tier: db}", "{app: web}"),
            "StatefulSet w: spec.selector.matchLabels asks tier=db, but spec.template.metadata.labels has no tier"},
        {deployment.formatted("DaemonSet", "{app: web}", "null"), "DaemonSet w: spec.selector.matchLabels asks app=web,"
            + " but spec.template.metadata.labels has no app"},
        {"apiVersion: v1\nkind: ReplicationController\nmetadata: {name: r}\nspec: {selector: {app: web}, template:"
            + " {metadata: {labels: {app: api}}, spec: {containers: [{name: a, image: x}]}}}\n",
            "ReplicationController r: spec.selector asks app=web, but spec.template.metadata.labels has app=api"},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    // the template may carry more labels; a null value is the empty one on both sides
    assertThat(decode("ok.yaml", deployment.formatted("Deployment", "{app: web, tier: null}", "{app: web, tier: '',"
        + " v: '2'}"))).hasSize(1);
  }

  @Test
  void anAppsV1WorkloadWithoutASelectorOrWhoseMatchExpressionsDoNotSelectItsTemplateIsAnError() {
    String workload = "apiVersion: apps/v1\nkind: %s\nmetadata: {name: w}\nspec:\n%s  template:\n"
        + "    metadata: {labels: {app: web, tier: db}}\n    spec: {containers: [{name: a, image: x}]}\n";
    String expressions = "  selector:\n    matchLabels: {app: web}\n    matchExpressions:\n    - %s\n";
    String[][] refused = {
        // apps/v1 requires the selector and does not default it from the template's labels (the beta versions did)
        {workload.formatted("Deployment", ""), "Deployment w: spec.selector is missing: apps/v1 requires a selector"},
        {workload.formatted("StatefulSet", "  selector: null\n"), "StatefulSet w: spec.selector is missing"},
        {workload.formatted("DaemonSet", "  selector: {}\n"), "DaemonSet w: spec.selector selects nothing (no"
            + " matchLabels, no matchExpressions)"},
        {workload.formatted("ReplicaSet", "  selector: {matchLabels: {}, matchExpressions: []}\n"),
            "ReplicaSet w: spec.selector selects nothing"},
        {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\n", "Deployment w: spec.selector is missing"},
        // each requirement must hold for the template's labels
        {workload.formatted("Deployment", expressions.formatted("{key: tier, operator: In, values: [web, api]}")),
            "Deployment w: spec.selector.matchExpressions[0] (tier In [\"web\",\"api\"]) does not select"
            + " spec.template.metadata.labels, which has tier=db: the selector must select the pod template"},
        {workload.formatted("Deployment", expressions.formatted("{key: tier, operator: NotIn, values: [db]}")),
            "spec.selector.matchExpressions[0] (tier NotIn [\"db\"]) does not select"},
        {workload.formatted("Deployment", expressions.formatted("{key: zone, operator: Exists}")),
            "spec.selector.matchExpressions[0] (zone Exists) does not select spec.template.metadata.labels, which has"
            + " no zone"},
        {workload.formatted("Deployment", expressions.formatted("{key: tier, operator: DoesNotExist}")),
            "(tier DoesNotExist) does not select"},
        // what the server refuses in a requirement itself
        {workload.formatted("Deployment", expressions.formatted("{key: tier, operator: in, values: [db]}")),
            "spec.selector.matchExpressions[0].operator 'in' is not one of In, NotIn, Exists and DoesNotExist"},
        {workload.formatted("Deployment", expressions.formatted("{key: tier, values: [db]}")),
            "spec.selector.matchExpressions[0].operator missing: it is not one of In, NotIn"},
        {workload.formatted("Deployment", expressions.formatted("{key: tier, operator: In}")),
            "spec.selector.matchExpressions[0].values are required when the operator is In"},
        {workload.formatted("Deployment", expressions.formatted("{key: tier, operator: Exists, values: [db]}")),
            "spec.selector.matchExpressions[0].values must be empty when the operator is Exists"},
        {workload.formatted("Deployment", expressions.formatted("{operator: Exists}")),
            "spec.selector.matchExpressions[0].key must be a label key, got none"},
        {workload.formatted("Deployment", expressions.formatted("{key: 'a b', operator: Exists}")),
            "spec.selector.matchExpressions[0].key 'a b' "},
        {workload.formatted("Deployment", expressions.formatted("{key: tier, operator: In, values: ['d b']}")),
            "spec.selector.matchExpressions[0].values: 'd b' "},
    };
    for (String[] e : refused) {
      assertThat(error("m.yaml", e[0]).getMessage()).as(e[0]).startsWith("m.yaml:1@").contains(e[1]);
    }
    // requirements the template's labels meet; only matchExpressions; a beta version and a ReplicationController,
    // whose selector the server takes from the template's labels
    for (String ok : List.of("{key: tier, operator: In, values: [db, cache]}", "{key: tier, operator: NotIn, values: [web]}",
        "{key: zone, operator: NotIn, values: [a]}", "{key: app, operator: Exists}", "{key: zone, operator: DoesNotExist}")) {
      assertThat(decode("ok.yaml", workload.formatted("Deployment", expressions.formatted(ok)))).as(ok).hasSize(1);
    }
    assertThat(decode("ok.yaml", workload.formatted("StatefulSet", "  selector:\n    matchExpressions: [{key: app,"
        + " operator: In, values: [web]}]\n"))).hasSize(1);
    assertThat(decode("ok.yaml", workload.formatted("Deployment", "").replace("apps/v1", "apps/v1beta1"))).hasSize(1);
    assertThat(decode("ok.yaml", "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: r}\nspec: {template:"
        + " {metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: x}]}}}\n")).hasSize(1);
  }

  @Test
  void aNullQuantityInAResourceListIsTheZeroTheServerStores() {
    // ResourceList is map[ResourceName]resource.Quantity: the server decodes a JSON null there as the zero
    // Quantity (Quantity.UnmarshalJSON), stored and read back as "0"; held as null, it was absent to the merge
    Resource d = decode("d.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d}
        spec:
          selector: {matchLabels: {app: d}}
          template:
            metadata: {labels: {app: d}}
            spec:
              containers:
              - name: app
                resources: {limits: {cpu: null, memory: 1Gi}, requests: {memory: }}
                volumeMounts: [{name: v, mountPath: /v}]
              volumes: [{name: v, emptyDir: {sizeLimit: null}}]
        """).get(0);
    var c = d.document().at("/spec/template/spec/containers/0");
    assertThat(c.at("/resources/limits/cpu").textValue()).isEqualTo("0");
    assertThat(c.at("/resources/limits/memory").textValue()).isEqualTo("1Gi");
    assertThat(c.at("/resources/requests/memory").textValue()).isEqualTo("0");
    // a sizeLimit is a pointer to a Quantity: null is nil, absent (null, as everywhere)
    assertThat(d.document().at("/spec/template/spec/volumes/0/emptyDir/sizeLimit").isNull()).isTrue();
    Resource q = decode("q.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: null}}\n")
        .get(0);
    assertThat(q.document().at("/spec/hard/pods").textValue()).isEqualTo("0");
    // a custom kind's fields follow its own schema: left as written
    Resource w = decode("w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a}\n"
        + "spec: {resources: {limits: {cpu: null}}}\n").get(0);
    assertThat(w.document().at("/spec/resources/limits/cpu").isNull()).isTrue();
  }

  @Test
  void aNestedMapOfStringsOfABuiltInKindIsCheckedAsTheTopLevelLabelsAndAnnotationsAre() {
    String deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: %s}\n"
        + "  template:\n    metadata: {labels: %s, annotations: %s}\n    spec:\n      nodeSelector: %s\n"
        + "      containers: [{name: app, image: x}]\n";
    String[][] refused = {
        {"{v: 1.10}", "{app: web}", "{}", "{}", "Deployment web: spec.selector.matchLabels.v must be a string, got 1.1"
            + " (quote it"},
        {"{app: web}", "{version: 1.10}", "{}", "{}", "spec.template.metadata.labels.version must be a string, got 1.1"},
        {"{app: web}", "{app: web}", "{prometheus.io/port: 9090}", "{}",
            "Deployment web: spec.template.metadata.annotations.prometheus.io/port must be a string, got 9090"},
        {"{app: web}", "{app: web}", "{}", "{gpu: true}", "spec.template.spec.nodeSelector.gpu must be a string, got true"},
        {"{app: web}", "{'a b': web}", "{}", "{}", "spec.template.metadata.labels key 'a b' has a name part that is not"},
        {"{app: web}", "{app: 'a b'}", "{}", "{}", "spec.template.metadata.labels.app: value 'a b' is not a label value"},
        {"{'x/y/z': web}", "{app: web}", "{}", "{}", "spec.selector.matchLabels key 'x/y/z' has more than one '/'"},
        {"{app: web}", "{app: web}", "{'Bad Key': x}", "{}", "spec.template.metadata.annotations key 'Bad Key'"},
        {"{app: web}", "{app: web}", "{}", "{disk: '-ssd'}", "spec.template.spec.nodeSelector.disk: value '-ssd' is not"},
    };
    for (String[] e : refused) {
      assertThat(error("d.yaml", deployment.formatted(e[0], e[1], e[2], e[3])).getMessage()).as(e[4])
          .startsWith("d.yaml:1@").contains(e[4]);
    }
    // what the server takes, including keys that are named like the maps checked
    assertThat(decode("d.yaml", deployment.formatted("{app: web}", "{app: web, matchLabels: x}",
        "{prometheus.io/port: '9090', nodeSelector: y}", "{disk: ssd}"))).hasSize(1);
    assertThat(decode("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {matchLabels: x, metadata: y}\n"))
        .hasSize(1);
    assertThat(error("s.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {app: yes},"
        + " ports: [{port: 80}]}\n").getMessage()).startsWith("s.yaml:1@")
        .contains("Service s: spec.selector.app must be a string, got true");
    assertThat(error("j.yaml", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n"
        + "  jobTemplate:\n    metadata: {labels: {run: on}}\n    spec: {template: {spec: {containers: [{name: a,"
        + " image: x}]}}}\n").getMessage()).contains("CronJob c: spec.jobTemplate.metadata.labels.run must be a string");
    assertThat(error("p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n"
        + "  volumes: [{name: v, csi: {driver: d, volumeAttributes: {size: 10}}}]\n").getMessage())
        .contains("Pod p: spec.volumes[0].csi.volumeAttributes.size must be a string, got 10");
    // a custom kind's follow its own schema
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {template: {metadata: {labels: {v: 1.10}}, spec: {containers: []}}, selector: {matchLabels: {x: 1}}}\n"))
        .hasSize(1);
  }

  @Test
  void quantitiesPastTheSuffixesAreSentAsTheApiServerStoresThemAndAnExponentItRefusesIsAnError() {
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    image: x\n"
        + "    resources: {limits: {cpu: %s, memory: %s}}\n";
    // the server stores 1E30 and the number 1e30 (kubectl sends 1e+30) as 1e30, and 10^21 written out as 1e21
    Resource r = decode("p.yaml", pod.formatted("\"1E30\"", "1e+30")).get(0);
    assertThat(r.document().at("/spec/containers/0/resources/limits/cpu").asText()).isEqualTo("1e30");
    assertThat(r.document().at("/spec/containers/0/resources/limits/memory").asText()).isEqualTo("1e30");
    r = decode("p.yaml", pod.formatted("\"1" + "0".repeat(21) + "\"", "8Ei")).get(0);
    assertThat(r.document().at("/spec/containers/0/resources/limits/cpu").asText()).isEqualTo("1e21");
    assertThat(r.document().at("/spec/containers/0/resources/limits/memory").asText()).isEqualTo("9223372036854775807");
    // every quantity field the normalization canonicalizes is checked: a pod's overhead (in templates too), a
    // LimitRange's limits, a PersistentVolume's capacity, a RuntimeClass's overhead, an emptyDir's sizeLimit
    String[][] refused = {
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  overhead: {cpu: lots}\n  containers: [{name: a, image: x}]\n",
            "Pod p: spec.overhead.cpu: \"lots\" is not a quantity"},
        {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n"
            + "  template:\n    metadata: {labels: {a: b}}\n    spec:\n      overhead: {memory: \"1e99999999999999999999\"}\n"
            + "      containers: [{name: a, image: x}]\n",
            "Deployment d: spec.template.spec.overhead.memory: \"1e99999999999999999999\" is not a quantity"},
        {"apiVersion: v1\nkind: LimitRange\nmetadata: {name: l}\nspec:\n  limits:\n  - {type: Container, max: {cpu: '2'},"
            + " defaultRequest: {memory: 1.5.5Gi}}\n", "LimitRange l: spec.limits[0].defaultRequest.memory: \"1.5.5Gi\" is not"},
        {"apiVersion: v1\nkind: LimitRange\nmetadata: {name: l}\nspec:\n  limits: [{type: Pod, maxLimitRequestRatio: {cpu: x}}]\n",
            "spec.limits[0].maxLimitRequestRatio.cpu: \"x\" is not a quantity"},
        {"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec: {capacity: {storage: 10 GB}}\n",
            "PersistentVolume pv: spec.capacity.storage: \"10 GB\" is not a quantity"},
        {"apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: rc}\nhandler: runc\noverhead: {podFixed: {cpu: lots}}\n",
            "RuntimeClass rc: overhead.podFixed.cpu: \"lots\" is not a quantity"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, emptyDir: {sizeLimit: 1 Gi}}]\n"
            + "  containers: [{name: a, image: x}]\n", "Pod p: spec.volumes[0].emptyDir.sizeLimit: \"1 Gi\" is not a quantity"},
    };
    for (String[] c : refused) {
      assertThat(error("q.yaml", c[0]).getMessage()).as(c[1]).startsWith("q.yaml:1@").contains(c[1]);
    }
    assertThat(decode("q.yaml", "apiVersion: v1\nkind: LimitRange\nmetadata: {name: l}\nspec:\n  limits:\n"
        + "  - {type: Container, max: {cpu: 2, memory: 1E30}, min: {cpu: 100m}, maxLimitRequestRatio: {cpu: 4}}\n")
        .get(0).document().at("/spec/limits/0/max/memory").asText()).isEqualTo("1e30");
    // an exponent past 64 bits is refused by the server's parser: here, at its file and line
    assertThat(error("p.yaml", pod.formatted("1", "\"1e99999999999999999999\"")).getMessage()).startsWith("p.yaml:1@")
        .contains("Pod p: spec.containers[name=app].resources.limits.memory: \"1e99999999999999999999\" is not a quantity");
  }

  @Test
  void aStrategicMergePatchDirectiveInABuiltInKindIsAnErrorNotAFieldPlannedAtEverySync() {
    // a Kustomize patch committed beside its base: the directive would be sent as a field, which the server drops
    assertThat(error("patch.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers:
              - {name: sidecar, $patch: delete}
        """).getMessage()).startsWith("patch.yaml:1").contains("Deployment web: spec.template.spec.containers[0].$patch:"
        + " '$patch' is a strategic merge patch directive");
    assertThat(error("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n$patch: delete\n").getMessage())
        .contains("ConfigMap c: $patch: '$patch' is a strategic merge patch directive");
    assertThat(error("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        + "  template:\n    spec:\n      $setElementOrder/containers: [{name: a}]\n").getMessage())
        .contains("spec.template.spec.$setElementOrder/containers");
    // a custom kind's fields are its schema's: kept as written
    assertThat(decode("w.yaml", "apiVersion: example.com/v1\nkind: Rule\nmetadata: {name: r, namespace: shop}\n"
        + "spec: {$patch: x}\n")).hasSize(1);
  }

  @Test
  void dataOverTheApiServersMebibyteIsAnErrorNamingTheObjectAndTheSizes() {
    String big = "x".repeat(600 * 1024);
    assertThat(error("big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {a: " + big + ", b: " + big
        + "}\n").getMessage()).contains("big.yaml:1").contains("ConfigMap big").contains("1228802 bytes")
        .contains("1048576");
    // a Secret counts its decoded values: 900 KiB of base64 is 675 KiB of data, which fits
    String b64 = java.util.Base64.getEncoder().encodeToString(new byte[675 * 1024]);
    assertThat(decode("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {blob: " + b64 + "}\n"))
        .hasSize(1);
    assertThat(error("s2.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: " + b64 + "}\nstringData: {b: "
        + big + "}\n").getMessage()).contains("Secret s").contains("more than the 1048576").doesNotContain("xxxx");
  }

  @Test
  void aNullSecretValueIsEmptyAndWrappedBase64IsReadAsTheServerStoresIt() {
    Resource s = decode("s.yaml", """
        apiVersion: v1
        kind: Secret
        metadata: {name: s}
        data:
          cert: |
            YWJjZGVm
            Z2hp
          gone: null
        stringData: {empty: null, pin: "1234"}
        """).get(0);
    // the server decodes base64 ignoring line breaks and returns it in one line: compare it that way
    assertThat(s.document().at("/data/cert").asText()).isEqualTo("YWJjZGVmZ2hp");
    assertThat(s.document().at("/data/pin").asText()).isEqualTo("MTIzNA==");
    // null is the empty value the API server stores for it (see the test of null in maps of strings), never 'null'
    assertThat(s.document().at("/data/empty").textValue()).isEmpty();
    assertThat(s.document().at("/data/gone").textValue()).isEmpty();
  }

  @Test
  void apiVersionsAndKindsThatCannotBePartOfAUrlOrAKeyAreErrors() {
    for (String v : List.of("a/b/c", "/v1", "apps/", "Apps/v1", "apps/v1 ", "../v1")) {
      assertThat(error("v.yaml", "apiVersion: \"" + v + "\"\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n")
          .getMessage()).as(v).contains("v.yaml:1").contains("apiVersion '" + v + "'");
    }
    for (String k : List.of("Config/Map", "Config:Map", "Config Map", "1Map")) {
      assertThat(error("k.yaml", "apiVersion: example.com/v1\nkind: \"" + k + "\"\nmetadata: {name: a, namespace: x}\n")
          .getMessage()).as(k).contains("k.yaml:1").contains("kind '" + k + "'");
    }
    assertThat(decode("ok.yaml", "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: a, namespace: x}\n"))
        .hasSize(1);
  }

  @Test
  void oneKindWrittenAtTwoVersionsIsAnErrorNamingBothPlaces() {
    DecodeException e = error("hpa.yaml", """
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: a}
        ---
        apiVersion: autoscaling/v1
        kind: HorizontalPodAutoscaler
        metadata: {name: b}
        """);
    assertThat(e.getMessage()).contains("hpa.yaml:5").contains("autoscaling/v1").contains("autoscaling/v2")
        .contains("hpa.yaml:1");
  }

  @Test
  void theItemsOfAListNameTheirOwnLines() {
    String list = """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: a}
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: b}
        """;
    assertThat(decode("l.yaml", list)).extracting(r -> r.origin().line()).containsExactly(4, 7);
    assertThat(error("g.yaml", list.replace("{name: b}", "{generateName: b-}")).getMessage()).contains("g.yaml:7")
        .contains("items[1]").contains("generateName");
    assertThat(error("d.yaml", list.replace("{name: b}", "{name: a}")).getMessage()).contains("d.yaml:7")
        .contains("declared twice: first at d.yaml:4");
    assertThat(decode("l.json", """
        {"apiVersion": "v1", "kind": "List", "items": [
          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}]}
        """)).extracting(r -> r.origin().line()).containsExactly(2, 3);
  }

  @Test
  void aTypedListAsKubectlWritesItIsReadAsItsItems() {
    List<Resource> rs = decode("list.yaml", """
        apiVersion: v1
        kind: ConfigMapList
        metadata: {resourceVersion: "12"}
        items:
        - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {x: "1"}}
        - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
        """);
    assertThat(rs).extracting(r -> r.key().name()).containsExactly("a", "b");
  }

  @Test
  void duplicatesAreErrorsNamingBothPlaces() {
    String cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    assertThat(error("a.yaml", cm + "---\n" + cm).getMessage()).contains("a.yaml:5").contains("declared twice")
        .contains("first at a.yaml:1");
    assertThatThrownBy(() -> decoder.decodeTogether(List.of(file("x/1.yaml", cm),
        file("x/2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n"))))
        .hasMessageContaining("x/2.yaml:1").hasMessageContaining("first at x/1.yaml:1");
  }

  @Test
  void annotationsGiveDependenciesWavesAndPolicies() {
    Resource r = decode("w.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          annotations:
            gitops.dev/depends-on: "/Secret::creds, apps/Deployment:db:postgres  files:file::app.conf"
            gitops.dev/wave: "2"
            gitops.dev/management: no-prune
        spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}}}
        """).get(0);
    assertThat(r.dependsOn()).containsExactlyInAnyOrder(ResourceKey.of("k8s", "/Secret", "shop", "creds"),
        ResourceKey.of("k8s", "apps/Deployment", "db", "postgres"), ResourceKey.of("files", "file", "", "app.conf"));
    assertThat(r.wave()).isEqualTo(2);
    assertThat(r.policy()).isEqualTo(ManagementPolicy.NO_PRUNE);
    assertThat(error("w.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {gitops.dev/wave: soon}\n")
        .getMessage()).contains("w.yaml:1").contains("gitops.dev/wave").contains("soon");
    assertThat(error("w.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {gitops.dev/management: never}\n")
        .getMessage()).contains("never");
    assertThat(error("w.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {gitops.dev/depends-on: nope}\n")
        .getMessage()).contains("'nope' is not a key");
    assertThat(error("w.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {gitops.dev/force-replace: \"maybe\"}\n")
        .getMessage()).contains("force-replace").contains("maybe");
    assertThat(error("w.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {gitops.dev/wave: 3}\n")
        .getMessage()).contains("must be a string").contains("quote it");
  }

  @Test
  void documentsAreNormalizedAsTheServerStoresThem() {
    Resource s = decode("s.yaml", """
        apiVersion: v1
        kind: Secret
        metadata: {name: s, labels: {app.kubernetes.io/managed-by: Helm, keep: "yes"}}
        stringData: {password: hunter2}
        status: {whatever: 1}
        """).get(0);
    assertThat(s.document().path("data").path("password").asText()).isEqualTo("aHVudGVyMg==");
    assertThat(s.document().has("stringData")).isFalse();
    assertThat(s.document().has("status")).isFalse();
    assertThat(s.document().path("metadata").path("labels").has("app.kubernetes.io/managed-by"))
        .as("the ownership label is ours to write").isFalse();
    Resource d = decode("d.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d}
        spec:
          selector: {matchLabels: {app: d}}
          template:
            metadata: {labels: {app: d}}
            spec:
              containers:
              - name: app
                ports: [{containerPort: 80}]
                resources: {limits: {cpu: 1000m, memory: 1.5Gi}, requests: {cpu: 0.5, memory: 1024Mi}}
        """).get(0);
    var c = d.document().at("/spec/template/spec/containers/0");
    assertThat(c.at("/resources/requests/cpu").asText()).isEqualTo("500m");
    assertThat(c.at("/resources/requests/memory").asText()).isEqualTo("1Gi");
    assertThat(c.at("/resources/limits/cpu").asText()).isEqualTo("1");
    assertThat(c.at("/resources/limits/memory").asText()).isEqualTo("1536Mi");
    assertThat(c.at("/ports/0/protocol").asText()).isEqualTo("TCP");
  }

  @Test
  void filesAreReadUnderTheUntrustedInputLimits() {
    assertThat(error("t.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: !!binary aGk=\n").getMessage())
        .contains("t.yaml:3").contains("tag");
    assertThat(error("k.yaml", "apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: x}\n").getMessage())
        .contains("k.yaml");
  }

  @Test
  void aHelmChartOrKustomizationOrUnrenderedTemplateIsSaidForWhatItIsBesideTheDecodeError() {
    String hint = "gitops applies rendered manifests; render them (helm template, kustomize build) and commit the output";
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> decoder.decodeTogether(List.of(file("chart/templates/web.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-web\n"))))
        .isInstanceOf(dev.gitops.api.DecodeException.class)
        .hasMessageStartingWith("chart/templates/web.yaml:4")
        .hasMessageContaining("the file holds a template's '{{ }}' (a Helm template not rendered?)")
        .hasMessageContaining(hint);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> decoder.decodeTogether(List.of(file("chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n"))))
        .hasMessageContaining("Chart.yaml is a Helm chart's file, not a manifest: " + hint);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> decoder.decodeTogether(List.of(file("base/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [web.yaml]\n"))))
        .hasMessageContaining("kustomization.yaml is Kustomize's, not a manifest");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> decoder.decodeTogether(List.of(file("web.yaml",
        "apiVersion: v1\nmetadata: {name: web}\n"))))
        .as("an ordinary mistake gets no such hint").hasMessageContaining("missing kind").hasMessageNotContaining(hint);
  }
}
