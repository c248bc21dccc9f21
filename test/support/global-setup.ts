/** Once per `vitest run`, before any test file: a fresh record of the API permissions used. */
import { clearApiUse } from './api-usage.js';

export function setup(): void {
  clearApiUse();
}
