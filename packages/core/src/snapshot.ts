/**
 * Save/restore contract.
 *
 * State is plain, structured-clone-safe data (numbers, strings, booleans,
 * bigints, typed arrays, arrays and plain objects) with a version. Host
 * resources are constructor arguments, never state. A loader accepts older
 * versions and fills new optional fields with defaults.
 */

/** Every saved state carries its format version. */
export interface VersionedState {
  readonly version: number;
}

/** A component whose state can be saved and restored. */
export interface Snapshotable<S extends VersionedState> {
  /** Returns a deep copy of the current state. */
  saveState(): S;
  /** Replaces the current state; throws {@link UnsupportedError} for unknown versions. */
  loadState(state: S): void;
}
