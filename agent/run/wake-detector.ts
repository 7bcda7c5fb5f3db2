// The cheapest sleep signal there is: between two readings the wall clock ran
// far ahead of the monotonic clock (which stops while the host sleeps on
// macOS, and counts CLOCK_MONOTONIC on Linux, which also excludes suspend).

/** A wall-clock step this much larger than the monotonic one means the host slept. */
export const WAKE_JUMP_MS = 5000;

export interface Clock {
  wallMs(): number;
  monoMs(): number;
}

export const systemClock: Clock = { wallMs: () => Date.now(), monoMs: () => performance.now() };

export interface Sleep {
  /** When the host went to sleep (approximately: the last reading plus the monotonic time since). */
  sleptAtMs: number;
  wokeAtMs: number;
  sleptMs: number;
}

export class WakeDetector {
  private lastWall: number;
  private lastMono: number;
  private readonly clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
    this.lastWall = clock.wallMs();
    this.lastMono = clock.monoMs();
  }

  /** Whether the clocks diverged since the last reading, without moving the reading. */
  peek(): boolean {
    return this.clock.wallMs() - this.lastWall - (this.clock.monoMs() - this.lastMono) > WAKE_JUMP_MS;
  }

  /** Takes a reading; returns the sleep between it and the previous one, if any. */
  read(): Sleep | undefined {
    const wall = this.clock.wallMs();
    const mono = this.clock.monoMs();
    const awake = mono - this.lastMono;
    const slept = wall - this.lastWall - awake;
    const sleptAtMs = this.lastWall + awake;
    this.lastWall = wall;
    this.lastMono = mono;
    return slept > WAKE_JUMP_MS ? { sleptAtMs: Math.round(sleptAtMs), wokeAtMs: wall, sleptMs: Math.round(slept) } : undefined;
  }
}
