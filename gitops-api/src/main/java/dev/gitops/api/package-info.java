/**
 * The value types of the GitOps engine: keys, resources, observations, changes, plans, outcomes,
 * merge rules, events and the exception hierarchy. No engine logic and no I/O live here. Every
 * value is immutable and checks its arguments when it is made:
 *
 * <pre>{@code
 * ResourceKey key = ResourceKey.of("files", "file", "etc/app.conf");
 * Resource desired = Resource.of(key, Documents.object(Map.of("content", TextNode.valueOf("port=80\n"))));
 * }</pre>
 */
package dev.gitops.api;
