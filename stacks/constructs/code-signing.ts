import { LambdaCodeSigningConfig } from '@cdktf/provider-aws/lib/lambda-code-signing-config/index.js';
import { SignerSigningProfile } from '@cdktf/provider-aws/lib/signer-signing-profile/index.js';
import { Construct } from 'constructs';
import type { CodeSigningConfig } from '../config.js';

export interface CodeSigningProps {
  readonly prefix: string;
  readonly config: CodeSigningConfig;
}

/** AWS Signer's platform for Lambda packages (the only one Lambda code signing accepts). */
export const LAMBDA_SIGNING_PLATFORM = 'AWSLambda-SHA384-ECDSA';

/**
 * Lambda code signing: an AWS Signer profile whose signatures Lambda trusts,
 * and the code signing config every function of the deployment carries.
 *
 * The packages are zipped locally by `npm run synth` and are unsigned, so with
 * `Warn` Lambda deploys them and records the failed check (CloudTrail,
 * `SignatureValidationErrors`). `Enforce` takes a deploy workflow that uploads
 * each zip to S3, runs a Signer signing job with this profile
 * (`aws signer start-signing-job --profile-name <prefix>_lambda`, the name
 * `signingProfileName` gives) and deploys
 * the signed object (`s3_bucket`/`s3_key`) instead of the local file.
 */
export class CodeSigning extends Construct {
  readonly profile: SignerSigningProfile;
  readonly config: LambdaCodeSigningConfig;

  constructor(scope: Construct, id: string, props: CodeSigningProps) {
    super(scope, id);
    this.profile = new SignerSigningProfile(this, 'profile', {
      name: signingProfileName(props.prefix),
      platformId: LAMBDA_SIGNING_PLATFORM,
      // A signature outlives its job by this long; Lambda refuses expired ones under Enforce.
      signatureValidityPeriod: { value: 2, type: 'YEARS' },
    });
    this.config = new LambdaCodeSigningConfig(this, 'config', {
      description: `${props.prefix}: packages signed by ${this.profile.name}`,
      // The version ARN: revoking the profile (or a version of it) invalidates what it signed.
      allowedPublishers: { signingProfileVersionArns: [this.profile.versionArn] },
      policies: { untrustedArtifactOnDeployment: props.config.untrustedArtifactOnDeployment },
    });
  }

  get arn(): string {
    return this.config.arn;
  }
}

/** `storefront_prod_lambda`: Signer profile names allow letters, digits and underscores only. */
export function signingProfileName(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_]/g, '_')}_lambda`;
}
