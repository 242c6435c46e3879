package dev.gitops.core.redact;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.SyncEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Everything a change, an event or a state store shows, as text: for tests that look for secrets
 * in it (core, the CLI and the reliability module share it through the core test jar).
 */
public final class ShownText {

  private ShownText() {}

  /** Every document of {@code c} (live, desired, target, the resource's), its patch and its field values. */
  public static String of(Change c) {
    StringBuilder sb = new StringBuilder();
    for (JsonNode d : new JsonNode[] {c.live(), c.desired(), c.target(), c.resource() == null ? null : c.resource().document()}) {
      sb.append(d == null ? "-" : Documents.canonicalJson(d)).append('\n');
    }
    c.patch().forEach(op -> sb.append(Documents.canonicalJson(op.toJson())).append('\n'));
    for (FieldChange f : c.fields()) {
      sb.append(f.path()).append(' ').append(f.before()).append(' ').append(f.after()).append('\n');
    }
    return sb.toString();
  }

  /** The event's text and every document of every change it carries (listeners forward them). */
  public static String of(SyncEvent e) {
    StringBuilder sb = new StringBuilder(e.toString()).append('\n');
    if (e instanceof SyncEvent.Planned p) {
      p.plan().changes().forEach(c -> sb.append(of(c)));
    } else if (e instanceof SyncEvent.ChangeStarted c) {
      sb.append(of(c.change()));
    } else if (e instanceof SyncEvent.ChangeFinished c) {
      sb.append(of(c.change()));
    } else if (e instanceof SyncEvent.Retrying c) {
      sb.append(of(c.change()));
    } else if (e instanceof SyncEvent.Finished f) {
      f.result().plan().changes().forEach(c -> sb.append(of(c)));
    }
    return sb.toString();
  }

  /** The bytes of every file under the store directory {@code state} (its Git cache left out), as Latin-1 text. */
  public static String storeBytes(Path state) throws IOException {
    StringBuilder all = new StringBuilder();
    List<Path> files;
    try (Stream<Path> s = Files.walk(state)) {
      files = s.filter(Files::isRegularFile).filter(f -> !f.startsWith(state.resolve("git-cache"))).toList();
    }
    for (Path f : files) {
      all.append(f).append('\n').append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
    }
    return all.toString();
  }
}
