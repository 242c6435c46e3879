/** Decoders that turn files of the desired state into resources, and variable substitution over file text. */
package dev.gitops.core.decode;
