package dev.gitops.cluster.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's --cluster flag: what is refused, and how an engine that does not answer is named. */
class ClusterPlacementTest {

  @TempDir
  Path dir;

  @Test
  void credentialsInAnEtcdUrlAreRefusedWithoutEchoingThem() {
    for (String url : new String[] {"etcd://root:s3cret@127.0.0.1:2379",
        "etcd://127.0.0.1:2379,root:s3cret@127.0.0.2:2379", "etcd://s3cret@127.0.0.1:2379"}) {
      assertThatThrownBy(() -> ClusterPlacement.connect(url, "m1", null))
          .as(url).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--cluster etcd://").hasMessageContaining("***@127.0.0.")
          .hasMessageContaining("credentials in the URL are not supported")
          .hasMessageNotContaining("s3cret").hasMessageNotContaining("root");
    }
  }

  @Test
  void tlsAndIpv6LiteralsAreRefusedAtTheFlagSayingWhy() {
    assertThatThrownBy(() -> ClusterPlacement.connect("etcds://127.0.0.1:2379", "m1", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TLS to etcd is not supported");
    assertThatThrownBy(() -> ClusterPlacement.connect("etcd://[::1]:23791", "m1", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--cluster etcd://[::1]:23791: '[::1]:23791' is an IPv6 literal, which the etcd client does not"
            + " support; give a host name that resolves to it (an /etc/hosts entry will do)");
  }

  @Test
  void aHostOfDigitsThatIsNoIpv4AddressNamesTheFlag() {
    // letters, digits and dots, but neither an IPv4 address nor a name whose last label starts with a letter: the
    // client said "Unable to compute target from endpoint: 'http://999.1.1.1:2379'", naming no flag
    for (String host : new String[] {"999.1.1.1", "256.0.0.1", "1.2.3", "1.2.3.4.5", "host.1", "1a.2b", "1.2.3.4."}) {
      String url = "etcd://127.0.0.1:2379," + host + ":2379";
      assertThatThrownBy(() -> ClusterPlacement.connect(url, "m1", null)).as(host)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("--cluster " + url + ": '" + host + "' in '" + host + ":2379' is not a host name or IPv4 address"
              + " (an IPv4 address is four numbers from 0 to 255; a host name's last label starts with a letter)");
    }
    for (String url : new String[] {"etcd://127.0.0.1:2379,255.255.255.255:2379", "etcd://etcd-0.example.:2379",
        "etcd://2379.example:2379"}) {
      ClusterPlacement.connect(url, "m1", null).close();  // a client, not a connection: nothing is dialled
    }
  }

  @Test
  void aPortOutOfRangeNamesTheFlag() {
    assertThatThrownBy(() -> ClusterPlacement.connect("etcd://127.0.0.1:99999", "m1", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--cluster etcd://127.0.0.1:99999: '127.0.0.1:99999' has no port from 1 to 65535");
  }

  @Test
  void aHostTheEtcdClientCannotTakeNamesTheFlag() {
    // the client said "Unable to compute target from endpoint: 'http://a_b:2379'" or "Malformed escape pair at
    // index 8", naming no flag, or took '?' and '#' for a host it could not resolve
    for (String host : new String[] {"a_b", "a%zz", "\u00fcber.example", "h?x", "a#b", "-h", "a..b"}) {
      String url = "etcd://127.0.0.1:2379," + host + ":2379";
      assertThatThrownBy(() -> ClusterPlacement.connect(url, "m1", null)).as(host)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("--cluster " + url + ": '" + host + "' in '" + host + ":2379' is not a host name or IPv4 address"
              + " (ASCII letters, digits, '-' and '.'; write an international name in its xn-- form)");
    }
    for (String url : new String[] {"etcd://localhost:2379", "etcd://etcd-0.etcd.ops.svc.cluster.local:2379",
        "etcd://10.0.0.5:2379,xn--ber-goa.example:2379"}) {
      ClusterPlacement.connect(url, "m1", null).close();  // a client, not a connection: nothing is dialled
    }
  }

  @Test
  void aNamespaceThatIsNoNamespaceNameOrIsGivenWithEtcdNamesTheFlag() {
    for (String ns : new String[] {"Ops", "a_b", "a/b", "-ops", "x".repeat(64), "ops "}) {
      assertThatThrownBy(() -> ClusterPlacement.connect("k8s", "m1", ns)).as(ns)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("--namespace '" + ns + "' is not a Kubernetes namespace name: lower-case letters, digits and"
              + " '-', starting and ending with a letter or digit, at most 63 characters");
    }
    // ignored before: agents given other namespaces on one etcd shared their targets as one cluster
    assertThatThrownBy(() -> ClusterPlacement.connect("etcd://127.0.0.1:2379", "m1", "staging"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--namespace staging is for --cluster k8s; on etcd, agents that must not share targets are told"
            + " apart by --cluster-name");
    assertThatThrownBy(() -> ClusterPlacement.owners("etcd://127.0.0.1:2379", "staging"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--namespace staging is for --cluster k8s");
  }

  @Test
  void ownersFromAnEtcdThatDoesNotAnswerNameTheUrl() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();  // closed again: nothing listens there
    }
    String url = "etcd://127.0.0.1:" + port;
    // refused at once: said as etcd's failure to connect, not after the call's timeout ("did not answer within")
    assertThatThrownBy(() -> ClusterPlacement.owners(url, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("--cluster " + url + ": cannot read who owns the targets: etcd at http://127.0.0.1:"
            + port + " failed to ")
        .hasMessageContaining("UNAVAILABLE")
        .hasMessageNotContaining("did not answer")
        .hasMessageNotContaining("--namespace");
  }

  @Test
  void aDefaultKubeconfigNamingAMissingTlsFileIsRefusedNamingTheFileAndTheFlag() throws Exception {
    // the explicit --kubeconfig was checked; the default one (KUBECONFIG, ~/.kube/config) failed with fabric8's
    // "KubernetesClientException: An error has occurred." and the file only in a cause
    Path missing = dir.resolve("client.crt");
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), String.join("\n", "apiVersion: v1", "kind: Config",
        "clusters:", "- name: c", "  cluster:", "    server: https://127.0.0.1:1", "    insecure-skip-tls-verify: true",
        "users:", "- name: u", "  user:", "    client-certificate: " + missing, "    client-key: " + dir.resolve("client.key"),
        "contexts:", "- name: x", "  context: {cluster: c, user: u}", "current-context: x", ""));
    String before = System.getProperty("kubeconfig");
    System.setProperty("kubeconfig", kubeconfig.toString());
    try {
      assertThatThrownBy(() -> ClusterPlacement.connect("k8s", "m1", "gitops"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("--cluster k8s: the default kubeconfig " + kubeconfig + ": cannot set up a client")
          .hasMessageContaining(missing.toString())
          .hasMessageContaining("--kubeconfig");
      assertThatThrownBy(() -> ClusterPlacement.owners("k8s", "gitops"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("--cluster k8s: the default kubeconfig " + kubeconfig + ": cannot set up a client")
          .hasMessageContaining(missing.toString());
    } finally {
      restore("kubeconfig", before);
    }
  }

  @Test
  void ownersFromAnApiServerThatDoesNotAnswerNameTheFlagsAndTheReason() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), dev.gitops.agent.StandInCluster.kubeconfig(
        "https://127.0.0.1:" + port, "here", "here"));
    String before = System.getProperty("kubeconfig");
    String retries = System.getProperty("kubernetes.request.retry.backoffLimit");
    System.setProperty("kubeconfig", kubeconfig.toString());
    System.setProperty("kubernetes.request.retry.backoffLimit", "0");  // fabric8 retries for 20 s otherwise
    try {
      assertThatThrownBy(() -> ClusterPlacement.owners("k8s", "gitops"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("--cluster k8s --namespace gitops: cannot read who owns the targets: ")
          .hasMessageContaining("kind: [Lease]")
          // it said only "... failed. (ConnectException)"
          .hasMessageEndingWith(" failed: the Kubernetes API server https://127.0.0.1:" + port + "/ (kubeconfig "
              + kubeconfig + ", context here) did not answer: connection refused")
          .hasMessageNotContaining("\n");
    } finally {
      restore("kubeconfig", before);
      restore("kubernetes.request.retry.backoffLimit", retries);
    }
  }

  /**
   * --kubeconfig and --context of --cluster k8s, as kubectl's: the file's context that is not its
   * current one reaches the stand-in; a missing or unreadable file, a context it does not have and
   * either flag with etcd are refused naming the flag. Without them, the default kubeconfig was all
   * there was.
   */
  @Test
  void aKubeconfigAndContextReachTheirClusterAndAreRefusedNamingTheFlag() throws Exception {
    try (dev.gitops.agent.StandInCluster cluster = dev.gitops.agent.StandInCluster.start()) {
      Path kubeconfig = cluster.writeKubeconfig(dir.resolve("kubeconfig"), "mock", true);  // 'other' is current
      dev.gitops.cluster.k8s.LeaseCoordinator m1 = dev.gitops.cluster.k8s.LeaseCoordinator.builder(cluster.client(),
          "gitops", "m1").ttl(java.time.Duration.ofMinutes(5)).build();
      try {
        m1.join();
        dev.gitops.cluster.Ownership web = m1.tryAcquire("web").orElseThrow();
        assertThat(ClusterPlacement.owners("k8s", "gitops", ClusterPlacement.DEFAULT_NAME, kubeconfig, "mock"))
            .containsEntry("web", web);
        String before = System.getProperty("kubeconfig");
        System.setProperty("kubeconfig", kubeconfig.toString());  // the default kubeconfig: --context alone
        try {
          assertThatThrownBy(() -> ClusterPlacement.owners("k8s", "gitops", ClusterPlacement.DEFAULT_NAME, null,
              "nope")).isInstanceOf(IllegalArgumentException.class)
              .hasMessage("--context (with --cluster k8s): no context 'nope' in the kubeconfig " + kubeconfig);
        } finally {
          restore("kubeconfig", before);
        }
      } finally {
        m1.close();
      }
      assertThatThrownBy(() -> ClusterPlacement.connect("k8s", "m2", "gitops", "default", kubeconfig, "nope"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("--context (with --cluster k8s): no context 'nope' in " + kubeconfig + " (it has: other, mock)");
    }
    Path missing = dir.resolve("missing");
    assertThatThrownBy(() -> ClusterPlacement.connect("k8s", "m2", "gitops", "default", missing, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--kubeconfig (with --cluster k8s): no such file " + missing);
    Path directory = Files.createDirectories(dir.resolve("a-directory"));
    assertThatThrownBy(() -> ClusterPlacement.owners("k8s", "gitops", "default", directory, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--kubeconfig (with --cluster k8s): cannot read " + directory + ": ");
    assertThatThrownBy(() -> ClusterPlacement.connect("etcd://127.0.0.1:2379", "m2", null, "default", missing, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--kubeconfig is for --cluster k8s, not --cluster etcd://127.0.0.1:2379");
    assertThatThrownBy(() -> ClusterPlacement.owners("etcd://127.0.0.1:2379", null, "default", null, "prod"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--context is for --cluster k8s, not --cluster etcd://127.0.0.1:2379");
  }

  private static void restore(String property, String value) {
    if (value == null) {
      System.clearProperty(property);
    } else {
      System.setProperty(property, value);
    }
  }

  @Test
  void clustersOfOtherNamesShareAnEtcdWithoutSeeingEachOthersTargets() {
    String url = "etcd://" + dev.gitops.cluster.etcd.EtcdServer.shared().endpoint().substring("http://".length());
    String name = "staging-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    io.etcd.jetcd.Client admin = io.etcd.jetcd.Client.builder().endpoints(
        dev.gitops.cluster.etcd.EtcdServer.shared().endpoint()).build();
    dev.gitops.cluster.etcd.EtcdCoordinator staging = dev.gitops.cluster.etcd.EtcdCoordinator.builder(admin, "m1")
        .prefix("/gitops/" + name + "/").build();
    try {
      staging.join();
      assertThat(staging.tryAcquire("web")).isPresent();
      assertThat(ClusterPlacement.owners(url, null, name)).containsOnlyKeys("web");
      assertThat(ClusterPlacement.owners(url, null, name + "-prod")).as("another name, another cluster").isEmpty();
    } finally {
      staging.close();
      admin.close();
    }
    for (String bad : new String[] {"", "a/b", "-x", "x".repeat(64), "prod staging"}) {
      assertThatThrownBy(() -> ClusterPlacement.connect(url, "m1", null, bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--cluster-name '" + bad + "' is not a"
              + " cluster name");
    }
  }
}
