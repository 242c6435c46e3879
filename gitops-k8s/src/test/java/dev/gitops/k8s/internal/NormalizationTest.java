package dev.gitops.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What Git declares and what the API server stores compare by meaning: the {@code false}, {@code ""}
 * and {@code 0} the server drops from plain {@code omitempty} fields, and the type it stores for an
 * empty one, are one normal form on both sides, so such a manifest is not updated (or a Secret
 * replaced) at every sync.
 */
class NormalizationTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Normalization N = new Normalization("app.kubernetes.io/managed-by", Set.of("gitops.dev/owner"), Set.of());

  static JsonNode json(String s) throws Exception {
    return JSON.readTree(s.replace('\'', '"'));
  }

  @Test
  void theZeroValuesTheServerOmitsAreAbsentOnBothSidesAndPointerFieldsKeepTheirs() throws Exception {
    JsonNode git = json("""
        {'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':'default'},
         'spec':{'replicas':0,'template':{'spec':{'hostNetwork':false,'hostPID':false,'serviceAccountName':'',
           'automountServiceAccountToken':false,
           'containers':[{'name':'web','image':'nginx','tty':false,'workingDir':'',
             'securityContext':{'privileged':false,'readOnlyRootFilesystem':false},
             'env':[{'name':'EMPTY','value':''},{'name':'SET','value':'x'}],
             'ports':[{'containerPort':80,'hostPort':0,'hostIP':''}],
             'volumeMounts':[{'name':'v','mountPath':'/v','readOnly':false,'subPath':''}]}],
           'initContainers':[{'name':'init','image':'busybox','stdin':false}]}}}}
        """);
    JsonNode stored = json("""
        {'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','namespace':'default'},
         'spec':{'replicas':0,'template':{'spec':{'automountServiceAccountToken':false,
           'containers':[{'name':'web','image':'nginx',
             'securityContext':{'privileged':false,'readOnlyRootFilesystem':false},
             'env':[{'name':'EMPTY'},{'name':'SET','value':'x'}],
             'ports':[{'containerPort':80,'protocol':'TCP'}],
             'volumeMounts':[{'name':'v','mountPath':'/v'}]}],
           'initContainers':[{'name':'init','image':'busybox'}]}}}}
        """);
    assertThat(N.normalize("apps/Deployment", git)).isEqualTo(N.normalize("apps/Deployment", stored));
    JsonNode kept = N.normalize("apps/Deployment", git).at("/spec/template/spec");
    assertThat(kept.get("automountServiceAccountToken").booleanValue()).as("a pointer: false means false").isFalse();
    assertThat(kept.at("/containers/0/securityContext/privileged").isBoolean()).isTrue();
    assertThat(N.normalize("apps/Deployment", git).at("/spec/replicas").asInt()).isZero();

    // a value that is set, or a field of a custom kind (whose schema nobody here knows), stays
    assertThat(N.normalize("apps/Deployment", json("{'spec':{'template':{'spec':{'hostNetwork':true,"
        + "'containers':[{'name':'w','tty':true}]}}}}")).at("/spec/template/spec/hostNetwork").booleanValue()).isTrue();
    assertThat(N.normalize("example.com/Widget", json("{'spec':{'template':{'spec':{'hostNetwork':false,"
        + "'containers':[]}}}}")).at("/spec/template/spec/hostNetwork").isBoolean()).isTrue();
  }

  @Test
  void anEmptySecretOrServiceTypeIsTheTypeTheServerStoresForIt() throws Exception {
    assertThat(N.normalize("/Secret", json("{'kind':'Secret','type':'','data':{'a':'Yg=='}}")))
        .isEqualTo(N.normalize("/Secret", json("{'kind':'Secret','type':'Opaque','data':{'a':'Yg=='}}")));
    assertThat(N.normalize("/Service", json("{'kind':'Service','spec':{'type':'','ports':[{'port':80}]}}")))
        .isEqualTo(N.normalize("/Service", json("{'kind':'Service','spec':{'type':'ClusterIP','ports':[{'port':80,"
            + "'protocol':'TCP'}]}}")));
  }
}
