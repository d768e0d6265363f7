import { TerraformResource, type TerraformStack } from 'cdktf';
import { acceptsField } from '../../lib/labels.js';
import type { TerraformJson } from './synth.js';

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Every resource of the stack that accepts one of `fields`, with the labels it was synthesized
 * with, so a test can require the common labels on each.
 */
export function labelledResources(
  stack: TerraformStack,
  tf: TerraformJson,
  fields: readonly string[],
): Array<{ address: string; field: string; labels: Record<string, string> | undefined }> {
  const out: Array<{ address: string; field: string; labels: Record<string, string> | undefined }> =
    [];
  for (const c of stack.node.findAll()) {
    if (!(c instanceof TerraformResource)) continue;
    const type = c.terraformResourceType;
    const name = c.friendlyUniqueId;
    for (const field of fields) {
      if (!acceptsField(c, field)) continue;
      const block = tf.resource?.[type]?.[name];
      out.push({
        address: `${type}.${name}`,
        field,
        labels: block?.[snake(field)] as Record<string, string> | undefined,
      });
    }
  }
  return out;
}
