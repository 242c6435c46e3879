package dev.gitops.ansible.internal;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The playbook directory of one revision as the decoder read it from Git: every file by path
 * (relative to the source root), its digest, and which files are the playbook and the
 * decommission playbook. The provider writes it to disk to run {@code ansible-playbook}.
 *
 * @param digest {@code sha256:<hex>} over the files and the options
 * @param files file contents by path
 * @param playbook the path of the playbook
 * @param decommission the path of the decommission playbook, or null
 */
public record PlaybookBundle(String digest, Map<String, byte[]> files, String playbook, String decommission) {

  /** Copies. */
  public PlaybookBundle {
    Objects.requireNonNull(digest, "digest");
    files = Collections.unmodifiableMap(new TreeMap<>(files));
    Objects.requireNonNull(playbook, "playbook");
  }
}
