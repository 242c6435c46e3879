package dev.gitops.core.apply;

import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Hooks that remember every call, for assertions. */
class RecordingHooks implements ExecutionHooks {
  final List<ResourceKey> before = Collections.synchronizedList(new ArrayList<>());
  final List<Map.Entry<ResourceKey, Outcome>> after = Collections.synchronizedList(new ArrayList<>());
  final List<SyncEvent> events = Collections.synchronizedList(new ArrayList<>());
  final Map<ResourceKey, Thread> threads = new ConcurrentHashMap<>();

  @Override
  public void beforeApply(Change change) {
    before.add(change.key());
  }

  @Override
  public void afterOutcome(Change change, Outcome outcome) {
    after.add(Map.entry(change.key(), outcome));
  }

  @Override
  public void event(SyncEvent event) {
    events.add(event);
  }

  long afterCount(ResourceKey key) {
    synchronized (after) {
      return after.stream().filter(e -> e.getKey().equals(key)).count();
    }
  }

  Outcome afterOf(ResourceKey key) {
    synchronized (after) {
      return after.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).findFirst().orElse(null);
    }
  }

  <T extends SyncEvent> List<T> events(Class<T> type) {
    synchronized (events) {
      return events.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }
}
