/**
 * Reads strangler.yml, applies env overrides and validates it. Every problem is reported at once,
 * each as `path.to.field: what is wrong`, so a bad deploy fails with a list, not a stack trace.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigInvalid } from '../core/errors.js';
import { type Config, configSchema } from './schema.js';

export function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  if (issue.code === 'invalid_type' && !('input' in issue && issue.input !== undefined)) return `${path}: required`;
  if (issue.code === 'invalid_key') return `${path}: ${issue.issues[0]?.message ?? issue.message}`;
  if (issue.code === 'unrecognized_keys') return `${path === '(top level)' ? '' : `${path}.`}${issue.keys.join(', ')}: unknown field`;
  return `${path}: ${issue.message}`;
}

export function parseConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const withEnv = applyEnv(raw, env);
  const result = configSchema.safeParse(withEnv, { reportInput: true });
  if (!result.success) throw new ConfigInvalid(source, result.error.issues.map(formatIssue));
  return result.data;
}

function applyEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || !env.MEMCACHE_SERVERS) return raw;
  const servers = env.MEMCACHE_SERVERS.split(',').map((s) => s.trim()).filter(Boolean);
  return { ...raw, memcache: { ...((raw as { memcache?: object }).memcache ?? {}), servers } };
}

export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigInvalid(source, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  return parseConfig(doc.toJS() ?? {}, source, env);
}

export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigInvalid(path, [
      code === 'ENOENT'
        ? `file not found: copy strangler.example.yml to ${path} or set STRANGLER_CONFIG`
        : `cannot read the file (${code ?? 'unknown error'})`,
    ]);
  }
  return parseConfigText(text, path, env);
}
