/** How the agent ({@code gitops run --cluster}) shares its targets with other agents through a coordinator. */
package dev.gitops.cluster.agent;
