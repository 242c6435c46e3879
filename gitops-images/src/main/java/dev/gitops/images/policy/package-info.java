/**
 * Image policies: which tag of an image repository to deploy (the highest in a semver range, the
 * last alphabetically or numerically, after a regex filter with an extract template), and whether
 * to follow the digest a tag points at.
 */
package dev.gitops.images.policy;
