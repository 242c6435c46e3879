package dev.gitops.notify;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A notifier that turns each notification it accepts into one HTTP request and delivers it from
 * its own thread: a bounded queue in front ({@link #send} never waits), retries with exponential
 * backoff and jitter on network errors, 408, 429, 5xx and a 403 that says it is a rate limit
 * ({@code Retry-After}, or {@code x-ratelimit-remaining: 0}), waiting as long as the answer asks
 * (up to the longest backoff), and a count of what it had to drop.
 * Subclasses only say which request a notification becomes.
 *
 * <pre>{@code
 * final class ChatNotifier extends HttpNotifier {
 *   ChatNotifier() { super("chat", NotificationFilter.all(), DeliveryOptions.defaults()); }
 *   protected Optional<HttpRequest.Builder> request(Notification n) {
 *     return Optional.of(HttpRequest.newBuilder(URI.create("https://chat.example.com/hook"))
 *         .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"" + n.message() + "\"}")));
 *   }
 * }
 * }</pre>
 */
public abstract class HttpNotifier implements Notifier {

  private static final Logger LOG = LoggerFactory.getLogger(HttpNotifier.class);
  /**
   * One client for every notifier: Java 17's client cannot be closed, and each keeps a selector
   * thread (and a pool) until it is garbage collected, so a client per notifier leaked threads at
   * every reload. Each exchange is bounded by its notifier's request timeout (see {@link
   * #exchange}), connecting included.
   */
  private static final HttpClient CLIENT = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  private final String name;
  private final NotificationFilter filter;
  private final DeliveryOptions options;
  private final HttpClient client;
  private final BlockingQueue<Notification> queue;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  /** Started with the first notification queued, so a subclass is fully built before it formats any. */
  private Thread worker;
  /**
   * Set by {@link #close()}, or by the delivery thread when it ends for another reason; once set,
   * {@link #send} queues nothing more. Written under {@link #accepting}, as {@link #send} reads it
   * and queues: a notification is either queued while the delivery thread will still see it (and
   * deliver or drop it) or refused and counted here; none is left in the queue after the thread's
   * last look.
   */
  private volatile boolean closing;
  private final Object accepting = new Object();

  /** A notifier called {@code name} sending what {@code filter} accepts. */
  protected HttpNotifier(String name, NotificationFilter filter, DeliveryOptions options) {
    this.name = Objects.requireNonNull(name, "name");
    this.filter = Objects.requireNonNull(filter, "filter");
    this.options = Objects.requireNonNull(options, "options");
    this.client = CLIENT;
    // bounded, yet holding what is queued only: an array of the capacity would be allocated up front, and one of
    // Integer.MAX_VALUE ("as good as unbounded") is an OutOfMemoryError
    this.queue = new LinkedBlockingQueue<>(options.queueCapacity());
  }

  /**
   * The request {@code notification} becomes (method, URI, headers, body; the timeout is set
   * here), or empty when it means nothing to this notifier. Called on the delivery thread, once
   * per notification: every attempt sends the same request.
   */
  protected abstract Optional<HttpRequest.Builder> request(Notification notification);

  /**
   * Called on the delivery thread once {@code notification}'s request was answered with a 2xx (not
   * when it was dropped): a subclass that skips repeats records here what the endpoint now holds.
   */
  protected void onDelivered(Notification notification) {}

  /**
   * Counts {@code notification} as dropped, with a warning naming this notifier, its event and
   * target, and {@code why}: for {@link #request} to call when the notification cannot be sent as
   * it stands (it then returns empty). Without it an empty request is a notification that means
   * nothing to this notifier, neither delivered nor dropped.
   *
   * @param notification the notification not sent
   * @param why what keeps it from being sent and what to change, for the log
   */
  protected final void refuse(Notification notification, String why) {
    // logged before it is counted: whoever sees the count finds the line
    LOG.warn("notifier {}: not sending {} for target '{}': {}", name, notification.event().wireName(),
        notification.target(), why);
    dropped.incrementAndGet();
  }

  /**
   * Whether an answer other than a 2xx says the endpoint already holds what {@code notification}'s
   * request asked for, so that there was nothing to change (GitLab refuses to set a commit status
   * to the state it is in). Such an answer counts as delivered ({@link #onDelivered} is called),
   * logged at debug level, and is neither retried nor dropped. Called on the delivery thread; the
   * default says no.
   *
   * @param notification what the request was made of
   * @param statusCode the answer's HTTP status
   * @param body the answer's body, its first 4 KiB at most (decoded as UTF-8), or empty
   */
  protected boolean alreadyHeld(Notification notification, int statusCode, String body) {
    return false;
  }

  @Override
  public String name() {
    return name;
  }

  /**
   * {@code url}, checked for an HTTP notifier: http or https, with a host a client can connect to
   * (not one with an underscore, which {@link URI} does not take for a host, and not an empty
   * one), and a port from 1 to 65535 when it has one. (User info is left to the caller: the
   * client does not send it, and names and messages never show it.)
   *
   * <pre>{@code
   * URI hook = HttpNotifier.checkUrl(URI.create(System.getenv("HOOK_URL")));
   * }</pre>
   *
   * @throws IllegalArgumentException saying what is wrong and showing at most the scheme, host and
   *     port: never the user info, path or query, where tokens are kept
   */
  public static URI checkUrl(URI url) {
    Objects.requireNonNull(url, "url");
    if (!"http".equalsIgnoreCase(url.getScheme()) && !"https".equalsIgnoreCase(url.getScheme())) {
      throw new IllegalArgumentException("must be an http or https URL, got " + (url.getScheme() == null ? "no scheme"
          : "'" + (url.getHost() == null ? url.getScheme() + ":" : where(url)) + "'"));
    }
    if (url.getHost() == null || url.getHost().isEmpty()) {
      String authority = url.getRawAuthority();
      authority = authority == null ? null : authority.substring(authority.lastIndexOf('@') + 1);  // no user info
      throw new IllegalArgumentException("has no host a client can connect to" + (authority == null
          || authority.isEmpty() ? " (nothing between '//' and the path)" : ": '" + authority
              + "' is not a host name (letters, digits, '-' and '.'; no '_') with an optional port from 1 to 65535"));
    }
    if (url.getPort() == 0 || url.getPort() > 65_535) {
      throw new IllegalArgumentException("has port " + url.getPort() + ", not one from 1 to 65535 (" + where(url) + ")");
    }
    return url;
  }

  /** {@code scheme://host[:port]}: all of a URL that logs and messages show. */
  static String where(URI url) {
    return url.getScheme() + "://" + url.getHost() + (url.getPort() >= 0 ? ":" + url.getPort() : "");
  }

  /**
   * {@code text} (an answer's body, for the log) with whatever this notifier sends that must not be
   * logged (a token) masked, before it is cut for the log. Subclasses that send a secret (in a header, in
   * the URL) override it.
   */
  protected String redact(String text) {
    return text;
  }

  /**
   * Queues {@code notification} for delivery when the filter accepts it, without waiting: one that
   * finds the queue full, or comes once {@link #close()} has begun, is dropped (counted in {@link
   * #dropped()}, with a warning saying why).
   */
  @Override
  public final void send(Notification notification) {
    if (!filter.accepts(notification)) {
      return;
    }
    boolean closed;
    boolean queued = false;
    synchronized (accepting) {
      // held for an offer at most (the queue never blocks), so send still does not wait
      closed = closing;
      if (!closed) {
        startWorker();
        queued = queue.offer(notification);
      }
    }
    if (!queued) {
      long n = dropped.incrementAndGet();
      LOG.warn("notifier {}: {}, dropped {} for target '{}' ({} dropped so far)", name,
          closed ? "closed" : "queue full (" + options.queueCapacity() + ")", notification.event().wireName(),
          notification.target(), n);
    }
  }

  private synchronized void startWorker() {
    if (worker == null) {
      worker = new Thread(this::deliverAll, "gitops-notify " + name);
      worker.setDaemon(true);
      worker.start();
    }
  }

  @Override
  public long dropped() {
    return dropped.get();
  }

  /**
   * Notifications delivered so far: answered with a 2xx, or with an answer that says the endpoint
   * already held what was sent ({@link #alreadyHeld}).
   */
  public long delivered() {
    return delivered.get();
  }

  private void deliverAll() {
    // What close() cuts off, by event: said once, in one warning, when the thread ends.
    SortedMap<String, Integer> cutOff = new TreeMap<>();
    while (true) {
      Notification n = queue.poll();
      if (n == null) {
        synchronized (accepting) {
          // decided under the lock send() queues under: nothing can be queued after this look
          if (closing && queue.isEmpty()) {
            break;
          }
        }
        try {
          n = queue.poll(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          // close() gave up waiting: what is still queued is dropped below.
          break;
        }
        if (n == null) {
          continue;
        }
      }
      try {
        deliver(n);
      } catch (InterruptedException e) {
        // close() gave up waiting for this one (a stalled endpoint, a long backoff)
        dropped.incrementAndGet();
        cutOff.merge(n.event().wireName(), 1, Integer::sum);
        break;
      } catch (RuntimeException e) {
        // A bug formatting one notification must not stop delivery of the others. Only the
        // exception's class is logged: the JDK's messages repeat a header value or the URL, which
        // may hold a token ("invalid header value: \"Bearer ...\"", "unsupported URI ...").
        LOG.warn("notifier {}: cannot deliver {} for target '{}': {}", name, n.event().wireName(), n.target(),
            describe(e));
        dropped.incrementAndGet();
      }
    }
    List<Notification> left = new ArrayList<>();
    synchronized (accepting) {
      // ended by close() or by an interrupt from elsewhere: either way send() queues nothing more
      // (what it is offered now is counted as dropped there), and what is queued is dropped here
      closing = true;
      queue.drainTo(left);
    }
    dropped.addAndGet(left.size());
    left.forEach(n -> cutOff.merge(n.event().wireName(), 1, Integer::sum));
    if (!cutOff.isEmpty()) {
      int total = cutOff.values().stream().mapToInt(Integer::intValue).sum();
      LOG.warn("notifier {}: closed with {} notification{} not delivered, dropped: {}", name, total,
          total == 1 ? "" : "s", cutOff.entrySet().stream().map(e -> e.getValue() + " " + e.getKey())
              .collect(Collectors.joining(", ")));
    }
  }

  private void deliver(Notification n) throws InterruptedException {
    Optional<HttpRequest.Builder> built = request(n);
    if (built.isEmpty()) {
      return;
    }
    HttpRequest request = built.get().timeout(options.requestTimeout()).build();
    Duration backoff = options.initialBackoff();
    for (int attempt = 1; ; attempt++) {
      String failure;
      Duration retryAfter = null;
      try {
        HttpResponse<String> r = exchange(request);
        int code = r.statusCode();
        if (code / 100 == 2) {
          delivered.incrementAndGet();
          onDelivered(n);
          return;
        }
        if (alreadyHeld(n, code, r.body() == null ? "" : r.body())) {
          // a refusal that says the request's state is already there: nothing left to deliver
          LOG.debug("notifier {}: {} already holds {} for target '{}' (HTTP {} {}): counted as delivered", name,
              request.uri().getHost(), n.event().wireName(), n.target(), code, logged(r.body()));
          delivered.incrementAndGet();
          onDelivered(n);
          return;
        }
        failure = "HTTP " + code;
        retryAfter = retryAfter(r.headers()).orElse(null);
        // GitHub answers a rate limit with 403 (or 429) saying when to come back; a 403 that does
        // not (a token without the right) is refused for good
        boolean rateLimited = code == 429 || code == 403 && (retryAfter != null
            || r.headers().firstValue("x-ratelimit-remaining").map(v -> v.trim().equals("0")).orElse(false));
        if (rateLimited) {
          failure += " (rate limited)";
        } else if (code / 100 == 3) {
          failure += " " + redirect(request.uri(), r.headers().firstValue("Location"));
        }
        if (code != 408 && !rateLimited && code < 500) {
          // The endpoint refused this request (bad token, unknown commit): retrying will not change that.
          // logged before it is counted: whoever sees the count (a test, a metric scrape) finds the line
          LOG.warn("notifier {}: {} refused {} for target '{}': {}", name, request.uri().getHost(),
              n.event().wireName(), n.target(), failure + " " + logged(r.body()));
          dropped.incrementAndGet();
          return;
        }
      } catch (IOException e) {
        failure = describe(e);
      }
      if (attempt >= options.maxAttempts() || closing) {
        LOG.warn("notifier {}: gave up on {} for target '{}' after {} attempts: {}", name, n.event().wireName(),
            n.target(), attempt, failure);
        dropped.incrementAndGet();
        return;
      }
      // a wait the answer asks for is kept to, up to the longest backoff; a shorter one than the
      // backoff (Retry-After: 0, a reset already past) does not make the retries come at once
      Duration backedOff = jitter(backoff);
      Duration wait = retryAfter != null && retryAfter.compareTo(backedOff) > 0 ? min(retryAfter, options.maxBackoff())
          : backedOff;
      LOG.debug("notifier {}: attempt {} failed ({}), retrying in {}", name, attempt, failure, wait);
      Thread.sleep(wait.toMillis());
      backoff = min(backoff.multipliedBy(2), options.maxBackoff());
    }
  }

  /**
   * What a 3xx says, for the log: redirects are not followed (the body, its signature and a token
   * would go to a host the user did not configure), so the URL must be changed; the target is shown
   * as scheme, host and port only (its path and query may hold a token).
   */
  private static String redirect(URI from, Optional<String> location) {
    try {
      URI to = location.map(l -> from.resolve(l.trim())).orElse(null);
      if (to != null && to.getHost() != null) {
        return "(a redirect to " + where(to) + (where(to).equals(where(from)) ? " (another path)" : "")
            + ", not followed: configure the URL it points to)";
      }
    } catch (IllegalArgumentException unreadable) {
      LOG.debug("unreadable Location header: {}", unreadable.getClass().getName());
    }
    return "(a redirect, not followed: configure the URL it points to)";
  }

  /**
   * One exchange, bounded by the request timeout (the client's own timeout ends at the headers: an
   * endpoint that stalls mid-body must not hold the delivery thread forever). The answer is its
   * status, headers and the body's first {@value #MAX_BODY} bytes: the rest is not read.
   */
  private HttpResponse<String> exchange(HttpRequest request) throws IOException, InterruptedException {
    CompletableFuture<HttpResponse<String>> pending = client.sendAsync(request, info -> new FirstBytes());
    try {
      return pending.get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      pending.cancel(true);
      throw new OwnTimeout("no complete answer within " + options.requestTimeout().toMillis() + " ms");
    } catch (InterruptedException e) {
      pending.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException(cause);
    }
  }

  private static final int MAX_BODY = 4096;

  /**
   * A body of which the first {@value #MAX_BODY} bytes are kept (for the log), and that ends there:
   * it cancels the rest, which closes the connection. An endless or huge answer (a 500 streaming a
   * page, a 200 followed by megabytes) is neither kept nor read to the request timeout, and its
   * status decides, not the timeout.
   */
  private static final class FirstBytes implements HttpResponse.BodySubscriber<String> {
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final CompletableFuture<String> body = new CompletableFuture<>();
    private java.util.concurrent.Flow.Subscription subscription;

    @Override
    public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
      subscription = s;
      s.request(1);
    }

    @Override
    public void onNext(List<java.nio.ByteBuffer> buffers) {
      for (java.nio.ByteBuffer b : buffers) {
        int n = Math.min(b.remaining(), MAX_BODY - kept.size());
        byte[] part = new byte[n];
        b.get(part);
        kept.writeBytes(part);
      }
      if (kept.size() >= MAX_BODY) {
        subscription.cancel();
        body.complete(kept.toString(StandardCharsets.UTF_8));
      } else {
        subscription.request(1);
      }
    }

    @Override
    public void onError(Throwable t) {
      body.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      body.complete(kept.toString(StandardCharsets.UTF_8));
    }

    @Override
    public java.util.concurrent.CompletionStage<String> getBody() {
      return body;
    }
  }

  /**
   * How long the answer asks to wait: {@code Retry-After} in seconds or as an HTTP date, else the
   * reset of an exhausted rate limit ({@code x-ratelimit-remaining: 0} and {@code x-ratelimit-reset},
   * in epoch seconds, as GitHub sends them); empty when it does not say (or says it unreadably,
   * or names a time no {@link Instant} holds): an endpoint's headers never make a delivery fail.
   */
  static Optional<Duration> retryAfter(java.net.http.HttpHeaders headers) {
    try {
      return readRetryAfter(headers);
    } catch (DateTimeException | ArithmeticException outOfRange) {
      // x-ratelimit-reset: 99999999999999999 (past Instant.MAX), and the like: the backoff applies
      LOG.debug("a wait the answer asks for is out of range ({}): the backoff applies", outOfRange.getClass().getName());
      return Optional.empty();
    }
  }

  private static Optional<Duration> readRetryAfter(java.net.http.HttpHeaders headers) {
    Optional<String> after = headers.firstValue("Retry-After").map(String::trim);
    if (after.isPresent()) {
      try {
        return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(after.get()))));
      } catch (NumberFormatException notSeconds) {
        try {
          Instant at = ZonedDateTime.parse(after.get(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
          return Optional.of(untilNow(at));
        } catch (DateTimeParseException notADate) {
          // neither form: the exponential backoff applies
          LOG.debug("unreadable Retry-After header: the backoff applies");
          return Optional.empty();
        }
      }
    }
    boolean exhausted = headers.firstValue("x-ratelimit-remaining").map(v -> v.trim().equals("0")).orElse(false);
    if (exhausted) {
      try {
        return headers.firstValue("x-ratelimit-reset").map(v -> untilNow(Instant.ofEpochSecond(Long.parseLong(v.trim()))));
      } catch (NumberFormatException e) {
        // an unreadable reset: the exponential backoff applies
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static Duration untilNow(Instant at) {
    Duration d = Duration.between(Instant.now(), at);
    return d.isNegative() ? Duration.ZERO : d;
  }

  private static Duration jitter(Duration d) {
    // +-20%: notifiers of many agents that failed together do not retry together.
    return Duration.ofMillis(Math.round(d.toMillis() * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble())));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /**
   * What the log shows of an answer's body: its first line, masked ({@link #redact}) before it is
   * cut, so that a secret the cut falls in is not shown in part.
   */
  private String logged(String body) {
    return firstLine(redact(body == null ? "" : body));
  }

  /** The body's first line, cut to 200 characters, control characters escaped (they could forge a log line). */
  private static String firstLine(String body) {
    String line = body == null ? "" : body.lines().findFirst().orElse("");
    line = line.length() > 200 ? line.substring(0, 200) + "..." : line;
    StringBuilder out = new StringBuilder(line.length());
    line.codePoints().forEach(c -> {
      if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
        out.append(String.format("\\u%04x", c));
      } else {
        out.appendCodePoint(c);
      }
    });
    return out.toString();
  }

  /**
   * What went wrong, for the log, without the messages of the JDK's exceptions, which may repeat a
   * header value or a URL (with a token in it): the classes along the cause chain, and the message
   * only of the timeout this class raises itself.
   */
  static String describe(Throwable e) {
    StringBuilder out = new StringBuilder();
    for (Throwable t = e; t != null && out.length() < 500; t = t.getCause() == t ? null : t.getCause()) {
      if (out.length() > 0) {
        out.append(" caused by ");
      }
      out.append(t.getClass().getName());
      if (t instanceof OwnTimeout) {
        out.append(": ").append(t.getMessage());
      }
    }
    return out.toString();
  }

  /** The timeout of a whole exchange, raised here: its message is ours, and safe to log. */
  private static final class OwnTimeout extends HttpTimeoutException {
    private static final long serialVersionUID = 1L;

    OwnTimeout(String message) {
      super(message);
    }
  }

  /**
   * Stops accepting, delivers what is queued for up to 5 seconds, then drops the rest: counted in
   * {@link #dropped()}, and said in one warning naming how many of which events. A notification
   * sent once this has begun is dropped and counted too.
   */
  @Override
  public void close() {
    synchronized (accepting) {
      closing = true;
    }
    Thread worker;
    synchronized (this) {
      worker = this.worker;
    }
    if (worker == null) {
      return;
    }
    try {
      worker.join(5_000);
      if (worker.isAlive()) {
        worker.interrupt();
        worker.join(1_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      worker.interrupt();
    }
  }

  @Override
  public String toString() {
    return name;
  }

  /**
   * What every HTTP notifier's builder sets: its filter and its delivery options.
   *
   * @param <B> the concrete builder, returned by each setter
   */
  public abstract static class Builder<B extends Builder<B>> {
    /** Which notifications to send (default: all). */
    protected NotificationFilter filter = NotificationFilter.all();
    /** Queue and retries (default {@link DeliveryOptions#defaults()}). */
    protected DeliveryOptions options = DeliveryOptions.defaults();
    /** The name logs, thread names and metrics show, or null for the notifier's own. */
    protected String name;

    /** For subclasses. */
    protected Builder() {}

    /** This builder, as its concrete type. */
    protected abstract B self();

    /** Which notifications to send (default: all). */
    public B filter(NotificationFilter f) {
      this.filter = Objects.requireNonNull(f, "filter");
      return self();
    }

    /** Queue and retries (default {@link DeliveryOptions#defaults()}). */
    public B delivery(DeliveryOptions o) {
      this.options = Objects.requireNonNull(o, "delivery");
      return self();
    }

    /**
     * The name this notifier goes by in every log line, its thread's name and {@link Notifier#name()}
     * (default: its type and where it sends, as {@code webhook https://host[:port]} or {@code github
     * owner/repo}): one that tells apart several notifiers to one place, as {@code gitops run} names
     * its notifiers. It must not hold a secret: it is logged.
     *
     * @throws IllegalArgumentException when it is blank, longer than 200 characters or holds a
     *     control character
     */
    public B name(String n) {
      Objects.requireNonNull(n, "name");
      if (n.isBlank() || n.length() > 200 || n.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException("a notifier's name is 1 to 200 characters without control characters");
      }
      this.name = n;
      return self();
    }

    /** The name set with {@link #name(String)}, else {@code otherwise}: for a subclass's constructor. */
    protected String nameOr(String otherwise) {
      return name != null ? name : otherwise;
    }
  }
}
