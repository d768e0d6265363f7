/**
 * Labels (GCP) and tags (AWS) on every resource: service, environment, owner, cost centre. An aspect
 * stamps them on every resource that accepts them, so a resource added later cannot miss them;
 * `test/*.test.ts` checks the synthesized stacks.
 */
import { Aspects, type IAspect, TerraformResource } from 'cdktf';
import type { IConstruct } from 'constructs';
import { costCenter, owner, service } from '../../plan.js';

/** Same keys on both clouds; values are DNS-1123 labels, valid as GCP label values and AWS tags. */
export function resourceLabels(environment: string): Record<string, string> {
  return {
    service: service.service,
    environment,
    owner,
    'cost-center': costCenter,
    'managed-by': service.labels['app.kubernetes.io/managed-by'],
  };
}

/** The fields that carry labels or tags, by provider. */
export const labelFields = {
  gcp: ['labels', 'resourceLabels'],
  aws: ['tags'],
} as const;

/** Whether a resource accepts `field` (the generated bindings expose `<field>Input` for it). */
export function acceptsField(resource: TerraformResource, field: string): boolean {
  return `${field}Input` in resource;
}

class LabelAspect implements IAspect {
  constructor(
    private readonly labels: Record<string, string>,
    private readonly fields: readonly string[],
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource)) return;
    const target = node as unknown as Record<string, unknown>;
    for (const field of this.fields) {
      if (!acceptsField(node, field)) continue;
      const current = (target[`${field}Input`] as Record<string, string> | undefined) ?? {};
      // The common labels win: a resource may add its own (e.g. Name) but not contradict them.
      target[field] = { ...current, ...this.labels };
    }
  }
}

export function labelEveryResource(
  scope: IConstruct,
  labels: Record<string, string>,
  fields: readonly string[],
): void {
  Aspects.of(scope).add(new LabelAspect(labels, fields));
}
