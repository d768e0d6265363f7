/**
 * The model this service serves, as create-mlops-service read it from the ONNX graph and
 * model/model.schema.json. Generated: change the model or its sidecar and run `npx
 * create-mlops-service upgrade` rather than editing this file.
 */
import type { ModelContract } from './contract-types.js';

export const contract: ModelContract = {
  "name": "chicago-taxi",
  "version": "1.0.0",
  "sha256": "49fda53bb3530b53757ffdd5a294078b6c84edb68685b8233e297855813b906d",
  "bytes": 240679,
  "inputs": [
    {
      "name": "hour",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "day_of_week",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "is_weekend",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "pickup_community_area",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "trip_count_lag_1h",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "trip_count_lag_24h",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "trip_count_lag_168h",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    },
    {
      "name": "trip_count_rolling_24h",
      "type": "float32",
      "shape": [
        "N",
        1
      ]
    }
  ],
  "outputs": [
    {
      "name": "prediction",
      "type": "float32",
      "shape": [
        "N",
        1
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
  "description": "Predicts the number of taxi trips starting in a Chicago community area in a given hour, from the hour, weekday, area and recent demand (lags).",
  "kind": "records",
  "task": "regression",
  "layout": "columns",
  "batching": {
    "mode": "merge"
  },
  "features": [
    {
      "name": "hour",
      "description": "Hour of day (0-23) of the predicted hour",
      "input": "hour",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 0,
      "max": 23
    },
    {
      "name": "day_of_week",
      "description": "Day of week, 1 = Sunday ... 7 = Saturday (Spark)",
      "input": "day_of_week",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 1,
      "max": 7
    },
    {
      "name": "is_weekend",
      "description": "1 on Saturday and Sunday",
      "input": "is_weekend",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 0,
      "max": 1
    },
    {
      "name": "pickup_community_area",
      "description": "Chicago community area (1-77)",
      "input": "pickup_community_area",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 1,
      "max": 77
    },
    {
      "name": "trip_count_lag_1h",
      "description": "Trips in this area in the previous hour",
      "input": "trip_count_lag_1h",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 0
    },
    {
      "name": "trip_count_lag_24h",
      "description": "Trips in this area 24 hours earlier",
      "input": "trip_count_lag_24h",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 0
    },
    {
      "name": "trip_count_lag_168h",
      "description": "Trips in this area 168 hours (1 week) earlier",
      "input": "trip_count_lag_168h",
      "column": 0,
      "tensorType": "float32",
      "type": "integer",
      "nullable": false,
      "min": 0
    },
    {
      "name": "trip_count_rolling_24h",
      "description": "Mean hourly trips in this area over the previous 24 hours",
      "input": "trip_count_rolling_24h",
      "column": 0,
      "tensorType": "float32",
      "type": "number",
      "nullable": false,
      "min": 0
    }
  ],
  "outputNames": {
    "prediction": "prediction"
  },
  "extraOutputs": [],
  "labels": [],
  "monitoring": {
    "slices": [],
    "minSamples": 200,
    "tolerance": 0.05
  }
};
