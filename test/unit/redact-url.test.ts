import { describe, expect, it } from 'vitest';
import { redactUrlCredentials } from '../../src/core/redact-url.js';

describe('redactUrlCredentials', () => {
  it('takes the user and password out of every URL in a text', () => {
    expect(redactUrlCredentials('Request cannot be constructed from a URL that includes credentials: http://admin:s3cr3t@127.0.0.1:9090/api/v1/query')).toBe(
      'Request cannot be constructed from a URL that includes credentials: http://…@127.0.0.1:9090/api/v1/query',
    );
    expect(redactUrlCredentials('a https://tok@x.example/ and HTTP://u:p%40ss@y:1?q=a@b')).toBe('a https://…@x.example/ and HTTP://…@y:1?q=a@b');
  });

  it('a password holding @ or : goes whole', () => {
    expect(redactUrlCredentials('see http://u:p@ss:w@host/x')).toBe('see http://…@host/x');
  });

  it('leaves texts without credentials alone, including an @ in a path or a query', () => {
    for (const text of ['connection refused', 'http://prometheus:9090/api/v1/query', 'http://h/x/a@b', 'mail ops@example.com', 'http://h?who=a@b']) {
      expect(redactUrlCredentials(text)).toBe(text);
    }
  });
});
