package dev.gitops.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts the sync of a commit as that commit's status on GitHub or GitLab, as Flux does: pending
 * when a new revision starts syncing, success when it synced, failure when it failed, was refused
 * by a guard, could not be observed completely, or (detect-only, dry run) left changes pending:
 * like Flux, which posts failure while a target is not ready, a commit is not marked a success
 * before the target holds it. The context is {@code gitops/<target>} (or what {@link
 * Builder#context} says), so each target has its own line on the commit. Drift is not a commit's state and is not posted; a status
 * (state and description) already delivered for the same commit and target is not posted again,
 * while one that failed to deliver does not hold back the next.
 *
 * <pre>{@code
 * Notifier github = CommitStatusNotifier.github("acme/ops").token(System.getenv("GITHUB_TOKEN")).build();
 * Notifier gitlab = CommitStatusNotifier.gitlab("acme/ops").apiUrl(URI.create("https://gitlab.example.com"))
 *     .token(System.getenv("GITLAB_TOKEN")).build();
 * }</pre>
 *
 * <p>Requests: GitHub {@code POST <api>/repos/<owner>/<repo>/statuses/<sha>} with {@code
 * {"state","description","context"}} and {@code Authorization: Bearer <token>}; GitLab {@code POST
 * <api>/api/v4/projects/<url-encoded project>/statuses/<sha>} with {@code
 * {"state","name","description"}} and {@code PRIVATE-TOKEN: <token>}.
 */
public final class CommitStatusNotifier extends HttpNotifier {

  private static final Logger LOG = LoggerFactory.getLogger(CommitStatusNotifier.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern GITHUB_REPOSITORY = Pattern.compile("[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+");
  /** A GitLab project's path (its group and subgroups first) or its numeric id. */
  private static final Pattern GITLAB_PROJECT = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+|[0-9]+");
  /**
   * GitLab's answer (HTTP 400) to a status its state machine will not move to, such as {@code
   * {"message":"Cannot transition status via :enqueue from :pending (Reason(s): ...)"}}: group 1
   * the transition asked for, group 2 the state the status is in.
   */
  private static final Pattern GITLAB_NO_TRANSITION =
      Pattern.compile("Cannot transition status via :(\\w+) from :(\\w+)");
  /**
   * The longest status context posted, in characters (GitLab keeps a status's name in 255): a
   * context longer once {@code {target}} is replaced by the target's name is not posted (see {@link
   * Builder#context}).
   */
  public static final int MAX_CONTEXT = 255;
  /** GitHub cuts descriptions at 140 characters. */
  private static final int MAX_DESCRIPTION = 140;

  /** Where the statuses go. */
  public enum Forge {
    /** GitHub or GitHub Enterprise (the REST API's base URL, for example {@code https://github.example.com/api/v3}). */
    GITHUB("https://api.github.com"),
    /** GitLab (the instance's URL; {@code /api/v4} is added). */
    GITLAB("https://gitlab.com");

    private final String defaultUrl;

    Forge(String defaultUrl) {
      this.defaultUrl = defaultUrl;
    }
  }

  /** A commit's state. */
  public enum State {
    /** A sync of it is running. */
    PENDING,
    /** It synced. */
    SUCCESS,
    /** Its sync failed, was refused, was incomplete, or left the target out of sync. */
    FAILURE;

    /** The state for {@code event}, or empty when the event is not a commit's state (drift). */
    public static Optional<State> of(Event event) {
      return switch (event) {
        case SYNC_STARTED -> Optional.of(PENDING);
        case SYNC_SUCCEEDED -> Optional.of(SUCCESS);
        case SYNC_FAILED, GUARD_REFUSED, INCOMPLETE_PLAN, OUT_OF_SYNC -> Optional.of(FAILURE);
        case DRIFT_DETECTED -> Optional.empty();
      };
    }
  }

  private final Forge forge;
  private final String repository;
  /** The context's template: {@code {target}} stands for the target's name. */
  private final String context;
  private final String apiUrl;
  private final String token;
  /**
   * The last status delivered per commit and context (the delivery thread alone touches it);
   * bounded. Only what the forge answered with a 2xx is here: a status that failed to deliver does
   * not keep the next one like it from being posted.
   */
  private final Map<String, Posted> posted = new LinkedHashMap<>(16, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Posted> eldest) {
      return size() > 256;
    }
  };

  /** A status as the forge holds it: state and description (Flux, too, posts a new description). */
  private record Posted(State state, String description) {}

  private CommitStatusNotifier(Builder b) {
    super(b.nameOr(b.forge.name().toLowerCase(java.util.Locale.ROOT) + " " + b.repository), b.filter, b.options);
    this.forge = b.forge;
    this.repository = b.repository;
    String url = b.apiUrl == null ? forge.defaultUrl : b.apiUrl.toString();
    url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    if (forge == Forge.GITLAB && url.endsWith("/api/v4")) {
      // the API's URL given where the instance's is asked for: /api/v4 is added below, once
      url = url.substring(0, url.length() - "/api/v4".length());
    }
    this.apiUrl = url;
    this.token = b.token;
    if (token != null && url.regionMatches(true, 0, "http://", 0, 7) && !loopback(URI.create(url).getHost())) {
      // allowed (an instance inside a private network may serve plain HTTP), but never silently
      LOG.warn("{}: the API URL {} is plain HTTP: the token goes to it unencrypted at every status, readable by"
          + " anyone on the way; use https", name(), where(URI.create(url)));
    }
    this.context = b.context;
  }

  /** Statuses on the GitHub repository {@code owner/name}. */
  public static Builder github(String repository) {
    return new Builder(Forge.GITHUB, repository);
  }

  /** Statuses on the GitLab project {@code group/name} (or its numeric id). */
  public static Builder gitlab(String project) {
    return new Builder(Forge.GITLAB, project);
  }

  /** The default context of {@code target}'s statuses: {@code gitops/<target>}. */
  public static String context(String target) {
    return DEFAULT_CONTEXT.replace(TARGET, target);
  }

  /**
   * The context of {@code target}'s statuses as this notifier posts them; one longer than {@link
   * #MAX_CONTEXT} is not posted.
   */
  public String contextOf(String target) {
    return contextOf(context, target);
  }

  private static String contextOf(String template, String target) {
    return template.replace(TARGET, target);
  }

  /** {@code s} for a log line: its first 60 characters, control characters as '?'. */
  private static String abbreviate(String s) {
    return printable(s.length() > 60 ? s.substring(0, 57) + "..." : s);
  }

  /** {@code s} with each control character as '?', for a message that quotes it. */
  private static String printable(String s) {
    return s.replaceAll("\\p{Cntrl}", "?");
  }

  private static final String TARGET = "{target}";
  private static final String DEFAULT_CONTEXT = "gitops/" + TARGET;

  @Override
  protected Optional<HttpRequest.Builder> request(Notification n) {
    Optional<State> state = State.of(n.event());
    if (state.isEmpty()) {
      return Optional.empty();
    }
    Optional<String> commit = n.commit();
    if (commit.isEmpty()) {
      LOG.debug("{}: revision '{}' of target '{}' names no commit: no status posted", name(), n.revision(), n.target());
      return Optional.empty();
    }
    String context = contextOf(n.target());
    if (context.length() > MAX_CONTEXT) {
      // not cut: two targets whose contexts differ only past the cut would overwrite each other's statuses
      refuse(n, "its status context would be " + context.length() + " characters ('" + abbreviate(context)
          + "'), more than the " + MAX_CONTEXT + " a forge keeps: shorten the context template '"
          + abbreviate(this.context) + "' or the target's name");
      return Optional.empty();
    }
    String description = description(n.message());
    if (new Posted(state.get(), description).equals(posted.get(commit.get() + " " + context))) {
      return Optional.empty();
    }
    ObjectNode body = JSON.createObjectNode();
    HttpRequest.Builder r;
    if (forge == Forge.GITHUB) {
      body.put("state", state.get().name().toLowerCase(java.util.Locale.ROOT));
      body.put("description", description);
      body.put("context", context);
      r = HttpRequest.newBuilder(URI.create(apiUrl + "/repos/" + repository + "/statuses/" + commit.get()))
          .header("Accept", "application/vnd.github+json")
          .header("X-GitHub-Api-Version", "2022-11-28");
      if (token != null) {
        r.header("Authorization", "Bearer " + token);
      }
    } else {
      body.put("state", gitlabState(state.get()));
      body.put("name", context);
      body.put("description", description);
      r = HttpRequest.newBuilder(URI.create(apiUrl + "/api/v4/projects/"
          + URLEncoder.encode(repository, StandardCharsets.UTF_8) + "/statuses/" + commit.get()));
      if (token != null) {
        r.header("PRIVATE-TOKEN", token);
      }
    }
    try {
      return Optional.of(r.header("Content-Type", "application/json").header("User-Agent", "gitops-notify")
          .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a commit status as JSON", e);
    }
  }

  private static String gitlabState(State state) {
    return switch (state) {
      case PENDING -> "pending";
      case SUCCESS -> "success";
      case FAILURE -> "failed";
    };
  }

  /**
   * GitLab answers a status that repeats the one the commit has for the context (a second {@code
   * pending}: after a restart, or a retry of a request whose first answer was lost) with HTTP 400
   * {@code Cannot transition status via :enqueue from :pending}. The commit then shows what was
   * asked for, so that is delivered, as Flux, which skips a status the commit already has, leaves
   * it too. {@code running} (set by another client on this context) is taken as holding a {@code
   * pending}: both say a sync is under way. Any other 400 is a refusal.
   */
  @Override
  protected boolean alreadyHeld(Notification n, int statusCode, String body) {
    Optional<State> state = State.of(n.event());
    if (forge != Forge.GITLAB || statusCode != 400 || state.isEmpty()) {
      return false;
    }
    java.util.regex.Matcher m = GITLAB_NO_TRANSITION.matcher(body);
    if (!m.find()) {
      return false;
    }
    String held = m.group(2);
    return held.equals(gitlabState(state.get())) || state.get() == State.PENDING && held.equals("running");
  }

  @Override
  protected void onDelivered(Notification n) {
    Optional<State> state = State.of(n.event());
    Optional<String> commit = n.commit();
    if (state.isPresent() && commit.isPresent()) {
      posted.put(commit.get() + " " + contextOf(n.target()), new Posted(state.get(), description(n.message())));
    }
  }

  @Override
  protected String redact(String text) {
    // an endpoint may echo the credentials it refused ("bad credentials for Bearer ...")
    return token == null || text.isEmpty() ? text : text.replace(token, "***");
  }

  /**
   * {@code message} cut to {@link #MAX_DESCRIPTION} UTF-16 chars (so to at most as many code points)
   * ending in "...", never between the two halves of a surrogate pair such as an emoji.
   */
  static String description(String message) {
    if (message.length() <= MAX_DESCRIPTION) {
      return message;
    }
    int end = MAX_DESCRIPTION - 3;
    if (Character.isHighSurrogate(message.charAt(end - 1)) && Character.isLowSurrogate(message.charAt(end))) {
      end--;
    }
    return message.substring(0, end) + "...";
  }

  /** Whether {@code host} is this machine's loopback by its text (no lookup): localhost, 127.0.0.0/8, ::1. */
  private static boolean loopback(String host) {
    String h = host == null ? "" : host.toLowerCase(java.util.Locale.ROOT);
    return h.equals("localhost") || h.endsWith(".localhost") || h.matches("127(\\.\\d{1,3}){3}") || h.equals("[::1]")
        || h.equals("::1");
  }

  /** Builds a {@link CommitStatusNotifier}. */
  public static final class Builder extends HttpNotifier.Builder<Builder> {
    private final Forge forge;
    private final String repository;
    private URI apiUrl;
    private String token;
    private String context = DEFAULT_CONTEXT;

    private Builder(Forge forge, String repository) {
      this.forge = forge;
      this.repository = Objects.requireNonNull(repository, "repository");
      // Each part goes into the request's path as it is (GitLab's encoded): '.', '..', an empty
      // part or another character would post to another path, or be refused at every delivery.
      boolean dots = java.util.Arrays.asList(repository.split("/", -1)).stream().anyMatch(p -> p.equals(".")
          || p.equals(".."));
      if (forge == Forge.GITHUB && (!GITHUB_REPOSITORY.matcher(repository).matches() || dots)) {
        throw new IllegalArgumentException("a GitHub repository is 'owner/name' (letters, digits, '_', '-' and '.';"
            + " neither part '.' or '..'), got '" + printable(repository) + "'");
      }
      if (forge == Forge.GITLAB && (!GITLAB_PROJECT.matcher(repository).matches() || dots)) {
        throw new IllegalArgumentException("a GitLab project is 'group/name' ('group/subgroup/name'; letters, digits,"
            + " '_', '-' and '.', no part '.' or '..') or a numeric id, got '" + printable(repository) + "'");
      }
    }

    /**
     * The API's base URL (default: github.com's API, or gitlab.com). GitLab: the instance's URL;
     * one ending in {@code /api/v4} is taken as well (that part is added to every request once).
     *
     * @throws IllegalArgumentException when {@code url} is not one {@link HttpNotifier#checkUrl} takes,
     *     or has a query or a fragment, which the requests' paths would follow
     */
    public Builder apiUrl(URI url) {
      Objects.requireNonNull(url, "apiUrl");
      try {
        this.apiUrl = checkUrl(url);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the API URL " + e.getMessage(), e);
      }
      // each request's path is appended to the URL: after a query or a fragment it would be part of
      // them, and every status would go to the base URL itself (neither is shown: tokens hide there)
      if (url.getRawQuery() != null || url.getRawFragment() != null) {
        throw new IllegalArgumentException("the API URL has a " + (url.getRawQuery() != null ? "query ('?...')"
            : "fragment ('#...')") + ": give the base URL alone (" + where(url) + "/..., no '?' or '#')");
      }
      return this;
    }

    /**
     * The access token (never logged), sent in a header.
     *
     * @throws IllegalArgumentException when it is empty, holds a control character (a line break
     *     a file or {@code echo} left at its end) or a character that is not ASCII (a byte order
     *     mark an editor put first, a zero-width space pasted with it): a header cannot carry it, or
     *     the forge would refuse every status. The message says where, never what the token is.
     */
    public Builder token(String t) {
      Objects.requireNonNull(t, "token");
      if (t.isEmpty()) {
        throw new IllegalArgumentException("the token is empty");
      }
      for (int i = 0; i < t.length(); i++) {
        char c = t.charAt(i);
        if (Character.isISOControl(c)) {
          throw new IllegalArgumentException("the token holds a control character (" + controlName(c)
              + ") at character " + (i + 1) + " of " + t.length() + ": a header cannot carry it"
              + (i == t.length() - 1 ? " (a line break left at its end by a file or echo?)" : ""));
        }
        if (c > 0x7e) {
          // the JDK refuses a header value with a character past U+00FF when each request is built,
          // and forges' tokens are ASCII: every status would be dropped
          throw new IllegalArgumentException("the token holds a character that is not ASCII (" + String.format("U+%04X",
              (int) c) + (c == '\uFEFF' ? ", a byte order mark" : c == '\u200B' ? ", a zero-width space" : "")
              + ") at character " + (i + 1) + " of " + t.length() + ": a header cannot carry it");
        }
      }
      this.token = t;
      return this;
    }

    /**
     * The statuses' context (GitHub's {@code context}, GitLab's {@code name}), {@code {target}}
     * standing for the target's name (default {@code gitops/{target}}). Agents that sync targets of
     * the same name from one repository (staging and production, say) each need their own, or they
     * overwrite each other's statuses: {@code gitops-staging/{target}}. The limit holds for the
     * context posted: a target whose name makes it longer than {@link #MAX_CONTEXT} characters gets
     * no status, each notification counted as dropped with a warning naming the notifier and the
     * target (it is not cut: two targets could end with one context). Where the targets' names are
     * known, check them with {@link #contextFor}.
     *
     * @throws IllegalArgumentException when it is blank, longer than 255 characters or holds a
     *     control character
     */
    public Builder context(String template) {
      Objects.requireNonNull(template, "context");
      if (template.isBlank() || template.length() > 255 || template.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException("a status context is 1 to 255 characters without control characters, got '"
            + template.replaceAll("\\p{Cntrl}", "?") + "'");
      }
      this.context = template;
      return this;
    }

    /**
     * The context the notifier built here posts for {@code target}.
     *
     * <pre>{@code
     * CommitStatusNotifier.Builder statuses = CommitStatusNotifier.github("acme/site").context("gitops-prod/{target}");
     * for (String name : List.of("web", "payments")) {
     *   if (statuses.contextFor(name).length() > CommitStatusNotifier.MAX_CONTEXT) {
     *     log.warn("target {} gets no commit status: its context is too long", name);
     *   }
     * }
     * }</pre>
     */
    public String contextFor(String target) {
      return contextOf(context, Objects.requireNonNull(target, "target"));
    }

    private static String controlName(char c) {
      return c == '\n' ? "a line feed" : c == '\r' ? "a carriage return" : c == '\t' ? "a tab"
          : String.format("U+%04X", (int) c);
    }


    @Override
    protected Builder self() {
      return this;
    }

    /** The notifier. */
    public CommitStatusNotifier build() {
      return new CommitStatusNotifier(this);
    }
  }
}
