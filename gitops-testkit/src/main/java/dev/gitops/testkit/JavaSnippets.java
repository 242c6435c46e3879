package dev.gitops.testkit;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Compiles Java source text against the running class path and loads the class: for tests that
 * keep the code samples of a README or a javadoc compiling and running.
 *
 * <pre>{@code
 * Class<?> example = JavaSnippets.compile(tmp, "ReadmeExample", source);
 * Object result = example.getMethod("run", Path.class).invoke(null, repo.dir());
 * }</pre>
 */
public final class JavaSnippets {

  private JavaSnippets() {}

  /**
   * Compiles {@code source}, which declares the public class {@code className}, under {@code
   * workDir} and loads it.
   *
   * @throws AssertionError with the source when it does not compile
   */
  public static Class<?> compile(Path workDir, String className, String source) throws IOException,
      ClassNotFoundException {
    Path src = workDir.resolve("src/" + className + ".java");
    Files.createDirectories(src.getParent());
    Files.writeString(src, source, StandardCharsets.UTF_8);
    Path classes = Files.createDirectories(workDir.resolve("classes"));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc = javac.run(null, null, null, "-cp", System.getProperty("java.class.path"), "-d", classes.toString(),
        src.toString());
    if (rc != 0) {
      throw new AssertionError("does not compile (javac exit " + rc + "):\n" + source);
    }
    // the loader stays open for the class's lifetime: a test's JVM ends soon after
    URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, JavaSnippets.class.getClassLoader());
    return loader.loadClass(className);
  }
}
