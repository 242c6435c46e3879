/**
 * Rendering plans for people and tools: {@link dev.gitops.core.render.PlanRenderer} gives the text
 * ({@code + ~ -} like {@code terraform plan}), Markdown (pull-request comments) and JSON renderings
 * the {@code gitops} command-line tool prints, always redacted.
 */
package dev.gitops.core.render;
