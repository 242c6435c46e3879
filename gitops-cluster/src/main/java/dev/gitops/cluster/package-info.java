/** Scale-out: agents share targets through a coordination engine, with ownership and fencing. */
package dev.gitops.cluster;
