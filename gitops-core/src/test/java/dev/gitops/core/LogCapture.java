package dev.gitops.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Captures what one logger (and its children) logs while open, at the level asked for, through a
 * logback list appender: nothing process-wide such as {@code System.err} is swapped, and other
 * loggers keep their configuration. Use it in try-with-resources.
 *
 * <pre>{@code
 * try (LogCapture logs = LogCapture.of(GitSource.class, "INFO")) {
 *   source.read(request);
 *   assertThat(logs.messages()).anyMatch(m -> m.contains("read by no decoder"));
 * }
 * }</pre>
 */
public final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final Level previousLevel;
  private final boolean previousAdditivity;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(String name, String level) {
    this.logger = (Logger) LoggerFactory.getLogger(name);
    this.previousLevel = logger.getLevel();
    this.previousAdditivity = logger.isAdditive();
    appender.setName("capture-" + name);
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.toLevel(level));
    // what is captured stays off the console: the level asked for is often below the console's
    logger.setAdditive(false);
  }

  /** Captures the logger of {@code type} at {@code level} (TRACE, DEBUG, INFO, WARN, ERROR). */
  public static LogCapture of(Class<?> type, String level) {
    return new LogCapture(type.getName(), level);
  }

  /** Captures the logger {@code name} (a package such as {@code dev.gitops} covers all below it). */
  public static LogCapture of(String name, String level) {
    return new LogCapture(name, level);
  }

  /** Every captured line, formatted with its arguments, with the level in front: {@code INFO message}. */
  public List<String> lines() {
    // ListAppender appends under the appender's own monitor (AppenderBase.doAppend is synchronized),
    // not the list's: a logger of another thread appending while this copies it failed with a
    // ConcurrentModificationException
    synchronized (appender) {
      return appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()
          + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getClassName() + ": "
              + e.getThrowableProxy().getMessage())).toList();
    }
  }

  /** Detaches the appender and restores the logger's level and additivity. */
  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(previousLevel);
    logger.setAdditive(previousAdditivity);
    appender.stop();
  }
}
