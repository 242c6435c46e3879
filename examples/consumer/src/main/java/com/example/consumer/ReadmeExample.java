package com.example.consumer;

import dev.gitops.api.Plan;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import java.nio.file.Path;

/**
 * The README's embedding example, verbatim between the markers (ReadmeCopyTest in the gitops
 * build checks that they are equal).
 */
public final class ReadmeExample {

  private ReadmeExample() {}

  /** Syncs the Git repository at {@code repository} into the directory {@code target}. */
  public static SyncResult run(Path repository, Path target, Path state) {
    // readme-example: begin
    SyncResult result;
    try (Reconciler reconciler = Reconciler.builder()
        .source(GitSource.builder().url(repository.toString()).ref("main").build())
        .provider(LocalFilesProvider.builder(target).exclude(state).build())
        .store(FileStateStore.open(state))
        .build()) {                               // close() closes the Git source and the store
      Plan plan = reconciler.plan();              // review: plan.changes(), plan.summary()
      result = reconciler.sync();                 // read, observe, merge, plan, guard, apply, record
    }
    if (!result.isSuccessful()) {
      result.failures().forEach((key, outcome) -> System.err.println(key + ": " + outcome.message()));
    }
    // readme-example: end
    return result;
  }
}
