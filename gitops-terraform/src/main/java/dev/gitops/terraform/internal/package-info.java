/**
 * How the Terraform provider works inside: running the binary, reading its JSON formats (plan
 * representation, state, machine-readable UI), the working directory and the init decision.
 */
package dev.gitops.terraform.internal;
