/**
 * Internal, no compatibility promise: network address text shared by the modules that compare
 * addresses written by people (known_hosts entries, Ansible inventories), so it is written once.
 */
package dev.gitops.core.internal.net;
