import { describe, expect, it } from 'vitest';
import { answerKeys, answersJsonSchema, answersSchema, dns1123Label, flagName } from './schema.js';
import {
  answersFromFile,
  mergeSources,
  missingAnswers,
  parseFlagValues,
  validateAnswers,
} from './resolve.js';
import { UsageError } from '../errors.js';

const minimal = { name: 'churn-api', model: './model.onnx' };

function issuesOf(raw: Record<string, unknown>): string[] {
  try {
    validateAnswers(raw);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return [...(err as UsageError).details];
  }
}

describe('service name', () => {
  it.each(['churn-api', 'ab', 'a1', `a${'b'.repeat(62)}`])('accepts %s', (name) => {
    expect(dns1123Label.safeParse(name).success).toBe(true);
  });
  it.each([
    ['../x', 'DNS-1123'],
    ['My Service', 'DNS-1123'],
    [`a${'b'.repeat(63)}`, 'at most 63'],
    ['-lead', 'DNS-1123'],
    ['trail-', 'DNS-1123'],
    ['under_score', 'DNS-1123'],
    ['1abc', 'DNS-1123'],
    ['a', 'at least 2'],
  ])('rejects %j naming the rule', (name, rule) => {
    const issues = issuesOf({ ...minimal, name });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain('--name');
    expect(issues[0]).toContain(JSON.stringify(name));
    expect(issues[0]).toContain(rule);
  });
});

describe('field validation', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['description with a newline', { description: 'line one\nline two' }, '--description'],
    ['description too long', { description: 'x'.repeat(301) }, 'at most 300'],
    ['owner not a label', { owner: 'ML Team' }, '--owner'],
    ['cost centre not a label', { costCenter: 'Cost/1' }, '--cost-center'],
    ['empty model path', { model: '' }, '--model'],
    ['unknown task', { task: 'clustering' }, '--task'],
    ['unknown cloud', { cloud: 'azure' }, '--cloud'],
    ['bad GCP project', { cloud: 'gcp', gcpProject: 'My_Project' }, '--gcp-project'],
    [
      'bad GCP region',
      { cloud: 'gcp', gcpProject: 'my-project-1', gcpRegion: 'central' },
      '--gcp-region',
    ],
    ['bad AWS account', { cloud: 'aws', awsAccountId: '1234' }, '--aws-account-id'],
    [
      'bad AWS region',
      { cloud: 'aws', awsAccountId: '123456789012', awsRegion: 'useast1' },
      '--aws-region',
    ],
    [
      'AWS China region',
      { cloud: 'aws', awsAccountId: '123456789012', awsRegion: 'cn-north-1' },
      'China partition',
    ],
    ['bad registry', { registry: 'Repo' }, '--registry'],
    ['min replicas zero', { minReplicas: 0 }, '--min-replicas'],
    ['fractional replicas', { maxReplicas: 2.5 }, '--max-replicas'],
    ['min above max', { minReplicas: 5, maxReplicas: 3 }, 'must not exceed maxReplicas'],
    ['cpu below half a core', { cpu: 0.25 }, '--cpu'],
    ['cpu not a quarter multiple', { cpu: 1.3 }, 'multiple of 0.25'],
    ['memory without unit', { memory: '512' }, '--memory'],
    ['gcp without project', { cloud: 'gcp' }, 'required when cloud is "gcp"'],
    ['aws without account', { cloud: 'aws' }, 'required when cloud is "aws"'],
    ['both without either', { cloud: 'both' }, '--aws-account-id'],
  ];
  it.each(cases)('%s is rejected', (_label, values, expected) => {
    const issues = issuesOf({ ...minimal, ...values });
    expect(issues.join('\n')).toContain(expected);
  });

  it('an unknown cloud lists what is allowed', () => {
    expect(issuesOf({ ...minimal, cloud: 'azure' }).join()).toMatch(/gcp.*aws.*both.*none/);
  });

  it('fills defaults and keeps what was given', () => {
    const a = validateAnswers({
      ...minimal,
      cloud: 'aws',
      awsAccountId: '123456789012',
      githubRepo: 'acme/churn-api',
    });
    expect(a).toMatchObject({
      name: 'churn-api',
      owner: 'ml-team',
      cloud: 'aws',
      awsRegion: 'us-east-1',
      minReplicas: 2,
      maxReplicas: 10,
      cpu: 2,
      awsGithubOidcProvider: 'create',
      eksEndpoint: 'public',
      eksPublicAccessCidrs: ['0.0.0.0/0'],
    });
    expect(a.description).toBeUndefined();
    expect(a.gcpProjectNumber).toBeUndefined();
    // Left out: sized from the model by the plan (plan/memory.ts).
    expect(a.memory).toBeUndefined();
  });

  it.each([
    ['a repository without owner', { githubRepo: 'churn-api' }, '--github-repo "churn-api"'],
    ['a URL for a repository', { githubRepo: 'https://github.com/a/b' }, '"owner/name"'],
    ['a project id for a number', { gcpProjectNumber: 'acme-ml' }, '--gcp-project-number'],
    ['an unknown OIDC choice', { awsGithubOidcProvider: 'import' }, '--aws-github-oidc-provider'],
    ['an unknown endpoint', { eksEndpoint: 'internal' }, '--eks-endpoint'],
    ['a host for a CIDR', { eksPublicAccessCidrs: ['example.com'] }, '--eks-public-access-cidrs'],
    ['an octet past 255', { eksPublicAccessCidrs: ['300.0.0.0/8'] }, 'IPv4 CIDR'],
    ['no CIDR at all', { eksPublicAccessCidrs: [] }, 'at least one CIDR'],
  ])('rejects %s, naming the flag', (_what, bad, expected) => {
    const cloud = { cloud: 'both', gcpProject: 'my-project-1', awsAccountId: '123456789012' };
    const issues = issuesOf({ ...minimal, ...cloud, githubRepo: 'acme/churn-api', ...bad });
    expect(issues.join('\n')).toContain(expected);
  });

  it('a cloud needs the GitHub repository that deploys it; no cloud does not', () => {
    const gcp = { ...minimal, cloud: 'gcp', gcpProject: 'my-project-1' };
    expect(issuesOf(gcp).join()).toContain(
      '--github-repo (missing): is required when cloud is "gcp"',
    );
    expect(validateAnswers({ ...gcp, githubRepo: 'Acme-Org/churn.api_2' }).githubRepo).toBe(
      'Acme-Org/churn.api_2',
    );
    expect(validateAnswers(minimal).githubRepo).toBeUndefined();
  });

  it('list answers are typed comma-separated on the command line', () => {
    expect(parseFlagValues({ eksPublicAccessCidrs: '203.0.113.0/24, 198.51.100.7/32' })).toEqual({
      eksPublicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
    });
  });

  it('rejects unknown keys', () => {
    expect(issuesOf({ ...minimal, colour: 'blue' }).join()).toContain('colour');
  });
});

describe('resolution order', () => {
  const contextual = { model: '/embedded/model.onnx' };

  it('flag over answers file over default', () => {
    const merged = mergeSources({
      flags: { owner: 'flag-team' },
      file: { owner: 'file-team', costCenter: 'file-cc', name: 'file-name' },
      contextual,
      yes: true,
    });
    const a = validateAnswers(merged);
    expect(a.owner).toBe('flag-team');
    expect(a.costCenter).toBe('file-cc');
    expect(a.name).toBe('file-name');
    expect(a.model).toBe('/embedded/model.onnx');
    expect(a.memory).toBeUndefined();
  });

  it('contextual defaults apply only with --yes', () => {
    expect(mergeSources({ flags: {}, contextual, yes: false })).toEqual({});
    expect(missingAnswers(mergeSources({ flags: {}, contextual, yes: false }))).toEqual([
      'name',
      'model',
    ]);
    expect(missingAnswers(mergeSources({ flags: {}, contextual, yes: true }))).toEqual(['name']);
    expect(
      missingAnswers(
        mergeSources({ flags: {}, file: { name: 'from-dir' }, contextual, yes: true }),
      ),
    ).toEqual([]);
  });

  it('a cloud makes its account a missing answer even under --yes', () => {
    expect(missingAnswers({ ...minimal, cloud: 'both' })).toEqual([
      'gcpProject',
      'awsAccountId',
      'githubRepo',
    ]);
    expect(missingAnswers({ ...minimal, cloud: 'gcp', gcpProject: 'my-project-1' })).toEqual([
      'githubRepo',
    ]);
    expect(
      missingAnswers({
        ...minimal,
        cloud: 'gcp',
        gcpProject: 'my-project-1',
        githubRepo: 'acme/churn-api',
      }),
    ).toEqual([]);
    expect(missingAnswers(minimal)).toEqual([]);
  });

  it('number flags are parsed, and a non-number names the flag', () => {
    expect(parseFlagValues({ minReplicas: '3', cpu: '1.5', owner: 'x' })).toEqual({
      minReplicas: 3,
      cpu: 1.5,
      owner: 'x',
    });
    expect(() => parseFlagValues({ maxReplicas: 'ten' })).toThrow(
      '--max-replicas "ten" is not a number',
    );
  });

  it('boolean flags take true/false (or yes/no), default to false, and refuse anything else', () => {
    expect(parseFlagValues({ progressiveDelivery: 'true' })).toEqual({ progressiveDelivery: true });
    expect(parseFlagValues({ progressiveDelivery: 'no' })).toEqual({ progressiveDelivery: false });
    expect(() => parseFlagValues({ progressiveDelivery: 'on please' })).toThrow(
      '--progressive-delivery "on please" is not true or false',
    );
    const parsed = answersSchema.parse({ name: 'churn-api', model: 'm.onnx' });
    expect(parsed.progressiveDelivery).toBe(false);
    expect(
      answersSchema.safeParse({ name: 'churn-api', model: 'm.onnx', progressiveDelivery: 'yes' })
        .success,
    ).toBe(false);
  });

  it('an answers file may be the record a project keeps', () => {
    expect(answersFromFile({ schemaVersion: 1, answers: { name: 'x1' } }, 'f')).toEqual({
      name: 'x1',
    });
    expect(() => answersFromFile({ nmae: 'typo' }, 'answers.json')).toThrow(
      'unknown question "nmae"',
    );
    expect(() => answersFromFile([1, 2], 'answers.json')).toThrow('JSON object');
  });
});

describe('JSON Schema export', () => {
  const schema = answersJsonSchema() as {
    properties: Record<
      string,
      { default?: unknown; enum?: unknown[]; pattern?: string; description?: string }
    >;
    required: string[];
    additionalProperties: boolean;
  };
  it('has every question, with descriptions', () => {
    expect(Object.keys(schema.properties).sort()).toEqual([...answerKeys].sort());
    for (const key of answerKeys) expect(schema.properties[key]!.description, key).toBeTruthy();
  });
  it('carries requirements, defaults, enums and patterns', () => {
    expect(schema.required.sort()).toEqual(['model', 'name']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.cloud!.enum).toEqual(['gcp', 'aws', 'both', 'none']);
    expect(schema.properties.cpu!.default).toBe(2);
    expect(new RegExp(schema.properties.name!.pattern!).test('churn-api')).toBe(true);
    expect(new RegExp(schema.properties.name!.pattern!).test('My Service')).toBe(false);
  });
  it('states the new cloud questions and that a cloud requires the repository', () => {
    expect(schema.properties.githubRepo!.pattern).toBeDefined();
    expect(schema.properties.awsGithubOidcProvider!.enum).toEqual(['create', 'existing']);
    expect(schema.properties.eksEndpoint!.enum).toEqual(['public', 'private']);
    expect(schema.properties.eksPublicAccessCidrs!.default).toEqual(['0.0.0.0/0']);
    expect(schema.properties.gcpProjectNumber!.pattern).toBeDefined();
    const rules = (schema as unknown as { allOf: Array<{ then: { required: string[] } }> }).allOf;
    expect(rules.map((r) => r.then.required)).toContainEqual(['githubRepo']);
  });
  it('agrees with the zod schema on the cross-field rule', () => {
    expect(JSON.stringify(schema)).toContain('gcpProject');
    expect(answersSchema.safeParse({ ...minimal, cloud: 'gcp' }).success).toBe(false);
  });
  it('flags are the kebab-case of the keys', () => {
    expect(flagName('gcpProject')).toBe('gcp-project');
    expect(flagName('awsAccountId')).toBe('aws-account-id');
  });
});
