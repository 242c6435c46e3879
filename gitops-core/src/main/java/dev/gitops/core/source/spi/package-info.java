/**
 * What the optional Git modules plug into {@link dev.gitops.core.source.GitSource}: SSH transport
 * ({@code gitops-git-ssh}) and commit signature checks ({@code gitops-git-signatures}), found with
 * {@link java.util.ServiceLoader} so that their libraries stay off the classpath of applications
 * that do not use them. Applications add the artifact; they do not call these interfaces.
 */
package dev.gitops.core.source.spi;
