// keepShape: holds an object for the life of the process so that V8 keeps its hidden class.
//
// V8 gives each object layout a hidden class (a "map"). Optimized code checks the maps it was compiled
// for and holds them weakly: when a full collection finds no live object of such a map, the map is
// freed and every optimized function that checked it is thrown away ("deoptimizing: weak objects"),
// to be compiled again by TurboFan on the next use. A class whose instances all die between
// micro-batches (a batch's ColumnBatch and its columns, a JSON scanner) would lose its optimized code
// every few batches, and the recompilation ran on the background threads all through a run. A module
// keeps one small instance of each such class here, made the way the hot instances are made (same
// fields, added in the same order), so their map always has a live object.

const kept: object[] = [];

/** Keeps `instance` reachable for the life of the process (see the file comment); returns it. */
export function keepShape<T extends object>(instance: T): T {
  kept.push(instance);
  return instance;
}
