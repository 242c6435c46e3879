package dev.gitops.ansible;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.testkit.ProviderConformanceSuite;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;

/** The testkit's provider contract, run against the Ansible provider with real ansible-playbook. */
class AnsibleProviderConformanceTest extends ProviderConformanceSuite<AnsibleProvider> {

  @TempDir Path tmp;
  private List<Resource> samples;

  @Override
  protected AnsibleProvider newProvider() throws Exception {
    AnsibleProvider p = AnsibleProvider.builder()
        .inventory("ansible/inventory")
        .playbook("ansible/site.yml")
        .inventoryOut(Files.createDirectories(tmp.resolve("managed")).resolve("inventory.yml"))
        .build();
    samples = TinyRepo.decode(p, "[web]\nc1 port=1 " + AnsibleFixture.LOCAL + "\n[web:vars]\nrole=web\n")
        .stream().filter(r -> r.key().name().equals("c1") || r.key().name().equals("web")).toList();
    return p;
  }

  @Override
  protected List<Resource> sampleResources() {
    return samples;
  }

  @Override
  protected Optional<Resource> modify(Resource r) {
    ObjectNode doc = (ObjectNode) Documents.mutableCopy(r.document());
    ((ObjectNode) doc.get("vars")).put("port", 2);
    return Optional.of(r.withDocument(doc));
  }

  @Override
  protected boolean makeUnobservable(AnsibleProvider provider, ResourceKey key) throws Exception {
    // a state file that is not the provider's: it cannot tell what is converged
    Path state = provider.inventoryFile().resolveSibling("." + provider.inventoryFile().getFileName()
        + ".gitops-state.json");
    Files.writeString(state, "{not json");
    return true;
  }

  @Override
  protected Optional<Change> invalidChange(AnsibleProvider provider) {
    Resource host = samples.stream().filter(r -> r.key().type().equals("host")).findFirst().orElseThrow();
    return Optional.of(createOf(Resource.builder(host.key().withName("-oProxyCommand=x"))
        .document(host.document()).build()));
  }
}
