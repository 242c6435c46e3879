package dev.gitops.cluster.scenario;

import dev.gitops.agent.StandInCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * fabric8's stand-in API server (CRUD mode, loopback, a free port) in a JVM of its own, so that
 * killing a member never kills the server. Writes its URL to the file named by its argument, and
 * stops when its standard input closes.
 */
public final class MockApiServer {

  private MockApiServer() {}

  public static void main(String[] args) throws Exception {
    ScenarioMember.quietLogging();
    try (StandInCluster server = StandInCluster.start()) {
      Path file = Path.of(args[0]);
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, server.client().getConfiguration().getMasterUrl());
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      ScenarioMember.exitWhenStdinCloses();
    }
  }
}
