/**
 * The model this service serves, as create-mlops-service read it from the ONNX graph and
 * model/model.schema.json. Generated: change the model or its sidecar and run `npx
 * create-mlops-service upgrade` rather than editing this file.
 */
import type { ModelContract } from './contract-types.js';

export const contract: ModelContract = {
  "name": "nlp-insight",
  "version": "1.0.0",
  "sha256": "7f2f339515ab265ef8c15e63912a9fb5f4fcc8d885c85b33d53485cdde3e86f7",
  "bytes": 483434,
  "inputs": [
    {
      "name": "text",
      "type": "string",
      "shape": [
        "N",
        1
      ]
    }
  ],
  "outputs": [
    {
      "name": "label",
      "type": "int64",
      "shape": [
        "N"
      ]
    },
    {
      "name": "probabilities",
      "type": "float32",
      "shape": [
        "N",
        3
      ]
    }
  ],
  "unknownCategories": "reject",
  "artifacts": {
    "driftBaseline": "drift_baseline.json",
    "background": "background.json",
    "golden": "golden.json",
    "metrics": "metrics.json",
    "modelCard": "MODEL_CARD.md",
    "lineage": "lineage.json"
  },
  "described": true,
  "description": "Classifies the sentiment of a financial headline or tweet as negative, neutral or positive.",
  "kind": "records",
  "task": "text-classification",
  "layout": "columns",
  "batching": {
    "mode": "merge"
  },
  "features": [
    {
      "name": "text",
      "description": "Financial headline or tweet (English)",
      "input": "text",
      "column": 0,
      "tensorType": "string",
      "type": "text",
      "minLength": 1,
      "maxLength": 5000
    }
  ],
  "outputNames": {
    "label": "label",
    "probabilities": "probabilities"
  },
  "extraOutputs": [],
  "labels": [
    "negative",
    "neutral",
    "positive"
  ],
  "scores": "probabilities",
  "monitoring": {
    "slices": [],
    "minSamples": 200,
    "tolerance": 0.05
  }
};
