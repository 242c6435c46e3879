package dev.gitops.notify;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** What one class logs while open (a logback list appender on its logger), as {@code LEVEL message} lines. */
final class LogLines implements AutoCloseable {

  private final Logger logger;
  private final Level level;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogLines(Class<?> type) {
    this.logger = (Logger) LoggerFactory.getLogger(type);
    this.level = logger.getLevel();
    logger.setLevel(Level.DEBUG);  // debug lines too: nothing secret may appear at any level
    appender.start();
    logger.addAppender(appender);
  }

  /** Captures what {@code type}'s logger logs from now on. */
  static LogLines of(Class<?> type) {
    return new LogLines(type);
  }

  /** The lines logged so far, with the exception's text of each (what an appender would print). */
  List<String> lines() {
    // ListAppender appends under the appender's own monitor (AppenderBase.doAppend is synchronized),
    // not the list's: a logger of another thread appending while this copies it failed with a
    // ConcurrentModificationException
    synchronized (appender) {
      return appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()
          + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getClassName() + ": "
              + e.getThrowableProxy().getMessage())).toList();
    }
  }

  /** Everything logged so far, one string. */
  String text() {
    return String.join("\n", lines());
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(level);
  }
}
