/**
 * Thrown by a ramp's driver when it has nothing to do until later (the rest of a bake, the next
 * gate sample). The worker hands the job back to the queue as a delayed job for that long, so a
 * baking ramp holds no worker slot: any number of ramps can bake while approved changes, the
 * sweep and the checks still run at once.
 */
export class RampWaits extends Error {
  constructor(readonly ms: number) {
    super(`the ramp waits ${ms} ms`);
    this.name = 'RampWaits';
  }
}
