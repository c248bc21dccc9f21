/**
 * What each metric source (Prometheus, CloudWatch) implements. metric-readers.ts turns these into
 * the core's MetricReader: it picks the source by the gate, bounds every call with a timeout and
 * aborts `signal` when that runs out, so a source only has to pass the signal to its I/O.
 */
import type { Gate, GateReading, ReadOptions } from '../core/gate.js';

export interface MetricSource {
  /** Never rejects: a source's failure is an inconclusive reading saying why. */
  read(gate: Gate, signal: AbortSignal, options?: ReadOptions): Promise<GateReading>;
  /** The source's own text when it answered and refused the query; undefined otherwise (reachable or not). */
  check(gate: Gate, signal: AbortSignal): Promise<string | undefined>;
}
