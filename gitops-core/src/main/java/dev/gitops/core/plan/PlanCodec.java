package dev.gitops.core.plan;

import dev.gitops.api.GitOpsException;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.core.internal.plan.PlanFiles;

/**
 * Writes a {@link Plan} as a JSON review artifact, reads one back, and owns the plan's id: a
 * SHA-256 over the plan's content exactly as the file holds it (everything but the id itself),
 * made from canonical JSON (sorted keys, canonical numbers) as a hash tree — the id is the
 * SHA-256 of the plan object's canonical JSON in which {@code changes} stands for {@code
 * "sha256:"} and the SHA-256 of the JSON array of one entry per change: the SHA-256 of the
 * change's own canonical JSON without its resource's {@code originRevision}, paired with that
 * revision; in a change's JSON its {@code live}, {@code desired}, {@code target} and {@code
 * lastApplied} (the resource's document when Git no longer has the key) documents stand for
 * {@code "sha256:"} and the SHA-256 of theirs. So an unchanged change or document is not
 * serialised again on every plan, nor at a new commit. Sensitive values are replaced by keyed hashes
 * on the way out, so a plan file never holds a secret; sets are written sorted and objects with
 * sorted keys, so the same plan gives the same bytes in any process.
 *
 * <p>Running a reviewed plan ({@code Reconciler.apply}) checks it twice, and refuses with a
 * {@link PlanMismatchException} naming the first differing key and field: the plan against its
 * own id (a plan file edited after it was written no longer matches), and the plan computed now
 * against the reviewed one, change for change.
 *
 * <pre>{@code
 * Files.writeString(out, PlanCodec.toJson(plan, store.secretKey()));
 * Plan reviewed = PlanCodec.fromJson(Files.readString(out));
 * reconciler.apply(reviewed);           // refused if the file was edited or anything moved
 * }</pre>
 */
public final class PlanCodec {

  /** The plan file format version this build writes and reads. */
  public static final int FORMAT = PlanFiles.FORMAT;

  private PlanCodec() {}

  /** The plan as pretty JSON with sensitive values hashed under {@code secretKey}. */
  public static String toJson(Plan plan, byte[] secretKey) {
    return PlanFiles.toJson(plan, secretKey);
  }

  /**
   * The id of {@code plan} as computed in this process (plain values, hashed under {@code
   * secretKey} as its file would hold them); {@code plan.id()} itself is ignored.
   */
  public static String id(Plan plan, byte[] secretKey) {
    return PlanFiles.id(plan, secretKey);
  }

  /**
   * Reads a plan written by {@link #toJson}. The plan keeps the id the file states; whether the
   * file still matches it is checked when the plan is run, or by {@link #checkId}.
   *
   * @throws GitOpsException naming what is wrong with the text
   */
  public static Plan fromJson(String text) {
    return PlanFiles.fromJson(text);
  }

  /**
   * Checks that {@code reviewed} matches its own id, the first of {@link #checkReviewed}'s checks,
   * without computing a plan now: a file edited after it was written no longer matches, and what it
   * shows is not what was computed under that id. For a tool that only shows a saved plan (the CLI's
   * {@code gitops diff --plan}), so that a reviewer never reads edited content under the original id.
   *
   * <pre>{@code
   * Plan reviewed = PlanCodec.fromJson(Files.readString(planFile));
   * PlanCodec.checkId(reviewed, null);    // read from a file: its sensitive values are hashed already
   * String shown = PlanRenderer.text(reviewed);   // only a plan that is what its id says
   * }</pre>
   *
   * @param reviewed a plan read by {@link #fromJson}, or one computed in this process
   * @param secretKey the store's key, needed only for a plan computed in this process that holds
   *     sensitive values; null for a plan read by {@link #fromJson}
   * @throws PlanMismatchException when the plan no longer matches its id, with {@link
   *     PlanMismatchException#field()} null (the edit cannot be located without the original)
   */
  public static void checkId(Plan reviewed, byte[] secretKey) {
    PlanFiles.checkId(reviewed, secretKey);
  }

  /**
   * Checks that {@code reviewed} still holds: that it matches its own id (its content was not
   * changed after it was computed) and that {@code now}, computed from the same revision and the
   * current stored and live state, equals it change for change.
   *
   * @param reviewed a plan read by {@link #fromJson} (values already hashed) or computed in this
   *     process (plain values)
   * @param now the plan computed now; its id is trusted (it was just computed)
   * @param secretKey the store's key, under which both plans' sensitive values are hashed
   * @throws PlanMismatchException naming the first differing key and field
   */
  public static void checkReviewed(Plan reviewed, Plan now, byte[] secretKey) {
    PlanFiles.checkReviewed(reviewed, now, secretKey);
  }
}
