/**
 * Internal, no compatibility promise: the immutable array-backed sorted map that the API's records
 * ({@code State}, {@code Plan}, {@code SyncResult}) hold their per-key maps in, shared with the
 * engine so it can hand its maps over without a second copy (users read those maps through the
 * records' {@code SortedMap} accessors); and {@code Sha256}, the one SHA-256-as-hex helper of the
 * modules.
 */
package dev.gitops.api.internal;
