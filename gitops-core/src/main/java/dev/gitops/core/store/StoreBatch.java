package dev.gitops.core.store;

import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.StateStore;
import dev.gitops.api.spi.StoredResource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Store writes made durable together, in order: a {@link BatchedStateStore} writes them with one
 * journal append and one fsync instead of one durable file write each.
 *
 * <pre>{@code
 * StoreBatch pending = StoreBatch.builder().pending(web).pending(db).build();
 * pending.writeTo(store);           // durable before the provider is called
 * // ... apply web and db ...
 * List<StoredResource> applied = StoreBatch.builder().applied(web, revision).applied(db, revision).build()
 *     .writeTo(store);
 * }</pre>
 *
 * @param ops the writes, applied in this order
 */
public record StoreBatch(List<Op> ops) {

  /** Validates and copies. */
  public StoreBatch {
    ops = List.copyOf(Objects.requireNonNull(ops, "ops"));
  }

  /** One write of a batch. */
  public sealed interface Op permits Pending, Applied, Forget, ClearPending {
    /** The key written. */
    ResourceKey key();
  }

  /** {@link StateStore#writePending}. */
  public record Pending(Resource desired) implements Op {
    /** Validates. */
    public Pending {
      Objects.requireNonNull(desired, "desired");
    }

    @Override
    public ResourceKey key() {
      return desired.key();
    }
  }

  /**
   * {@link StateStore#commit}, with what proved the live object in sync with it when the engine
   * verified that ({@code inSync}, null for none; a store that does not keep it drops it).
   */
  public record Applied(Resource lastApplied, String revision, StoredResource.InSync inSync) implements Op {
    /** Validates. */
    public Applied {
      Objects.requireNonNull(lastApplied, "lastApplied");
      Objects.requireNonNull(revision, "revision");
    }

    /** A commit without an in-sync proof. */
    public Applied(Resource lastApplied, String revision) {
      this(lastApplied, revision, null);
    }

    @Override
    public ResourceKey key() {
      return lastApplied.key();
    }
  }

  /** {@link StateStore#forget}. */
  public record Forget(ResourceKey key) implements Op {
    /** Validates. */
    public Forget {
      Objects.requireNonNull(key, "key");
    }
  }

  /** {@link StateStore#clearPending}. */
  public record ClearPending(ResourceKey key) implements Op {
    /** Validates. */
    public ClearPending {
      Objects.requireNonNull(key, "key");
    }
  }

  /** A builder of a batch. */
  public static Builder builder() {
    return new Builder();
  }

  /** Whether the batch holds no write. */
  public boolean isEmpty() {
    return ops.isEmpty();
  }

  /**
   * Writes this batch: in one durable append when {@code store} is a {@link BatchedStateStore},
   * else one call per write. Returns the stored form of each {@link Applied} write, in order.
   */
  public List<StoredResource> writeTo(StateStore store) {
    Objects.requireNonNull(store, "store");
    if (ops.isEmpty()) {
      return List.of();
    }
    if (store instanceof BatchedStateStore batched) {
      return batched.writeBatch(this);
    }
    return writeOneByOne(store);
  }

  /** Writes each op through the store's single-key method, in order; the stored form of each applied op. */
  List<StoredResource> writeOneByOne(StateStore store) {
    List<StoredResource> out = new ArrayList<>();
    for (Op op : ops) {
      if (op instanceof Pending p) {
        store.writePending(p.desired());
      } else if (op instanceof Applied a) {
        out.add(store.commit(a.lastApplied(), a.revision()));
      } else if (op instanceof Forget f) {
        store.forget(f.key());
      } else {
        store.clearPending(op.key());
      }
    }
    return out;
  }

  /** Collects writes in order. */
  public static final class Builder {
    private final List<Op> ops = new ArrayList<>();

    private Builder() {}

    /** Adds a pending write. */
    public Builder pending(Resource desired) {
      ops.add(new Pending(desired));
      return this;
    }

    /** Adds a commit of last-applied state. */
    public Builder applied(Resource lastApplied, String revision) {
      ops.add(new Applied(lastApplied, revision));
      return this;
    }

    /** Adds a commit of last-applied state with what proved the live object in sync with it (null for none). */
    public Builder applied(Resource lastApplied, String revision, StoredResource.InSync inSync) {
      ops.add(new Applied(lastApplied, revision, inSync));
      return this;
    }

    /** Adds a forget. */
    public Builder forget(ResourceKey key) {
      ops.add(new Forget(key));
      return this;
    }

    /** Adds any write. */
    public Builder add(Op op) {
      ops.add(Objects.requireNonNull(op, "op"));
      return this;
    }

    /** How many writes were added. */
    public int size() {
      return ops.size();
    }

    /** The batch. */
    public StoreBatch build() {
      return new StoreBatch(ops);
    }
  }
}
