/**
 * A ramp's health gate: one metric, read from Prometheus or CloudWatch, held against a bound.
 * The shape the config schema produces and the metric adapters read; the judging of a run of
 * readings is pure and lives in gate-verdict.ts.
 */

export interface PrometheusQuery {
  readonly url: string;
  readonly query: string;
}

export interface CloudWatchQuery {
  readonly namespace: string;
  readonly metric: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** A CloudWatch statistic: Average, Sum, Minimum, Maximum, SampleCount, or a percentile like p99. */
  readonly stat: string;
  readonly periodSeconds: number;
  readonly region?: string | undefined;
}

export type GateSource = { readonly prometheus: PrometheusQuery; readonly cloudwatch?: undefined } | { readonly cloudwatch: CloudWatchQuery; readonly prometheus?: undefined };

export type Gate = GateSource & {
  readonly name: string;
  /** Breach when a reading is above. */
  readonly max?: number | undefined;
  /** Breach when a reading is below. */
  readonly min?: number | undefined;
  /** Consecutive violating readings that make a breach; at most READINGS_KEPT_PER_GATE. */
  readonly failureLimit: number;
};

/**
 * How many of a gate's newest readings a bake keeps (ramp-run.ts's KEEP_READINGS): enough for any
 * failureLimit worth having, small enough for one Redis value. A failureLimit above it could
 * never be reached, so the config schema refuses one.
 */
export const READINGS_KEPT_PER_GATE = 30;

/** One reading of one gate. Never an exception: a source that fails gives an inconclusive reading saying why. */
export type GateReading =
  | {
      readonly gate: string;
      readonly at: number;
      readonly kind: 'value';
      readonly value: number;
      readonly violates: boolean;
      /**
       * When the data itself is from, if the source says (a CloudWatch datapoint's period start).
       * Sampling faster than the source publishes reads the same datapoint again: readings with
       * the same observedAt are one observation, so one bad datapoint is not a run of violations.
       */
      readonly observedAt?: number;
    }
  | { readonly gate: string; readonly at: number; readonly kind: 'inconclusive'; readonly reason: string };

export interface ReadOptions {
  /**
   * Epoch ms when the step being judged began (its bake's start): data from before it describes
   * the old split. A source whose data carries its own time (CloudWatch) ignores older data and
   * reads inconclusive when there is none since. Absent: the source's newest data, however old.
   */
  readonly since?: number | undefined;
}

/** Reads gates from wherever their metric lives. */
export interface MetricReader {
  /** Never rejects: errors, timeouts, empty and non-scalar results are inconclusive readings with a reason. */
  read(gate: Gate, options?: ReadOptions): Promise<GateReading>;
  /** Whether the gate's query can run at all (Prometheus parses the PromQL): the source's own error text, or undefined. */
  check(gate: Gate): Promise<string | undefined>;
}
