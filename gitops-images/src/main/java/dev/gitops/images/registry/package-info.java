/**
 * An OCI Distribution (Docker Registry HTTP API v2) client on the JDK {@code HttpClient}: lists an
 * image repository's tags and reads a tag's manifest digest, with anonymous, basic and bearer-token
 * authentication, a custom CA, plain HTTP only where allowed, timeouts and retries.
 */
package dev.gitops.images.registry;
