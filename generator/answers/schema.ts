/**
 * The answers contract: the ONE definition of every question the generator asks.
 *
 * Flags, the answers file, the prompts, the JSON Schema (`create-mlops-service schema`) and the
 * record in `.mlops-service/answers.json` are all derived from `answerFields` below.
 */
import { z } from 'zod';
import { taskKinds } from '../model/contract.js';

/** Bumped when a question is added, removed or changes meaning; `upgrade` migrates old records. */
export const answersSchemaVersion = 1;

/** RFC 1123 label: Kubernetes object names, npm package name and the stem of cloud resources. */
export const dns1123Label = z
  .string()
  .min(2, 'must be at least 2 characters')
  .max(63, 'must be at most 63 characters (a Kubernetes DNS-1123 label)')
  .regex(
    /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    'must be lowercase letters, digits and "-", start with a letter and end with a letter or digit (DNS-1123 label), e.g. "churn-api"',
  );

export { taskKinds, type TaskKind } from '../model/contract.js';
export const cloudChoices = ['gcp', 'aws', 'both', 'none'] as const;
export type CloudChoice = (typeof cloudChoices)[number];

const gcpProjectId = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
    'must be a GCP project id: 6-30 lowercase letters, digits or "-", starting with a letter',
  );
const gcpRegion = z
  .string()
  .regex(/^[a-z]+-[a-z]+[0-9]$/, 'must be a GCP region such as "us-central1"');
const awsAccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as "us-east-1"')
  // China's partition has its own DNS suffix and service principals, which the stacks do not model.
  .refine((r) => !r.startsWith('cn-'), 'is in the AWS China partition, which is not supported');
/** `owner/name` of the GitHub repository whose workflows deploy the service. */
const githubRepo = z
  .string()
  .regex(
    /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/,
    'must be a GitHub repository as "owner/name", e.g. "acme/churn-api"',
  );
const gcpProjectNumber = z
  .string()
  .regex(/^[1-9][0-9]{5,19}$/, 'must be the GCP project number (digits), not the project id');
export const githubOidcProviderChoices = ['create', 'existing'] as const;
export const eksEndpointChoices = ['public', 'private'] as const;
/** An IPv4 CIDR block, e.g. "203.0.113.0/24". */
const ipv4Cidr = z
  .string()
  .regex(
    /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$/,
    'must be IPv4 CIDR blocks such as "203.0.113.0/24", separated by commas',
  );
const memoryQuantity = z
  .string()
  .regex(/^[1-9][0-9]*(Mi|Gi)$/, 'must be a Kubernetes memory quantity in Mi or Gi, e.g. "1Gi"');
/** Text that lands in READMEs, YAML, JSON and code: one line, printable, bounded. */
const oneLineText = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .regex(
      /^[^\n\r\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/,
      'must be a single line of printable text',
    );

/** How a field is asked and shown; the zod schema says what is valid. */
export interface FieldMeta {
  readonly message: string;
  readonly group: 'service' | 'model' | 'cloud' | 'capacity';
  readonly hint?: string;
  /**
   * `choice` fields are asked with a select; `number` fields are parsed from flags; `list` fields
   * are typed as comma-separated values and recorded as arrays; `boolean` fields are asked as a
   * yes/no select and given as `--flag true|false`.
   */
  readonly kind: 'text' | 'choice' | 'number' | 'path' | 'list' | 'boolean';
  /** The question only applies when this holds for the answers given so far. */
  readonly when?: (answers: CloudAware) => boolean;
}

/** The part of the answers that conditional questions look at. */
interface CloudAware {
  readonly cloud?: unknown;
}
const usesGcp = (a: CloudAware): boolean => a.cloud === 'gcp' || a.cloud === 'both';
const usesAws = (a: CloudAware): boolean => a.cloud === 'aws' || a.cloud === 'both';
const usesCloud = (a: CloudAware): boolean => usesGcp(a) || usesAws(a);

/**
 * Every question: its zod type (with its default, if it has one) and how it is asked.
 * Fields without a default are required; `name` and `model` get contextual defaults under
 * `--yes` (the target directory's name, the embedded example model).
 */
export const answerFields = {
  name: {
    schema: dns1123Label.describe('Service name: Kubernetes objects, npm package, cloud resources'),
    meta: { message: 'Service name', group: 'service', kind: 'text', hint: 'e.g. churn-api' },
  },
  description: {
    schema: oneLineText(300)
      .describe('One-line description of the service (README, package.json, OpenAPI)')
      .optional(),
    meta: { message: 'Description', group: 'service', kind: 'text', hint: 'one line' },
  },
  owner: {
    schema: dns1123Label.describe('Owning team: labels, tags, CODEOWNERS').default('ml-team'),
    meta: { message: 'Owner (team)', group: 'service', kind: 'text' },
  },
  costCenter: {
    schema: dns1123Label.describe('Cost centre tag on every cloud resource').default('ml'),
    meta: { message: 'Cost centre', group: 'service', kind: 'text' },
  },
  model: {
    schema: z
      .string()
      .min(1, 'must be a path to an .onnx file, or to the folder that holds it')
      .describe(
        'Path to the ONNX model, or the folder that holds it (its model.onnx, else its only .onnx file); model.schema.json beside it is read when present',
      ),
    meta: { message: 'Path to the ONNX model', group: 'model', kind: 'path', hint: './model.onnx' },
  },
  task: {
    schema: z
      .enum(taskKinds)
      .describe('Task kind; inferred from the model and its sidecar when not given')
      .optional(),
    meta: { message: 'Task kind', group: 'model', kind: 'choice', hint: 'inferred when left out' },
  },
  cloud: {
    schema: z.enum(cloudChoices).describe('Cloud targets for manifests and stacks').default('none'),
    meta: { message: 'Cloud targets', group: 'cloud', kind: 'choice' },
  },
  gcpProject: {
    schema: gcpProjectId.describe('GCP project id (required when cloud is gcp or both)').optional(),
    meta: { message: 'GCP project id', group: 'cloud', kind: 'text', when: usesGcp },
  },
  gcpRegion: {
    schema: gcpRegion.describe('GCP region').default('us-central1'),
    meta: { message: 'GCP region', group: 'cloud', kind: 'text', when: usesGcp },
  },
  awsAccountId: {
    schema: awsAccountId.describe('AWS account id (required when cloud is aws or both)').optional(),
    meta: { message: 'AWS account id', group: 'cloud', kind: 'text', when: usesAws },
  },
  awsRegion: {
    schema: awsRegion.describe('AWS region').default('us-east-1'),
    meta: { message: 'AWS region', group: 'cloud', kind: 'text', when: usesAws },
  },
  githubRepo: {
    schema: githubRepo
      .describe(
        'GitHub repository (owner/name) whose workflows deploy the service: the cloud deploy identities trust only it (required when cloud is not none; defaults to the origin remote when it is on GitHub)',
      )
      .optional(),
    meta: {
      message: 'GitHub repository that deploys it',
      group: 'cloud',
      kind: 'text',
      hint: 'owner/name',
      when: usesCloud,
    },
  },
  gcpProjectNumber: {
    schema: gcpProjectNumber
      .describe(
        'GCP project number: completes the Workload Identity provider name the deploy workflows use (gcloud projects describe <id> --format="value(projectNumber)")',
      )
      .optional(),
    meta: {
      message: 'GCP project number',
      group: 'cloud',
      kind: 'text',
      hint: 'optional; the bootstrap stack outputs it too',
      when: usesGcp,
    },
  },
  awsGithubOidcProvider: {
    schema: z
      .enum(githubOidcProviderChoices)
      .describe(
        "GitHub's OIDC provider in the AWS account: the bootstrap stack creates it, or references the one the account already has (an account holds one per URL)",
      )
      .default('create'),
    meta: {
      message: "GitHub's OIDC provider in the AWS account",
      group: 'cloud',
      kind: 'choice',
      when: usesAws,
    },
  },
  eksEndpoint: {
    schema: z
      .enum(eksEndpointChoices)
      .describe(
        'EKS API endpoint: public (IAM-authenticated, limited to eksPublicAccessCidrs; GitHub-hosted runners deploy) or private (deploy jobs need self-hosted runners in the VPC)',
      )
      .default('public'),
    meta: { message: 'EKS API endpoint', group: 'cloud', kind: 'choice', when: usesAws },
  },
  eksPublicAccessCidrs: {
    schema: z
      .array(ipv4Cidr)
      .min(1, 'must hold at least one CIDR block')
      .describe('CIDR blocks allowed to reach the public EKS API endpoint (comma-separated flag)')
      .default(['0.0.0.0/0']),
    meta: {
      message: 'CIDR blocks allowed to reach the EKS API',
      group: 'cloud',
      kind: 'list',
      hint: 'comma-separated, e.g. 203.0.113.0/24',
      when: usesAws,
    },
  },
  registry: {
    schema: dns1123Label
      .describe(
        'Container registry repository (Artifact Registry / ECR); defaults to the service name',
      )
      .optional(),
    meta: {
      message: 'Registry repository',
      group: 'cloud',
      kind: 'text',
      hint: 'defaults to the name',
    },
  },
  progressiveDelivery: {
    schema: z
      .boolean()
      .describe(
        'Canary delivery with Argo Rollouts: a Rollout with canary steps and Prometheus analysis (5xx ratio, p99 latency, live quality) instead of the Deployment; the cluster needs the Argo Rollouts controller and prometheus-operator (docs/adr/0018)',
      )
      .default(false),
    meta: {
      message: 'Canary delivery with Argo Rollouts',
      group: 'cloud',
      kind: 'boolean',
      hint: 'needs the Argo Rollouts controller in the cluster',
      when: usesCloud,
    },
  },
  minReplicas: {
    schema: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(100, 'must be at most 100')
      .describe('Minimum replicas in prod (dev runs 1, staging and prod at least 2)')
      .default(2),
    meta: { message: 'Minimum replicas (prod)', group: 'capacity', kind: 'number' },
  },
  maxReplicas: {
    schema: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(500, 'must be at most 500')
      .describe('Maximum replicas in prod')
      .default(10),
    meta: { message: 'Maximum replicas (prod)', group: 'capacity', kind: 'number' },
  },
  cpu: {
    schema: z
      .number()
      .min(0.5, 'must be at least 0.5 cores')
      .max(64, 'must be at most 64 cores')
      .refine((v) => Number.isInteger(v * 4), 'must be a multiple of 0.25 cores')
      .describe('CPU cores per pod (request = limit); the worker pool size follows it')
      .default(2),
    meta: { message: 'CPU cores per pod (request = limit)', group: 'capacity', kind: 'number' },
  },
  memory: {
    schema: memoryQuantity
      .describe(
        'Memory per pod (request = limit); when left out, sized from the model: at least 1Gi, enough for every thread that loads it',
      )
      .optional(),
    meta: {
      message: 'Memory per pod',
      group: 'capacity',
      kind: 'text',
      hint: 'empty: sized from the model (at least 1Gi)',
    },
  },
} satisfies Record<string, { schema: z.ZodType; meta: FieldMeta }>;

export type AnswerKey = keyof typeof answerFields;
export const answerKeys = Object.keys(answerFields) as AnswerKey[];

type Shape = { [K in AnswerKey]: (typeof answerFields)[K]['schema'] };
const shape = Object.fromEntries(answerKeys.map((k) => [k, answerFields[k].schema])) as Shape;

/** The complete answers: cross-field rules on top of the per-field types. */
export const answersSchema = z
  .object(shape)
  .strict()
  .superRefine((a, ctx) => {
    if (usesGcp(a) && !a.gcpProject) {
      ctx.addIssue({
        code: 'custom',
        path: ['gcpProject'],
        message: `is required when cloud is "${a.cloud}"`,
      });
    }
    if (usesAws(a) && !a.awsAccountId) {
      ctx.addIssue({
        code: 'custom',
        path: ['awsAccountId'],
        message: `is required when cloud is "${a.cloud}"`,
      });
    }
    if (usesCloud(a) && !a.githubRepo) {
      ctx.addIssue({
        code: 'custom',
        path: ['githubRepo'],
        message: `is required when cloud is "${a.cloud}" (the deploy identities trust only that repository)`,
      });
    }
    if (a.minReplicas > a.maxReplicas) {
      ctx.addIssue({
        code: 'custom',
        path: ['minReplicas'],
        message: `(${a.minReplicas}) must not exceed maxReplicas (${a.maxReplicas})`,
      });
    }
  });

export type Answers = z.output<typeof answersSchema>;
export type AnswersInput = z.input<typeof answersSchema>;

/** Does this question apply, given the answers so far? */
export function applies(key: AnswerKey, answers: CloudAware): boolean {
  const meta: FieldMeta = answerFields[key].meta;
  return meta.when ? meta.when(answers) : true;
}

/** Does the field have a value without asking (a schema default, or it is optional)? */
export function hasDefault(key: AnswerKey): boolean {
  return answerFields[key].schema.safeParse(undefined).success;
}

/** The JSON Schema of the answers file, for agents, editors and Backstage. */
export function answersJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(z.object(shape).strict(), { io: 'input' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/create-mlops-service/create-mlops-service/answers.schema.json',
    title: 'create-mlops-service answers',
    ...schema,
    allOf: [
      {
        if: { properties: { cloud: { enum: ['gcp', 'both'] } }, required: ['cloud'] },
        then: { required: ['gcpProject'] },
      },
      {
        if: { properties: { cloud: { enum: ['aws', 'both'] } }, required: ['cloud'] },
        then: { required: ['awsAccountId'] },
      },
      {
        if: { properties: { cloud: { enum: ['gcp', 'aws', 'both'] } }, required: ['cloud'] },
        then: { required: ['githubRepo'] },
      },
    ],
  };
}

/** Kebab-case flag of a field: `gcpProject` -> `gcp-project`. */
export function flagName(key: AnswerKey): string {
  return key.replace(/[A-Z]/g, (c: string) => `-${c.toLowerCase()}`);
}
