/**
 * Go's RE2 regular expressions, as Flux reads {@code filterTags.pattern} and {@code exclusionList},
 * translated into Java patterns that match the same strings, or refused as RE2 refuses them.
 */
package dev.gitops.images.regex;
