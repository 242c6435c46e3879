package dev.gitops.cluster.k8s;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.File;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * A request of the Lease backend or the Secret store that the Kubernetes API server never
 * answered: the connection was refused, the host name did not resolve, the TLS handshake failed
 * or the request timed out. fabric8 says only {@code Operation: [get] for kind: [Lease] ...
 * failed.}, with the reason in a cause that often has no message; this one says, in one line, what
 * failed, the API server's URL, why, and the kubeconfig file and context the client was
 * configured from. It is still a {@link KubernetesClientException} with no HTTP status (code 0),
 * so code that tells failures apart by their status treats it as before.
 */
public final class ApiServerUnreachableException extends KubernetesClientException {

  private static final long serialVersionUID = 1L;

  private ApiServerUnreachableException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * {@code e} said again naming {@code client}'s API server, the reason and its kubeconfig and
   * context, when the server never answered it; {@code e} itself when the server answered (it
   * has an HTTP status), when it is no I/O failure, and when it was said so already.
   */
  static KubernetesClientException of(KubernetesClient client, KubernetesClientException e) {
    if (e instanceof ApiServerUnreachableException || e.getCode() > 0 || e.getStatus() != null) {
      return e;
    }
    String why = reason(e);
    if (why == null) {
      return e;
    }
    String what = e.getMessage() == null ? "a request" : e.getMessage().strip();
    if (what.endsWith(".")) {
      what = what.substring(0, what.length() - 1);
    }
    // fabric8 pads its message's parts with two spaces
    what = what.replaceAll("\\s+", " ");
    return new ApiServerUnreachableException(what + ": the Kubernetes API server " + where(client) + " did not"
        + " answer: " + why, e);
  }

  /** The API server's URL and what configured it: {@code https://h:6443 (kubeconfig F, context C)}. */
  static String where(KubernetesClient client) {
    Config c;
    try {
      c = client.getConfiguration();
    } catch (RuntimeException e) {
      return "(its configuration cannot be read: " + e + ")";
    }
    File file = c.getFile();
    String context = c.getCurrentContext() == null ? null : c.getCurrentContext().getName();
    return c.getMasterUrl() + " (" + (file == null ? "no kubeconfig file: in-cluster or KUBERNETES_* settings"
        : "kubeconfig " + file) + (context == null ? "" : ", context " + context) + ")";
  }

  /**
   * Why the request got no answer, found beneath the client's wrappers: {@code connection
   * refused}, {@code unknown host H}, {@code TLS: ...}, {@code timed out ...}, or the I/O failure
   * as it is; null when there is no I/O failure beneath {@code e}.
   */
  static String reason(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof UnknownHostException || c instanceof UnresolvedAddressException) {
        return "unknown host" + (c.getMessage() == null ? "" : " " + c.getMessage().replaceFirst(":.*", ""))
            + " (the host name does not resolve)";
      }
      if (c instanceof SSLException) {
        return "TLS: " + deepestMessage(c);
      }
      if (c instanceof HttpTimeoutException || c instanceof SocketTimeoutException || c instanceof TimeoutException) {
        return "timed out" + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")");
      }
      if (c instanceof ConnectException) {
        // the JDK's HTTP client throws one without a message over the channel's own exception
        Throwable under = c.getCause();
        if (under instanceof UnresolvedAddressException) {
          return reason(under);
        }
        if (c.getMessage() != null && !c.getMessage().isBlank()) {
          return c.getMessage().toLowerCase(java.util.Locale.ROOT).startsWith("connection refused")
              ? "connection refused" : "cannot connect: " + c.getMessage();
        }
        return under == null || under instanceof ClosedChannelException ? "connection refused"
            : "cannot connect: " + under;
      }
    }
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.io.IOException) {
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getClass().getSimpleName() + ": "
            + c.getMessage();
      }
    }
    return null;
  }

  /** The message of the deepest cause that has one ({@code PKIX path building failed: ...}). */
  private static String deepestMessage(Throwable t) {
    String said = t.toString();
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c.getMessage() != null) {
        said = c.getMessage();
      }
    }
    return said;
  }
}
