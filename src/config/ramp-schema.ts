/**
 * `services.<name>.ramp` in strangler.yml: the plan `/strangle <name> ramp` runs. Whether the steps
 * fit the service's split and maxStep is judged when a ramp is requested (it depends on the split
 * then); here each field is checked on its own.
 */
import { z } from 'zod';
import { MAX_BAKE_MS, MIN_BAKE_MS } from '../core/bake-bounds.js';
import { durationSchema } from './duration-schema.js';
import { gatesSchema } from './gate-schema.js';

export const rampSchema = z
  .object({
    /** Kubernetes share after each step; absent: steps must be given inline. */
    steps: z.array(z.number().int().min(0).max(100)).min(1, 'list at least one step').max(20, 'a ramp has at most 20 steps').optional(),
    /** How long each step holds before its gates are judged; absent: `every …` must be given inline. */
    bake: durationSchema({ minMs: MIN_BAKE_MS, maxMs: MAX_BAKE_MS }).optional(),
    onFailure: z.enum(['rollback', 'pause']).default('rollback'),
    gates: gatesSchema.default([]),
    /** A ramp with no gates watches nothing: allowed only when said explicitly. */
    allowWithoutGates: z.boolean().default(false),
  })
  .strict();

export type RampConfig = z.infer<typeof rampSchema>;
