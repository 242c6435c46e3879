/**
 * Terraform and OpenTofu as a planning provider: plan, approve, apply exactly that plan, detect
 * drift, read the state. Start at {@link dev.gitops.terraform.TerraformProvider}.
 */
package dev.gitops.terraform;
