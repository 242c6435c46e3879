/** The engine's own Git transport pieces, shared by the Git source and the image write-back; not API. */
package dev.gitops.core.internal.git;
