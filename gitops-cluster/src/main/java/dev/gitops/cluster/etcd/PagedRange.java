package dev.gitops.cluster.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys under a prefix, read in pages of at most {@code pageSize} keys, all at the revision of
 * the first page, so that they are one consistent snapshot however many pages it takes. One range
 * read of a large prefix (a store of thousands of entries, the owner keys of thousands of targets)
 * would exceed the client's inbound message limit and fail for ever; a page that still does (large
 * values) is read again at half the size, down to one key.
 */
final class PagedRange {

  private static final Logger LOG = LoggerFactory.getLogger(PagedRange.class);

  /** The keys (ascending) and the revision they were read at. */
  record Snapshot(List<KeyValue> kvs, long revision) {}

  private PagedRange() {}

  /**
   * Reads every key under {@code prefix}, in ascending key order, each page waited for at most
   * {@code timeout}; failures name {@code etcd} and say what was read.
   */
  static Snapshot read(KV kv, String prefix, int pageSize, Duration timeout, String etcd, String what) {
    ByteSequence start = ByteSequence.from(prefix, StandardCharsets.UTF_8);
    ByteSequence end = OptionsUtil.prefixEndOf(start);
    List<KeyValue> out = new ArrayList<>();
    long revision = 0;  // 0: the first page's, at etcd's current revision
    int limit = pageSize;
    ByteSequence from = start;
    while (true) {
      GetOption.Builder o = GetOption.builder().withRange(end).withLimit(limit)
          .withSortField(GetOption.SortTarget.KEY).withSortOrder(GetOption.SortOrder.ASCEND);
      if (revision != 0) {
        o.withRevision(revision);
      }
      GetResponse r;
      try {
        r = EtcdCoordinator.call(kv.get(from, o.build()), what, timeout, etcd);
      } catch (IllegalStateException e) {
        if (limit > 1 && tooLarge(e)) {
          // a page of large values: the same page again, smaller
          limit = Math.max(1, limit / 2);
          LOG.info("{}: a page of {} keys of {} exceeds the client's message limit; reading {} at a time", etcd,
              limit * 2, prefix, limit);
          continue;
        }
        throw e;
      }
      if (revision == 0) {
        revision = r.getHeader().getRevision();
      }
      List<KeyValue> page = r.getKvs();
      out.addAll(page);
      if (!r.isMore() || page.isEmpty()) {
        return new Snapshot(List.copyOf(out), revision);
      }
      // the next page starts right after the last key read: that key with a zero byte appended
      byte[] last = page.get(page.size() - 1).getKey().getBytes();
      byte[] next = new byte[last.length + 1];
      System.arraycopy(last, 0, next, 0, last.length);
      from = ByteSequence.from(next);
    }
  }

  /** Whether a read failed because its answer exceeded the client's inbound message limit. */
  private static boolean tooLarge(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (String.valueOf(c.getMessage()).contains("RESOURCE_EXHAUSTED")) {
        return true;
      }
    }
    return false;
  }
}
