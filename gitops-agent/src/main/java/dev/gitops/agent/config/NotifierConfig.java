package dev.gitops.agent.config;

import dev.gitops.notify.CommitStatusNotifier;
import dev.gitops.notify.DeliveryOptions;
import dev.gitops.notify.Event;
import dev.gitops.notify.HttpNotifier;
import dev.gitops.notify.NotificationFilter;
import dev.gitops.notify.Notifier;
import dev.gitops.notify.Severity;
import dev.gitops.notify.WebhookNotifier;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One entry of {@code notifications:}: a webhook, or commit statuses on GitHub or GitLab, with its
 * filter and delivery options. Checked when the configuration loads; {@link #create} makes the
 * notifier when the agent starts it.
 *
 * <pre class="language-yaml">{@code
 * notifications:                      # in agent.yaml
 *   - type: webhook
 *     url: https://hooks.example.com/gitops
 *     secret: {env: HOOK_SECRET}
 *     events: [sync-failed, guard-refused]
 *     minSeverity: warning
 * }</pre>
 *
 * @param type {@code webhook}, {@code github} or {@code gitlab}
 * @param url the webhook's URL, or the API's base URL (null: the forge's default)
 * @param repository the GitHub repository or GitLab project, or null for a webhook
 * @param secret the webhook's signing secret or the forge's token, or null
 * @param filter which notifications it sends
 * @param delivery its queue and retries
 * @param context a forge's status context ({@code {target}} for the target's name), or null: {@code
 *     gitops/{target}}
 */
public record NotifierConfig(String type, URI url, String repository, SecretRef secret, NotificationFilter filter,
    DeliveryOptions delivery, String context) {

  /** Checks. */
  public NotifierConfig {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(filter, "filter");
    Objects.requireNonNull(delivery, "delivery");
  }

  /** Refuses {@code key: []}, which the filter would read as all; absent is all. */
  private static void notEmpty(ConfigNode c, String key, String all, String none) {
    ConfigNode list = c.get(key);
    if (!list.isAbsent() && list.json().isArray() && list.json().isEmpty()) {
      throw list.error("an empty list would send " + all + ", as no '" + key + "' key does: remove the key to send "
          + all + " (or " + none + " to send nothing), or list what to send");
    }
  }

  static NotifierConfig read(ConfigNode c, Set<String> targetNames) {
    String type = c.string("type", "the kind of notifier: webhook, github or gitlab");
    Set<String> common = Set.of("type", "events", "targets", "minSeverity", "queueCapacity", "maxAttempts");
    Set<String> allowed = new LinkedHashSet<>(common);
    switch (type) {
      case "webhook" -> allowed.addAll(Set.of("url", "secret"));
      case "github" -> allowed.addAll(Set.of("repository", "token", "apiUrl", "context"));
      case "gitlab" -> allowed.addAll(Set.of("project", "token", "apiUrl", "context"));
      default -> throw c.get("type").error("unknown notifier type '" + type + "' (one of: webhook, github, gitlab)");
    }
    c.allowOnly(allowed.toArray(String[]::new));

    // the filter reads an empty set as "all": an empty list written out (to send nothing, or a template that
    // listed none) would send every event, or to every target, without a word
    notEmpty(c, "events", "every event", "remove the notifier");
    notEmpty(c, "targets", "every target's notifications", "remove the notifier");
    Set<Event> events = EnumSet.noneOf(Event.class);
    for (ConfigNode e : c.list("events")) {
      e.notReadOtherwise();  // events: [on] is the boolean true
      events.add(parse(e, () -> Event.parse(e.json().asText())));
    }
    Set<String> targets = new LinkedHashSet<>();
    for (ConfigNode t : c.list("targets")) {
      t.notReadOtherwise();  // targets: [no] is the boolean false, [010] the number 8
      if (!t.json().isTextual() && !t.json().isNumber()) {  // a name of digits (name: 123) reads as a number
        throw t.error("must be the name of a target, got " + (t.json().isContainerNode() ? "a " + (t.json().isArray()
            ? "list" : "mapping") : t.json().toString()));
      }
      if (!targetNames.contains(t.json().asText())) {
        throw t.error("no target is named '" + t.json().asText() + "'");
      }
      targets.add(t.json().asText());
    }
    Severity minimum = c.optionalString("minSeverity").map(s -> parse(c.get("minSeverity"), () -> Severity.parse(s)))
        .orElse(Severity.INFO);
    // an event the filter lets through but the notifier never sends is a dead setting, refused at its line
    for (ConfigNode e : c.list("events")) {
      Event event = Event.parse(e.json().asText());
      if (event.severity().compareTo(minimum) < 0) {
        throw e.error(event.wireName() + " is of severity " + event.severity().wireName() + ", below minSeverity "
            + minimum.wireName() + " (line " + c.get("minSeverity").line() + "): it would never be sent; remove it or"
            + " lower minSeverity");
      }
      if (!"webhook".equals(type) && event == Event.DRIFT_DETECTED) {
        throw e.error("a " + type + " notifier posts no commit status for drift-detected (a status says how a sync of"
            + " the commit ended, and drift-detected comes with the sync's own event): it would never be sent; remove"
            + " it, or send it with a webhook");
      }
    }
    NotificationFilter filter = NotificationFilter.all().withEvents(events).withTargets(targets).withMinimum(minimum);
    DeliveryOptions delivery = DeliveryOptions.builder()
        .queueCapacity(c.integer("queueCapacity", 1, 100_000, DeliveryOptions.defaults().queueCapacity()))
        .maxAttempts(c.integer("maxAttempts", 1, 100, DeliveryOptions.defaults().maxAttempts()))
        .build();

    // a forge answers a commit status without a token with 401 or 404 on every delivery
    String token = "the " + ("github".equals(type) ? "GitHub" : "GitLab") + " token that may set commit statuses,"
        + " {env: NAME} or {file: PATH}";
    String context = "webhook".equals(type) ? null : c.optionalString("context").orElse(null);
    if (context != null) {
      CommitStatusNotifier.Builder statuses = parse(c.get("context"), () -> CommitStatusNotifier.github("a/b")
          .context(context));
      // the limit holds for the context posted, {target} replaced: the longest name it applies to is named
      (filter.targets().isEmpty() ? targetNames : filter.targets()).stream()
          .max(java.util.Comparator.comparingInt((String t) -> statuses.contextFor(t).length())
              .thenComparing(java.util.Comparator.reverseOrder()))
          .filter(t -> statuses.contextFor(t).length() > CommitStatusNotifier.MAX_CONTEXT)
          .ifPresent(t -> {
            throw c.get("context").error("the status context for target '" + t + "' would be "
                + statuses.contextFor(t).length() + " characters, more than the " + CommitStatusNotifier.MAX_CONTEXT
                + " a forge keeps: shorten the context (or the target's name)");
          });
    }
    NotifierConfig n = switch (type) {
      case "webhook" -> new NotifierConfig(type, uri(c, "url", true), null, c.secret("secret").orElse(null), filter,
          delivery, null);
      case "github" -> new NotifierConfig(type, uri(c, "apiUrl", false),
          c.string("repository", "the GitHub repository, owner/name"), forgeToken(c, token), filter, delivery, context);
      default -> new NotifierConfig(type, uri(c, "apiUrl", false), c.string("project", "the GitLab project"),
          forgeToken(c, token), filter, delivery, context);
    };
    // The notifiers' own checks: a repository's shape and an API URL's at their keys' lines, the
    // rest at the entry's.
    if (!"webhook".equals(type)) {
      parse(c.get("github".equals(type) ? "repository" : "project"), () -> "github".equals(type)
          ? CommitStatusNotifier.github(n.repository()) : CommitStatusNotifier.gitlab(n.repository()));
      if (n.url() != null) {
        parse(c.get("apiUrl"), () -> CommitStatusNotifier.gitlab("a/b").apiUrl(n.url()));
      }
    }
    parse(c, () -> n.builder(Map.of(), null));
    if (!"webhook".equals(type) && n.secret() == null) {
      throw c.get("token").error("required: " + token);
    }
    return n;
  }

  /** A forge's token, refused when written without a value: it has no default. */
  private static SecretRef forgeToken(ConfigNode c, String what) {
    if (c.get("token").json().isNull()) {
      throw c.get("token").error("has no value; required: " + what);
    }
    return c.secret("token").orElse(null);
  }

  private static URI uri(ConfigNode c, String field, boolean required) {
    String s = required ? c.string(field, "the http or https URL events are posted to")
        : c.optionalString(field).orElse(null);
    if (s == null) {
      return null;
    }
    // A URL's path and query may hold a token (Slack's, a chat's webhook): errors show scheme and host only.
    try {
      URI u = new URI(s);
      if (u.getRawUserInfo() != null || u.getRawAuthority() != null && u.getRawAuthority().contains("@")) {
        // never repeated, not even the user: the message goes to logs and to the terminal
        throw c.get(field).error("credentials in the URL (user:password@ before the host) are refused, and not repeated"
            + " here: the URL would carry them into logs and error messages. Remove them from the URL and "
            + ("url".equals(field) ? "authenticate the deliveries with 'secret: {env: NAME}' (or {file: PATH}), which"
                + " signs each body (header X-Gitops-Signature-256); a webhook takes no other header"
                : "give the token with 'token: {env: NAME}' (or {file: PATH}), which is sent as a header"));
      }
      // a URI's scheme is case-insensitive (RFC 3986): HTTPS://host is what https://host is, as the notifier takes it
      if (!"http".equalsIgnoreCase(u.getScheme()) && !"https".equalsIgnoreCase(u.getScheme())) {
        throw c.get(field).error("must be an http or https URL, got " + (u.getScheme() == null ? "no scheme"
            : "'" + u.getScheme() + "://" + (u.getHost() == null ? "" : u.getHost()) + "'"));
      }
      // a host the client cannot use (alert_receiver), none at all, or a port out of range:
      // refused here rather than failing, URL and all, at every delivery
      return parse(c.get(field), () -> HttpNotifier.checkUrl(u));
    } catch (URISyntaxException e) {
      throw c.get(field).error("not a URL: " + e.getReason() + (e.getIndex() >= 0 ? " at character " + (e.getIndex() + 1)
          : ""));
    }
  }

  private static <T> T parse(ConfigNode at, java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (IllegalArgumentException e) {
      throw at.error(e.getMessage());
    }
  }

  /**
   * What the notifier is called when no other entry shares it: its type and where it sends, {@code
   * webhook https://host[:port]} (never the URL's path or query, where tokens are kept) or {@code
   * github owner/repo}, as the notifier names itself.
   */
  public String describe() {
    return type + (repository != null ? " " + repository : url != null ? " " + url.getScheme() + "://"
        + url.getHost() + (url.getPort() >= 0 ? ":" + url.getPort() : "") : "");
  }

  /**
   * The name of each of {@code notifiers} (in their order, as {@code notifications:} lists them):
   * the one its log lines, the {@code notifier} tag of {@code gitops.notifications.dropped} and the
   * agent's messages all show. It is {@link #describe()} when no other entry has the same, else
   * that followed by the entry's place in the file, {@code webhook http://10.0.0.5:8080
   * (notifications[2])}, as configuration errors name it; so each names one entry, and there are
   * as many as entries.
   */
  public static List<String> names(List<NotifierConfig> notifiers) {
    Map<String, Integer> count = new HashMap<>();
    notifiers.forEach(n -> count.merge(n.describe(), 1, Integer::sum));
    List<String> names = new ArrayList<>();
    for (int i = 0; i < notifiers.size(); i++) {
      String d = notifiers.get(i).describe();
      names.add(count.get(d) == 1 ? d : d + " (notifications[" + i + "])");
    }
    return names;
  }

  /**
   * Whether its secret (a webhook's {@code secret}, a forge's {@code token}) had the same value when
   * last read here as in {@code other}: a reload replaces the notifiers when not, as when their
   * entries changed.
   */
  public boolean sameSecretAs(NotifierConfig other) {
    return SecretRef.sameValue(secret, other.secret);
  }

  /** The notifier, its secret read from {@code environment} or its file, named by {@link #describe()}. */
  public Notifier create(Map<String, String> environment) {
    return create(environment, describe());
  }

  /**
   * The notifier, its secret read from {@code environment} or its file, called {@code name} in its
   * log lines (one of {@link #names}).
   */
  public Notifier create(Map<String, String> environment, String name) {
    return builder(environment, Objects.requireNonNull(name, "name"));
  }

  void check(Map<String, String> environment) {
    if (secret != null) {
      String value = secret.resolveLine(environment);
      if (!"webhook".equals(type)) {
        // what token(...) refuses (a byte order mark, a character a header cannot carry), at the
        // token's line when the file loads, not when the notifier is made
        try {
          CommitStatusNotifier.github("a/b").token(value);
        } catch (IllegalArgumentException e) {
          throw secret.error(e.getMessage());
        }
      }
    }
  }

  /** The notifier called {@code name}, or null (the builders' checks only) when that is null. */
  private Notifier builder(Map<String, String> environment, String name) {
    boolean build = name != null;
    // one line: a token goes into a header, and a webhook's secret with a stray line break would
    // sign every body with a key its receiver does not have
    String value = build && secret != null ? secret.resolveLine(environment) : null;
    if ("webhook".equals(type)) {
      WebhookNotifier.Builder b = WebhookNotifier.builder(url).filter(filter).delivery(delivery);
      if (build) {
        b.name(name);
      }
      if (value != null) {
        b.secret(value.getBytes(StandardCharsets.UTF_8));
      }
      return build ? b.build() : null;
    }
    CommitStatusNotifier.Builder b = "github".equals(type) ? CommitStatusNotifier.github(repository)
        : CommitStatusNotifier.gitlab(repository);
    b.filter(filter).delivery(delivery);
    if (build) {
      b.name(name);
    }
    if (url != null) {
      b.apiUrl(url);
    }
    if (value != null) {
      b.token(value);
    }
    if (context != null) {
      b.context(context);
    }
    return build ? b.build() : null;
  }
}
