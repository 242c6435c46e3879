package dev.gitops.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Source;
import dev.gitops.core.Reconciler;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.store.InMemoryStateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One reconciler with Terraform and the local-files provider: a file depends on a Terraform
 * output, which is unknown until Terraform applied and then written into the file.
 */
class MixedPlanTest {

  @TempDir
  Path tmp;

  @Test
  void aTerraformOutputFeedsAFileOfAnotherProvider() throws Exception {
    FakeTerraform fake = FakeTerraform.install(tmp, "terraform");
    // plan (review), sync: the same creating plan; every plan after the apply: nothing to do
    fake.respond("plan.1", 2, "plan-create.jsonl").respondResource("show-plan.1", "plan-create.json")
        .respond("plan.2", 2, "plan-create.jsonl").respondResource("show-plan.2", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate")
        .respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    TerraformProvider tf = fake.provider(tmp.resolve("work")).build();
    Path target = Files.createDirectories(tmp.resolve("target"));
    LocalFilesProvider files = LocalFilesProvider.builder(target).build();
    ResourceKey app = ResourceKey.of("files", "file", "", "app.conf");
    Resource appConf = Resource.of(app, Documents.object(Map.of(
        "content", Documents.nodes().textNode("pet=${outputs:tf:output::name:value}\n"),
        "mode", Documents.nodes().textNode("0644"))));
    Resource mainTf = TerraformProviderTest.config("main.tf", TerraformProviderTest.MAIN_TF);
    AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of(mainTf, appConf)));
    InMemoryStateStore store = new InMemoryStateStore();
    Reconciler reconciler = Reconciler.builder().source(Source.of(desired::get)).provider(tf).provider(files)
        .store(store).build();

    Plan plan = reconciler.plan();
    Change file = plan.change(app).orElseThrow();
    assertThat(file.action()).isEqualTo(Action.CREATE);
    assertThat(file.unknown()).containsExactly(FieldPath.of("content"));
    assertThat(plan.dependencies().get(app)).contains(ResourceKey.of("tf", "output", "", "name"),
        ResourceKey.of("tf", "random_pet", "", "name"));

    SyncResult r = reconciler.sync();
    assertThat(r.status()).as(r.outcomes().toString()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(fake.commands()).contains("apply");
    assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("pet=happy-cat\n");

    SyncResult again = reconciler.sync();
    assertThat(again.plan().change(app).orElseThrow().action()).as("the output is known now and equals what was written")
        .isEqualTo(Action.NOOP);
    assertThat(again.plan().change(app).orElseThrow().unknown()).isEmpty();
  }
}
