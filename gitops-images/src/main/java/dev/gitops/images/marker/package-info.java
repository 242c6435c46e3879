/**
 * Image markers in YAML files (Flux's {@code # {"$imagepolicy": "<ns>:<name>"}} comments, with
 * {@code :tag}, {@code :name} and {@code :digest} suffixes) and the byte-preserving edit that
 * rewrites only the marked scalars' bytes.
 */
package dev.gitops.images.marker;
