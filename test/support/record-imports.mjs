// Preloaded with `node --import` into a bot process under test: appends the URL of every module
// the process resolves to the file named by STRANGLER_RECORD_IMPORTS, so a test can tell whether
// a module (the Kubernetes client's chunk, say) was loaded at all.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (process.env.STRANGLER_RECORD_IMPORTS) appendFileSync(process.env.STRANGLER_RECORD_IMPORTS, resolved.url + '\\n');
  return resolved;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
