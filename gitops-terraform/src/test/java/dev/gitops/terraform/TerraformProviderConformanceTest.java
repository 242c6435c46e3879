package dev.gitops.terraform;

import dev.gitops.api.Resource;
import dev.gitops.testkit.ProviderConformanceSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/**
 * The testkit's conformance suite where it applies to a planning provider: observe of what was
 * never created, observe answering every key, and the planning contract (changes named and masked,
 * one call converging and moving the state token, a moved state refused). The tests that apply
 * hand-built changes are skipped by the suite: Terraform applies only the plans it made.
 */
class TerraformProviderConformanceTest extends ProviderConformanceSuite<TerraformProvider> {

  @TempDir
  Path tmp;
  Path work;

  @Override
  protected TerraformProvider newProvider() {
    FakeTerraform fake = FakeTerraform.install(tmp, "terraform");
    fake.respond("plan.1", 2, "plan-create.jsonl").respondResource("show-plan.1", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate")
        .respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    work = tmp.resolve("work");
    return fake.provider(work).build();
  }

  @Override
  protected List<Resource> sampleResources() {
    return List.of(TerraformProviderTest.config("main.tf", TerraformProviderTest.MAIN_TF));
  }

  @Override
  protected boolean moveStateBehindItsBack(TerraformProvider provider) throws Exception {
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-before.tfstate"));
    return true;
  }
}
