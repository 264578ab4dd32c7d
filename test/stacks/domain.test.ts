/**
 * Issue 12's custom domain, as synthesized from a config that turns it on
 * (the shipped environments leave it off): the us-east-1 certificate through a
 * second provider, its DNS validation, the AppSync domain name and its
 * association, the alias record, the custom URLs; the config refused at synth
 * when AWS would refuse it at apply; and the audit rule on the certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  environmentNames,
  environments,
  validateEnvironment,
  type CustomDomainConfig,
  type EnvironmentConfig,
} from '../../stacks/config.js';
import { CERTIFICATE_PROVIDER_ALIAS, customDomainUrls } from '../../stacks/constructs/domain.js';
import { auditStack } from './support/policy-audit.js';
import { ref, removeTempDirs, requireStack, resources, resourceWhere, synthStacks, type TerraformJson } from './support/synth.js';

const domain: CustomDomainConfig = { domainName: 'api.shop.example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ' };
const withDomain: EnvironmentConfig = { ...environments.staging, domain };
let stack: TerraformJson;

beforeAll(() => {
  stack = requireStack(synthStacks({ environments: [withDomain] }), 'staging').parsed;
});
afterAll(removeTempDirs);

type Body = Record<string, unknown>;
const only = (type: string): [string, Body] => {
  const found = resources(stack, type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Body];
};
const providers = (json: TerraformJson) => (json as unknown as { provider: { aws: Body[] } }).provider.aws;

describe('custom domain', () => {
  it('is off in every shipped environment', () => {
    for (const name of environmentNames) expect((environments[name] as EnvironmentConfig).domain, name).toBeUndefined();
  });

  it('issues the certificate in us-east-1 through a second, aliased provider tagged like the first', () => {
    const [main, second] = providers(stack);
    expect(main).toMatchObject({ region: 'eu-west-1' });
    expect(main?.alias).toBeUndefined();
    expect(second).toMatchObject({ alias: CERTIFICATE_PROVIDER_ALIAS, region: 'us-east-1', default_tags: main?.default_tags });
    const [, certificate] = only('aws_acm_certificate');
    expect(certificate).toMatchObject({
      domain_name: domain.domainName,
      validation_method: 'DNS',
      provider: `aws.${CERTIFICATE_PROVIDER_ALIAS}`,
      lifecycle: { create_before_destroy: true },
    });
  });

  it('validates it by a DNS record in the hosted zone, and waits for that before the domain takes it', () => {
    const [certificateId] = only('aws_acm_certificate');
    const [validationId, validation] = only('aws_acm_certificate_validation');
    const option = (attribute: string) => `\${tolist(aws_acm_certificate.${certificateId}.domain_validation_options).0.${attribute}}`;
    const [recordId] = resourceWhere(stack, 'aws_route53_record', 'name', option('resource_record_name'));
    expect(stack.resource.aws_route53_record?.[recordId]).toMatchObject({
      zone_id: domain.hostedZoneId,
      type: option('resource_record_type'),
      records: [option('resource_record_value')],
    });
    expect(validation).toEqual({
      provider: `aws.${CERTIFICATE_PROVIDER_ALIAS}`,
      certificate_arn: ref('aws_acm_certificate', certificateId, 'arn'),
      validation_record_fqdns: [ref('aws_route53_record', recordId, 'fqdn')],
    });
    const [, domainName] = only('aws_appsync_domain_name');
    expect(domainName).toMatchObject({
      domain_name: domain.domainName,
      certificate_arn: ref('aws_acm_certificate_validation', validationId, 'certificate_arn'),
    });
    // The domain is regional (the API's region): the default provider.
    expect(domainName.provider).toBeUndefined();
  });

  it('associates the domain with the API and aliases the name to its CloudFront target', () => {
    const [apiId] = only('aws_appsync_graphql_api');
    const [domainId] = only('aws_appsync_domain_name');
    expect(only('aws_appsync_domain_name_api_association')[1]).toEqual({
      api_id: ref('aws_appsync_graphql_api', apiId, 'id'),
      domain_name: ref('aws_appsync_domain_name', domainId, 'domain_name'),
    });
    expect(resourceWhere(stack, 'aws_route53_record', 'name', domain.domainName)[1]).toEqual({
      zone_id: domain.hostedZoneId,
      name: domain.domainName,
      type: 'A',
      alias: {
        name: ref('aws_appsync_domain_name', domainId, 'appsync_domain_name'),
        zone_id: ref('aws_appsync_domain_name', domainId, 'hosted_zone_id'),
        evaluate_target_health: false,
      },
    });
  });

  it('outputs the custom GraphQL and real-time URLs beside the generated ones', () => {
    expect(customDomainUrls(domain.domainName)).toEqual({
      graphql: 'https://api.shop.example.com/graphql',
      realtime: 'wss://api.shop.example.com/graphql/realtime',
    });
    expect(stack.output?.custom_graphql_url?.value).toBe('https://api.shop.example.com/graphql');
    expect(stack.output?.custom_realtime_url?.value).toBe('wss://api.shop.example.com/graphql/realtime');
    expect(stack.output?.graphql_url).toBeDefined();
  });

  it('passes the policy audit, which fails a certificate outside us-east-1, validated by e-mail, or not waited for', () => {
    expect(auditStack(stack)).toEqual([]);
    const mutated = (change: (copy: { provider: { aws: Body[] }; resource: Record<string, Record<string, Body>> }) => void) => {
      const copy = structuredClone(stack) as unknown as { provider: { aws: Body[] }; resource: Record<string, Record<string, Body>> };
      change(copy);
      return auditStack(copy as unknown as TerraformJson);
    };
    const certificate = (copy: { resource: Record<string, Record<string, Body>> }) =>
      Object.values(copy.resource.aws_acm_certificate ?? {})[0] as Body;
    const domainName = (copy: { resource: Record<string, Record<string, Body>> }) =>
      Object.values(copy.resource.aws_appsync_domain_name ?? {})[0] as Body;

    expect(mutated((copy) => delete certificate(copy).provider)).toEqual([
      expect.stringMatching(/^aws_appsync_domain_name\.[^:]+: certificate aws_acm_certificate\.\S+ is in eu-west-1, not us-east-1$/),
    ]);
    expect(
      mutated((copy) => {
        certificate(copy).validation_method = 'EMAIL';
      }),
    ).toEqual([expect.stringMatching(/: certificate aws_acm_certificate\.\S+ is validated by EMAIL, not DNS$/)]);
    expect(
      mutated((copy) => {
        const [id] = Object.keys(copy.resource.aws_acm_certificate ?? {});
        domainName(copy).certificate_arn = ref('aws_acm_certificate', id ?? '', 'arn');
      }),
    ).toEqual([expect.stringMatching(/: certificate taken before it is validated/)]);
    expect(
      mutated((copy) => {
        domainName(copy).certificate_arn = 'arn:aws:acm:us-east-1:1:certificate/elsewhere';
      }),
    ).toEqual([expect.stringMatching(/: certificate arn:aws:acm:us-east-1:1:certificate\/elsewhere is not one this stack issues/)]);
  });

  it('refuses at synth a name or zone id AWS would refuse at apply', () => {
    const problems = (candidate: Partial<CustomDomainConfig>) => () =>
      validateEnvironment({ ...withDomain, domain: { ...domain, ...candidate } });
    expect(problems({ domainName: '*.shop.example.com' })).toThrow(
      /domain\.domainName \*\.shop\.example\.com is not a lower-case, fully qualified DNS name/,
    );
    expect(problems({ domainName: 'API.shop.example.com' })).toThrow(/domain\.domainName/);
    expect(problems({ domainName: 'localhost' })).toThrow(/domain\.domainName/);
    expect(problems({ domainName: 'https://api.shop.example.com' })).toThrow(/domain\.domainName/);
    expect(problems({ hostedZoneId: '/hostedzone/Z0123' })).toThrow(
      /domain\.hostedZoneId \/hostedzone\/Z0123 is not a Route 53 hosted zone id/,
    );
    expect(problems({})).not.toThrow();
  });
});
