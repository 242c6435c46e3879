/**
 * Notifications of syncs: {@link dev.gitops.notify.NotificationListener} turns a target's sync
 * events into {@link dev.gitops.notify.Notification}s; signed webhooks and GitHub/GitLab commit
 * statuses deliver them through a bounded queue that never holds a sync up.
 */
package dev.gitops.notify;
