/**
 * The local-files provider, the embedded default: a directory is the live system and each file in
 * it is one resource (content and mode), written atomically, never through a symlink.
 */
package dev.gitops.core.files;
