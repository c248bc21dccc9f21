import { USAGE } from '../core/command.js';
import { type SlackMessage, context, section } from './blocks.js';

export function renderHelp(services: readonly string[], cronJobs: readonly string[]): SlackMessage {
  const known = [
    `Services: ${services.length ? services.map((s) => `\`${s}\``).join(', ') : 'none configured'}`,
    ...(cronJobs.length ? [`Cron jobs: ${cronJobs.map((s) => `\`${s}\``).join(', ')}`] : []),
  ];
  return {
    text: 'How to use /strangle',
    blocks: [
      section(`*strangler* moves traffic and periodic jobs between EC2 and Kubernetes, one approved step at a time.\n${USAGE}`),
      context(...known, 'Every change needs an approver’s click, and every applied change has a Roll back button.'),
    ],
  };
}
