/** How the registry client talks HTTP: authentication challenges, the token cache, retries, paging. Not API. */
package dev.gitops.images.registry.internal;
