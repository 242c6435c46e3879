package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.gitops.api.Documents;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.ResourceKey;
import org.junit.jupiter.api.Test;

class LastAppliedIgnoredElementsTest {

  private static final ResourceKey KEY = ResourceKey.of("k8s", "apps/Deployment", "prod", "web");

  private static JsonNode j(String json) throws Exception {
    return Documents.freeze(new ObjectMapper().readTree(json.replace('\'', '"')));
  }

  @Test
  void ignoredElementsOfEveryListKindNeverEnterLastApplied() throws Exception {
    MergeRules rules = MergeRules.builder()
        .keyedList("/spec/containers", KeyField.of("name"))
        .keyedList("/spec/containers/*/ports", KeyField.of("containerPort"), KeyField.withDefault("protocol", TextNode.valueOf("TCP")))
        .orderedKeyedList("/spec/steps", KeyField.of("name"))
        .setList("/metadata/finalizers")
        .ignore("/spec/containers/[name=sidecar]")
        .ignore("/spec/containers/*/ports/[containerPort=9090,protocol=TCP]")
        .ignore("/spec/steps/*/args")
        .ignore("/metadata/finalizers/[=theirs]")
        .build();
    JsonNode desired = j("{'metadata':{'finalizers':['ours','theirs']},'spec':{"
        + "'containers':[{'name':'app','ports':[{'containerPort':80},{'containerPort':9090}]},{'name':'sidecar','image':'s'}],"
        + "'steps':[{'name':'a','args':['x']}]}}");
    assertThat(LastApplied.strip(KEY, desired, rules)).isEqualTo(j("{'metadata':{'finalizers':['ours']},'spec':{"
        + "'containers':[{'name':'app','ports':[{'containerPort':80}]}],'steps':[{'name':'a'}]}}"));
  }
}
