package dev.gitops.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * B1: our three-way merge + patch against json-patch's and zjsonpatch's {@code JsonDiff} and the
 * {@code JsonNode.equals} floor, on Kubernetes-shaped Deployments with one realistic edit each.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar MergeBenchmark -f 1 -wi 10 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
public class MergeBenchmark {

  /** Which edit (see {@link Deployments.Edit#param()}). */
  @Param({"imageBump", "replicas", "envInsertMiddle", "containerFront", "fieldRemoved", "liveDefaultsOnly"})
  public String edit;

  private DiffBench bench;

  /** Builds the inputs once per trial. */
  @Setup(Level.Trial)
  public void setUp() {
    bench = new DiffBench(Deployments.of(Deployments.Edit.ofParam(edit)));
  }

  /** Ours: merge + patch. */
  @Benchmark
  public Object ours() {
    return bench.ours();
  }

  /** java-json-tools json-patch JsonDiff. */
  @Benchmark
  public Object jsonPatch() {
    return bench.jsonPatch();
  }

  /** zjsonpatch JsonDiff. */
  @Benchmark
  public Object zjsonpatch() {
    return bench.zjsonpatch();
  }

  /** zjsonpatch JsonDiff against a target copy that shares no nodes with live. */
  @Benchmark
  public Object zjsonpatchCopy() {
    return bench.zjsonpatchCopy();
  }

  /** The equality floor. */
  @Benchmark
  public boolean equalsFloor() {
    return bench.equalsFloor();
  }
}
