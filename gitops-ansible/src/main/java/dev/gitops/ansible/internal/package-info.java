/**
 * Internals of the Ansible provider (not API): ports of Ansible's parsers (INI, YAML 1.1, shlex,
 * Python literals, host patterns), the playbook runner and the managed inventory.
 */
package dev.gitops.ansible.internal;
