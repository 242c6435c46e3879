/**
 * Image update automation: {@link dev.gitops.images.ImageUpdater} scans registries, applies image
 * policies and writes the chosen images into marked YAML in Git; {@link
 * dev.gitops.images.ImageUpdateLoop} runs it periodically.
 */
package dev.gitops.images;
