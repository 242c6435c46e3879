package dev.gitops.cluster;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** What one class logs while open (a logback list appender on its logger), as {@code LEVEL message} lines. */
public final class LogLines implements AutoCloseable {

  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogLines(Class<?> type) {
    this.logger = (Logger) LoggerFactory.getLogger(type);
    appender.start();
    logger.addAppender(appender);
  }

  /** Captures what {@code type}'s logger logs from now on. */
  public static LogLines of(Class<?> type) {
    return new LogLines(type);
  }

  /** The lines logged so far. */
  public List<String> lines() {
    // ListAppender appends under the appender's own monitor (AppenderBase.doAppend is synchronized),
    // not the list's: a logger of another thread appending while this copies it failed with a
    // ConcurrentModificationException
    synchronized (appender) {
      return appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
  }
}
