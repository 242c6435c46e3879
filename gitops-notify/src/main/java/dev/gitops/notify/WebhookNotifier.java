package dev.gitops.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * POSTs each notification as JSON to a URL, signed with HMAC-SHA256 when a secret is set.
 *
 * <p>The body: {@code {"event":"sync-failed","severity":"error","target":"web","provider":"files",
 * "revision":"main@sha1:...","commit":"...","message":"...","resources":[...],"counts":{...},
 * "time":"2026-01-01T00:00:00Z"}}. Headers: {@code X-Gitops-Event} (the event),
 * {@code X-Gitops-Delivery} (an id that stays the same across retries of one notification) and,
 * with a secret, {@code X-Gitops-Signature-256: sha256=<hex of HMAC-SHA256(secret, body)>}. A
 * receiver recomputes the HMAC over the raw body and compares in constant time.
 *
 * <pre>{@code
 * Notifier hook = WebhookNotifier.builder(URI.create("https://hooks.example.com/gitops"))
 *     .secret(System.getenv("HOOK_SECRET").getBytes(StandardCharsets.UTF_8))
 *     .filter(NotificationFilter.all().withMinimum(Severity.WARNING))
 *     .build();
 * }</pre>
 */
public final class WebhookNotifier extends HttpNotifier {

  /** The signature header. */
  public static final String SIGNATURE_HEADER = "X-Gitops-Signature-256";
  /** The event header. */
  public static final String EVENT_HEADER = "X-Gitops-Event";
  /** The delivery id header. */
  public static final String DELIVERY_HEADER = "X-Gitops-Delivery";

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Resources a body lists at most; {@code resourcesOmitted} says how many more there were. */
  public static final int MAX_RESOURCES = 100;

  /** Parts of a URL this short are masked only within the whole path or query, not wherever they occur. */
  private static final int MIN_MASKED_PART = 8;

  private final URI url;
  private final byte[] secret;
  /** What an answer's body must not show of the URL (its path, query and user info), longest first. */
  private final List<String> masked;

  private WebhookNotifier(Builder b) {
    super(b.nameOr(displayName(b.url)), b.filter, b.options);
    this.url = b.url;
    this.secret = b.secret == null ? null : b.secret.clone();
    this.masked = maskedParts(b.url);
  }

  /**
   * The pieces of {@code url} where a token may be, as written and decoded: its whole path (unless
   * it is only {@code /}), query and user info, and each path segment, query parameter, value and
   * user info part of {@value #MIN_MASKED_PART} characters or more; longest first, so that a part
   * never leaves half of a longer piece shown.
   */
  private static List<String> maskedParts(URI url) {
    java.util.Set<String> parts = new java.util.HashSet<>();
    for (String[] raw : new String[][] {{url.getRawPath(), url.getPath()}, {url.getRawQuery(), url.getQuery()},
        {url.getRawUserInfo(), url.getUserInfo()}}) {
      for (String whole : raw) {
        if (whole == null || whole.isEmpty() || whole.equals("/")) {
          continue;
        }
        parts.add(whole);
        for (String part : whole.split("[/?&=:;]")) {
          if (part.length() >= MIN_MASKED_PART) {
            parts.add(part);
          }
        }
      }
    }
    return parts.stream().sorted(java.util.Comparator.comparingInt(String::length).reversed()).toList();
  }

  /**
   * {@code text} with the URL's path, query and user info masked ({@link #maskedParts}): an
   * endpoint may echo the URL it was asked ({@code Cannot POST /services/T0/B0/<token>}), and a
   * webhook URL often holds its token there.
   */
  @Override
  protected String redact(String text) {
    String out = text;
    for (String part : masked) {
      out = out.replace(part, "***");
    }
    return out;
  }

  /**
   * {@code webhook <scheme>://<host>[:port]}: what logs and thread names show. The URL's user info,
   * path and query are left out, since webhook URLs often carry their token there (Slack's
   * {@code /services/T…/B…/<token>}).
   */
  private static String displayName(URI url) {
    return "webhook " + where(url);
  }

  /**
   * A builder for a webhook to {@code url}.
   *
   * @throws IllegalArgumentException when {@code url} is not one {@link HttpNotifier#checkUrl} takes
   */
  public static Builder builder(URI url) {
    return new Builder(url);
  }

  /** The JSON body of {@code n}. */
  public static byte[] body(Notification n) {
    ObjectNode o = JSON.createObjectNode();
    o.put("event", n.event().wireName());
    o.put("severity", n.severity().wireName());
    o.put("target", n.target());
    o.put("provider", n.provider());
    o.put("revision", n.revision());
    n.commit().ifPresent(c -> o.put("commit", c));
    o.put("message", n.message());
    // a sync of thousands of resources that all failed must not make a body receivers refuse
    ArrayNode resources = o.putArray("resources");
    n.resources().stream().limit(MAX_RESOURCES).forEach(resources::add);
    if (n.resources().size() > MAX_RESOURCES) {
      o.put("resourcesOmitted", n.resources().size() - MAX_RESOURCES);
    }
    ObjectNode counts = o.putObject("counts");
    n.counts().forEach(counts::put);
    o.put("time", n.time().toString());
    try {
      return JSON.writeValueAsBytes(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a notification as JSON", e);
    }
  }

  /** {@code sha256=<hex>}: the HMAC-SHA256 of {@code body} under {@code secret}. */
  public static String signature(byte[] secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  @Override
  protected Optional<HttpRequest.Builder> request(Notification n) {
    byte[] body = body(n);
    HttpRequest.Builder r = HttpRequest.newBuilder(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "gitops-notify")
        .header(EVENT_HEADER, n.event().wireName())
        .header(DELIVERY_HEADER, UUID.randomUUID().toString())
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (secret != null) {
      r.header(SIGNATURE_HEADER, signature(secret, body));
    }
    return Optional.of(r);
  }

  /** Builds a {@link WebhookNotifier}. */
  public static final class Builder extends HttpNotifier.Builder<Builder> {
    private final URI url;
    private byte[] secret;

    private Builder(URI url) {
      Objects.requireNonNull(url, "url");
      try {
        this.url = checkUrl(url);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the webhook URL " + e.getMessage(), e);
      }
    }

    /** Signs each body with HMAC-SHA256 under {@code key} (never logged). */
    public Builder secret(byte[] key) {
      Objects.requireNonNull(key, "secret");
      if (key.length == 0) {
        throw new IllegalArgumentException("the webhook secret is empty");
      }
      this.secret = key.clone();
      return this;
    }


    @Override
    protected Builder self() {
      return this;
    }

    /** The notifier. */
    public WebhookNotifier build() {
      return new WebhookNotifier(this);
    }
  }
}
