/**
 * The deploy identities of GitHub Actions on GCP, joined to deploy/plan.ts: the pool, provider and
 * service accounts the bootstrap stack creates carry exactly the plan's names, trust exactly this
 * repository's environment of their stage, and hold exactly the listed grants (registry push on the
 * service's repository, cluster connect through a custom role, create/get under the model's path)
 * and nothing broader. Also: the cluster is reachable through its DNS endpoint, its IP endpoint is
 * closed to the internet, and the HPA's metric source is GKE's built-in one.
 */
import { describe, expect, it } from 'vitest';
import { github, service } from '../../plan.js';
import { deployClusterPermissions, githubIssuer } from '../gcp/deploy-identities.js';
import { gcpEnvironments } from '../gcp/environments.js';
import { modelLocation } from '../lib/model-path.js';
import { type Block, resource, resources, synthStack } from './support/synth.js';

const bootstrap = synthStack('gcp-bootstrap').tf;
const poolRef = '${google_iam_workload_identity_pool.github-pool.name}';

/** Every IAM grant of `member` in the stacks, with what it applies to. */
function grantsOf(member: string, stacks: Array<{ tf: typeof bootstrap }>) {
  const types = [
    'google_project_iam_member',
    'google_storage_bucket_iam_member',
    'google_artifact_registry_repository_iam_member',
    'google_service_account_iam_member',
    'google_kms_crypto_key_iam_member',
  ];
  return stacks.flatMap(({ tf }) =>
    types.flatMap((type) =>
      Object.values(resources(tf, type))
        .filter((r) => r.member === member)
        .map((r) => ({
          type,
          role: String(r.role),
          on: String(r.repository ?? r.bucket ?? r.project ?? ''),
          condition: (r.condition as Block | undefined)?.expression,
        })),
    ),
  );
}

describe('gcp-bootstrap: GitHub Workload Identity Federation', () => {
  const first = gcpEnvironments[0]!.gcp;

  it('creates the pool and the provider the plan names, for GitHub tokens of this repository only', () => {
    expect(resource(bootstrap, 'google_iam_workload_identity_pool', 'github-pool')).toMatchObject({
      workload_identity_pool_id: first.workloadIdentityPool,
    });
    const provider = resource(
      bootstrap,
      'google_iam_workload_identity_pool_provider',
      'github-provider',
    );
    expect(provider).toMatchObject({
      workload_identity_pool_provider_id: first.workloadIdentityProviderId,
      oidc: { issuer_uri: githubIssuer },
      attribute_condition: `assertion.repository == "${github.repository}"`,
    });
    expect(provider.attribute_mapping).toMatchObject({
      'google.subject': 'assertion.sub',
      'attribute.repository': 'assertion.repository',
      'attribute.environment': 'assertion.environment',
    });
    expect(bootstrap.output?.workload_identity_pool).toBeDefined();
    expect(bootstrap.output?.workload_identity_provider?.value).toBe(
      '${google_iam_workload_identity_pool_provider.github-provider.name}',
    );
  });

  it('names the provider the way google-github-actions/auth takes it, when the project number is known', () => {
    for (const env of gcpEnvironments) {
      const full = (env.gcp as { workloadIdentityProvider?: string }).workloadIdentityProvider;
      if (full === undefined) continue;
      expect(full).toMatch(
        new RegExp(
          `^projects/\\d+/locations/global/workloadIdentityPools/${env.gcp.workloadIdentityPool}/providers/${env.gcp.workloadIdentityProviderId}$`,
        ),
      );
    }
  });

  it('outputs every stage deploy service account under its environment id', () => {
    expect(bootstrap.output?.deploy_service_account_email?.value).toEqual(
      Object.fromEntries(gcpEnvironments.map((e) => [e.id, e.gcp.deployServiceAccountEmail])),
    );
  });
});

describe.each(gcpEnvironments.map((env) => [env.id, env] as const))(
  '%s: deploy identity',
  (id, env) => {
    const g = env.gcp;
    const envTf = synthStack(id).tf;
    const member = `serviceAccount:${g.deployServiceAccountEmail}`;
    const accounts = Object.entries(resources(bootstrap, 'google_service_account')).filter(
      ([, r]) => r.account_id === g.deployServiceAccountId,
    );

    it('exists with the name of the plan', () => {
      expect(accounts).toHaveLength(1);
      const [, account] = accounts[0]!;
      expect(
        `${String(account.account_id)}@${String(account.project)}.iam.gserviceaccount.com`,
      ).toBe(g.deployServiceAccountEmail);
      expect(env.githubEnvironment).toBe(env.id);
    });

    it("trusts exactly this repository's GitHub environment of its stage", () => {
      const [name] = accounts[0]!;
      const trust = Object.values(resources(bootstrap, 'google_service_account_iam_member')).filter(
        (r) => r.service_account_id === `\${google_service_account.${name}.name}`,
      );
      expect(trust).toEqual([
        expect.objectContaining({
          role: 'roles/iam.workloadIdentityUser',
          member: `principal://iam.googleapis.com/${poolRef}/subject/repo:${github.repository}:environment:${env.githubEnvironment}`,
        }),
      ]);
      expect(env.githubOidcSubject).toBe(
        `repo:${github.repository}:environment:${env.githubEnvironment}`,
      );
    });

    it('holds exactly: push to the service registry, cluster connect, create/get under the model path', () => {
      const model = modelLocation(env.modelUri);
      const role = resource(bootstrap, 'google_project_iam_custom_role', 'deploy-cluster-role');
      expect(role.role_id).toBe(g.deployClusterRoleId);
      expect([...(role.permissions as string[])].sort()).toEqual(
        [...deployClusterPermissions].sort(),
      );
      const prefix = `resource.name.startsWith("projects/_/buckets/${g.modelBucket}/objects/${model.readPrefix}")`;
      const grants = grantsOf(member, [{ tf: bootstrap }, { tf: envTf }]);
      expect(grants.map((gr) => [gr.role, gr.condition]).sort()).toEqual(
        [
          ['${google_project_iam_custom_role.deploy-cluster-role.name}', undefined],
          ['roles/artifactregistry.writer', undefined],
          ['roles/storage.objectCreator', prefix],
          ['roles/storage.objectViewer', prefix],
        ].sort(),
      );
      const push = grants.find((gr) => gr.role === 'roles/artifactregistry.writer')!;
      expect(push.on).toBe('${google_artifact_registry_repository.registry.repository_id}');
      expect(
        resource(bootstrap, 'google_artifact_registry_repository', 'registry').repository_id,
      ).toBe(service.registryRepository);
      for (const gr of grants) expect(gr.role).not.toMatch(/admin|owner|editor/i);
    });

    it('reaches the cluster through its IAM-authorized DNS endpoint; the IP endpoint is closed to the internet', () => {
      const cluster = resource(envTf, 'google_container_cluster', 'cluster');
      expect(cluster.control_plane_endpoints_config).toEqual({
        dns_endpoint_config: { allow_external_traffic: true },
      });
      expect(cluster.master_authorized_networks_config).toMatchObject({
        gcp_public_cidrs_access_enabled: false,
      });
      for (const block of ((cluster.master_authorized_networks_config as Block).cidr_blocks ??
        []) as Block[])
        expect(block.cidr_block).not.toBe('0.0.0.0/0');
    });

    it("keeps the HPA's metric source, GKE's built-in metrics server", () => {
      const cluster = resource(envTf, 'google_container_cluster', 'cluster');
      const addons = (cluster.addons_config ?? {}) as Block;
      expect((addons.horizontal_pod_autoscaling as Block | undefined)?.disabled ?? false).toBe(
        false,
      );
    });

    it.runIf(env.stage === 'prod')(
      'keeps at least two ML nodes, balanced over the region’s zones',
      () => {
        const ml = resource(envTf, 'google_container_node_pool', 'ml-pool');
        const autoscaling = ml.autoscaling as Block;
        expect(autoscaling.total_min_node_count).toBeGreaterThanOrEqual(2);
        expect(autoscaling.location_policy).toBe('BALANCED');
        // No node_locations: a regional pool spans the region's zones (at least two).
        expect(ml.node_locations).toBeUndefined();
        expect(ml.location).toBe(g.region);
      },
    );
  },
);
