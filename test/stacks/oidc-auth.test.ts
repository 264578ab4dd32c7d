/**
 * Issue 12 item 5: the OPENID_CONNECT mode (staff signing in with the company's
 * identity provider), as synthesized: the environment's issuer and client id
 * with the declared token lifetimes, as an additional provider (shipped) or
 * as the default mode; synth refusing a mode without its provider and the
 * reverse; the environment config refused when AppSync would refuse it; and
 * the policy audit's OIDC rule.
 */
import { describe, expect, it } from 'vitest';
import { api, type ApiDeclaration } from '../../declarations/api.js';
import {
  environmentNames,
  environments,
  validateEnvironment,
  type EnvironmentConfig,
  type OpenIdConnectSettings,
} from '../../stacks/config.js';
import { defaultDeclarations } from '../../stacks/declarations.js';
import { auditStack } from './support/policy-audit.js';
import { resources, synthStacks, useSynthesizedStacks, type TerraformJson } from './support/synth.js';

type Body = Record<string, unknown>;

const graphqlApi = (stack: TerraformJson): Body => {
  const apis = resources(stack, 'aws_appsync_graphql_api');
  expect(apis).toHaveLength(1);
  return (apis[0] as [string, Body])[1];
};
const oidcProviders = (body: Body): Body[] =>
  ((body.additional_authentication_provider as Body[] | undefined) ?? []).filter((p) => p.authentication_type === 'OPENID_CONNECT');
/** A nested block, whether the synthesized JSON writes it as an object or a one-item list. */
const block = (value: unknown): Body => (Array.isArray(value) ? value[0] : value) as Body;

const shipped = useSynthesizedStacks();

describe('OIDC auth mode, as shipped (an additional provider)', () => {
  it.each(environmentNames.map((name) => [name] as const))(
    "%s: the environment's issuer and client id, the declared iat and auth TTLs (ms)",
    (name) => {
      const body = graphqlApi(shipped.parsed(name));
      expect(body.authentication_type).toBe(api.defaultAuthMode);
      const providers = oidcProviders(body);
      expect(providers).toHaveLength(1);
      const settings = environments[name].api.openIdConnect as OpenIdConnectSettings;
      expect(block(providers[0]?.openid_connect_config)).toEqual({
        issuer: settings.issuer,
        client_id: settings.clientId,
        iat_ttl: api.openIdConnect.iatTtlMs,
        auth_ttl: api.openIdConnect.authTtlMs,
      });
      // The default mode's block is for a default OIDC mode only.
      expect(body.openid_connect_config).toBeUndefined();
    },
  );

  it('gives every environment its own app registration, so a dev token is refused by prod', () => {
    const clientIds = environmentNames.map((name) => environments[name].api.openIdConnect.clientId);
    expect(new Set(clientIds).size).toBe(clientIds.length);
  });

  it('passes the audit in every environment (the OIDC rule included)', () => {
    for (const name of environmentNames) expect(auditStack(shipped.parsed(name)), name).toEqual([]);
  });
});

describe('OIDC as the default mode', () => {
  const declarations = defaultDeclarations();
  const oidcFirst: ApiDeclaration = {
    ...declarations.api,
    defaultAuthMode: 'OPENID_CONNECT',
    additionalAuthModes: ['API_KEY', 'AMAZON_COGNITO_USER_POOLS', 'AWS_IAM', 'AWS_LAMBDA'],
  };
  const synthesized = useSynthesizedStacks({ declarations: { ...declarations, api: oidcFirst }, environments: [environments.dev] });

  it('sets the top-level openid_connect_config and no additional OIDC provider', () => {
    const body = graphqlApi(synthesized.parsed('dev'));
    expect(body.authentication_type).toBe('OPENID_CONNECT');
    expect(block(body.openid_connect_config)).toEqual({
      issuer: environments.dev.api.openIdConnect.issuer,
      client_id: environments.dev.api.openIdConnect.clientId,
      iat_ttl: api.openIdConnect.iatTtlMs,
      auth_ttl: api.openIdConnect.authTtlMs,
    });
    expect(oidcProviders(body)).toEqual([]);
  });
});

describe('refused at synth', () => {
  const declarations = defaultDeclarations();

  it('when the mode is declared but the environment names no provider', () => {
    const { openIdConnect: _, ...apiSettings } = environments.dev.api;
    const withoutProvider: EnvironmentConfig = { ...environments.dev, api: apiSettings };
    expect(() => synthStacks({ environments: [withoutProvider] })).toThrow(/environment dev sets no api\.openIdConnect/);
  });

  it('when an environment names a provider but the mode is not declared', () => {
    const { openIdConnect: _, ...withoutOidc } = declarations.api;
    const noOidcMode: ApiDeclaration = {
      ...withoutOidc,
      additionalAuthModes: declarations.api.additionalAuthModes.filter((mode) => mode !== 'OPENID_CONNECT'),
    };
    expect(() => synthStacks({ declarations: { ...declarations, api: noOidcMode }, environments: [environments.dev] })).toThrow(
      /sets api\.openIdConnect but OPENID_CONNECT is not an auth mode/,
    );
  });

  it('when the issuer or client id would fail at apply, or admit any token', () => {
    const withOidc = (openIdConnect: OpenIdConnectSettings): EnvironmentConfig => ({
      ...environments.prod,
      api: { ...environments.prod.api, openIdConnect },
    });
    const clientId = 'staff-console';
    expect(() => validateEnvironment(withOidc({ issuer: 'login.example.com', clientId }))).toThrow(
      /issuer login\.example\.com is not a URL/,
    );
    expect(() => validateEnvironment(withOidc({ issuer: 'http://idp.corp.com', clientId }))).toThrow(/must be https:\/\//);
    expect(() => validateEnvironment(withOidc({ issuer: 'https://idp.corp.com/?tenant=1', clientId }))).toThrow(/without credentials/);
    expect(() => validateEnvironment(withOidc({ issuer: 'https://idp.corp.com', clientId: '' }))).toThrow(/accepts an empty audience/);
    expect(() => validateEnvironment(withOidc({ issuer: 'https://idp.corp.com', clientId: '(' }))).toThrow(
      /not a valid regular expression/,
    );
    // Auth0's issuers end with a slash; the issuer must equal the token's iss exactly, so that stays allowed.
    expect(() => validateEnvironment(withOidc({ issuer: 'https://corp.eu.auth0.com/', clientId }))).not.toThrow();
  });
});

describe('policy audit: the OIDC rule', () => {
  type Mutable = { resource: Record<string, Record<string, Body>> };
  /** A deep copy of a shipped stack whose OIDC provider block is changed by `change`. */
  const withOidcConfig = (name: string, change: (config: Body) => void): TerraformJson => {
    const copy = structuredClone(shipped.parsed(name)) as unknown as Mutable;
    const body = Object.values(copy.resource.aws_appsync_graphql_api ?? {})[0] as Body;
    change(block(oidcProviders(body)[0]?.openid_connect_config));
    return copy as unknown as TerraformJson;
  };
  const oidcFindings = (stack: TerraformJson): string[] => auditStack(stack).filter((finding) => finding.includes(': OIDC '));

  it('fails any stack whose issuer is not https, whose client id admits other apps, or whose freshness checks are off', () => {
    expect(
      oidcFindings(
        withOidcConfig('dev', (config) => {
          config.issuer = 'http://idp.corp.com';
          config.client_id = '.*';
          config.iat_ttl = 0;
          delete config.auth_ttl;
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^aws_appsync_graphql_api\.[^:]+: OIDC additional auth provider \d: issuer http:\/\/idp\.corp\.com is not https$/,
      ),
      expect.stringMatching(/: client_id \.\* accepts tokens issued to other apps of the issuer$/),
      expect.stringMatching(/: iat_ttl is 0 \(token freshness unchecked\)$/),
      expect.stringMatching(/: auth_ttl is unset \(token freshness unchecked\)$/),
    ]);
    expect(oidcFindings(withOidcConfig('staging', (config) => delete config.client_id))).toEqual([
      expect.stringMatching(/: no client_id \(tokens for any app of the issuer would be accepted\)$/),
    ]);
    expect(oidcFindings(withOidcConfig('dev', (config) => (config.client_id = 'staff-console|.+')))).toHaveLength(1);
  });

  it('fails prod, and only prod, whose issuer is localhost, a private address or a placeholder', () => {
    for (const issuer of [
      'https://localhost:4000/oidc',
      'https://127.0.0.1/oidc',
      'https://10.1.2.3/oidc',
      'https://login.example.com/oauth2/default',
      'https://idp.corp.test',
      'https://sso.invalid',
    ]) {
      expect(oidcFindings(withOidcConfig('prod', (config) => (config.issuer = issuer))), issuer).toEqual([
        expect.stringMatching(/is localhost, private or a placeholder in production$/),
      ]);
      expect(oidcFindings(withOidcConfig('staging', (config) => (config.issuer = issuer))), issuer).toEqual([]);
    }
  });

  it('audits a default OIDC mode too', () => {
    const stack = {
      terraform: {},
      resource: {
        aws_appsync_graphql_api: {
          oidcFirst: { authentication_type: 'OPENID_CONNECT', openid_connect_config: [{ issuer: 'https://idp.corp.com' }] },
        },
      },
    } as unknown as TerraformJson;
    expect(auditStack(stack, { production: false })).toEqual([
      'aws_appsync_graphql_api.oidcFirst: OIDC default auth mode: no client_id (tokens for any app of the issuer would be accepted)',
      'aws_appsync_graphql_api.oidcFirst: OIDC default auth mode: iat_ttl is unset (token freshness unchecked)',
      'aws_appsync_graphql_api.oidcFirst: OIDC default auth mode: auth_ttl is unset (token freshness unchecked)',
    ]);
  });
});
