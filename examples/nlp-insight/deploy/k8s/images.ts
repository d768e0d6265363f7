/**
 * Third-party images the manifests run, pinned by digest: a tag can be re-pushed, a digest cannot.
 *
 * These are the init containers that fetch the model (and, for the drift job, the prediction log)
 * from the bucket with the workload identity, and the sidecar that ships the prediction log there.
 * The service's own image is not here: CI builds it and pins its digest into each environment's
 * kustomization (`kustomize edit set image`).
 *
 * To refresh one, resolve the new tag's digest (of the multi-arch index) and change tag and digest
 * together, then run `npm test`:
 *
 *   crane digest docker.io/google/cloud-sdk:<version>-slim
 *   crane digest public.ecr.aws/aws-cli/aws-cli:<version>
 *   crane digest docker.io/timberio/vector:<version>-distroless-static
 *
 * EKS pulls what AWS publishes from ECR Public (`public.ecr.aws`), never anonymously from Docker
 * Hub, whose anonymous pulls are rate-limited per NAT address. Vector has no ECR Public
 * repository: where Docker Hub is unwanted or unreachable (EKS, nodes without NAT), mirror it into
 * ECR / Artifact Registry (a pull-through cache rule, or `crane copy`) and set `logShipper.image`
 * (and `initContainer.image`) for the environment in `config.ts` to the mirror, same digest.
 */

export interface PinnedImage {
  /** Registry and repository, e.g. `docker.io/amazon/aws-cli`. */
  readonly repository: string;
  /** The version the digest was taken from; kept for people, the runtime pulls by digest. */
  readonly tag: string;
  readonly digest: `sha256:${string}`;
}

/** Google Cloud CLI, Debian slim variant (`gcloud storage`, `sha256sum`, `/bin/sh`). */
export const gcloudImage: PinnedImage = {
  repository: 'docker.io/google/cloud-sdk',
  tag: '587.0.0-slim',
  digest: 'sha256:7c2dbc4eeba1e500b788be19cae33599cefe3294949a62c034bd1c2002329f69',
};

/** AWS CLI v2 (`aws s3`, `sha256sum`, `/bin/sh`), from ECR Public: the same image AWS puts on Docker Hub. */
export const awsCliImage: PinnedImage = {
  repository: 'public.ecr.aws/aws-cli/aws-cli',
  tag: '2.37.8',
  digest: 'sha256:420ab345e847291b541b45d989535f55bcff957c27fa1100fae4aa233e86398c',
};

/**
 * Vector, the static build on distroless (no shell, no package manager): the prediction log
 * shipper. Its `file` source tails the log, its `gcp_cloud_storage` / `aws_s3` sink uploads it.
 */
export const vectorImage: PinnedImage = {
  repository: 'docker.io/timberio/vector',
  tag: '0.57.0-distroless-static',
  digest: 'sha256:d96454c4e64db59234d9a2b973b02c3b9b09a0674eef685b3955ef7cd03f70a0',
};

/** `repository:tag@sha256:...`: the kubelet pulls by the digest; the tag documents it. */
export function imageReference(image: PinnedImage): string {
  return `${image.repository}:${image.tag}@${image.digest}`;
}

/** A digest reference that can actually be pulled: no placeholder, no short or upper-case hex. */
export const pinnedReference =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:(?::[0-9]+)?\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?@sha256:[a-f0-9]{64}$/;
