/** `/strangle status`: the live split of each service, straight from Route 53. Pure. */
import type { ChangeRequest } from '../core/change-request.js';
import { StranglerError } from '../core/errors.js';
import { weightsOf } from '../core/pair-snapshot.js';
import type { PairSnapshot } from '../core/ports.js';
import { formatSplit, splitFromWeights } from '../core/split.js';
import { type Block, MAX_BLOCKS, type SlackMessage, context, packedSections, section } from './blocks.js';
import { escapeText, mention } from './escape.js';
import { describeChange } from './render-request.js';
import { rampStatusLine } from './render-ramp.js';

export interface ServiceStatus {
  readonly service: string;
  readonly recordName: string;
  readonly pair: PairSnapshot | Error;
  readonly open?: ChangeRequest | undefined;
  /** Extra lines contributed by other features (versions, drift). */
  readonly extra?: readonly string[];
}

function errorText(err: Error): string {
  return err instanceof StranglerError ? escapeText(err.message) : 'could not be read (see the bot logs).';
}

export function serviceLines(s: ServiceStatus): string {
  const lines = [`*${s.service}* (${s.recordName})`];
  if (s.pair instanceof Error) {
    lines.push(`:warning: ${errorText(s.pair)}`);
  } else {
    const w = weightsOf(s.pair);
    const split = splitFromWeights(w);
    const ttl = s.pair.ttl === null ? 'alias (the load balancer’s TTL)' : `${s.pair.ttl} s`;
    lines.push(`${formatSplit(split)} · weights ${w.kubernetes}/${w.ec2} · TTL ${ttl}`);
    if (split.bothZero) lines.push(':warning: Both weights are 0, so Route 53 serves this pair 50/50.');
  }
  if (s.open) lines.push(`Open request #${s.open.id} (${s.open.status}) from ${mention(s.open.requestedBy)}: \`${describeChange(s.open)}\``);
  const ramp = s.open ? rampStatusLine(s.open) : undefined;
  if (ramp) lines.push(ramp);
  lines.push(...(s.extra ?? []));
  return lines.join('\n');
}

/** Services first, then whatever other features add (cron jobs), in at most 50 blocks. */
export function renderStatus(services: readonly ServiceStatus[], extraTexts: readonly string[] = []): SlackMessage {
  if (services.length === 0 && extraTexts.length === 0) {
    return { text: 'No services are configured.', blocks: [section('No services are configured. Add them under `services:` in strangler.yml.')] };
  }
  const texts = [...services.map(serviceLines), ...extraTexts];
  const blocks: Block[] = packedSections(texts, MAX_BLOCKS - 1, (left) => `…and ${left} more: ask for one with \`/strangle status <service>\`.`);
  blocks.push(context('Read live just now. Change a split with `/strangle <service> <0-100> [reason]`.'));
  return { text: `Status of ${services.length} service(s)`, blocks };
}
