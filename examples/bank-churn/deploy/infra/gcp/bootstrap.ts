/**
 * What the GCP environments share, applied once before them: the APIs, the Terraform state bucket,
 * the Artifact Registry repository and the deploy identities of GitHub Actions (deploy-identities.ts). Its own state sits in the bucket it creates; the first
 * apply runs with a local backend override (see the README, "Cloud infrastructure").
 */
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import { ProjectService } from '@cdktf/provider-google/lib/project-service/index.js';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider/index.js';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket/index.js';
import { GcsBackend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { service } from '../../plan.js';
import { labelEveryResource, labelFields, resourceLabels } from '../lib/labels.js';
import { requireTerraform } from '../lib/terraform.js';
import { addGcpDeployIdentities } from './deploy-identities.js';
import { gcpShared, type GcpEnvironment } from './environments.js';

export const gcpApis = [
  'artifactregistry.googleapis.com',
  'cloudkms.googleapis.com',
  'compute.googleapis.com',
  'container.googleapis.com',
  'containerscanning.googleapis.com',
  'iam.googleapis.com',
  'iamcredentials.googleapis.com',
  'sts.googleapis.com',
  'storage.googleapis.com',
] as const;

/** Days an untagged image is kept in the registry. */
const untaggedImageDays = 30;

export class GcpBootstrapStack extends TerraformStack {
  constructor(scope: Construct, id: string, envs: readonly GcpEnvironment[]) {
    super(scope, id);
    const { project, region, stateBucket, bootstrapStatePrefix } = gcpShared(envs);
    const labels = resourceLabels('shared');

    // An override: cdktf would snake_case the label keys of a provider-level map (cost-center -> cost_center).
    new GoogleProvider(this, 'google', { project, region }).addOverride('default_labels', labels);
    requireTerraform(this);
    new GcsBackend(this, { bucket: stateBucket, prefix: bootstrapStatePrefix });
    labelEveryResource(this, labels, labelFields.gcp);

    const apis = gcpApis.map(
      (api) =>
        new ProjectService(this, `api-${api.split('.')[0]}`, {
          project,
          service: api,
          disableOnDestroy: false,
        }),
    );

    new StorageBucket(this, 'state-bucket', {
      name: stateBucket,
      location: region,
      storageClass: 'STANDARD',
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      versioning: { enabled: true },
      lifecycleRule: [
        { action: { type: 'Delete' }, condition: { numNewerVersions: 20, withState: 'ARCHIVED' } },
      ],
      forceDestroy: false,
      lifecycle: { preventDestroy: true },
      dependsOn: apis,
    });

    const registry = new ArtifactRegistryRepository(this, 'registry', {
      project,
      location: region,
      repositoryId: service.registryRepository,
      format: 'DOCKER',
      description: `Images of ${service.service}`,
      dockerConfig: { immutableTags: true },
      vulnerabilityScanningConfig: { enablementConfig: 'INHERITED' },
      cleanupPolicies: [
        {
          id: 'delete-untagged',
          action: 'DELETE',
          condition: { tagState: 'UNTAGGED', olderThan: `${untaggedImageDays * 86400}s` },
        },
      ],
      dependsOn: apis,
    });

    addGcpDeployIdentities(this, envs, registry, apis);

    new TerraformOutput(this, 'registry_repository', { value: registry.name });
    new TerraformOutput(this, 'state_bucket', { value: stateBucket });
  }
}
