/** Sources of the desired state: {@link dev.gitops.core.source.GitSource} reads a Git repository at a revision without a checkout. */
package dev.gitops.core.source;
