/**
 * The {@code gitops} command-line tool: plan, sync, diff, status, history, rollback and a demo,
 * over a Git repository and a directory of files. Entry point: {@link dev.gitops.cli.Main}.
 */
package dev.gitops.cli;
