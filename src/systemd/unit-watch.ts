// Follows one unit through the manager's signals: when its start job ends, and when it is
// finished for good. Nothing here asks the manager; it only listens.
import { serviceStateOf, type ServiceState } from './unit-exit.js';

const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';
const UNIT_IFACE = 'org.freedesktop.systemd1.Unit';

export interface UnitWatchEvents {
  /** The start job ended with systemd's job result ("done", "failed", ...). */
  started(jobResult: string): void;
  /** Inactive or failed with no job pending, after the start job ended. */
  finished(): void;
  /** systemd unloaded the unit while we still followed it. */
  vanished(): void;
}

export class UnitWatch {
  readonly name: string;
  readonly path: string;
  readonly service: ServiceState = {};
  #events: UnitWatchEvents;
  #activeState: string | undefined;
  #jobId: number | undefined;
  #startJob: string | null = null;
  #startJobResult: string | null = null;
  /** JobRemoved can come before the StartTransientUnit reply that names the job. */
  readonly #earlyJobResults = new Map<string, string>();
  #finished = false;
  #removed = false;

  constructor(name: string, path: string, events: UnitWatchEvents = { started: () => {}, finished: () => {}, vanished: () => {} }) {
    this.name = name;
    this.path = path;
    this.#events = events;
  }

  get started(): boolean {
    return this.#startJobResult !== null;
  }

  get removed(): boolean {
    return this.#removed;
  }

  /** Replaces the listeners; a unit already finished or unloaded is reported to them at once. */
  listen(events: UnitWatchEvents): void {
    this.#events = events;
    if (this.#finished) events.finished();
    else if (this.#removed) events.vanished();
  }

  setStartJob(job: string): void {
    this.#startJob = job;
    const early = this.#earlyJobResults.get(job);
    this.#earlyJobResults.clear();
    if (early !== undefined) this.#startJobEnded(early);
  }

  propertiesChanged(iface: string, changed: Record<string, unknown>): void {
    if (iface === SERVICE_IFACE) {
      serviceStateOf(changed, this.service);
    } else if (iface === UNIT_IFACE) {
      if (typeof changed['ActiveState'] === 'string') this.#activeState = changed['ActiveState'];
      const job = changed['Job'];
      if (Array.isArray(job) && typeof job[0] === 'number') this.#jobId = job[0];
      this.#checkFinished();
    }
  }

  jobRemoved(job: string, result: string): void {
    if (this.#startJob === null) {
      this.#earlyJobResults.set(job, result);
    } else if (job === this.#startJob && this.#startJobResult === null) {
      this.#startJobEnded(result);
    }
  }

  unitRemoved(): void {
    this.#removed = true;
    this.#events.vanished();
  }

  #startJobEnded(result: string): void {
    this.#startJobResult = result;
    this.#events.started(result);
    this.#checkFinished();
  }

  // The first PropertiesChanged already says "inactive" while the start job is queued:
  // only an inactive/failed unit without a job, after the start job ended, is finished.
  #checkFinished(): void {
    if (this.#finished || this.#startJobResult === null || this.#jobId !== 0) return;
    if (this.#activeState !== 'inactive' && this.#activeState !== 'failed') return;
    this.#finished = true;
    this.#events.finished();
  }
}
