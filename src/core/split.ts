/**
 * Traffic split math. Users speak in Kubernetes percent; Route 53 speaks in weights 0–255
 * whose share is weight / sum, and a set whose weights are all 0 is served equally.
 */
export interface Weights {
  readonly kubernetes: number;
  readonly ec2: number;
}

export interface Split {
  /** Share of traffic Kubernetes receives, in percent, rounded to an integer for display. */
  readonly kubernetesPercent: number;
  readonly ec2Percent: number;
  /** Both weights are 0: Route 53 serves the pair 50/50, which nobody should mistake for "off". */
  readonly bothZero: boolean;
  /** The weights are already a percentage (sum 100), so they are shown as they are. */
  readonly exact: boolean;
}

export function splitFromWeights(w: Weights): Split {
  const sum = w.kubernetes + w.ec2;
  if (sum === 0) return { kubernetesPercent: 50, ec2Percent: 50, bothZero: true, exact: false };
  const k = Math.round((w.kubernetes / sum) * 100);
  return { kubernetesPercent: k, ec2Percent: 100 - k, bothZero: false, exact: sum === 100 };
}

/** Kubernetes N% is written as weights N and 100−N; 0/0 is never produced because N+(100−N)=100. */
export function weightsForPercent(kubernetesPercent: number): Weights {
  if (!Number.isInteger(kubernetesPercent) || kubernetesPercent < 0 || kubernetesPercent > 100) {
    throw new RangeError(`percent must be an integer 0–100, got ${kubernetesPercent}`);
  }
  return { kubernetes: kubernetesPercent, ec2: 100 - kubernetesPercent };
}

export function sameWeights(a: Weights, b: Weights): boolean {
  return a.kubernetes === b.kubernetes && a.ec2 === b.ec2;
}

/** `Kubernetes 30% · EC2 70%`: the one wording every message uses. */
export function formatSplit(s: Pick<Split, 'kubernetesPercent' | 'ec2Percent'>): string {
  return `Kubernetes ${s.kubernetesPercent}% · EC2 ${s.ec2Percent}%`;
}

export function formatWeights(w: Weights): string {
  return formatSplit(splitFromWeights(w));
}
