// Gathers each observation at most once per run, under its own deadline, and
// keeps the list of those that were unavailable so the run can report each as
// its own `check_timeout`/`check_error` (a dependency's failure is reported
// once, at the observation that failed, not at everything built on it).
import type { ObservationContext, Observation } from "./observation.ts";
import { ObservationUnavailable } from "./observation.ts";

export type ObservationBase = Omit<ObservationContext, "signal" | "observe">;

export interface ObservationFailure {
  name: string;
  reason: "timeout" | "error";
  detail: string;
  deadlineMs: number;
}

export interface Observer {
  /** `allowed` lists what the asker declared; asking for anything else is a programming error. */
  observe<T>(observation: Observation<T>, allowed: readonly Observation<unknown>[], asker: string): Promise<T>;
  failures(): ObservationFailure[];
  /** What was gathered so far, by name: the facts behind the run's findings, for a report that quotes them. */
  gathered(): ReadonlyMap<string, unknown>;
}

export function createObserver(base: ObservationBase, preset: ReadonlyMap<string, unknown> = new Map()): Observer {
  const gathered = new Map<string, Promise<unknown>>();
  const failures: ObservationFailure[] = [];
  const values = new Map<string, unknown>();

  function start<T>(observation: Observation<T>): Promise<T> {
    if (preset.has(observation.name)) {
      values.set(observation.name, preset.get(observation.name));
      return Promise.resolve(preset.get(observation.name) as T);
    }
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const timeout = new ObservationUnavailable(observation.name, "timeout", `no answer within ${observation.deadlineMs} ms`);
        controller.abort(timeout);
        reject(timeout);
      }, observation.deadlineMs);
    });
    const ctx: ObservationContext = {
      ...base,
      signal: controller.signal,
      observe: (required) => observer.observe(required, observation.requires, observation.name),
    };
    const result = Promise.race([observation.gather(ctx), deadline]).catch((error: unknown) => {
      // A required observation that failed was recorded where it failed.
      if (error instanceof ObservationUnavailable && error.observation !== observation.name) throw error;
      const unavailable = error instanceof ObservationUnavailable ? error : new ObservationUnavailable(observation.name, "error", error instanceof Error ? error.message : String(error));
      failures.push({ name: observation.name, reason: unavailable.reason, detail: unavailable.detail, deadlineMs: observation.deadlineMs });
      throw unavailable;
    }).finally(() => clearTimeout(timer));
    result.then((value) => values.set(observation.name, value), () => {});
    // Nobody may be waiting when it fails (a check that already gave up): not an unhandled rejection.
    result.catch(() => {});
    return result;
  }

  const observer: Observer = {
    observe<T>(observation: Observation<T>, allowed: readonly Observation<unknown>[], asker: string): Promise<T> {
      if (!allowed.includes(observation as Observation<unknown>)) {
        return Promise.reject(new Error(`${asker} observes ${observation.name} without declaring it`));
      }
      if (!gathered.has(observation.name)) gathered.set(observation.name, start(observation));
      return gathered.get(observation.name) as Promise<T>;
    },
    failures: () => [...failures],
    gathered: () => new Map(values),
  };
  return observer;
}
