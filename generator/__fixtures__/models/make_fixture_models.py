"""Builds the tiny ONNX fixture models of the generator's tests (run with /usr/bin/python3).

They stand for the three shapes of model the generator must serve (tabular with string and float
columns, text, regression over one float matrix) plus one it must refuse (an image tensor), and are
committed so the tests need no Python. `npm run fixtures:models` rebuilds them byte for byte.
"""
import json
import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = [helper.make_opsetid("", 17)]


def save(model, name):
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name))


def tabular():
    """Per-column inputs like a scikit-learn pipeline export: P(exit) from age, balance, country."""
    n = "N"
    inputs = [
        helper.make_tensor_value_info("Geography", TensorProto.STRING, [n, 1]),
        helper.make_tensor_value_info("Age", TensorProto.FLOAT, [n, 1]),
        helper.make_tensor_value_info("Balance", TensorProto.FLOAT, [n, 1]),
    ]
    outputs = [
        helper.make_tensor_value_info("label", TensorProto.INT64, [n]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [n, 2]),
    ]
    c = lambda name, v: helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.FLOAT, [], [v]))
    nodes = [
        c("c_age", 0.08), c("c_mid", 40.0), c("c_bal", 0.00001), c("c_de", 0.7), c("one", 1.0),
        helper.make_node("LabelEncoder", ["Geography"], ["is_de"], domain="ai.onnx.ml",
                         keys_strings=["France", "Germany", "Spain"], values_floats=[0.0, 1.0, 0.0], default_float=0.0),
        helper.make_node("Sub", ["Age", "c_mid"], ["age_c"]),
        helper.make_node("Mul", ["age_c", "c_age"], ["t_age"]),
        helper.make_node("Mul", ["Balance", "c_bal"], ["t_bal"]),
        helper.make_node("Mul", ["is_de", "c_de"], ["t_de"]),
        helper.make_node("Sum", ["t_age", "t_bal", "t_de"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["p1"]),
        helper.make_node("Sub", ["one", "p1"], ["p0"]),
        helper.make_node("Concat", ["p0", "p1"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(nodes, "tabular_fixture", inputs, outputs)
    opsets = OPSET + [helper.make_opsetid("ai.onnx.ml", 3)]
    save(helper.make_model(graph, opset_imports=opsets, producer_name="create-mlops-service-fixtures"), "tabular.onnx")
    sidecar = {
        "schemaVersion": 1,
        "name": "tabular-fixture",
        "version": "0.1.0",
        "task": "binary",
        "description": "Fixture: churn-like logistic model over three columns.",
        "features": [
            {"name": "Geography", "type": "category", "categories": ["France", "Germany", "Spain"], "description": "Country of residence"},
            {"name": "Age", "type": "integer", "min": 18, "max": 100, "description": "Age in years"},
            {"name": "Balance", "type": "number", "min": 0, "max": 300000, "description": "Account balance"},
        ],
        "labels": ["stayed", "exited"],
        "positiveLabel": "exited",
        "threshold": 0.35,
        "thresholdRationale": "Fixture value.",
    }
    with open(os.path.join(HERE, "tabular.schema.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")


def text():
    """One string column in, three class probabilities out (uniform: the shape is what matters)."""
    inputs = [helper.make_tensor_value_info("text", TensorProto.STRING, ["N", 1])]
    outputs = [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3]),
    ]
    nodes = [
        helper.make_node("Shape", ["text"], ["shape"], end=1),
        helper.make_node("Constant", [], ["three"], value=helper.make_tensor("three", TensorProto.INT64, [1], [3])),
        helper.make_node("Concat", ["shape", "three"], ["out_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["out_shape"], ["probabilities"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0 / 3])),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(nodes, "text_fixture", inputs, outputs)
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="create-mlops-service-fixtures"), "text.onnx")


def regression():
    """One float matrix [N, 4] in, one value out: feature names come from defaults (x0..x3)."""
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 4])]
    outputs = [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["N", 1])]
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 1], [0.5, 1.0, -0.25, 2.0])
    b = helper.make_tensor("b", TensorProto.FLOAT, [1], [3.0])
    nodes = [helper.make_node("MatMul", ["input", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["prediction"])]
    graph = helper.make_graph(nodes, "regression_fixture", inputs, outputs, initializer=[w, b])
    save(helper.make_model(graph, opset_imports=OPSET, producer_name="create-mlops-service-fixtures"), "regression.onnx")


def image():
    """An image model: a 4-D input the generated service cannot take from JSON records."""
    inputs = [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 3, 8, 8])]
    outputs = [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["N", 1])]
    nodes = [helper.make_node("ReduceMean", ["pixels"], ["m"], axes=[1, 2, 3], keepdims=0),
             helper.make_node("Unsqueeze", ["m", "ax"], ["mean"])]
    ax = helper.make_tensor("ax", TensorProto.INT64, [1], [1])
    graph = helper.make_graph(nodes, "image_fixture", inputs, outputs, initializer=[ax])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="create-mlops-service-fixtures"), "image.onnx")


if __name__ == "__main__":
    tabular()
    text()
    regression()
    image()
    with open(os.path.join(HERE, "corrupt.onnx"), "wb") as f:
        f.write(b"this is not an onnx model, it is plain text pretending to be one\n")
    print("fixtures written to", HERE)
