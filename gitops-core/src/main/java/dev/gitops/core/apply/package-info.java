/** The executor: runs a plan's changes in dependency order with bounded parallelism, retries, deadlines and health gates. */
package dev.gitops.core.apply;
