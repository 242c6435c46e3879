package dev.gitops.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Documents;
import dev.gitops.core.merge.Patches;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes, per edit of benchmark B1, the number of operations of each contender's patch and the
 * document sizes, and checks that our patch turns live into the target.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.PatchSizes out.json
 * </pre>
 */
public final class PatchSizes {

  private PatchSizes() {}

  /** Entry point: {@code args[0]} is the output file (stdout when absent). */
  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode out = json.createObjectNode();
    for (Deployments.Edit e : Deployments.Edit.values()) {
      DiffBench b = new DiffBench(Deployments.of(e));
      if (!Patches.apply(b.input().live(), b.ours()).equals(b.target())) {
        throw new IllegalStateException("our patch for " + e.param() + " does not reach the target");
      }
      ObjectNode row = out.putObject(e.param());
      b.patchSizes().forEach(row::put);
      row.put("liveBytes", b.liveBytes());
      row.put("desiredBytes", b.desiredBytes());
      row.set("oursPatch", Documents.nodes().textNode(b.ours().toString()));
    }
    String text = json.writeValueAsString(out);
    if (args.length > 0) {
      Files.writeString(Path.of(args[0]), text);
    } else {
      System.out.println(text);
    }
  }
}
