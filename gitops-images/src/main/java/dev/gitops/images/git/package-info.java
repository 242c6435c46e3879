/**
 * Writing chosen images back to Git: reads the marked files at the branch head, edits them in
 * place, commits (optionally signed) and pushes, re-applying the edits on a new head when another
 * writer pushed first and reporting, never overwriting, a concurrent edit of the same line.
 */
package dev.gitops.images.git;
