package dev.gitops.terraform.internal;

import dev.gitops.terraform.TerraformProvider;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A JVM that counts its shutdown hooks (java.lang.ApplicationShutdownHooks, opened with {@code
 * --add-opens java.base/java.lang=ALL-UNNAMED}) before anything of the provider is loaded, after
 * {@link CommandRunner} is loaded and a provider built, while a command runs and after it ended,
 * for {@link CommandRunnerTest}: {@code <script> <directory>}, printing {@code base loaded running
 * after}.
 */
public final class HookProbe {
  private HookProbe() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    org.slf4j.LoggerFactory.getLogger(HookProbe.class);  // whatever logging registers is not ours
    int base = hooks();
    Class.forName(CommandRunner.class.getName(), true, HookProbe.class.getClassLoader());
    TerraformProvider.builder(dir.resolve("work")).binary(args[0]).build().close();
    int loaded = hooks();
    Thread command = new Thread(() -> new CommandRunner().run(new CommandRunner.Command(List.of("bash", args[0]), dir,
        Map.of(), Duration.ofMinutes(1), () -> false, null, Duration.ofSeconds(5), dir)));
    command.start();
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!Files.exists(dir.resolve("started")) && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    int running = hooks();
    Files.writeString(dir.resolve("go"), "");
    command.join();
    System.out.println(base + " " + loaded + " " + running + " " + hooks());
  }

  private static int hooks() throws ReflectiveOperationException {
    Class<?> c = Class.forName("java.lang.ApplicationShutdownHooks");
    Field f = c.getDeclaredField("hooks");
    f.setAccessible(true);
    synchronized (c) {
      return ((Map<?, ?>) f.get(null)).size();
    }
  }
}
