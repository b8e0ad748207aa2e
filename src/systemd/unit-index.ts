// Units by unit name and by object path, for routing the manager's signals to them. A
// name belongs to one unit at a time: add() never replaces another proc's entry, so a
// launch that is refused can never take the signals of a proc that is running.
import type { LiveUnit } from './live-unit.js';

export class UnitIndex {
  readonly #byName = new Map<string, LiveUnit>();
  readonly #byPath = new Map<string, LiveUnit>();

  named(name: string): LiveUnit | undefined {
    return this.#byName.get(name);
  }

  at(path: string): LiveUnit | undefined {
    return this.#byPath.get(path);
  }

  /** Adds the unit; returns false, changing nothing, when its name or path is another unit's. */
  add(unit: LiveUnit): boolean {
    const { name, path } = unit.watch;
    const nameHolder = this.#byName.get(name);
    const pathHolder = this.#byPath.get(path);
    if ((nameHolder !== undefined && nameHolder !== unit) || (pathHolder !== undefined && pathHolder !== unit)) return false;
    this.#byName.set(name, unit);
    this.#byPath.set(path, unit);
    return true;
  }

  /** Removes the unit's own entries (an entry of another unit under the same name stays). */
  remove(unit: LiveUnit): void {
    if (this.#byName.get(unit.watch.name) === unit) this.#byName.delete(unit.watch.name);
    if (this.#byPath.get(unit.watch.path) === unit) this.#byPath.delete(unit.watch.path);
  }
}
