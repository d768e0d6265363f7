import { answersJsonSchema } from '../answers/schema.js';
import { sidecarSchema } from '../model/sidecar.js';
import { z } from 'zod';

/** `create-mlops-service schema [--model-sidecar]`: JSON Schema of the answers file (or of the sidecar). */
export function schemaCommand(options: { sidecar: boolean }): string {
  const schema = options.sidecar
    ? {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        title: 'model.schema.json',
        ...(z.toJSONSchema(sidecarSchema, { io: 'input', unrepresentable: 'any' }) as object),
      }
    : answersJsonSchema();
  return `${JSON.stringify(schema, null, 2)}\n`;
}
