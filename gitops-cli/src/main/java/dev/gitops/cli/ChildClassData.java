package dev.gitops.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The class-data archive (AppCDS: JDK 17's dynamic archive) of the one-shot child JVM ({@link
 * OneShotJvm}): the child of {@code java -jar gitops.jar} maps the classes an earlier child loaded,
 * already parsed and verified, instead of loading them from the jar (about 0.2 s of a no-change
 * sync's 1.8 s on a 2-core machine; benchmarks/README.md). The first one-shot command of a jar
 * makes the archive. First a JVM with the child's options is started on {@code -version} with
 * {@code -XX:ArchiveClassesAtExit}: where the JDK has no base archive (as under {@code -Xshare:off})
 * a JVM given that flag does not start at all, so then the child gets no archive flag, and a file
 * {@code <install>-<version>-unable} keeps later commands from trying again. After its command the
 * child runs the demo unseen ({@link ClassDataTraining}), so that the archive holds the classes of
 * a first sync, a sync of one changed file and a no-change sync whichever command made it, then
 * writes the archive at exit (~0.7 s), and when its command ran to its end the parent starts one
 * more JVM on {@code -version} that requires the archive ({@code -Xshare:on}: a JVM refuses an
 * archive that does not match, and JDK 17 dies on a truncated one rather than ignoring it); only
 * an archive that JVM started with is moved into place, under a name holding its size (after
 * {@link #MAX_TRIES} commands whose archive was not taken, as when each ended in an error, the
 * children of that version write one only when the count of such commands is a power of two: a
 * command that keeps failing pays the write ever more rarely, and the first to succeed after a run
 * of failures still gets the jar its archive soon). A later command uses the archive while its size
 * is the one its name holds; any other is deleted and made again.
 *
 * <p>The archives live in {@code $XDG_CACHE_HOME/gitops/jvm}, else {@code ~/.cache/gitops/jvm},
 * made owner-only; a directory that is a link, is another user's or that others may write into is
 * not used at all, nor an archive that is a link or another user's (the JVM runs what it maps),
 * one per jar path and JDK ({@code <install>-<version>-<size>.jsa}; a new build of the jar, a new
 * JDK or other JVM options for the child, also through {@code JAVA_TOOL_OPTIONS} and the like,
 * make a new one, and moving it into place deletes the install's older ones). {@code
 * GITOPS_JVM_CDS=false} or {@code -Dgitops.cli.cds=false} turns it off; so does a class path that
 * is not one jar file, and JVM options that choose class sharing themselves ({@code -Xshare:...},
 * {@code -XX:SharedArchiveFile}, ...). Nothing here fails a command: an archive that cannot be
 * read, made or moved is left out (the command runs as without it), and the JVM's own CDS messages
 * are off ({@code -Xlog:cds*=off}), so the command's output is its own.
 *
 * <p>Like {@link OneShotJvm}, it runs in the parent before anything else and uses the JDK's base
 * module only: no logging, no lambdas.
 */
final class ChildClassData {

  /** The environment variable: {@code false} starts the child without an archive. */
  static final String ENV = "GITOPS_JVM_CDS";

  /** The system property: {@code false} starts the child without an archive. */
  static final String PROPERTY = "gitops.cli.cds";

  /**
   * The JVM's CDS messages off: at dump time it warns on stdout about each class it skips (JFR's
   * event classes, the JDK's generated reflection accessors; picocli's classes too, before the CLI
   * compiled them at release 17).
   */
  static final String QUIET = "-Xlog:cds*=off";

  private static final String SUFFIX = ".jsa";
  private static final String TEMP = ".tmp";
  /** A temp archive older than this was left by a parent that did not finish: removed. */
  private static final long STALE_TEMP_MILLIS = TimeUnit.MINUTES.toMillis(10);
  /** How long the JVM that tries a new archive may take. */
  private static final long TRIAL_SECONDS = 30;
  /**
   * Commands that wrote an archive none took (each ended in an error, or its archive failed the
   * trial) before the children of that version back off: each such command pays the write (~0.7 s),
   * so after these the children write one only at the 4th, 8th, 16th, ... command without an archive
   * ({@link #writesAfter}). Never writing again would leave a jar whose first three commands failed
   * (a mistyped repository, a network down) without an archive for good: every later command would
   * load its classes from the jar (~0.3 s more on a 2-core machine).
   */
  static final int MAX_TRIES = 3;
  private static final String TRIES = "tries";
  private static final String UNABLE = "unable";
  /** How much of a {@link #TRIES} file is read: more than any count takes. */
  private static final int COUNT_BYTES = 16;

  private final List<String> flags;
  /** The child's class path (the jar's real path: an archive holds the class path it was made with), or null. */
  private final String classPath;
  /** The archive the child writes (when it makes one), else null. */
  private final Path writing;
  /** The child's command up to its class path, for the JVM that tries a new archive. */
  private final List<String> trial;
  private final Path dir;
  /** The file name prefix of this jar path's and JDK's archives, every version. */
  private final String install;
  /** The file name prefix of the archive this child uses or makes. */
  private final String version;

  private ChildClassData(List<String> flags, String classPath, Path writing, List<String> trial, Path dir,
      String install, String version) {
    this.flags = flags;
    this.classPath = classPath;
    this.writing = writing;
    this.trial = trial;
    this.dir = dir;
    this.install = install;
    this.version = version;
  }

  /** No archive: the child starts as without this class. */
  static ChildClassData none() {
    return new ChildClassData(List.of(), null, null, List.of(), null, null, null);
  }

  /** The cache directory for {@code env} and {@code userHome}, or null when there is none. */
  static Path cacheDirectory(Map<String, String> env, String userHome) {
    String xdg = env.get("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "gitops", "jvm");
    }
    if (userHome == null || userHome.isBlank() || userHome.equals("?")) {
      return null;
    }
    return Path.of(userHome, ".cache", "gitops", "jvm");
  }

  /**
   * The archive for a child started as {@code jvm} (the {@code java} executable and the JVM
   * options, up to the class path) with {@code classPath}: the one to use, the one to make, or none.
   *
   * @param javaHome the JDK's home; {@code vmName} and {@code vmVersion} its {@code java.vm.name} and {@code
   *     java.vm.version} (HotSpot's archive flags are given to HotSpot only)
   * @param property the value of {@link #PROPERTY}, null when not set
   * @param cacheDir the cache directory ({@link #cacheDirectory}), null when none
   */
  static ChildClassData forChild(List<String> jvm, String classPath, String javaHome, String vmName,
      String vmVersion, String property, Map<String, String> env, Path cacheDir) {
    String off = env.get(ENV);
    if (vmName == null || !(vmName.contains("HotSpot") || vmName.contains("OpenJDK"))
        || "false".equalsIgnoreCase(property) || off != null && off.strip().equalsIgnoreCase("false")
        || cacheDir == null || classPath == null || classPath.contains(File.pathSeparator)
        || !classPath.endsWith(".jar") || choosesSharing(jvm, env)) {
      return none();
    }
    try {
      Path jar = Path.of(classPath).toRealPath();
      if (!Files.isRegularFile(jar)) {
        return none();
      }
      String install = hash(javaHome + '\0' + jar);
      String version = install + "-" + hash(vmVersion + '\0' + Files.size(jar) + '\0'
          + Files.getLastModifiedTime(jar).toMillis() + '\0' + String.join(" ", jvm) + '\0'
          + optionVariables(env)) + "-";
      List<String> trial = new ArrayList<>(jvm);
      trial.add("-cp");
      trial.add(jar.toString());
      UserPrincipal me = privateDirectory(cacheDir);
      if (me == null) {
        return none();  // a directory someone else could write into: its archives would be their code
      }
      Path archive = usable(cacheDir, version, me);
      if (archive != null) {
        return new ChildClassData(List.of("-XX:SharedArchiveFile=" + archive, QUIET), jar.toString(), null, trial,
            cacheDir, install, version);
      }
      Path unable = cacheDir.resolve(version + UNABLE);
      if (Files.exists(unable)) {
        return none();
      }
      Path tries = cacheDir.resolve(version + TRIES);
      int tried = tries(tries);
      if (!writesAfter(tried)) {
        count(tries, tried + 1);  // counted, so that a later command writes again
        return none();
      }
      Path writing = cacheDir.resolve(version.substring(0, version.length() - 1) + "." + ProcessHandle.current().pid()
          + TEMP);
      Files.deleteIfExists(writing);
      int probe = run(writeFlags(trial, writing), cacheDir);
      if (probe != 0) {
        // a JVM with these options cannot write an archive (no base archive of the JDK: -Xshare:off,
        // a JDK without one); the child would not even start with the flag. Not tried again, unless
        // the JVM did not answer in time (a busy machine): then the next command tries again.
        Files.deleteIfExists(writing);
        if (probe > 0) {
          Files.writeString(unable, "the JVM options " + String.join(" ", jvm)
              + " cannot write a class-data archive\n");
        }
        return none();
      }
      Files.deleteIfExists(writing);
      return new ChildClassData(List.of("-XX:ArchiveClassesAtExit=" + writing, QUIET,
          "-D" + ClassDataTraining.PROPERTY + "=" + trainingOf(writing)), jar.toString(), writing, trial, cacheDir,
          install, version);
    } catch (IOException | RuntimeException e) {
      // a cache that cannot be read or made: the child starts without an archive, as it always could
      return none();
    }
  }

  /** Whether the user's JVM options (or the environment's) choose class sharing themselves: theirs stands. */
  private static boolean choosesSharing(List<String> jvm, Map<String, String> env) {
    List<String> all = new ArrayList<>(jvm);
    for (String variable : OneShotJvm.OPTION_VARIABLES) {
      String value = env.get(variable);
      if (value != null) {
        all.addAll(List.of(value.strip().split("\\s+")));
      }
    }
    for (String option : all) {
      if (option.startsWith("-Xshare") || option.startsWith("-XX:SharedArchiveFile")
          || option.contains("UseSharedSpaces") || option.contains("AutoCreateSharedArchive")) {
        return true;
      }
    }
    return false;
  }

  /** The JVM options the environment gives every JVM (the child's, the trial's), in a fixed order. */
  private static String optionVariables(Map<String, String> env) {
    StringBuilder sb = new StringBuilder();
    for (String variable : OneShotJvm.OPTION_VARIABLES) {
      String value = env.get(variable);
      sb.append(variable).append('=').append(value == null ? "" : value).append('\0');
    }
    return sb.toString();
  }

  /**
   * Whether a child writes an archive after {@code tried} commands of its version ended without
   * one: always for the first {@link #MAX_TRIES}, then when {@code tried} is a power of two.
   */
  static boolean writesAfter(int tried) {
    return tried < MAX_TRIES || Integer.bitCount(tried) == 1;
  }

  /**
   * The count the file {@code f} holds, 0 when it does not exist, is not a regular file or holds no
   * count. Only a regular file is opened: a FIFO there would hold the command forever.
   */
  private static int tries(Path f) {
    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
      return Integer.parseInt(new String(in.readNBytes(COUNT_BYTES), StandardCharsets.US_ASCII).strip());
    } catch (IOException | RuntimeException e) {
      return 0;  // none recorded (or unreadable: counted again from 0)
    }
  }

  /**
   * Writes {@code count} into the file {@code f}. What is there and is not a regular file (a FIFO,
   * whose opening would hold the command forever, a link) is removed first; this user's own cache
   * holds nothing else of that name.
   */
  private static void count(Path f, int count) throws IOException {
    if (Files.exists(f, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      Files.delete(f);
    }
    Files.writeString(f, Integer.toString(count), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Makes {@code dir} when it is missing (owner-only where the file system has POSIX permissions)
   * and returns this user when {@code dir} is a real directory (not a link) of this user that no
   * one else may write into; null otherwise. An archive is code the JVM maps: one planted by
   * another user, in a cache shared by mistake ({@code XDG_CACHE_HOME=/tmp}), must never be used.
   */
  private static UserPrincipal privateDirectory(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dir.getParent());
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (UnsupportedOperationException e) {
        Files.createDirectory(dir);  // no POSIX permissions here: the user's own profile directory decides
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // made by another command at the same time: checked below like any other
      }
    }
    UserPrincipal me = dir.getFileSystem().getUserPrincipalLookupService()
        .lookupPrincipalByName(System.getProperty("user.name"));
    return mine(dir, me, true) ? me : null;
  }

  /**
   * Whether {@code p} is a directory ({@code directory}) or a regular file, not a link, owned by
   * {@code me} and not writable by its group or others (where the file system has POSIX permissions).
   */
  private static boolean mine(Path p, UserPrincipal me, boolean directory) throws IOException {
    try {
      PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      Set<PosixFilePermission> perms = a.permissions();
      return (directory ? a.isDirectory() : a.isRegularFile()) && me.equals(a.owner())
          && !perms.contains(PosixFilePermission.GROUP_WRITE) && !perms.contains(PosixFilePermission.OTHERS_WRITE);
    } catch (UnsupportedOperationException e) {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      return directory ? a.isDirectory() : a.isRegularFile();
    }
  }

  /**
   * The archive named {@code version<size>.jsa} in {@code dir} whose size is that size, a regular
   * file of {@code me} that no one else may write, or null; archives of that version of another
   * size (cut short), of another owner or behind a link, and stale temp files, are deleted.
   */
  private static Path usable(Path dir, String version, UserPrincipal me) throws IOException {
    File[] files = dir.toFile().listFiles();
    if (files == null) {
      return null;
    }
    Path found = null;
    long now = System.currentTimeMillis();
    for (File f : files) {
      String name = f.getName();
      if (name.endsWith(TEMP)) {
        if (now - f.lastModified() > STALE_TEMP_MILLIS) {
          deleteTree(f.toPath());  // an archive or a training directory whose parent did not finish
        }
        continue;
      }
      if (!name.startsWith(version) || !name.endsWith(SUFFIX)) {
        continue;
      }
      long size = parseSize(name.substring(version.length(), name.length() - SUFFIX.length()));
      if (found == null && size > 0 && mine(f.toPath(), me, false) && f.length() == size) {
        found = f.toPath();
      } else {
        Files.deleteIfExists(f.toPath());  // cut short (a JVM would die mapping it), or a second copy
      }
    }
    return found;
  }

  private static long parseSize(String digits) {
    if (digits.isEmpty() || digits.length() > 18) {
      return -1;
    }
    for (int i = 0; i < digits.length(); i++) {
      if (!Character.isDigit(digits.charAt(i))) {
        return -1;
      }
    }
    return Long.parseLong(digits);
  }

  /** The JVM flags to give the child: one to map the archive, or one to write it; none without one. */
  List<String> flags() {
    return flags;
  }

  /**
   * The class path to give the child, or null to keep its own: the jar by its real path, so that
   * every launch of the jar (by a relative path, through a link) maps the archive made by any other.
   */
  String classPath() {
    return classPath;
  }

  /** Whether the child writes a new archive ({@link #adopt} then tries it and moves it into place). */
  boolean writes() {
    return writing != null;
  }

  /**
   * After the child exited with {@code code}: when it wrote a new archive and its command ran to
   * its end ({@link ExitCodes#OK}, {@link ExitCodes#PENDING} or {@link ExitCodes#REFUSED}: not an
   * error, which may have come before most classes were loaded, nor a signal or a crash), starts a
   * JVM with {@code -Xshare:on} on it and, when that JVM starts, moves the archive into place and
   * deletes this install's other archives; the written file is deleted otherwise, and counted:
   * after {@link #MAX_TRIES} such commands the children of this version back off ({@link
   * #writesAfter}). Returns the archive moved into place, or null.
   */
  Path adopt(int code) {
    if (writing == null) {
      return null;
    }
    Path tries = dir.resolve(version + TRIES);
    try {
      if (!keeps(code) || !Files.isRegularFile(writing) || Files.size(writing) == 0 || !starts()) {
        count(tries, tries(tries) + 1);
        return null;
      }
      long size = Files.size(writing);
      Path archive = dir.resolve(version + size + SUFFIX);
      Files.move(writing, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      File[] files = dir.toFile().listFiles();
      if (files != null) {
        for (File f : files) {
          String name = f.getName();
          // this install's other archives and records (not another process's archive being written)
          if (name.startsWith(install) && !name.equals(archive.getFileName().toString())
              && (name.endsWith(SUFFIX) || name.endsWith(TRIES) || name.endsWith(UNABLE))) {
            Files.deleteIfExists(f.toPath());
          }
        }
      }
      return archive;
    } catch (IOException | RuntimeException e) {
      // the cache could not be written: the next command tries again
      return null;
    } finally {
      try {
        Files.deleteIfExists(writing);
        deleteTree(trainingOf(writing));  // the child removes it too, unless it was killed
      } catch (IOException e) {
        // left for the stale-temp sweep of a later command
      }
    }
  }

  /**
   * The directory the child that writes {@code writing} runs its training demo in ({@link
   * ClassDataTraining}): in the cache, owner-only, beside the archive, a temp name that the sweep
   * of stale temp files removes when neither the child nor this process did (a kill).
   */
  static Path trainingOf(Path writing) {
    String name = writing.getFileName().toString();
    return writing.resolveSibling(name.substring(0, name.length() - TEMP.length()) + ".training" + TEMP);
  }

  /**
   * Deletes {@code path} and, when it is a directory, what it holds (links are removed, never
   * followed); nothing when nothing is there. The CLI's one recursive delete ({@link
   * Session#deleteTree} too), without lambdas or streams, as the parent of a child runs it.
   */
  static void deleteTree(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(path, new SimpleFileVisitor<Path>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;  // the listing's own failure, not the "not empty" the delete below would report
        }
        Files.deleteIfExists(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /**
   * Whether the archive written by a child that exited with {@code code} is kept: its command ran to
   * its end ({@link ExitCodes#OK}, {@link ExitCodes#PENDING} or {@link ExitCodes#REFUSED}).
   */
  static boolean keeps(int code) {
    return code == ExitCodes.OK || code == ExitCodes.PENDING || code == ExitCodes.REFUSED;
  }

  /** Whether a JVM with the child's options starts with the written archive, required ({@code -Xshare:on}). */
  private boolean starts() throws IOException {
    List<String> command = new ArrayList<>(trial.subList(0, trial.size() - 2));
    command.add("-XX:SharedArchiveFile=" + writing);
    command.add("-Xshare:on");
    command.addAll(trial.subList(trial.size() - 2, trial.size()));
    return run(command, dir) == 0;
  }

  /** {@code trial}'s JVM with the flag that writes an archive to {@code writing}. */
  private static List<String> writeFlags(List<String> trial, Path writing) {
    List<String> command = new ArrayList<>(trial.subList(0, trial.size() - 2));
    command.add("-XX:ArchiveClassesAtExit=" + writing);
    command.addAll(trial.subList(trial.size() - 2, trial.size()));
    return command;
  }

  /**
   * The exit code of {@code <command> -version} ({@code command}: a JVM's options and class path),
   * with the CDS messages off and its output discarded; -1 when it did not exit within {@link
   * #TRIAL_SECONDS} (it is then killed) or this thread was interrupted.
   */
  private static int run(List<String> command, Path dir) throws IOException {
    // in the owner-only cache, not a shared temp directory where a name could be taken first
    Path errorFile = dir.resolve("crash-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".err");
    List<String> full = new ArrayList<>(command.subList(0, command.size() - 2));
    full.add(QUIET);
    // a JVM that dies on a bad archive writes its crash report here, not into the user's directory
    full.add("-XX:ErrorFile=" + errorFile);
    full.addAll(command.subList(command.size() - 2, command.size()));
    full.add("-version");
    Process p = new ProcessBuilder(full).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      if (!p.waitFor(TRIAL_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();  // passed on: the caller ends as interrupted
      return -1;
    } finally {
      Files.deleteIfExists(errorFile);
    }
  }

  /** A 64-bit FNV-1a of {@code s}, in hex: names files, guards nothing (a mismatched archive is refused by the JVM). */
  static String hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return Long.toHexString(h);
  }
}
