package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class ShortRunCompilationTest {

  @Test
  void oneShotCommandsGetThePolicyTheAgentHelpAndVersionDoNot() {
    assertThat(ShortRunCompilation.appliesTo("sync", "--repo", "r", "--target", "t")).isTrue();
    assertThat(ShortRunCompilation.appliesTo("--verbose", "plan", "--repo", "r")).isTrue();
    assertThat(ShortRunCompilation.appliesTo("run", "--config", "agent.yaml")).isFalse();
    assertThat(ShortRunCompilation.appliesTo("--version")).isFalse();
    assertThat(ShortRunCompilation.appliesTo("sync", "--help")).isFalse();
    assertThat(ShortRunCompilation.appliesTo()).isFalse();
    assertThat(ShortRunCompilation.appliesTo("--verbose", "run", "--config", "agent.yaml")).isFalse();
    assertThat(ShortRunCompilation.appliesTo("help", "sync")).isFalse();
    // an option's value that reads like a subcommand does not decide it
    assertThat(ShortRunCompilation.appliesTo("sync", "--repo", "run", "--target", "help")).isTrue();
  }

  @Test
  void theKeepC2PropertyTurnsThePolicyOff() {
    System.setProperty(ShortRunCompilation.KEEP_C2, "true");
    try {
      assertThat(ShortRunCompilation.appliesTo("sync", "--repo", "r")).isFalse();
    } finally {
      System.clearProperty(ShortRunCompilation.KEEP_C2);
    }
  }

  /** Run in a child JVM by the test below: adds the directive and prints the JVM's directives. */
  public static void main(String[] args) throws Exception {
    System.out.println("added=" + ShortRunCompilation.addDirective());
    Object printed = ManagementFactory.getPlatformMBeanServer().invoke(
        new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint",
        new Object[] {new String[0]}, new String[] {String[].class.getName()});
    System.out.println(printed);
  }

  @Test
  void theDirectiveIsAddedToTheRunningJvm() throws Exception {
    // in a child JVM: the test JVM keeps its compilers
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), ShortRunCompilationTest.class.getName()).redirectErrorStream(true).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(out).contains("added=true");
    // directives print (the JVM's format) shows the match and C2's exclusion
    assertThat(out).contains("*.*").containsPattern("(?s)c2.*Exclude:true");
    // the JDK's message digests are matched first and keep C2 (its SHA intrinsics)
    assertThat(out).contains("sun/security/provider/*.*").containsPattern("(?s)c2.*Exclude:false.*Exclude:true");
  }
}
