/**
 * Everything that talks to the Kubernetes API, as one module for bot.ts to import dynamically:
 * @kubernetes/client-node costs about 70 MiB of memory and half a second of start-up, so a bot
 * that only moves DNS weights never loads it.
 */
export { loadKubeConfig } from './kubernetes-client.js';
export { KubernetesCronPlacement } from './kubernetes-cron-placement.js';
export { DeploymentVersionSource } from './deployment-version-source.js';
