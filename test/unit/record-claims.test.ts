import { describe, expect, it } from 'vitest';
import { describeClaim, externalDnsClaims, registryNames } from '../../src/core/record-claims.js';

const OWNED = '"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/api/api"';

describe('externalDnsClaims', () => {
  it('finds the registry record at the name itself and at <type>-<name>', () => {
    expect(registryNames('API.example.com', 'CNAME')).toEqual(['api.example.com.', 'cname-api.example.com.']);
    const claims = externalDnsClaims('api.example.com', 'A', [
      { name: 'api.example.com.', values: [OWNED] },
      { name: 'a-api.example.com.', values: [OWNED] },
    ]);
    expect(claims).toEqual([
      { txtName: 'api.example.com', owner: 'default', resource: 'service/api/api' },
      { txtName: 'a-api.example.com', owner: 'default', resource: 'service/api/api' },
    ]);
    expect(describeClaim(claims[1]!)).toBe('external-dns (owner default, resource service/api/api) through TXT a-api.example.com');
  });

  it('ignores other TXT records: other names, other types, other owners of the value', () => {
    expect(
      externalDnsClaims('api.example.com', 'A', [
        { name: 'api.example.com.', values: ['"v=spf1 -all"', '"google-site-verification=abc"'] },
        { name: 'cname-api.example.com.', values: [OWNED] },
        { name: 'web.example.com.', values: [OWNED] },
        { name: 'xapi.example.com.', values: [OWNED] },
      ]),
    ).toEqual([]);
  });

  it('reads a value split into several character strings, and one without owner', () => {
    const claims = externalDnsClaims('api.example.com.', 'A', [{ name: 'API.example.com', values: ['"heritage=external-dns," "external-dns/owner=k8s-prod"', '"heritage=external-dns"'] }]);
    expect(claims).toEqual([
      { txtName: 'api.example.com', owner: 'k8s-prod', resource: undefined },
      { txtName: 'api.example.com', owner: undefined, resource: undefined },
    ]);
    expect(describeClaim(claims[1]!)).toBe('external-dns through TXT api.example.com');
  });
});
