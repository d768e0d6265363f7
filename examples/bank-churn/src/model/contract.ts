/**
 * The model this service serves, as create-mlops-service read it from the ONNX graph and
 * model/model.schema.json. Generated: change the model or its sidecar and run `npx
 * create-mlops-service upgrade` rather than editing this file.
 */
import type { ModelContract } from './contract-types.js';

export const contract: ModelContract = {
  "name": "bank-churn",
  "version": "1.0.0",
  "sha256": "e41a0b55fdd9b72ed35a3fdfab04160555108ca07d75e4dd4c9967275087b368",
  "bytes": 1757476,
  "inputs": [
    {
      "name": "CreditScore",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "Geography",
      "type": "string",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "Gender",
      "type": "string",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "Age",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "Tenure",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "Balance",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "NumOfProducts",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "HasCrCard",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "IsActiveMember",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "EstimatedSalary",
      "type": "float32",
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
        2
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
  "description": "Predicts whether a retail bank customer will leave the bank (churn) from 10 account attributes.",
  "kind": "records",
  "task": "binary",
  "layout": "columns",
  "batching": {
    "mode": "merge"
  },
  "features": [
    {
      "name": "CreditScore",
      "description": "Credit score (FICO-like)",
      "input": "CreditScore",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 300,
      "max": 850
    },
    {
      "name": "Geography",
      "description": "Country of the customer's branch",
      "input": "Geography",
      "column": 0,
      "tensorType": "string",
      "type": "category",
      "categories": [
        "France",
        "Germany",
        "Spain"
      ],
      "nullable": false
    },
    {
      "name": "Gender",
      "description": "Customer gender as recorded by the bank",
      "input": "Gender",
      "column": 0,
      "tensorType": "string",
      "type": "category",
      "categories": [
        "Female",
        "Male"
      ],
      "nullable": false
    },
    {
      "name": "Age",
      "description": "Age in years",
      "input": "Age",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 18,
      "max": 100
    },
    {
      "name": "Tenure",
      "description": "Years as a customer; missing is imputed (median)",
      "input": "Tenure",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": true,
      "min": 0,
      "max": 10
    },
    {
      "name": "Balance",
      "description": "Account balance",
      "input": "Balance",
      "column": 0,
      "tensorType": "float32",
      "type": "number",
      "nullable": false,
      "min": 0
    },
    {
      "name": "NumOfProducts",
      "description": "Number of bank products held",
      "input": "NumOfProducts",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 1,
      "max": 4
    },
    {
      "name": "HasCrCard",
      "description": "1 if the customer has a credit card",
      "input": "HasCrCard",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 0,
      "max": 1
    },
    {
      "name": "IsActiveMember",
      "description": "1 if the customer is active",
      "input": "IsActiveMember",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 0,
      "max": 1
    },
    {
      "name": "EstimatedSalary",
      "description": "Estimated yearly salary",
      "input": "EstimatedSalary",
      "column": 0,
      "tensorType": "float32",
      "type": "number",
      "nullable": false,
      "min": 0
    }
  ],
  "outputNames": {
    "label": "label",
    "probabilities": "probabilities"
  },
  "extraOutputs": [],
  "labels": [
    "stayed",
    "exited"
  ],
  "scores": "probabilities",
  "positiveLabel": "exited",
  "threshold": 0.35,
  "thresholdRationale": "A missed churner (lost lifetime value, ~$1.5-3k) costs ~30x an unnecessary retention offer (~$50), so the bank trades precision for recall: customers with P(exit) \u003e= 0.35 get an offer instead of \u003e= 0.5. The cut stays well above the naive cost-optimal 1/31 because an offer saves only some of the churners it reaches and the retention team's capacity is limited (portfolio model card operating point).",
  "monitoring": {
    "entityId": "customerId",
    "slices": [
      {
        "feature": "Geography"
      },
      {
        "feature": "Age",
        "edges": [
          30,
          45,
          60
        ]
      }
    ],
    "minSamples": 200,
    "tolerance": 0.05
  }
};
