/**
 * Ansible inventories read in Java exactly as Ansible reads them: {@link
 * dev.gitops.ansible.inventory.InventoryParser} and its result, {@link
 * dev.gitops.ansible.inventory.Inventory}.
 */
package dev.gitops.ansible.inventory;
