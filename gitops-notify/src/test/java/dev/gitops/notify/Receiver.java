package dev.gitops.notify;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real HTTP endpoint on 127.0.0.1 (a free port) that records every request and answers with the
 * status codes it is told to (200 once they run out), optionally holding each answer until released.
 */
final class Receiver implements AutoCloseable {

  /** One request as received: method, raw path, headers (names in lower case), raw body, when (nanoTime). */
  record Request(String method, String path, Map<String, String> headers, byte[] body, long nanos) {
    String header(String name) {
      return headers.get(name.toLowerCase(java.util.Locale.ROOT));
    }

    String text() {
      return new String(body, java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /** An answer with headers and a body of its own. */
  record Reply(int code, Map<String, String> headers, String body) {}

  final List<Request> requests = new CopyOnWriteArrayList<>();
  final BlockingQueue<Integer> answers = new LinkedBlockingQueue<>();
  /** Answers given before those of {@link #answers}. */
  final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
  volatile CountDownLatch hold = new CountDownLatch(0);
  private final HttpServer server;

  Receiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "receiver");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", exchange -> {
      try (exchange) {
        Map<String, String> headers = new java.util.TreeMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
        requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(), headers,
            exchange.getRequestBody().readAllBytes(), System.nanoTime()));
        try {
          hold.await(20, TimeUnit.SECONDS);  // bounded: a test that forgets to release still ends
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        Reply reply = replies.poll();
        Integer code = reply != null ? Integer.valueOf(reply.code()) : answers.poll();
        byte[] body = (reply != null ? reply.body() : "{}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (reply != null) {
          reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        }
        exchange.sendResponseHeaders(code == null ? 200 : code, body.length);
        exchange.getResponseBody().write(body);
      }
    });
    server.start();
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  /** Waits (at most 10 s) until {@code condition} holds; fails the test otherwise. */
  static void await(BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not reached within 10 s");
      }
      Thread.sleep(10);
    }
  }

  @Override
  public void close() {
    hold.countDown();
    server.stop(0);
  }
}
