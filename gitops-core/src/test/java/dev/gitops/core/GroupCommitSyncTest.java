package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.core.store.FileStateStore.JournalPoint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sync records its pending and applied states in a constant number of journal appends, not per key; a resync writes nothing. */
class GroupCommitSyncTest {

  @TempDir
  Path tmp;

  final List<String> writes = Collections.synchronizedList(new ArrayList<>());

  SyncResult sync(Path target, int files, String text) {
    LocalFilesProvider provider = LocalFilesProvider.builder(target).build();
    Decoder decoder = provider.decoder().orElseThrow();
    List<Resource> resources = new ArrayList<>();
    for (int i = 0; i < files; i++) {
      resources.addAll(decoder.decode(new SourceFile("d/f" + i + ".txt", "blob" + i + text,
          (text + i + "\n").getBytes(StandardCharsets.UTF_8), "r-" + text)));
    }
    FileStateStore.WriteListener listener = new FileStateStore.WriteListener() {
      @Override
      public void onWrite(Path file, boolean after) {
        if (!after) {
          writes.add(tmp.relativize(file).toString());
        }
      }

      @Override
      public void onJournal(JournalPoint point, Path journal) {
        writes.add(point.name());
      }
    };
    try (Reconciler r = Reconciler.builder().desiredState(State.of("r-" + text, resources)).provider(provider)
        .store(FileStateStore.open(tmp.resolve("store"), FileStateStore.Options.defaults().withWriteListener(listener)))
        .build()) {
      return r.sync();
    }
  }

  @Test
  void aSyncOfManyChangesIsTwoJournalAppendsAndAResyncWritesNothing() throws Exception {
    Path target = tmp.resolve("target");
    assertThat(sync(target, 40, "one").isSuccessful()).isTrue();
    assertThat(writes).filteredOn("SYNCED"::equals).as("pending batch, applied batch").hasSize(2);
    assertThat(writes).as("a small journal stays; no per-key file").doesNotContain("COMPACTION_STARTED")
        .noneMatch(w -> w.contains("inventory") || w.contains("pending"));
    assertThat(Files.readString(target.resolve("d/f7.txt"))).isEqualTo("one7\n");

    writes.clear();
    assertThat(sync(target, 40, "one").isSuccessful()).isTrue();
    assertThat(writes).as("a resync of the same revision in a new store object").isEmpty();

    assertThat(sync(target, 40, "two").isSuccessful()).isTrue();
    assertThat(writes).filteredOn("SYNCED"::equals).hasSize(2);
    try (FileStateStore s = FileStateStore.open(tmp.resolve("store"))) {
      assertThat(s.load().inventory()).hasSize(40);
      assertThat(s.load().pending()).isEmpty();
    }
  }
}
