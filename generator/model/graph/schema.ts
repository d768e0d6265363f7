/**
 * ONNX's own schema (the vendored `onnx-ml.proto`), parsed once with protobufjs. The file is read
 * from the package root so the same path serves the sources (tests, tsx) and the build
 * (`dist/generator/model/graph/*.js`); package.json "files" ships it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import protobuf from 'protobufjs';
import { packageRoot } from '../../version.js';
import { preserveUnknownFields } from './unknown-fields.js';

export const onnxProtoPath = resolve(packageRoot, 'generator/model/graph/onnx-ml.proto');

export interface OnnxTypes {
  readonly model: protobuf.Type;
  readonly graph: protobuf.Type;
  readonly node: protobuf.Type;
  readonly attribute: protobuf.Type;
  readonly valueInfo: protobuf.Type;
  readonly typeProto: protobuf.Type;
  readonly tensor: protobuf.Type;
  readonly operatorSetId: protobuf.Type;
}

let types: OnnxTypes | undefined;

/** The message types, parsed on first use. */
export function onnxTypes(): OnnxTypes {
  if (types) return types;
  const { root } = protobuf.parse(readFileSync(onnxProtoPath, 'utf8'), { keepCase: true });
  root.resolveAll();
  preserveUnknownFields(root);
  const t = (name: string) => root.lookupType(`onnx.${name}`);
  types = {
    model: t('ModelProto'),
    graph: t('GraphProto'),
    node: t('NodeProto'),
    attribute: t('AttributeProto'),
    valueInfo: t('ValueInfoProto'),
    typeProto: t('TypeProto'),
    tensor: t('TensorProto'),
    operatorSetId: t('OperatorSetIdProto'),
  };
  return types;
}
