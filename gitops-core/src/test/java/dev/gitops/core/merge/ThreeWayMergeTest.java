package dev.gitops.core.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeException;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.PatchOp;
import dev.gitops.api.ResourceKey;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThreeWayMergeTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final ResourceKey KEY = ResourceKey.of("k8s", "apps/Deployment", "prod", "web");

  /** Parses JSON written with single quotes. */
  static JsonNode j(String json) {
    try {
      return Documents.freeze(JSON.readTree(json.replace('\'', '"')));
    } catch (Exception e) {
      throw new IllegalArgumentException(json, e);
    }
  }

  static MergeResult merge(MergeRules rules, String l, String d, String v) {
    MergeResult r = new ThreeWayMerge(rules).merge(KEY, l == null ? null : j(l), j(d), v == null ? null : j(v));
    // Every example also checks the patch reproduces the target.
    assertThat(Patches.apply(v == null ? null : j(v), r.patch())).isEqualTo(r.target());
    return r;
  }

  static MergeResult merge(String l, String d, String v) {
    return merge(MergeRules.defaults(), l, d, v);
  }

  static final MergeRules K8S = MergeRules.builder()
      .keyedList("/spec/containers", KeyField.of("name"))
      .keyedList("/spec/containers/*/ports", KeyField.of("containerPort"), KeyField.withDefault("protocol", TextNode.valueOf("TCP")))
      .orderedKeyedList("/spec/steps", KeyField.of("name"))
      .setList("/metadata/finalizers")
      .atomicMap("/data")
      .build();

  @Test
  void desiredValueWins() {
    MergeResult r = merge("{'a':1}", "{'a':2}", "{'a':3}");
    assertThat(r.target()).isEqualTo(j("{'a':2}"));
    assertThat(r.patch()).containsExactly(PatchOp.replace("/a", j("2")));
  }

  @Test
  void serverDefaultedFieldsAreKept() {
    MergeResult r = merge("{'a':1}", "{'a':1}", "{'a':1,'defaulted':'yes'}");
    assertThat(r.target()).isEqualTo(j("{'a':1,'defaulted':'yes'}"));
    assertThat(r.isNoop()).isTrue();
  }

  @Test
  void fieldRemovedFromGitIsRemoved() {
    MergeResult r = merge("{'a':1,'b':2}", "{'a':1}", "{'a':1,'b':2,'c':3}");
    assertThat(r.target()).isEqualTo(j("{'a':1,'c':3}"));
    assertThat(r.patch()).containsExactly(PatchOp.remove("/b"));
    assertThat(r.fields()).containsExactly(new FieldChange(FieldPath.of("b"), j("2"), null, false));
  }

  @Test
  void objectsMergeRecursively() {
    MergeResult r = merge("{'m':{'x':1}}", "{'m':{'x':2,'y':3}}", "{'m':{'x':1,'z':9}}");
    assertThat(r.target()).isEqualTo(j("{'m':{'x':2,'y':3,'z':9}}"));
  }

  @Test
  void neverAppliedFieldNotInGitKeepsLive() {
    MergeResult r = merge(null, "{'a':1}", "{'a':0,'b':2}");
    assertThat(r.target()).isEqualTo(j("{'a':1,'b':2}"));
    assertThat(r.owned()).isEmpty();
  }

  @Test
  void absentLiveCreatesWholeDocument() {
    MergeResult r = merge(MergeRules.builder().nullMode(MergeRules.NullMode.ABSENT).build(), null, "{'a':1,'b':null}", null);
    assertThat(r.target()).isEqualTo(j("{'a':1}"));
    assertThat(r.patch()).containsExactly(PatchOp.add("", j("{'a':1}")));
    assertThat(r.fields()).extracting(FieldChange::path).containsExactly(FieldPath.of("a"));
  }

  @Test
  void atomicListReplacedByDesired() {
    MergeResult r = merge("{'l':[1,2]}", "{'l':[1,3]}", "{'l':[1,2,9]}");
    assertThat(r.target()).isEqualTo(j("{'l':[1,3]}"));
  }

  @Test
  void atomicListKeepsLiveWhenElementsOnlyHaveServerDefaults() {
    MergeResult r = merge("{'l':[{'a':1}]}", "{'l':[{'a':1}]}", "{'l':[{'a':1,'def':true}]}");
    assertThat(r.target()).isEqualTo(j("{'l':[{'a':1,'def':true}]}"));
    assertThat(r.isNoop()).isTrue();
  }

  @Test
  void frontInsertIntoAtomicListIsOneAdd() {
    MergeResult r = merge("{'l':[1,2,3,4,5]}", "{'l':[0,1,2,3,4,5]}", "{'l':[1,2,3,4,5]}");
    assertThat(r.patch()).containsExactly(PatchOp.add("/l/0", j("0")));
  }

  @Test
  void keyedListInsertInMiddleIsOneAdd() {
    String l = "{'spec':{'containers':[{'name':'a'},{'name':'c'},{'name':'d'}]}}";
    String d = "{'spec':{'containers':[{'name':'a'},{'name':'b'},{'name':'c'},{'name':'d'}]}}";
    String v = "{'spec':{'containers':[{'name':'a','x':1},{'name':'c','x':1},{'name':'d','x':1}]}}";
    MergeResult r = merge(K8S, l, d, v);
    assertThat(r.patch()).containsExactly(PatchOp.add("/spec/containers/1", j("{'name':'b'}")));
    assertThat(r.fields()).extracting(f -> f.path().toString()).containsExactly("/spec/containers/[name=b]/name");
  }

  @Test
  void keyedListMergesElementsByKeyWhateverTheOrder() {
    String l = "{'spec':{'containers':[{'name':'a','image':'1'},{'name':'b','image':'1'}]}}";
    String d = "{'spec':{'containers':[{'name':'a','image':'2'},{'name':'b','image':'1'}]}}";
    String v = "{'spec':{'containers':[{'name':'b','image':'1','pull':'x'},{'name':'a','image':'1','pull':'x'}]}}";
    MergeResult r = merge(K8S, l, d, v);
    assertThat(r.target()).isEqualTo(j("{'spec':{'containers':[{'name':'b','image':'1','pull':'x'},{'name':'a','image':'2','pull':'x'}]}}"));
    assertThat(r.patch()).containsExactly(PatchOp.replace("/spec/containers/1/image", j("'2'")));
    assertThat(r.fields()).extracting(f -> f.path().toString()).containsExactly("/spec/containers/[name=a]/image");
  }

  @Test
  void keyedListRemovesOwnedElementsAndKeepsLiveOnlyOnes() {
    String l = "{'spec':{'containers':[{'name':'a'},{'name':'gone'}]}}";
    String d = "{'spec':{'containers':[{'name':'a'}]}}";
    String v = "{'spec':{'containers':[{'name':'gone'},{'name':'a'},{'name':'injected'},{'noname':1}]}}";
    MergeResult r = merge(K8S, l, d, v);
    assertThat(r.target()).isEqualTo(j("{'spec':{'containers':[{'name':'a'},{'name':'injected'},{'noname':1}]}}"));
    assertThat(r.patch()).containsExactly(PatchOp.remove("/spec/containers/0"));
  }

  @Test
  void keyedListKeyDefaultsMatchElementsThatOmitTheField() {
    String d = "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80}]}]}}";
    String v = "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80,'protocol':'TCP'}]}]}}";
    MergeResult r = merge(K8S, d, d, v);
    assertThat(r.isNoop()).isTrue();
    assertThat(r.owned()).extracting(FieldPath::toString)
        .containsExactlyInAnyOrder("/spec/containers/[name=a]/name", "/spec/containers/[name=a]/ports/[containerPort=80,protocol=TCP]/containerPort");
  }

  @Test
  void orderedKeyedListKeepsLiveOnlyElementAfterItsPredecessor() {
    String l = "{'spec':{'steps':[{'name':'a'},{'name':'b'}]}}";
    String d = "{'spec':{'steps':[{'name':'b'},{'name':'a'},{'name':'c'}]}}";
    String v = "{'spec':{'steps':[{'name':'first'},{'name':'a'},{'name':'sidecar'},{'name':'b'}]}}";
    MergeResult r = merge(K8S, l, d, v);
    assertThat(r.target()).isEqualTo(j("{'spec':{'steps':[{'name':'first'},{'name':'b'},{'name':'a'},{'name':'sidecar'},{'name':'c'}]}}"));
  }

  @Test
  void duplicateKeyInDesiredNamesThePath() {
    String d = "{'spec':{'containers':[{'name':'a'},{'name':'a'}]}}";
    assertThatThrownBy(() -> merge(K8S, null, d, "{}"))
        .isInstanceOf(MergeException.class)
        .hasMessageContaining("/spec/containers")
        .hasMessageContaining("[name=a]")
        .satisfies(e -> assertThat(((MergeException) e).path()).isEqualTo(FieldPath.of("spec", "containers")));
  }

  @Test
  void aRuleBrokenDeepInDesiredNamesTheSamePathWhateverLiveHolds() {
    MergeRules rules = MergeRules.builder()
        .keyedList("/spec/containers", KeyField.of("name"))
        .keyedList("/spec/containers/*/ports", KeyField.of("containerPort"), KeyField.withDefault("protocol", TextNode.valueOf("TCP")))
        .keyedList("/spec/groups/*/members", KeyField.of("id"))
        .nullMode(MergeRules.NullMode.ABSENT)
        .build();
    String d = "{'spec':{'containers':[{'name':'b'},{'name':'a','ports':[{'containerPort':80},{'containerPort':80,'protocol':'TCP'}]}]}}";
    // Live with the container (merged by key), absent (create), equal to D (validated only), not an
    // object at spec (built from D), and last-applied equal to D: the path is found the same way.
    for (String[] lv : new String[][] {
        {null, "{'spec':{'containers':[{'name':'a','image':'x'}]}}"},
        {null, null},
        {null, d},
        {null, "{'spec':1}"},
        {d, "{'spec':{'containers':[{'name':'a','ports':[]}]}}"}}) {
      assertThatThrownBy(() -> merge(rules, lv[0], d, lv[1]))
          .as("live %s", lv[1])
          .isInstanceOf(MergeException.class)
          .hasMessageEndingWith("/spec/containers/[name=a]/ports: elements 0 and 1 of the keyed list have the same key"
              + " [containerPort=80,protocol=TCP]")
          .satisfies(e -> assertThat(((MergeException) e).path().toString()).isEqualTo("/spec/containers/[name=a]/ports"));
    }
    assertThatThrownBy(() -> merge(rules, null, "{'spec':{'containers':[{'name':'a','ports':[{'name':'http'}]}]}}", "{}"))
        .isInstanceOf(MergeException.class)
        .hasMessageEndingWith("/spec/containers/[name=a]/ports: element 0 of the keyed list has no key [containerPort, protocol]");
    // Below an atomic list, elements are named by position.
    assertThatThrownBy(() -> merge(rules, null, "{'spec':{'groups':[{'x':1},{'members':[{'id':1},{'id':1}]}]}}",
        "{'spec':{'groups':[{'x':1},{'members':[{'id':1}]}]}}"))
        .isInstanceOf(MergeException.class)
        .satisfies(e -> assertThat(((MergeException) e).path().toString()).isEqualTo("/spec/groups/[#1]/members"));
  }

  @Test
  void aKeyedListBelowAnAtomicListIsValidatedWhateverLiveHolds() {
    MergeRules rules = MergeRules.builder().keyedList("/spec/groups/*/members", KeyField.of("id")).build();
    String d = "{'spec':{'groups':[{'x':1},{'members':[{'id':1},{'id':1}]}]}}";
    // Live's list of the same length (merged element by element), of another length or absent
    // (D replaces it), not a list, no live at all (create), live equal to D: the same error.
    for (String v : new String[] {
        "{'spec':{'groups':[{'x':1},{'members':[{'id':1}]}]}}",
        "{'spec':{'groups':[{'x':1}]}}",
        "{'spec':{}}",
        "{'spec':{'groups':7}}",
        null,
        d}) {
      assertThatThrownBy(() -> merge(rules, null, d, v))
          .as("live %s", v)
          .isInstanceOf(MergeException.class)
          .hasMessageEndingWith("/spec/groups/[#1]/members: elements 0 and 1 of the keyed list have the same key [id=1]")
          .satisfies(e -> assertThat(((MergeException) e).path().toString()).isEqualTo("/spec/groups/[#1]/members"));
    }
    // a valid D below the atomic list replaces live's list of another length as before
    assertThat(merge(rules, null, "{'spec':{'groups':[{'members':[{'id':1},{'id':2}]}]}}",
        "{'spec':{'groups':[{'x':1},{'x':2}]}}").target())
        .isEqualTo(j("{'spec':{'groups':[{'members':[{'id':1},{'id':2}]}]}}"));
  }

  @Test
  void desiredElementWithoutKeyIsRejectedEvenOnCreate() {
    String d = "{'spec':{'containers':[{'image':'x'}]}}";
    assertThatThrownBy(() -> merge(K8S, null, d, null))
        .isInstanceOf(MergeException.class)
        .hasMessageContaining("/spec/containers")
        .hasMessageContaining("[name]");
  }

  @Test
  void liveElementsWithDuplicateKeysAreKeptAsLiveOnly() {
    String d = "{'spec':{'containers':[{'name':'a','image':'2'}]}}";
    String v = "{'spec':{'containers':[{'name':'a','image':'1'},{'name':'a','image':'dup'}]}}";
    MergeResult r = merge(K8S, d, d, v);
    assertThat(r.target()).isEqualTo(j("{'spec':{'containers':[{'name':'a','image':'2'},{'name':'a','image':'dup'}]}}"));
  }

  @Test
  void setListUnionsByValueAndDropsValuesRemovedFromGit() {
    String l = "{'metadata':{'finalizers':['ours','old']}}";
    String d = "{'metadata':{'finalizers':['ours','new']}}";
    String v = "{'metadata':{'finalizers':['theirs','old','ours']}}";
    MergeResult r = merge(K8S, l, d, v);
    assertThat(r.target()).isEqualTo(j("{'metadata':{'finalizers':['theirs','ours','new']}}"));
    assertThat(r.fields()).extracting(f -> f.symbol() + f.path().toString())
        .containsExactlyInAnyOrder("-/metadata/finalizers/[=old]", "+/metadata/finalizers/[=new]");
  }

  @Test
  void atomicMapDropsHandAddedKeys() {
    MergeResult r = merge(K8S, "{'data':{'a':'1'}}", "{'data':{'a':'1'}}", "{'data':{'a':'1','byhand':'x'}}");
    assertThat(r.target()).isEqualTo(j("{'data':{'a':'1'}}"));
    assertThat(r.patch()).containsExactly(PatchOp.remove("/data/byhand"));
    assertThat(r.owned()).containsExactly(FieldPath.of("data"));
  }

  @Test
  void ignoredPathKeepsLive() {
    MergeRules rules = MergeRules.builder().ignore("/spec/replicas", KeySelector.type("k8s", "apps/Deployment")).build();
    MergeResult r = merge(rules, "{'spec':{'replicas':1}}", "{'spec':{'replicas':2}}", "{'spec':{'replicas':7}}");
    assertThat(r.target()).isEqualTo(j("{'spec':{'replicas':7}}"));
    assertThat(r.owned()).isEmpty();
    assertThat(r.drift()).isEmpty();
  }

  @Test
  void ignoredPathTakesDesiredOnCreate() {
    MergeRules rules = MergeRules.builder().ignore("/spec/replicas").build();
    assertThat(merge(rules, null, "{'spec':{'replicas':2}}", null).target()).isEqualTo(j("{'spec':{'replicas':2}}"));
  }

  @Test
  void ignoreRuleForOtherResourcesDoesNotApply() {
    MergeRules rules = MergeRules.builder().ignore("/spec/replicas", KeySelector.type("k8s", "v1/Service")).build();
    assertThat(merge(rules, null, "{'spec':{'replicas':2}}", "{'spec':{'replicas':7}}").target())
        .isEqualTo(j("{'spec':{'replicas':2}}"));
  }

  static final MergeRules IGNORING_ELEMENTS = K8S.toBuilder()
      .ignore("/spec/containers/[name=sidecar]", KeySelector.type("k8s", "apps/Deployment"))
      .ignore("/spec/steps/[name=injected]", KeySelector.type("k8s", "apps/Deployment"))
      .ignore("/metadata/finalizers/[=theirs]", KeySelector.type("k8s", "apps/Deployment"))
      .build();

  @Test
  void keyedElementAtIgnoredPathIsKeptWhenItLeavesGit() {
    // L holds the element (recorded before the rule, or by an older version): it is still not ours to remove.
    String l = "{'spec':{'containers':[{'name':'app'},{'name':'sidecar','image':'s:1'}]}}";
    String d = "{'spec':{'containers':[{'name':'app'}]}}";
    String v = "{'spec':{'containers':[{'name':'app'},{'name':'sidecar','image':'s:2'}]}}";
    MergeResult r = merge(IGNORING_ELEMENTS, l, d, v);
    assertThat(r.target()).isEqualTo(j(v));
    assertThat(r.isNoop()).isTrue();
    assertThat(r.owned()).extracting(FieldPath::toString).containsExactly("/spec/containers/[name=app]/name");
    assertThat(r.drift()).isEmpty();
  }

  @Test
  void orderedKeyedElementAtIgnoredPathKeepsLive() {
    String l = "{'spec':{'steps':[{'name':'a'},{'name':'injected','x':1}]}}";
    String d = "{'spec':{'steps':[{'name':'a'},{'name':'injected','x':2}]}}";
    String v = "{'spec':{'steps':[{'name':'injected','x':3},{'name':'a'}]}}";
    MergeResult r = merge(IGNORING_ELEMENTS, l, d, v);
    assertThat(r.target()).isEqualTo(j("{'spec':{'steps':[{'name':'a'},{'name':'injected','x':3}]}}"));
    // D names it but V lacks it: the live system's "absent" wins, as for an ignored object field.
    MergeResult absent = merge(IGNORING_ELEMENTS, null, d, "{'spec':{'steps':[{'name':'a'}]}}");
    assertThat(absent.target()).isEqualTo(j("{'spec':{'steps':[{'name':'a'}]}}"));
    // On create the ignored element is D's.
    assertThat(merge(IGNORING_ELEMENTS, null, d, null).target()).isEqualTo(j(d));
  }

  @Test
  void setElementAtIgnoredPathIsNeitherAddedNorRemoved() {
    String l = "{'metadata':{'finalizers':['ours','theirs']}}";
    String d = "{'metadata':{'finalizers':['ours']}}";
    MergeResult kept = merge(IGNORING_ELEMENTS, l, d, "{'metadata':{'finalizers':['theirs','ours']}}");
    assertThat(kept.target()).isEqualTo(j("{'metadata':{'finalizers':['theirs','ours']}}"));
    assertThat(kept.owned()).extracting(FieldPath::toString).containsExactly("/metadata/finalizers/[=ours]");
    String d2 = "{'metadata':{'finalizers':['ours','theirs']}}";
    MergeResult notAdded = merge(IGNORING_ELEMENTS, null, d2, "{'metadata':{'finalizers':['ours']}}");
    assertThat(notAdded.target()).isEqualTo(j("{'metadata':{'finalizers':['ours']}}"));
    assertThat(notAdded.fields()).isEmpty();
    assertThat(merge(IGNORING_ELEMENTS, null, d2, null).target()).isEqualTo(j(d2));
  }

  @Test
  void everyElementOfAListCanBeIgnored() {
    MergeRules rules = K8S.toBuilder().ignore("/spec/containers/*").ignore("/metadata/finalizers/*").build();
    String l = "{'metadata':{'finalizers':['a']},'spec':{'containers':[{'name':'a'}]}}";
    String d = "{'metadata':{'finalizers':['b']},'spec':{'containers':[{'name':'b'}]}}";
    String v = "{'metadata':{'finalizers':['a','c']},'spec':{'containers':[{'name':'a'},{'name':'c'}]}}";
    MergeResult r = merge(rules, l, d, v);
    assertThat(r.target()).isEqualTo(j(v));
    assertThat(r.owned()).isEmpty();
  }

  @Test
  void ignoreRulesNeverApplyToKeyFieldsWhichNameTheElement() {
    MergeRules rules = K8S.toBuilder().ignore("/spec/containers/*/ports/*/protocol").build();
    String l = "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80,'protocol':'TCP'},{'containerPort':81,'protocol':'TCP'}]}]}}";
    String d = "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80,'protocol':'TCP'},{'containerPort':82,'protocol':'UDP'}]}]}}";
    String v = "{'spec':{'containers':[{'name':'a','ports':[{'containerPort':80,'protocol':'TCP'},{'containerPort':81,'protocol':'TCP'}]}]}}";
    MergeResult r = merge(rules, l, d, v);
    // 81 left Git and goes; 82 is created with its key, not as a keyless element.
    assertThat(r.target()).isEqualTo(j(d));
    assertThat(new ThreeWayMerge(rules).merge(KEY, j(d), j(d), r.target()).isNoop()).isTrue();
    assertThat(dev.gitops.core.internal.plan.LastApplied.strip(KEY, j(d), rules)).isEqualTo(j(d));
  }

  @Test
  void nullAbsentModeRemovesField() {
    MergeRules rules = MergeRules.builder().nullMode(MergeRules.NullMode.ABSENT).build();
    MergeResult r = merge(rules, null, "{'a':1,'b':null}", "{'a':1,'b':5}");
    assertThat(r.target()).isEqualTo(j("{'a':1}"));
    assertThat(r.patch()).containsExactly(PatchOp.remove("/b"));
  }

  @Test
  void nullAbsentModeKeepsNullsInsideArrays() {
    MergeRules rules = MergeRules.builder().nullMode(MergeRules.NullMode.ABSENT).build();
    assertThat(merge(rules, null, "{'l':[null,1]}", "{}").target()).isEqualTo(j("{'l':[null,1]}"));
  }

  @Test
  void nullAbsentModeDropsNullFieldsOfSetElementsSoTheyMatchWhatTheServerKeeps() {
    MergeRules rules = MergeRules.builder().setList("/s").nullMode(MergeRules.NullMode.ABSENT).build();
    String d = "{'s':['x',{'a':1,'b':null}]}";
    MergeResult created = merge(rules, null, d, "{'s':[]}");
    assertThat(created.target()).isEqualTo(j("{'s':['x',{'a':1}]}"));
    // the next sync, against what the server kept: nothing to do, not the element added again
    MergeResult again = merge(rules, d, d, "{'s':['x',{'a':1}]}");
    assertThat(again.isNoop()).isTrue();
    assertThat(again.target()).isEqualTo(j("{'s':['x',{'a':1}]}"));
  }

  @Test
  void nullAbsentModeTreatsStoredNullAsOwnedAndAbsent() {
    MergeRules rules = MergeRules.builder().nullMode(MergeRules.NullMode.ABSENT).build();
    MergeResult r = merge(rules, "{'a':1,'b':null}", "{'a':1}", "{'a':1,'b':3}");
    assertThat(r.target()).isEqualTo(j("{'a':1}"));
    assertThat(r.owned()).contains(FieldPath.of("b"));
    assertThat(r.drift()).containsExactly(FieldPath.of("b"));
  }

  @Test
  void nullValueModeSetsNull() {
    MergeResult r = merge(null, "{'a':null}", "{'a':5}");
    assertThat(r.target()).isEqualTo(j("{'a':null}"));
  }

  @Test
  void typeMismatchTakesDesired() {
    MergeResult r = merge("{'a':{'x':1}}", "{'a':{'x':1}}", "{'a':'string'}");
    assertThat(r.target()).isEqualTo(j("{'a':{'x':1}}"));
    assertThat(r.patch()).containsExactly(PatchOp.replace("/a", j("{'x':1}")));
  }

  @Test
  void driftIsOwnedFieldChangedLive() {
    MergeResult r = merge("{'a':1,'b':1}", "{'a':1,'b':1}", "{'a':2,'b':1}");
    assertThat(r.drift()).containsExactly(FieldPath.of("a"));
    assertThat(r.conflicts()).isEmpty();
  }

  @Test
  void conflictIsOwnedFieldChangedInGitAndLiveDifferently() {
    MergeResult r = merge("{'a':1,'b':1}", "{'a':2,'b':2}", "{'a':3,'b':1}");
    assertThat(r.conflicts()).containsExactly(FieldPath.of("a"));
    assertThat(r.drift()).containsExactly(FieldPath.of("a"));
    assertThat(r.target()).isEqualTo(j("{'a':2,'b':2}"));
  }

  @Test
  void takeoverIsNewDesiredFieldLiveAlreadyHolds() {
    MergeResult r = merge("{'a':1}", "{'a':1,'b':2,'c':3}", "{'a':1,'b':9,'c':3}");
    assertThat(r.takeovers()).containsExactly(FieldPath.of("b"));
  }

  @Test
  void emptyObjectLeafDoesNotDriftWhenServerFillsIt() {
    MergeResult r = merge("{'s':{}}", "{'s':{}}", "{'s':{'filled':1}}");
    assertThat(r.drift()).isEmpty();
    assertThat(r.isNoop()).isTrue();
  }

  @Test
  void atomicListLiveElementsWithServerFilledFieldsAreNoDriftConflictOrTakeover() {
    // the merge keeps such a list as it is; the reports must not flag it next to a real change
    MergeRules rules = MergeRules.builder().ignore("/l/*/i").build();
    MergeResult r = merge(rules, "{'a':1,'l':[{'x':1}]}", "{'a':2,'l':[{'x':1}]}", "{'a':3,'l':[{'x':1,'defaulted':0,'i':5}]}");
    assertThat(r.target()).isEqualTo(j("{'a':2,'l':[{'x':1,'defaulted':0,'i':5}]}"));
    assertThat(r.drift()).containsExactly(FieldPath.of("a"));
    assertThat(r.conflicts()).containsExactly(FieldPath.of("a"));
    MergeResult adopt = merge(rules, null, "{'a':2,'l':[{'x':1,'i':4}]}", "{'a':3,'l':[{'x':1,'defaulted':0,'i':5}]}");
    assertThat(adopt.takeovers()).containsExactly(FieldPath.of("a"));
  }

  @Test
  void sensitiveFieldChangesAreFlagged() {
    MergeRules rules = MergeRules.builder().sensitive("/data/*", KeySelector.ANY).atomicMap("/data").build();
    MergeResult r = merge(rules, null, "{'data':{'pw':'new'}}", "{'data':{'pw':'old'}}");
    assertThat(r.fields()).singleElement().satisfies(f -> assertThat(f.sensitive()).isTrue());
  }

  @Test
  void patchDiffOfKeyedListWithChangedAndInsertedElementsStaysByKey() {
    String d = "{'spec':{'containers':[{'name':'new'},{'name':'a','image':'2'}]}}";
    String v = "{'spec':{'containers':[{'name':'a','image':'1'}]}}";
    MergeResult r = merge(K8S, null, d, v);
    assertThat(r.patch()).containsExactlyInAnyOrder(
        PatchOp.add("/spec/containers/0", j("{'name':'new'}")), PatchOp.replace("/spec/containers/1/image", j("'2'")));
  }

  @Test
  void resultReportsAreReadOnly() {
    MergeResult r = merge("{'a':1}", "{'a':2}", "{'a':3}");
    assertThatThrownBy(() -> r.drift().add(FieldPath.of("x"))).isInstanceOf(UnsupportedOperationException.class);
    assertThat(r).isEqualTo(r);
    assertThat(List.copyOf(r.owned())).containsExactly(FieldPath.of("a"));
  }

  /** {@code {'spec':{'m':[[..[[x]]..]]}}}, {@code depth} lists deep. */
  private static JsonNode nestedLists(int depth, String x) {
    return j("{'spec':{'m':" + "[".repeat(depth) + x + "]".repeat(depth) + "}}");
  }

  /**
   * Nested lists (a matrix in a custom resource) under rules with a {@code **} pattern, as the
   * Kubernetes rules have: looking for secrets in a changed atomic list stepped into each element
   * twice (by index and by value) although both gave the same rules, 2^depth steps; a 40-deep
   * list never finished its field report, or its sensitive paths, and the plan hung.
   */
  @Test
  void nestedListsAreSearchedForSecretsInLinearTime() {
    JsonNode d = nestedLists(40, "1");
    JsonNode v = nestedLists(40, "2");
    for (MergeRules rules : List.of(
        MergeRules.builder().keyedList("/**/containers", KeyField.of("name")).build(),
        MergeRules.builder().keyedList("/**/containers", KeyField.of("name")).sensitive("/**/password", KeySelector.ANY).build())) {
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
        MergeResult r = new ThreeWayMerge(rules).merge(KEY, d, d, v);
        assertThat(r.fields()).singleElement().satisfies(f -> {
          assertThat(f.path()).isEqualTo(FieldPath.of("spec", "m"));
          assertThat(f.sensitive()).isFalse();
        });
        assertThat(ThreeWayMerge.sensitivePaths(KEY, d, rules, java.util.Set.of(), new byte[32])).isEmpty();
      }, () -> "rules " + rules);
    }
    // a secret deep inside is still found
    MergeRules secret = MergeRules.builder().sensitive("/**/password", KeySelector.ANY).build();
    JsonNode withSecret = nestedLists(40, "{'password':'p'}");
    assertThat(ThreeWayMerge.sensitivePaths(KEY, withSecret, secret, java.util.Set.of(), new byte[32]))
        .containsExactly(FieldPath.of("spec", "m"));
  }

  /** A desired {@code 1e16} (read as a double) is the live integer 10000000000000000: no update on every sync. */
  @Test
  void aLargeIntegralDoubleMatchesTheLiveIntegerOfTheSameValue() {
    JsonNode d = Documents.freeze(Documents.nodes().objectNode().put("bytes", 1e16));
    JsonNode v = Documents.freeze(Documents.nodes().objectNode().put("bytes", 10_000_000_000_000_000L));
    MergeResult r = new ThreeWayMerge(MergeRules.defaults()).merge(KEY, d, d, v);
    assertThat(r.patch()).isEmpty();
    assertThat(r.fields()).isEmpty();
    assertThat(r.drift()).isEmpty();
  }
}
