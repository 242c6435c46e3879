/**
 * The agent's declarative configuration: {@link dev.gitops.agent.config.AgentConfig#load} reads
 * and checks a whole YAML file, and every error names the file, the line and the field.
 */
package dev.gitops.agent.config;
