import { AcmCertificate } from '@cdktf/provider-aws/lib/acm-certificate/index.js';
import { AcmCertificateValidation } from '@cdktf/provider-aws/lib/acm-certificate-validation/index.js';
import { AppsyncDomainName } from '@cdktf/provider-aws/lib/appsync-domain-name/index.js';
import { AppsyncDomainNameApiAssociation } from '@cdktf/provider-aws/lib/appsync-domain-name-api-association/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record/index.js';
import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import type { CustomDomainConfig } from '../config.js';

/** AppSync serves a custom domain through CloudFront, which takes certificates from this region only. */
export const CERTIFICATE_REGION = 'us-east-1';

/** The alias of the stack's second AWS provider (Terraform: `aws.us_east_1`). */
export const CERTIFICATE_PROVIDER_ALIAS = 'us_east_1';

export interface CustomDomainProps {
  readonly prefix: string;
  readonly config: CustomDomainConfig;
  readonly apiId: string;
  /** The stack's default tags, so the certificate is tagged like everything else. */
  readonly defaultTags: Readonly<Record<string, string>>;
}

/**
 * The API under a name of our own (`config.domain`):
 * 1. an ACM certificate for exactly that name, in us-east-1 through a second
 *    provider (AppSync's custom domains sit behind CloudFront), validated by a
 *    DNS record in the hosted zone, so it also renews itself with no one involved;
 * 2. `aws_appsync_domain_name` on that certificate, created only once it is
 *    issued, and its association with the API;
 * 3. an alias record sending the name to the domain's CloudFront distribution;
 * 4. the custom GraphQL and real-time URLs as outputs.
 */
export class CustomDomain extends Construct {
  readonly certificate: AcmCertificate;
  readonly domain: AppsyncDomainName;
  readonly graphqlUrl: string;
  readonly realtimeUrl: string;

  constructor(scope: Construct, id: string, props: CustomDomainProps) {
    super(scope, id);
    const { config } = props;
    const certificateProvider = new AwsProvider(this, 'certificate-provider', {
      alias: CERTIFICATE_PROVIDER_ALIAS,
      region: CERTIFICATE_REGION,
      defaultTags: [{ tags: { ...props.defaultTags } }],
    });
    this.certificate = new AcmCertificate(this, 'certificate', {
      provider: certificateProvider,
      domainName: config.domainName,
      validationMethod: 'DNS',
      // A replaced certificate is issued before the old one goes, so the domain never points at nothing.
      lifecycle: { createBeforeDestroy: true },
    });
    // One name, so one validation record (the list is a set in Terraform: the binding reads it through tolist()).
    const validationOption = this.certificate.domainValidationOptions.get(0);
    const validationRecord = new Route53Record(this, 'certificate-validation-record', {
      zoneId: config.hostedZoneId,
      name: validationOption.resourceRecordName,
      type: validationOption.resourceRecordType,
      records: [validationOption.resourceRecordValue],
      ttl: 300,
      // The record's name is fixed per name and account: a re-created certificate asks for the same one.
      allowOverwrite: true,
    });
    const validation = new AcmCertificateValidation(this, 'certificate-validation', {
      provider: certificateProvider,
      certificateArn: this.certificate.arn,
      validationRecordFqdns: [validationRecord.fqdn],
    });
    this.domain = new AppsyncDomainName(this, 'domain-name', {
      domainName: config.domainName,
      // The validation's ARN, not the certificate's: AppSync refuses a certificate that is not yet issued.
      certificateArn: validation.certificateArn,
      description: `${props.prefix} GraphQL API`,
    });
    new AppsyncDomainNameApiAssociation(this, 'api-association', {
      apiId: props.apiId,
      domainName: this.domain.domainName,
    });
    new Route53Record(this, 'alias-record', {
      zoneId: config.hostedZoneId,
      name: config.domainName,
      type: 'A',
      alias: { name: this.domain.appsyncDomainName, zoneId: this.domain.hostedZoneId, evaluateTargetHealth: false },
    });

    const urls = customDomainUrls(config.domainName);
    this.graphqlUrl = urls.graphql;
    this.realtimeUrl = urls.realtime;
    output(this, 'custom_graphql_url', urls.graphql, 'GraphQL endpoint on the custom domain');
    output(this, 'custom_realtime_url', urls.realtime, 'Real-time (subscription) endpoint on the custom domain');
  }
}

/** AppSync's paths on a custom domain: `/graphql` and, for WebSockets, `/graphql/realtime`. */
export function customDomainUrls(domainName: string): { graphql: string; realtime: string } {
  return { graphql: `https://${domainName}/graphql`, realtime: `wss://${domainName}/graphql/realtime` };
}

/** Outputs keep their plain names (no construct-path hash): deploy tooling reads them by name. */
function output(scope: Construct, name: string, value: string, description: string): void {
  new TerraformOutput(scope, name, { value, description }).overrideLogicalId(name);
}
