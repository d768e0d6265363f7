"""Builds the "wild" fixture corpus: ONNX files shaped the way users' own exporters write them.

Run with Debian's python3 (`/usr/bin/python3`: onnx 1.12, scikit-learn 1.2.1, numpy, pandas). There
is no skl2onnx, onnxmltools, torch or CatBoost on the build machine, so each builder below
re-creates, node by node, the graph that the named tool version emits (op types, domains, attribute
names and values, variable and node names, value types and their unnamed or symbolic dims, opset
imports, producer fields), from the tool's source cited at the top of the builder. The weights are
those of real scikit-learn estimators fitted on seeded generated data (CatBoost's symmetric trees
are fitted in numpy), so `manifest.json` can carry inputs and the model's outputs for them.

Deterministic: the same bytes on every run (seeded `np.random.default_rng`, fixed random_state,
graph names derived from the file name instead of skl2onnx's `uuid4().hex`). `transformer/` is built
by its own script and is not touched here.
"""
import hashlib
import json
import os

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper, numpy_helper
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import (GradientBoostingClassifier, HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              IsolationForest, RandomForestClassifier)
from sklearn.ensemble._iforest import _average_path_length
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier
from sklearn.svm import SVC, LinearSVC, OneClassSVM
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ML = "ai.onnx.ml"

# skl2onnx 1.13 (Sept 2022, the release that supports scikit-learn 1.2 and onnx 1.12): default
# target_opset 17. skl2onnx/common/_topology.py convert_topology sets these fields; the IR version
# is OPSET_TO_IR_VERSION[17] = 8.
SKL2ONNX = dict(producer_name="skl2onnx", producer_version="1.13", domain="ai.onnx", model_version=0)
# onnxmltools 1.11 with onnxconverter-common 1.13: convert_topology in onnxconverter_common fills
# these from onnxconverter_common/__init__.py (__producer__ "OnnxMLTools", __domain__
# "onnxconverter-common", __producer_version__ = the onnxconverter-common version).
ONNXMLTOOLS = dict(producer_name="OnnxMLTools", producer_version="1.13.0", domain="onnxconverter-common", model_version=0)
# torch.onnx.export (TorchScript exporter, torch 2.0.x): producer "pytorch", producer_version the
# torch version, graph name "main_graph", no domain, no doc strings (strip_doc_string when not verbose).
PYTORCH = dict(producer_name="pytorch", producer_version="2.0.1")

manifest = []

ZIPMAP_ORT = ("onnxruntime-node 1.30 loads it, but run() fetching all outputs fails with 'Non tensor type is "
              "temporarily not supported.' (the seq(map) ZipMap output); fetching only the label output works and "
              "matches scikit-learn's predict; with the ZipMap node removed, its float input matches predict_proba.")


def uuid_hex(name):
    """skl2onnx and onnxmltools name the graph str(uuid4().hex); a stable stand-in of the same form."""
    return hashlib.md5(name.encode()).hexdigest()


def opsets(*pairs):
    return [helper.make_opsetid(d, v) for d, v in pairs]


def finish(graph, opset_list, meta, file, check=True):
    model = helper.make_model(graph, opset_imports=opset_list)
    model.ir_version = 8
    for k, v in meta.items():
        setattr(model, k, v)
    if "doc_string" not in meta and meta.get("producer_name") in ("skl2onnx", "OnnxMLTools"):
        model.doc_string = ""
    if check:
        onnx.checker.check_model(model)
    with open(os.path.join(HERE, file), "wb") as f:
        f.write(model.SerializeToString())
    return model


def tensor_vi(name, elem, shape):
    """A tensor ValueInfo; None dims are left with neither dim_value nor dim_param (skl2onnx/
    onnxconverter_common data_types.TensorType.to_onnx_type does `if d is None: pass`)."""
    return helper.make_tensor_value_info(name, elem, shape)


def seq_map_vi(name, key_elem, value_elem=TensorProto.FLOAT):
    """ZipMap output as skl2onnx declares it: SequenceType(DictionaryType(label_type,
    FloatTensorType())) (DoubleTensorType() when the probabilities are double); the value tensor has
    an element type and no shape field at all."""
    t = onnx.TypeProto()
    m = t.sequence_type.elem_type.map_type
    m.key_type = key_elem
    m.value_type.tensor_type.elem_type = value_elem
    return helper.make_value_info(name, t)


def f32(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).ravel()]


def add_manifest(entry):
    manifest.append(entry)


# --------------------------------------------------------------------------------------------
# 1. skl2onnx: Pipeline(StandardScaler, LogisticRegression), binary, int labels, float_input [None, 4]
# --------------------------------------------------------------------------------------------
def skl_logreg_float_input():
    """Mimics skl2onnx 1.13 `convert_sklearn(pipe, initial_types=[('float_input',
    FloatTensorType([None, 4]))])`:
    - skl2onnx/_parse.py: the scaler's output is declared 'variable', the classifier's 'label' and
      'probabilities', and _apply_zipmap adds 'output_label' (Int64TensorType([None])) and
      'output_probability' (SequenceType(DictionaryType(Int64TensorType, FloatTensorType()))).
    - operator_converters/scaler_op.py: Scaler(offset=mean_, scale=1/scale_), node name 'Scaler'.
    - operator_converters/linear_classifier.py (1.13: `multi_class = 2` whenever the estimator has
      multi_class != 'ovr', so the attribute is 1; binary 'auto' is ovr -> post_transform LOGISTIC;
      binary coefficients are [-coef, coef] and intercepts [-b, b]; multi_class > 0 -> the
      LinearClassifier writes 'probability_tensor' and a Normalizer(norm='L1') writes
      'probabilities').
    - operator_converters/zip_map.py: Cast(to=INT64) 'label' -> 'output_label' and ZipMap with
      classlabels_int64s.
    - opsets: Cast is added with op_version 13, the ai.onnx.ml ops with 1.
    """
    rng = np.random.default_rng(101)
    n = 400
    X = np.column_stack([
        rng.normal(50, 12, n),      # e.g. age
        rng.normal(3, 1.5, n),      # products
        rng.normal(0, 1, n),        # score
        rng.normal(60000, 20000, n),  # balance
    ]).astype(np.float32).astype(np.float64)
    z = 0.08 * (X[:, 0] - 50) - 0.6 * (X[:, 1] - 3) + 0.9 * X[:, 2] + 0.00003 * (X[:, 3] - 60000)
    y = (z + rng.logistic(0, 1, n) > 0).astype(np.int64)
    pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)
    sc, lr = pipe.steps[0][1], pipe.steps[1][1]
    coef = lr.coef_.ravel().astype(float).tolist()
    b = lr.intercept_.tolist()
    nodes = [
        helper.make_node("Scaler", ["float_input"], ["variable"], name="Scaler", domain=ML,
                         offset=sc.mean_.tolist(), scale=(1.0 / sc.scale_).tolist()),
        helper.make_node("LinearClassifier", ["variable"], ["label", "probability_tensor"], name="LinearClassifier",
                         domain=ML, classlabels_ints=[0, 1], coefficients=[-c for c in coef] + coef,
                         intercepts=[-v for v in b] + b, multi_class=1, post_transform="LOGISTIC"),
        helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"], name="Normalizer", domain=ML, norm="L1"),
        helper.make_node("Cast", ["label"], ["output_label"], name="Cast", to=TensorProto.INT64),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                         classlabels_int64s=[0, 1]),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-logreg-float-input"),
        [tensor_vi("float_input", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("output_label", TensorProto.INT64, [None]), seq_map_vi("output_probability", TensorProto.INT64)],
    )
    finish(graph, opsets(("", 13), (ML, 1)), SKL2ONNX, "skl-logreg-float-input.onnx")
    S = np.round(X[[0, 1, 2, 3, 4, 5]], 3)
    add_manifest({
        "file": "skl-logreg-float-input.onnx",
        "mimics": "skl2onnx 1.13 convert_sklearn(Pipeline(StandardScaler, LogisticRegression)), "
                  "initial_types=[('float_input', FloatTensorType([None, 4]))]; skl2onnx/_parse.py, "
                  "operator_converters/{scaler_op,linear_classifier,zip_map}.py",
        "accept": True, "task": "binary", "labels": ["0", "1"], "batching": "merge",
        "samples": {"inputs": {"float_input": S.tolist()},
                    "predict": pipe.predict(S).tolist(),
                    "predict_proba": pipe.predict_proba(S).tolist()},
        "tolerance": 1e-5,
        "notes": "Outputs output_label int64 [?] and output_probability seq(map(int64, tensor(float))) from ZipMap; "
                 "dims are unnamed (skl2onnx writes None as an empty dim). LinearClassifier multi_class=1 + "
                 "Normalizer(L1) as skl2onnx <= 1.16 writes a binary LogisticRegression. Labels are ints 0/1.",
        "zipmapInput": "probabilities",
        "ort": ZIPMAP_ORT,
    })


# --------------------------------------------------------------------------------------------
# 2. skl2onnx: RandomForestClassifier, 3 string classes
# --------------------------------------------------------------------------------------------
def sklearn_threshold_f32(dy):
    """skl2onnx/common/tree_ensemble.py sklearn_threshold(dy, np.float32, 'BRANCH_LEQ'):
    the float32 w with (float)x <= dy <=> (float)x <= w."""
    fy = np.float32(dy)
    if fy == dy or fy < dy:
        return np.float64(fy)
    eps = max(abs(fy), np.finfo(np.float32).eps) * 10
    nfy = np.nextafter(np.array([fy], dtype=np.float32), np.array([fy - eps], dtype=np.float32))[0]
    return np.float64(nfy)


def _skl_forest_attrs(rf, threshold):
    """A fitted RandomForestClassifier's TreeEnsembleClassifier attributes as skl2onnx's
    common/tree_ensemble.py add_tree_to_attribute_pairs writes them: nodes in tree order, BRANCH_LEQ
    on `threshold(t.threshold[i])` (sklearn_threshold_f32 for a float input, the float64 value as it
    is for a double one), each leaf's class counts normalised and weighted 1/n_estimators; then
    nodes_values, class_weights and nodes_hitrates rounded to float32."""
    attrs = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                             "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                             "nodes_hitrates", "class_treeids", "class_nodeids", "class_ids", "class_weights"]}
    tree_weight = 1.0 / len(rf.estimators_)
    for tid, est in enumerate(rf.estimators_):
        t = est.tree_
        for i in range(t.node_count):
            branch = t.children_left[i] > i or t.children_right[i] > i
            attrs["nodes_treeids"].append(tid)
            attrs["nodes_nodeids"].append(i)
            attrs["nodes_featureids"].append(int(t.feature[i]) if branch else 0)
            attrs["nodes_modes"].append("BRANCH_LEQ" if branch else "LEAF")
            attrs["nodes_values"].append(threshold(t.threshold[i]) if branch else 0.0)
            attrs["nodes_truenodeids"].append(int(t.children_left[i]) if branch else 0)
            attrs["nodes_falsenodeids"].append(int(t.children_right[i]) if branch else 0)
            attrs["nodes_missing_value_tracks_true"].append(0)
            attrs["nodes_hitrates"].append(1.0)
            if not branch:
                w = t.value[i].ravel()
                s = w.sum()
                factor = tree_weight / (s if s != 0 else 1.0)
                for c, wc in enumerate(w):
                    attrs["class_treeids"].append(tid)
                    attrs["class_nodeids"].append(i)
                    attrs["class_ids"].append(c)
                    attrs["class_weights"].append(wc * factor)
    for k in ("nodes_values", "class_weights", "nodes_hitrates"):
        attrs[k] = f32(attrs[k])
    return attrs


def skl_forest_string_labels():
    """Mimics skl2onnx 1.13 convert_sklearn(RandomForestClassifier) with string classes:
    - operator_converters/random_forest.py convert_sklearn_random_forest_classifier: one
      TreeEnsembleClassifier (op_version=1, name 'TreeEnsembleClassifier', post_transform NONE,
      classlabels_strings), trees added by common/tree_ensemble.py add_tree_to_attribute_pairs with
      tree_weight 1/n_estimators, leaf counts normalised (leaf_weights_are_counts), thresholds
      adjusted by sklearn_threshold for float32, nodes_hitrates 1.0, missing_value_tracks_true 0;
      float attributes cast to float32.
    - zip_map.py: string labels -> Identity('label' -> 'output_label'), which convert_topology's
      onnx_remove_node_identity folds away, so the tree node writes 'output_label' itself.
    - only ai.onnx.ml ops: convert_topology adds the main opset itself at the target opset (17).
    """
    rng = np.random.default_rng(202)
    n = 300
    classes = np.array(["high", "low", "medium"])
    centers = np.array([[6.5, 3.0, 5.5, 2.0], [5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3]])
    yi = rng.integers(0, 3, n)
    X = (centers[yi] + rng.normal(0, 0.45, (n, 4))).astype(np.float32).astype(np.float64)
    y = classes[yi]
    rf = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y)
    attrs = _skl_forest_attrs(rf, sklearn_threshold_f32)
    nodes = [
        helper.make_node("TreeEnsembleClassifier", ["float_input"], ["output_label", "probabilities"],
                         name="TreeEnsembleClassifier", domain=ML, post_transform="NONE",
                         classlabels_strings=list(rf.classes_), **attrs),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                         classlabels_strings=list(rf.classes_)),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-forest-string-labels"),
        [tensor_vi("float_input", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("output_label", TensorProto.STRING, [None]), seq_map_vi("output_probability", TensorProto.STRING)],
    )
    finish(graph, opsets((ML, 1), ("", 17)), SKL2ONNX, "skl-forest-string-labels.onnx")
    S = np.round(X[[0, 1, 2, 3, 4, 5]], 3)
    add_manifest({
        "file": "skl-forest-string-labels.onnx",
        "mimics": "skl2onnx 1.13 convert_sklearn(RandomForestClassifier(n_estimators=3, max_depth=3)), "
                  "initial_types=[('float_input', FloatTensorType([None, 4]))]; operator_converters/random_forest.py, "
                  "common/tree_ensemble.py, operator_converters/zip_map.py",
        "accept": True, "task": "multiclass", "labels": list(rf.classes_), "batching": "merge",
        "samples": {"inputs": {"float_input": S.tolist()},
                    "predict": rf.predict(S).tolist(),
                    "predict_proba": rf.predict_proba(S).tolist()},
        "tolerance": 1e-5,
        "notes": "String labels: output_label is a string tensor [?] written by the TreeEnsembleClassifier itself "
                 "(the ZipMap Identity is folded away); output_probability is seq(map(string, tensor(float))). "
                 "Opset imports list ai.onnx.ml before the main domain, which skl2onnx adds last for ML-only graphs.",
        "zipmapInput": "probabilities",
        "ort": ZIPMAP_ORT,
    })


# --------------------------------------------------------------------------------------------
# 3. skl2onnx: ColumnTransformer (imputer+scaler on floats, one-hot on strings) + LogisticRegression
# --------------------------------------------------------------------------------------------
def skl_columns_mixed():
    """Mimics skl2onnx 1.13 `to_onnx(pipe, X_train[:1])` on a DataFrame (one input per column,
    algebra/type_helper guess_initial_types: [None, 1] per column; numeric columns cast to float32 by
    the user first, as skl2onnx asks, otherwise they would be DoubleTensorType):
    - _parse.py _parse_sklearn_column_transformer: the 'num' branch starts with SimpleImputer (not
      in do_not_merge_columns) so its two columns go through SklearnConcat -> 'merged_columns'; the
      'cat' branch is a OneHotEncoder, which keeps its inputs separate; the branches' outputs are
      concatenated into 'transformed_column'.
    - imputer_op.py: Imputer(imputed_value_floats=statistics_ as float32,
      replaced_value_float=NaN) ('missing_values' is np.nan, a float).
    - one_hot_encoder.py: one OneHotEncoder per [None, 1] string input (cats_strings, zeros=1 because
      handle_unknown='ignore'), outputs '<input>out', Concat(axis=-1) -> 'concat_result', Reshape to
      (-1, n_categories) with initializer 'shape_tensor' (onnxconverter_common apply_reshape, op 5).
    - concat_op.py / apply_concat(axis=1); then the binary LinearClassifier + Normalizer + Cast +
      ZipMap as in skl-logreg-float-input.
    """
    rng = np.random.default_rng(303)
    n = 500
    geo = rng.choice(["France", "Germany", "Spain"], n, p=[0.5, 0.25, 0.25])
    gender = rng.choice(["Female", "Male"], n)
    credit = rng.normal(650, 95, n).round()
    age = rng.normal(39, 10, n).round().clip(18, 92)
    z = 0.07 * (age - 39) - 0.002 * (credit - 650) + 0.9 * (geo == "Germany") + 0.5 * (gender == "Female") - 1.3
    y = (z + rng.logistic(0, 1, n) > 0).astype(np.int64)
    credit[rng.random(n) < 0.05] = np.nan
    age[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({"CreditScore": credit.astype(np.float32), "Geography": geo, "Gender": gender,
                       "Age": age.astype(np.float32)})
    pre = ColumnTransformer([
        ("num", Pipeline([("imputer", SimpleImputer(strategy="median")), ("scaler", StandardScaler())]),
         ["CreditScore", "Age"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["Geography", "Gender"]),
    ])
    pipe = Pipeline([("preprocessor", pre), ("classifier", LogisticRegression())]).fit(df, y)
    imp = pre.named_transformers_["num"].named_steps["imputer"]
    sc = pre.named_transformers_["num"].named_steps["scaler"]
    ohe = pre.named_transformers_["cat"]
    lr = pipe.named_steps["classifier"]
    n_cats = sum(len(c) for c in ohe.categories_)
    coef = lr.coef_.ravel().astype(float).tolist()
    b = lr.intercept_.tolist()
    nodes = [
        helper.make_node("Concat", ["CreditScore", "Age"], ["merged_columns"], name="Concat", axis=1),
        helper.make_node("Imputer", ["merged_columns"], ["variable"], name="Imputer", domain=ML,
                         imputed_value_floats=f32(imp.statistics_), replaced_value_float=float("nan")),
        helper.make_node("Scaler", ["variable"], ["variable1"], name="Scaler", domain=ML,
                         offset=sc.mean_.tolist(), scale=(1.0 / sc.scale_).tolist()),
        helper.make_node("OneHotEncoder", ["Geography"], ["Geographyout"], name="OneHotEncoder", domain=ML,
                         cats_strings=[str(c) for c in ohe.categories_[0]], zeros=1),
        helper.make_node("OneHotEncoder", ["Gender"], ["Genderout"], name="OneHotEncoder1", domain=ML,
                         cats_strings=[str(c) for c in ohe.categories_[1]], zeros=1),
        helper.make_node("Concat", ["Geographyout", "Genderout"], ["concat_result"], name="Concat1", axis=-1),
        helper.make_node("Reshape", ["concat_result", "shape_tensor"], ["variable2"], name="Reshape"),
        helper.make_node("Concat", ["variable1", "variable2"], ["transformed_column"], name="Concat2", axis=1),
        helper.make_node("LinearClassifier", ["transformed_column"], ["label", "probability_tensor"],
                         name="LinearClassifier", domain=ML, classlabels_ints=[0, 1],
                         coefficients=[-c for c in coef] + coef, intercepts=[-v for v in b] + b,
                         multi_class=1, post_transform="LOGISTIC"),
        helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"], name="Normalizer", domain=ML, norm="L1"),
        helper.make_node("Cast", ["label"], ["output_label"], name="Cast", to=TensorProto.INT64),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                         classlabels_int64s=[0, 1]),
    ]
    inits = [helper.make_tensor("shape_tensor", TensorProto.INT64, [2], [-1, n_cats])]
    inputs = [
        tensor_vi("CreditScore", TensorProto.FLOAT, [None, 1]),
        tensor_vi("Geography", TensorProto.STRING, [None, 1]),
        tensor_vi("Gender", TensorProto.STRING, [None, 1]),
        tensor_vi("Age", TensorProto.FLOAT, [None, 1]),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-columns-mixed"), inputs,
        [tensor_vi("output_label", TensorProto.INT64, [None]), seq_map_vi("output_probability", TensorProto.INT64)],
        initializer=inits,
    )
    finish(graph, opsets(("", 13), (ML, 1)), SKL2ONNX, "skl-columns-mixed.onnx")
    S = pd.DataFrame({
        "CreditScore": np.array([619, 502, np.nan, 850, 710, 645], dtype=np.float32),
        "Geography": ["France", "Germany", "Spain", "Germany", "Italy", "France"],
        "Gender": ["Female", "Male", "Female", "Male", "Female", "Male"],
        "Age": np.array([42, 39, 50, np.nan, 28, 61], dtype=np.float32),
    })
    records = []
    for _, r in S.iterrows():
        records.append({k: (None if isinstance(v, float) and np.isnan(v) else (float(v) if isinstance(v, (float, np.floating)) else v))
                        for k, v in r.items()})
    add_manifest({
        "file": "skl-columns-mixed.onnx",
        "mimics": "skl2onnx 1.13 to_onnx(Pipeline(ColumnTransformer([num: Pipeline(SimpleImputer(median), StandardScaler), "
                  "cat: OneHotEncoder(handle_unknown='ignore')]), LogisticRegression), X_dataframe); skl2onnx/_parse.py "
                  "(_parse_sklearn_column_transformer), operator_converters/{concat_op,imputer_op,scaler_op,one_hot_encoder,"
                  "linear_classifier,zip_map}.py",
        "accept": True, "task": "binary", "labels": ["0", "1"], "batching": "merge",
        "samples": {"records": records,
                    "predict": pipe.predict(S).tolist(),
                    "predict_proba": pipe.predict_proba(S).tolist()},
        "tolerance": 1e-5,
        "notes": "One graph input per column, in DataFrame order, mixing float [?, 1] and string [?, 1]. "
                 "null in a record = missing (NaN): the Imputer replaces it by the training median, so numeric "
                 "features are nullable. 'Italy' is an unseen category: OneHotEncoder zeros=1 gives an all-zero row "
                 "(handle_unknown='ignore'), so unknown categories must be accepted, not rejected. Numeric columns "
                 "were cast to float32 before export (skl2onnx would declare DoubleTensorType for float64 columns).",
        "zipmapInput": "probabilities",
        "ort": ZIPMAP_ORT + " NaN in a float column is imputed.",
    })


# --------------------------------------------------------------------------------------------
# 4. onnxmltools: convert_lightgbm(LGBMClassifier), binary
# --------------------------------------------------------------------------------------------
def _lgbm_json_tree(t, values, node=0):
    """The LightGBM dump_model() structure of one tree ('<=' splits, default_left, missing None)."""
    if t.children_left[node] == -1:
        return {"leaf_value": float(values[node])}
    return {"split_feature": int(t.feature[node]), "threshold": float(t.threshold[node]), "decision_type": "<=",
            "default_left": True, "missing_type": "None",
            "left_child": _lgbm_json_tree(t, values, t.children_left[node]),
            "right_child": _lgbm_json_tree(t, values, t.children_right[node])}


def _onnxmltools_parse_tree(tree_id, structure, attrs):
    """onnxmltools/convert/lightgbm/operator_converters/LightGbm.py _parse_tree_structure/_parse_node:
    ids from a per-tree pool (lowest free id, children numbered when their parent is visited)."""
    pool = set()

    def new_id():
        i = 0
        while i in pool:
            i += 1
        pool.add(i)
        return i

    def parse(node_id, node):
        if "left_child" in node:
            left_id, right_id = new_id(), new_id()
            attrs["nodes_treeids"].append(tree_id)
            attrs["nodes_nodeids"].append(node_id)
            attrs["nodes_featureids"].append(node["split_feature"])
            attrs["nodes_modes"].append("BRANCH_LEQ")
            attrs["nodes_values"].append(node["threshold"])
            attrs["nodes_truenodeids"].append(left_id)
            attrs["nodes_falsenodeids"].append(right_id)
            tracks = 0 if (node["missing_type"] == "None" and node["threshold"] < 0.0) else 1
            attrs["nodes_missing_value_tracks_true"].append(tracks if node["default_left"] else 0)
            attrs["nodes_hitrates"].append(1.0)
            parse(left_id, node["left_child"])
            parse(right_id, node["right_child"])
        else:
            for k, v in (("nodes_treeids", tree_id), ("nodes_nodeids", node_id), ("nodes_featureids", 0),
                         ("nodes_modes", "LEAF"), ("nodes_values", 0.0), ("nodes_truenodeids", 0),
                         ("nodes_falsenodeids", 0), ("nodes_missing_value_tracks_true", 0), ("nodes_hitrates", 1.0)):
                attrs[k].append(v)
            attrs["class_treeids"].append(tree_id)
            attrs["class_nodeids"].append(node_id)
            attrs["class_ids"].append(0)  # binary: n_classes = 1, class_id = tree_id % 1
            attrs["class_weights"].append(float(node["leaf_value"]) * 1.0)

    parse(new_id(), structure)


def onnxmltools_lgbm():
    """Mimics onnxmltools 1.11 convert_lightgbm(LGBMClassifier, initial_types=[('input',
    FloatTensorType([None, 4]))]) for a binary objective (3 trees):
    - onnxmltools/convert/lightgbm/_parse.py: LgbmClassifier outputs 'lgbmlabel', 'lgbmprobabilities';
      LgbmZipMap outputs 'label' (Int64Type(): declared tensor(int64) of shape [1], the known
      onnxmltools quirk) and 'probabilities' (SequenceType(DictionaryType(Int64Type(),
      FloatTensorType()))).
    - operator_converters/LightGbm.py convert_lightgbm: one TreeEnsembleClassifier named after the
      operator ('LgbmClassifier'), post_transform LOGISTIC, class_ids all 0, classlabels_int64s
      [0, 1], leaf_value (shrinkage already applied by LightGBM) as class_weights, node ids from
      _create_node_id then sorted, missing_value_tracks_true from default_left/missing_type; outputs
      'label_tensor'/'probability_tensor', an Identity named 'Identity' to 'lgbmlabel' and an
      unnamed Identity to 'lgbmprobabilities' (onnxmltools does not fold identities).
      convert_lgbm_zipmap: Cast(to=INT64) named 'Cast', ZipMap named 'ZipMap'.
    No LightGBM here: a scikit-learn GradientBoostingClassifier (3 trees, depth 3) stands in; its prior
    log-odds is folded into the first tree's leaves and every leaf is multiplied by the learning rate,
    which is what LightGBM's dump (boost_from_average, shrinkage) holds, so sigmoid(sum of leaves) is
    the GBC's predict_proba.
    """
    rng = np.random.default_rng(404)
    n = 400
    X = rng.normal(0, 1, (n, 4)).astype(np.float32).astype(np.float64)
    y = ((X[:, 0] * 1.2 - X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + rng.normal(0, 0.7, n)) > 0.2).astype(np.int64)
    gbc = GradientBoostingClassifier(n_estimators=3, max_depth=3, learning_rate=0.3, random_state=0).fit(X, y)
    init = float(gbc._raw_predict_init(X[:1])[0, 0])
    attrs = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                             "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                             "nodes_hitrates", "class_treeids", "class_nodeids", "class_ids", "class_weights"]}
    for tid in range(gbc.n_estimators_):
        t = gbc.estimators_[tid, 0].tree_
        values = t.value[:, 0, 0] * gbc.learning_rate + (init if tid == 0 else 0.0)
        _onnxmltools_parse_tree(tid, _lgbm_json_tree(t, values), attrs)
    # "Sort nodes_* attributes" by (tree, node id), as convert_lightgbm does.
    order = sorted(range(len(attrs["nodes_nodeids"])), key=lambda i: (attrs["nodes_treeids"][i], attrs["nodes_nodeids"][i]))
    for k in list(attrs):
        if k.startswith("nodes_"):
            attrs[k] = [attrs[k][i] for i in order]
    nodes = [
        helper.make_node("TreeEnsembleClassifier", ["input"], ["label_tensor", "probability_tensor"], name="LgbmClassifier",
                         domain=ML, post_transform="LOGISTIC", classlabels_int64s=[0, 1], **attrs),
        helper.make_node("Identity", ["label_tensor"], ["lgbmlabel"], name="Identity"),
        helper.make_node("Identity", ["probability_tensor"], ["lgbmprobabilities"]),
        helper.make_node("Cast", ["lgbmlabel"], ["label"], name="Cast", to=TensorProto.INT64),
        helper.make_node("ZipMap", ["lgbmprobabilities"], ["probabilities"], name="ZipMap", domain=ML,
                         classlabels_int64s=[0, 1]),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("onnxmltools-lgbm"),
        [tensor_vi("input", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("label", TensorProto.INT64, [1]), seq_map_vi("probabilities", TensorProto.INT64)],
    )
    finish(graph, opsets(("", 13), (ML, 1)), ONNXMLTOOLS, "onnxmltools-lgbm.onnx")
    S = np.round(X[[0, 1, 2, 3, 4, 5]], 3)
    add_manifest({
        "file": "onnxmltools-lgbm.onnx",
        "mimics": "onnxmltools 1.11 convert_lightgbm(LGBMClassifier binary, initial_types=[('input', FloatTensorType([None, 4]))]); "
                  "onnxmltools/convert/lightgbm/_parse.py, operator_converters/LightGbm.py, shape_calculators/Classifier.py",
        "accept": True, "task": "binary", "labels": ["0", "1"], "batching": "merge",
        "samples": {"inputs": {"input": S.tolist()},
                    "predict": gbc.predict(S).tolist(),
                    "predict_proba": gbc.predict_proba(S).tolist(),
                    "source": "scikit-learn GradientBoostingClassifier standing in for LGBMClassifier"},
        "tolerance": 1e-5,
        "notes": "Output names are 'label' and 'probabilities' (not skl2onnx's output_label/output_probability). "
                 "'label' is declared int64 with shape [1] although it has one value per row: onnxruntime returns "
                 "[N] and logs 'Expected shape from model of {1} does not match actual shape'. Identity nodes are "
                 "kept. Graph input is 'input'.",
        "zipmapInput": "lgbmprobabilities",
        "ort": ZIPMAP_ORT + " Every run logs the VerifyOutputSizes warning for 'label' (declared [1], actual [N]).",
    })


# --------------------------------------------------------------------------------------------
# 5. skl2onnx: LinearRegression, fixed batch [1, 4]
# --------------------------------------------------------------------------------------------
def skl_fixed_batch_regressor():
    """Mimics skl2onnx 1.13 convert_sklearn(LinearRegression, initial_types=[('float_input',
    FloatTensorType([1, 4]))]): operator_converters/linear_regressor.py writes LinearRegressor
    (coefficients/intercepts as float32, no 'targets' for 1-D coef_) named 'LinearRegressor' to
    'variable', whose shape calculator keeps the input's first dim: [1, 1]. ML-only graph: the main
    opset is added at the target opset (17)."""
    rng = np.random.default_rng(505)
    X = rng.normal(0, 1, (200, 4)).astype(np.float32).astype(np.float64)
    y = X @ np.array([1.5, -2.0, 0.7, 3.1]) + 4.0 + rng.normal(0, 0.3, 200)
    reg = LinearRegression().fit(X, y)
    nodes = [helper.make_node("LinearRegressor", ["float_input"], ["variable"], name="LinearRegressor", domain=ML,
                              coefficients=f32(reg.coef_), intercepts=f32([reg.intercept_]))]
    graph = helper.make_graph(nodes, uuid_hex("skl-fixed-batch-regressor"),
                              [tensor_vi("float_input", TensorProto.FLOAT, [1, 4])],
                              [tensor_vi("variable", TensorProto.FLOAT, [1, 1])])
    finish(graph, opsets((ML, 1), ("", 17)), SKL2ONNX, "skl-fixed-batch-regressor.onnx")
    S = np.round(X[[0, 1, 2, 3, 4]], 3)
    add_manifest({
        "file": "skl-fixed-batch-regressor.onnx",
        "mimics": "skl2onnx 1.13 convert_sklearn(LinearRegression, initial_types=[('float_input', FloatTensorType([1, 4]))]); "
                  "operator_converters/linear_regressor.py",
        "accept": True, "task": "regression", "batching": "fixed", "batchSize": 1,
        "samples": {"inputs": {"float_input": S.tolist()}, "predict": reg.predict(S).tolist()},
        "tolerance": 1e-4,
        "notes": "Batch dimension fixed at 1 on input and output ('variable' [1, 1]): each row runs alone; "
                 "onnxruntime rejects a [5, 4] feed (dimension 0 must be 1).",
        "ort": "Loads; one row per run matches LinearRegression.predict (max diff ~7e-7); a [5, 4] feed is refused: "
               "'Got invalid dimensions for input: float_input ... index: 0 Got: 5 Expected: 1'.",
    })


# --------------------------------------------------------------------------------------------
# 6. skl2onnx: preprocessing only, two float outputs
# --------------------------------------------------------------------------------------------
def skl_preprocessing_two_outputs():
    """Mimics skl2onnx 1.13 convert_sklearn(FeatureUnion([('scaler', StandardScaler()), ('pca',
    PCA(2))]), initial_types=[('float_input', FloatTensorType([None, 4]))]) followed by
    skl2onnx.helpers.onnx_helper.select_model_inputs_outputs(onx, outputs=['variable',
    'variable1'], infer_shapes=True), which users do to get each branch by name instead of the
    concatenated 'union':
    - _parse.py _parse_sklearn_feature_union: branch outputs 'variable' (Scaler) and 'variable1'
      (PCA), then SklearnConcat -> 'union' (dropped by select_model_inputs_outputs).
    - decomposition.py convert_truncated_svd for PCA: initializers 'transform_matrix'
      (components_.T) and 'mean', Sub (apply_sub, name 'Sub') -> 'sub_result', MatMul (name 'MatMul').
    - opset_import is left as converted (Concat 13, Sub 14 -> '' 14; ai.onnx.ml 1).
    """
    rng = np.random.default_rng(606)
    base = rng.normal(0, 1, (300, 2))
    X = np.column_stack([base[:, 0] * 3 + 10, base[:, 1] * 0.5 - 2, base[:, 0] + base[:, 1], rng.normal(100, 15, 300)])
    X = X.astype(np.float32).astype(np.float64)
    union = FeatureUnion([("scaler", StandardScaler()), ("pca", PCA(n_components=2, random_state=0))]).fit(X)
    sc, pca = union.transformer_list[0][1], union.transformer_list[1][1]
    tm = pca.components_.T.astype(np.float32)
    inits = [
        helper.make_tensor("transform_matrix", TensorProto.FLOAT, list(tm.shape), tm.ravel().tolist()),
        helper.make_tensor("mean", TensorProto.FLOAT, [4], f32(pca.mean_)),
    ]
    nodes = [
        helper.make_node("Scaler", ["float_input"], ["variable"], name="Scaler", domain=ML,
                         offset=sc.mean_.tolist(), scale=(1.0 / sc.scale_).tolist()),
        helper.make_node("Sub", ["float_input", "mean"], ["sub_result"], name="Sub"),
        helper.make_node("MatMul", ["sub_result", "transform_matrix"], ["variable1"], name="MatMul"),
    ]
    graph = helper.make_graph(nodes, uuid_hex("skl-preprocessing-two-outputs"),
                              [tensor_vi("float_input", TensorProto.FLOAT, [None, 4])],
                              [tensor_vi("variable", TensorProto.FLOAT, [None, 4]),
                               tensor_vi("variable1", TensorProto.FLOAT, [None, 2])],
                              initializer=inits)
    finish(graph, opsets(("", 14), (ML, 1)), SKL2ONNX, "skl-preprocessing-two-outputs.onnx")
    S = np.round(X[[0, 1, 2, 3]], 3)
    add_manifest({
        "file": "skl-preprocessing-two-outputs.onnx",
        "mimics": "skl2onnx 1.13 convert_sklearn(FeatureUnion([StandardScaler, PCA(2)]), [('float_input', "
                  "FloatTensorType([None, 4]))]) + helpers.onnx_helper.select_model_inputs_outputs(outputs=['variable', "
                  "'variable1']); _parse.py (_parse_sklearn_feature_union), operator_converters/{scaler_op,decomposition}.py",
        "accept": True, "task": "tensor", "batching": "merge",
        "samples": {"inputs": {"float_input": S.tolist()},
                    "transform": {"variable": sc.transform(S).tolist(), "variable1": pca.transform(S).tolist()}},
        "tolerance": 1e-4,
        "notes": "No classifier or regressor op: a preprocessing graph whose two float outputs ('variable' [?, 4], "
                 "'variable1' [?, 2]) have no role; the service should return both by name (task 'tensor').",
        "ort": "Loads and runs; both outputs match StandardScaler.transform / PCA.transform (max diff ~3e-6).",
    })


# --------------------------------------------------------------------------------------------
# 7. skl2onnx: Pipeline(TfidfVectorizer, LogisticRegression), 3 string classes
# --------------------------------------------------------------------------------------------
def skl_tfidf_no_locale():
    """Mimics skl2onnx 1.13 convert_sklearn(Pipeline(TfidfVectorizer(), LogisticRegression()),
    initial_types=[('input', StringTensorType([None, 1]))]) (the form of skl2onnx's TfIdf examples):
    - tfidf_vectoriser.py: CountVectorizer + TfidfTransformer sub-operators joined by Identity nodes
      (folded by onnx_remove_node_identity).
    - text_vectoriser.py convert_sklearn_text_vectorizer: Reshape(-1) -> 'flattened';
      StringNormalizer(case_change_action='LOWER', is_case_sensitive=0, op_version 10, domain '') with
      NO locale attribute (options['locale'] defaults to None); Tokenizer (com.microsoft) with
      mark=0, mincharnum=1, pad_value='#', tokenexp='[a-zA-Z0-9_]+' (the default token_pattern
      (?u)\\b\\w\\w+\\b is replaced by that); Flatten -> 'flattened1'; TfIdfVectorizer (op_version 9,
      mode 'TF', pool_strings sorted as the vocabulary, ngram_counts [0], weights 1.0) -> 'output'.
    - tfidf_transformer.py: Mul by 'idfcst' -> 'tfidftr_output', Normalizer(norm='L2') ->
      'tfidftr_norm' (named Normalizer1: the classifier's Normalizer was converted in an earlier pass).
    - linear_classifier.py: 3 classes, multinomial -> multi_class=1, post_transform SOFTMAX,
      classlabels_strings, then Normalizer(L1); zip_map.py: string labels, so the label Identity is
      folded and LinearClassifier writes 'output_label'.
    - opsets: Mul 14 -> '' 14, com.microsoft 1, ai.onnx.ml 1.
    """
    rng = np.random.default_rng(707)
    topics = {
        "sports": ["match", "goal", "team", "coach", "league", "score", "player", "season", "win", "stadium"],
        "tech": ["software", "chip", "cloud", "data", "model", "server", "code", "battery", "phone", "network"],
        "food": ["recipe", "bread", "cheese", "sauce", "oven", "garlic", "pasta", "salad", "spicy", "dinner"],
    }
    filler = ["the", "a", "new", "great", "today", "this", "is", "with", "and", "very"]
    texts, labels = [], []
    for _ in range(150):
        lab = ["food", "sports", "tech"][rng.integers(0, 3)]
        words = list(rng.choice(topics[lab], 4)) + list(rng.choice(filler, 3))
        if rng.random() < 0.3:  # some cross-topic noise
            other = ["food", "sports", "tech"][rng.integers(0, 3)]
            words.append(rng.choice(topics[other]))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ".")
        labels.append(lab)
    pipe = Pipeline([("tfidf", TfidfVectorizer(max_features=30)), ("clf", LogisticRegression(max_iter=1000))]).fit(texts, labels)
    tf, lr = pipe.named_steps["tfidf"], pipe.named_steps["clf"]
    vocab = sorted(tf.vocabulary_.items(), key=lambda kv: kv[1])
    words = [w for w, _ in vocab]
    C = len(words)
    classes = [str(c) for c in lr.classes_]
    nodes = [
        helper.make_node("Reshape", ["input", "shape_tensor"], ["flattened"], name="Reshape"),
        helper.make_node("StringNormalizer", ["flattened"], ["normalized"], name="StringNormalizer",
                         case_change_action="LOWER", is_case_sensitive=0),
        helper.make_node("Tokenizer", ["normalized"], ["tokenized"], name="Tokenizer", domain="com.microsoft",
                         mark=0, mincharnum=1, pad_value="#", tokenexp="[a-zA-Z0-9_]+"),
        helper.make_node("Flatten", ["tokenized"], ["flattened1"], name="Flatten"),
        helper.make_node("TfIdfVectorizer", ["flattened1"], ["output"], name="TfIdfVectorizer",
                         max_gram_length=1, max_skip_count=0, min_gram_length=1, mode="TF",
                         ngram_counts=[0], ngram_indexes=list(range(C)), pool_strings=words, weights=[1.0] * C),
        helper.make_node("Mul", ["output", "idfcst"], ["tfidftr_output"], name="Mul"),
        helper.make_node("Normalizer", ["tfidftr_output"], ["tfidftr_norm"], name="Normalizer1", domain=ML, norm="L2"),
        helper.make_node("LinearClassifier", ["tfidftr_norm"], ["output_label", "probability_tensor"],
                         name="LinearClassifier", domain=ML, classlabels_strings=classes,
                         coefficients=lr.coef_.ravel().astype(float).tolist(), intercepts=lr.intercept_.tolist(),
                         multi_class=1, post_transform="SOFTMAX"),
        helper.make_node("Normalizer", ["probability_tensor"], ["probabilities"], name="Normalizer", domain=ML, norm="L1"),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                         classlabels_strings=classes),
    ]
    inits = [helper.make_tensor("shape_tensor", TensorProto.INT64, [1], [-1]),
             helper.make_tensor("idfcst", TensorProto.FLOAT, [C], f32(tf.idf_))]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-tfidf-no-locale"),
        [tensor_vi("input", TensorProto.STRING, [None, 1])],
        [tensor_vi("output_label", TensorProto.STRING, [None]), seq_map_vi("output_probability", TensorProto.STRING)],
        initializer=inits,
    )
    finish(graph, opsets(("", 14), ("com.microsoft", 1), (ML, 1)), SKL2ONNX, "skl-tfidf-no-locale.onnx")
    S = ["The team scored a late goal to win the match.", "A new chip makes the phone battery last longer.",
         "Garlic bread with cheese sauce from the oven.", "Coach says the data model helps the team.",
         "Spicy pasta salad for dinner today."]
    add_manifest({
        "file": "skl-tfidf-no-locale.onnx",
        "mimics": "skl2onnx 1.13 convert_sklearn(Pipeline(TfidfVectorizer, LogisticRegression), "
                  "initial_types=[('input', StringTensorType([None, 1]))]); operator_converters/{tfidf_vectoriser,"
                  "text_vectoriser,tfidf_transformer,linear_classifier,zip_map}.py",
        "accept": True, "task": "text-classification", "labels": classes, "batching": "merge",
        "samples": {"inputs": {"input": [[s] for s in S]},
                    "predict": pipe.predict(S).tolist(),
                    "predict_proba": pipe.predict_proba(S).tolist()},
        "tolerance": 1e-5,
        "vocabulary": words,
        "notes": "StringNormalizer has no 'locale' attribute, so onnxruntime uses its default locale (en_US.UTF-8 on "
                 "Linux) for LOWER and fails where that locale is not installed (this machine: only C, C.utf8, POSIX) "
                 "- see the ORT notes in the helper report; a generator that accepts this model must either rewrite "
                 "the node (e.g. add locale) or refuse with a message about the locale. Tokenizer is a com.microsoft "
                 "contrib op (onnxruntime has it).",
        "zipmapInput": "probabilities",
        "ort": "Refused at session creation on a machine without the en_US.UTF-8 locale: 'Failed to construct locale "
               "with name:en_US.UTF-8:locale::facet::_S_create_c_locale name not valid'. With locale='C' or 'C.UTF-8' "
               "added to the StringNormalizer it loads, and (ZipMap removed) labels and probabilities match "
               "scikit-learn (max diff ~1e-7). " + ZIPMAP_ORT,
    })


# --------------------------------------------------------------------------------------------
# 8/9. torch.onnx.export of a small CNN
# --------------------------------------------------------------------------------------------
def _torch_cnn(file, dynamic):
    """Mimics torch.onnx.export (TorchScript exporter, torch 2.0, opset_version=17,
    input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'batch_size'},
    'output': {0: 'batch_size'}} or none) of

        class SmallCNN(nn.Module):
            conv1 = Conv2d(3, 8, 3, padding=1); relu1 = ReLU(); pool1 = MaxPool2d(2)
            conv2 = Conv2d(8, 16, 3, padding=1); relu2 = ReLU(); gap = AdaptiveAvgPool2d(1)
            fc = Linear(16, 10)
            forward: fc(flatten(gap(relu2(conv2(pool1(relu1(conv1(x)))))), 1))

    Naming from torch/onnx/utils.py + _C._jit_pass_onnx_assign_scoped_names_for_node_and_value:
    nodes '/<module path>/<OpType>', values '<node name>_output_0', parameters keep their state_dict
    names as initializers (raw_data), graph 'main_graph'; export.cpp writes no value_info for
    ONNX-op intermediates (EncodeIntermediateValueInfo skips onnx/aten nodes). MaxPool has
    ceil_mode=0, Gemm alpha=beta=1, transB=1, Flatten axis=1. Only the default domain, opset 17.
    """
    rng = np.random.default_rng(808)

    def param(shape, fan_in):
        return (rng.normal(0, np.sqrt(2.0 / fan_in), shape)).astype(np.float32)

    params = [
        ("conv1.weight", param((8, 3, 3, 3), 27)), ("conv1.bias", param((8,), 27) * 0.1),
        ("conv2.weight", param((16, 8, 3, 3), 72)), ("conv2.bias", param((16,), 72) * 0.1),
        ("fc.weight", param((10, 16), 16)), ("fc.bias", param((10,), 16) * 0.1),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in params]
    conv = dict(dilations=[1, 1], group=1, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["/conv1/Conv_output_0"], name="/conv1/Conv", **conv),
        helper.make_node("Relu", ["/conv1/Conv_output_0"], ["/relu1/Relu_output_0"], name="/relu1/Relu"),
        helper.make_node("MaxPool", ["/relu1/Relu_output_0"], ["/pool1/MaxPool_output_0"], name="/pool1/MaxPool",
                         ceil_mode=0, kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2]),
        helper.make_node("Conv", ["/pool1/MaxPool_output_0", "conv2.weight", "conv2.bias"], ["/conv2/Conv_output_0"],
                         name="/conv2/Conv", **conv),
        helper.make_node("Relu", ["/conv2/Conv_output_0"], ["/relu2/Relu_output_0"], name="/relu2/Relu"),
        helper.make_node("GlobalAveragePool", ["/relu2/Relu_output_0"], ["/gap/GlobalAveragePool_output_0"],
                         name="/gap/GlobalAveragePool"),
        helper.make_node("Flatten", ["/gap/GlobalAveragePool_output_0"], ["/Flatten_output_0"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["/Flatten_output_0", "fc.weight", "fc.bias"], ["output"], name="/fc/Gemm",
                         alpha=1.0, beta=1.0, transB=1),
    ]
    b = "batch_size" if dynamic else 1
    graph = helper.make_graph(nodes, "main_graph", [tensor_vi("input", TensorProto.FLOAT, [b, 3, 32, 32])],
                              [tensor_vi("output", TensorProto.FLOAT, [b, 10])], initializer=inits)
    finish(graph, opsets(("", 17)), PYTORCH, file)


def torch_images():
    _torch_cnn("torch-image-nchw.onnx", True)
    _torch_cnn("torch-image-fixed-batch.onnx", False)
    common = ("torch.onnx.export (TorchScript exporter, torch 2.0.x) opset_version=17, input_names=['input'], "
              "output_names=['output']; torch/onnx/utils.py scoped names, torch/csrc/jit/serialization/export.cpp")
    add_manifest({
        "file": "torch-image-nchw.onnx", "mimics": common + ", dynamic_axes={'input': {0: 'batch_size'}, 'output': {0: 'batch_size'}}",
        "accept": True, "task": "tensor", "batching": "merge",
        "notes": "NCHW image input float [batch_size, 3, 32, 32], logits output [batch_size, 10] (no softmax in the "
                 "graph, no labels known): served as tensors by name. Deterministic random weights.",
        "ort": "Loads; runs any batch size (tested 3).",
    })
    add_manifest({
        "file": "torch-image-fixed-batch.onnx", "mimics": common + ", no dynamic_axes",
        "accept": True, "task": "tensor", "batching": "fixed", "batchSize": 1,
        "notes": "Same net exported without dynamic_axes: input [1, 3, 32, 32], output [1, 10].",
        "ort": "Loads; batch 1 runs (same logits as the dynamic export); batch 2 is refused (invalid dimensions).",
    })


# --------------------------------------------------------------------------------------------
# 10. Silero-VAD-like stateful streaming audio model
# --------------------------------------------------------------------------------------------
def torch_audio_stateful():
    """A small streaming voice-activity model with Silero VAD v5's ONNX signature (inputs 'input'
    float [batch, samples], 'state' float [2, batch, 128], 'sr' int64 scalar; outputs 'output'
    float [batch, 1], 'stateN' float [2, batch, 128]) written as torch.onnx.export names things
    ('/<module>/<Op>' nodes, '<node>_output_0' values, '/Constant' nodes for constants, state_dict
    initializers, 'main_graph', opset 17). The computation is real: a strided Conv1d encoder over the
    samples (kernel 256, stride 128), mean over frames, scaled by sr/16000, then two tanh recurrent
    cells over the two state rows and a sigmoid head. Any samples length >= 256 runs.
    """
    rng = np.random.default_rng(909)
    H, K, S, E = 128, 256, 128, 16

    def p(shape, scale):
        return (rng.normal(0, scale, shape)).astype(np.float32)

    params = [
        ("encoder.weight", p((E, 1, K), 1 / np.sqrt(K))), ("encoder.bias", p((E,), 0.05)),
        ("proj.weight", p((H, E), 1 / np.sqrt(E))), ("proj.bias", p((H,), 0.05)),
        ("rnn0.weight", p((H, H), 0.5 / np.sqrt(H))), ("rnn1.weight", p((H, H), 0.5 / np.sqrt(H))),
        ("rnn1.bias", p((H,), 0.05)),
        ("decoder.weight", p((1, H), 1 / np.sqrt(H))), ("decoder.bias", p((1,), 0.05)),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in params]

    def const(name, arr):
        return helper.make_node("Constant", [], [name + "_output_0"], name=name, value=numpy_helper.from_array(arr, ""))

    nodes = [
        const("/Constant", np.array([1], dtype=np.int64)),
        helper.make_node("Unsqueeze", ["input", "/Constant_output_0"], ["/Unsqueeze_output_0"], name="/Unsqueeze"),
        helper.make_node("Conv", ["/Unsqueeze_output_0", "encoder.weight", "encoder.bias"], ["/encoder/Conv_output_0"],
                         name="/encoder/Conv", dilations=[1], group=1, kernel_shape=[K], pads=[0, 0], strides=[S]),
        helper.make_node("Relu", ["/encoder/Conv_output_0"], ["/Relu_output_0"], name="/Relu"),
        helper.make_node("ReduceMean", ["/Relu_output_0"], ["/ReduceMean_output_0"], name="/ReduceMean", axes=[2], keepdims=0),
        helper.make_node("Cast", ["sr"], ["/Cast_output_0"], name="/Cast", to=TensorProto.FLOAT),
        const("/Constant_1", np.array(16000.0, dtype=np.float32)),
        helper.make_node("Div", ["/Cast_output_0", "/Constant_1_output_0"], ["/Div_output_0"], name="/Div"),
        helper.make_node("Mul", ["/ReduceMean_output_0", "/Div_output_0"], ["/Mul_output_0"], name="/Mul"),
        helper.make_node("Gemm", ["/Mul_output_0", "proj.weight", "proj.bias"], ["/proj/Gemm_output_0"], name="/proj/Gemm",
                         alpha=1.0, beta=1.0, transB=1),
        const("/Constant_2", np.array(0, dtype=np.int64)),
        helper.make_node("Gather", ["state", "/Constant_2_output_0"], ["/Gather_output_0"], name="/Gather", axis=0),
        const("/Constant_3", np.array(1, dtype=np.int64)),
        helper.make_node("Gather", ["state", "/Constant_3_output_0"], ["/Gather_1_output_0"], name="/Gather_1", axis=0),
        helper.make_node("MatMul", ["/Gather_output_0", "onnx::MatMul_187"], ["/rnn0/MatMul_output_0"], name="/rnn0/MatMul"),
        helper.make_node("Add", ["/proj/Gemm_output_0", "/rnn0/MatMul_output_0"], ["/Add_output_0"], name="/Add"),
        helper.make_node("Tanh", ["/Add_output_0"], ["/Tanh_output_0"], name="/Tanh"),
        helper.make_node("Concat", ["/Tanh_output_0", "/Gather_1_output_0"], ["/Concat_output_0"], name="/Concat", axis=1),
        helper.make_node("MatMul", ["/Concat_output_0", "onnx::MatMul_188"], ["/rnn1/MatMul_output_0"], name="/rnn1/MatMul"),
        helper.make_node("Add", ["/rnn1/MatMul_output_0", "rnn1.bias"], ["/rnn1/Add_output_0"], name="/rnn1/Add"),
        helper.make_node("Tanh", ["/rnn1/Add_output_0"], ["/Tanh_1_output_0"], name="/Tanh_1"),
        helper.make_node("Gemm", ["/Tanh_1_output_0", "decoder.weight", "decoder.bias"], ["/decoder/Gemm_output_0"],
                         name="/decoder/Gemm", alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Sigmoid", ["/decoder/Gemm_output_0"], ["output"], name="/Sigmoid"),
        const("/Constant_4", np.array([0], dtype=np.int64)),
        helper.make_node("Unsqueeze", ["/Tanh_output_0", "/Constant_4_output_0"], ["/Unsqueeze_1_output_0"], name="/Unsqueeze_1"),
        helper.make_node("Unsqueeze", ["/Tanh_1_output_0", "/Constant_4_output_0"], ["/Unsqueeze_2_output_0"], name="/Unsqueeze_2"),
        helper.make_node("Concat", ["/Unsqueeze_1_output_0", "/Unsqueeze_2_output_0"], ["stateN"], name="/Concat_1", axis=0),
    ]
    # torch folds the transposes of weights used through MatMul into 'onnx::MatMul_<n>' initializers.
    rnn0 = params[4][1].T.copy()
    rnn1 = np.concatenate([params[5][1].T, p((H, H), 0.5 / np.sqrt(H))], axis=0)  # [2H, H]: [h0_new, h1] -> h1_new
    inits = [i for i in inits if i.name not in ("rnn0.weight", "rnn1.weight")]
    inits += [numpy_helper.from_array(rnn0, "onnx::MatMul_187"), numpy_helper.from_array(rnn1, "onnx::MatMul_188")]
    graph = helper.make_graph(
        nodes, "main_graph",
        [tensor_vi("input", TensorProto.FLOAT, ["batch", "samples"]),
         tensor_vi("state", TensorProto.FLOAT, [2, "batch", H]),
         tensor_vi("sr", TensorProto.INT64, [])],
        [tensor_vi("output", TensorProto.FLOAT, ["batch", 1]),
         tensor_vi("stateN", TensorProto.FLOAT, [2, "batch", H])],
        initializer=inits,
    )
    finish(graph, opsets(("", 17)), PYTORCH, "torch-audio-stateful.onnx")
    add_manifest({
        "file": "torch-audio-stateful.onnx",
        "mimics": "Silero VAD v5 ONNX signature (input [batch, samples], state [2, batch, 128], sr int64 scalar -> output "
                  "[batch, 1], stateN [2, batch, 128]) with torch.onnx.export (opset 17) naming",
        "accept": True, "task": "tensor", "batching": "none", "minSamples": K,
        "notes": "Stateful streaming model: 'state' carries the batch on axis 1 and 'sr' is a rank-0 int64 scalar, so "
                 "inputs share no leading batch dim and requests cannot be merged. Runs for any samples length >= 256 "
                 "(Conv1d kernel 256, stride 128); shorter inputs fail in onnxruntime's Conv. sr is expected to be "
                 "8000 or 16000 (it scales the features). Feed state zeros [2, batch, 128] on the first call and "
                 "stateN back on the next.",
        "ort": "Loads; runs for [1, 256], [2, 256], [1, 512], [1, 1600] and feeding stateN back; samples 255 fails: "
               "'Non-zero status code returned while running FusedConv node. Name:'/encoder/Conv' Status Message: "
               "Invalid input shape: {255}'. sr is fed as an int64 tensor with dims [].",
    })


# --------------------------------------------------------------------------------------------
# 11. symbolic feature width
# --------------------------------------------------------------------------------------------
def symbolic_width():
    """LinearRegression exported by skl2onnx 1.13 with initial_types=[('float_input',
    FloatTensorType([None, 'num_features']))] (data_types.TensorType.to_onnx_type writes a str dim as
    dim_param): LinearRegressor (4 coefficients) -> 'variable' [?, 1]."""
    rng = np.random.default_rng(1111)
    X = rng.normal(0, 1, (200, 4)).astype(np.float32).astype(np.float64)
    y = X @ np.array([0.5, 1.0, -0.25, 2.0]) + 3.0 + rng.normal(0, 0.1, 200)
    reg = LinearRegression().fit(X, y)
    nodes = [helper.make_node("LinearRegressor", ["float_input"], ["variable"], name="LinearRegressor", domain=ML,
                              coefficients=f32(reg.coef_), intercepts=f32([reg.intercept_]))]
    graph = helper.make_graph(nodes, uuid_hex("symbolic-width"),
                              [tensor_vi("float_input", TensorProto.FLOAT, [None, "num_features"])],
                              [tensor_vi("variable", TensorProto.FLOAT, [None, 1])])
    finish(graph, opsets((ML, 1), ("", 17)), SKL2ONNX, "symbolic-width.onnx")
    S = np.round(X[[0, 1, 2]], 3)
    add_manifest({
        "file": "symbolic-width.onnx",
        "mimics": "skl2onnx 1.13 convert_sklearn(LinearRegression, [('float_input', FloatTensorType([None, 'num_features']))])",
        "accept": True, "task": "regression", "batching": "merge", "features": 4,
        "samples": {"inputs": {"float_input": S.tolist()}, "predict": reg.predict(S).tolist()},
        "tolerance": 1e-4,
        "notes": "The feature count is a symbolic dim ('num_features'): the graph does not say how many columns there "
                 "are, so the generator must ask (or read a sidecar); the LinearRegressor has 4 coefficients, and "
                 "onnxruntime only runs width 4.",
        "ort": "Loads (input shape ['', 'num_features']); width 4 matches LinearRegression.predict.",
    })


# --------------------------------------------------------------------------------------------
# 12. onnxruntime-extensions custom op
# --------------------------------------------------------------------------------------------
def custom_op():
    """A text-cleaning graph using onnxruntime-extensions' StringRegexReplace (domain
    'ai.onnx.contrib', inputs text/pattern/rewrite, attribute global_replace; see
    onnxruntime-extensions docs/custom_text_ops.md) as ortx-based pipelines export it: the pattern and
    rewrite are constant string initializers, opset_import lists ai.onnx.contrib 1."""
    inits = [helper.make_tensor("pattern", TensorProto.STRING, [1], [b"[^a-z0-9 ]+"]),
             helper.make_tensor("rewrite", TensorProto.STRING, [1], [b" "])]
    nodes = [
        helper.make_node("StringRegexReplace", ["text", "pattern", "rewrite"], ["cleaned"], name="StringRegexReplace",
                         domain="ai.onnx.contrib", global_replace=1),
    ]
    graph = helper.make_graph(nodes, "ortx_text_clean", [tensor_vi("text", TensorProto.STRING, [None])],
                              [tensor_vi("cleaned", TensorProto.STRING, [None])], initializer=inits)
    # Not checked: onnx.checker does not know the ai.onnx.contrib domain.
    finish(graph, opsets(("", 17), ("ai.onnx.contrib", 1)),
           dict(producer_name="onnxruntime-extensions", producer_version="0.9.0"), "custom-op.onnx", check=False)
    add_manifest({
        "file": "custom-op.onnx",
        "mimics": "onnxruntime-extensions StringRegexReplace (ai.onnx.contrib) as in docs/custom_text_ops.md",
        "accept": False, "task": None, "refusal": "ai.onnx.contrib",
        "notes": "Needs onnxruntime-extensions' custom-op library registered in the session; plain onnxruntime-node "
                 "refuses to load it. The refusal should name the domain (ai.onnx.contrib) / op (StringRegexReplace).",
        "ort": "Refused at load: 'Fatal error: ai.onnx.contrib:StringRegexReplace(-1) is not a registered function/op'.",
    })


# --------------------------------------------------------------------------------------------
# 13. sequence-of-tensors output (no ZipMap); map input (DictVectorizer)
# --------------------------------------------------------------------------------------------
def sequence_output():
    """A graph whose output is seq(tensor(float)) built by SequenceConstruct (opset 11+), as
    exporters emit for list-returning forwards: input float_input [N, 4] -> Scaler-like Mul/Add ->
    SequenceConstruct(scaled, summed) -> 'outputs'."""
    inits = [helper.make_tensor("scale", TensorProto.FLOAT, [4], [0.5, 2.0, 1.0, -1.0]),
             helper.make_tensor("axes", TensorProto.INT64, [1], [1])]
    nodes = [
        helper.make_node("Mul", ["float_input", "scale"], ["scaled"], name="Mul"),
        helper.make_node("ReduceSum", ["scaled", "axes"], ["summed"], name="ReduceSum", keepdims=1),
        helper.make_node("SequenceConstruct", ["scaled", "summed"], ["outputs"], name="SequenceConstruct"),
    ]
    t = onnx.TypeProto()
    t.sequence_type.elem_type.tensor_type.elem_type = TensorProto.FLOAT
    graph = helper.make_graph(nodes, "sequence_output", [tensor_vi("float_input", TensorProto.FLOAT, [None, 4])],
                              [helper.make_value_info("outputs", t)], initializer=inits)
    finish(graph, opsets(("", 17)), dict(producer_name="create-mlops-service-fixtures"), "sequence-output.onnx")
    add_manifest({
        "file": "sequence-output.onnx", "mimics": "hand-built: SequenceConstruct output (list-returning forward)",
        "accept": False, "task": None, "refusal": "sequence",
        "notes": "Output 'outputs' is seq(tensor(float)) and not a ZipMap, so removing a ZipMap cannot fix it; the "
                 "refusal should name the output and its type.",
        "ort": "Loads (outputMetadata isTensor: false) but run() fails: 'Non tensor type is temporarily not supported.'",
    })


def dictvectorizer_map_input():
    """skl2onnx 1.13 convert_sklearn(Pipeline(DictVectorizer(sparse=False), LinearRegression()),
    initial_types=[('input', DictionaryType(StringTensorType([1]), FloatTensorType([1])))]):
    DictVectorizer (string_vocabulary = feature_names_) -> 'variable', LinearRegressor -> 'variable1'.
    The only map source in ONNX besides ZipMap is a graph input, so this stands in for 'map-output'."""
    from sklearn.feature_extraction import DictVectorizer
    rng = np.random.default_rng(1313)
    keys = ["age", "balance", "products"]
    recs = [{k: float(v) for k, v in zip(keys, rng.normal(0, 1, 3))} for _ in range(100)]
    y = [r["age"] * 2 - r["balance"] + 0.5 for r in recs]
    pipe = Pipeline([("dv", DictVectorizer(sparse=False)), ("reg", LinearRegression())]).fit(recs, y)
    dv, reg = pipe.steps[0][1], pipe.steps[1][1]
    t = onnx.TypeProto()
    t.map_type.key_type = TensorProto.STRING
    t.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
    t.map_type.value_type.tensor_type.shape.dim.add().dim_value = 1
    nodes = [
        helper.make_node("DictVectorizer", ["input"], ["variable"], name="DictVectorizer", domain=ML,
                         string_vocabulary=list(dv.feature_names_)),
        helper.make_node("LinearRegressor", ["variable"], ["variable1"], name="LinearRegressor", domain=ML,
                         coefficients=f32(reg.coef_), intercepts=f32([reg.intercept_])),
    ]
    graph = helper.make_graph(nodes, uuid_hex("skl-dictvectorizer-map-input"), [helper.make_value_info("input", t)],
                              [tensor_vi("variable1", TensorProto.FLOAT, [1, 1])])
    finish(graph, opsets((ML, 1), ("", 17)), SKL2ONNX, "skl-dictvectorizer-map-input.onnx")
    add_manifest({
        "file": "skl-dictvectorizer-map-input.onnx",
        "mimics": "skl2onnx 1.13 convert_sklearn(Pipeline(DictVectorizer, LinearRegression), "
                  "[('input', DictionaryType(StringTensorType([1]), FloatTensorType([1])))]); operator_converters/dict_vectoriser.py",
        "accept": False, "task": None, "refusal": "map",
        "notes": "Graph input is map(string, tensor(float)), which onnxruntime-node cannot feed (tensors only). "
                 "No 'map-output.onnx': ONNX has no op other than ZipMap that produces a map, so a map output can only "
                 "be a ZipMap or a graph input echoed as an output; this map-input model covers the non-tensor-input "
                 "refusal instead.",
        "ort": "Loads (inputMetadata isTensor: false); onnxruntime-node cannot build a map feed ('expected to be of "
               "type: 1 but received a tensor').",
    })


# --------------------------------------------------------------------------------------------
# 14/15. files that are not models
# --------------------------------------------------------------------------------------------
def broken_files():
    with open(os.path.join(HERE, "skl-logreg-float-input.onnx"), "rb") as f:
        data = f.read()
    pointer = ("version https://git-lfs.github.com/spec/v1\n"
               f"oid sha256:{hashlib.sha256(data).hexdigest()}\n"
               f"size {len(data)}\n")
    with open(os.path.join(HERE, "lfs-pointer.onnx"), "w", newline="\n") as f:
        f.write(pointer)
    with open(os.path.join(HERE, "truncated.onnx"), "wb") as f:
        f.write(data[: int(len(data) * 0.4)])
    add_manifest({
        "file": "lfs-pointer.onnx", "mimics": "git-lfs pointer file (spec v1) of skl-logreg-float-input.onnx",
        "accept": False, "task": None, "refusal": "git lfs",
        "notes": "A checkout without `git lfs pull`: three text lines (version, oid sha256:<hex>, size <bytes>) and a "
                 "trailing newline. The refusal should say it is a Git LFS pointer and suggest `git lfs pull`.",
        "ort": "Refused: 'Protobuf parsing failed.'",
    })
    add_manifest({
        "file": "truncated.onnx", "mimics": "the first 40% of skl-logreg-float-input.onnx (a download cut short)",
        "accept": False, "task": None, "refusal": "truncated",
        "notes": f"{int(len(data) * 0.4)} of {len(data)} bytes. onnxruntime fails to parse the protobuf; the refusal "
                 "should say the file is not a complete ONNX model (truncated or corrupt).",
        "ort": "Refused: 'Protobuf parsing failed.'",
    })


# --------------------------------------------------------------------------------------------
# 16. torch.onnx.export as PyTorch 2.9 does it by default: the dynamo exporter, weights apart
# --------------------------------------------------------------------------------------------
# torch/onnx/__init__.py export(..., dynamo=True (the default since 2.9), external_data=True,
# optimize=True, opset_version=None -> ONNX_DEFAULT_OPSET 18); ONNXProgram.save(f, external_data=True)
# calls onnxscript _framework_apis.torch_2_5.save_model_with_external_data, which is
# onnx.save_model(proto, f, save_as_external_data=True, location=f"{basename(f)}.data") with onnx's
# default size_threshold=1024 and all_tensors_to_one_file=True: every initializer of 1024 bytes or
# more is written to "<file>.data" (offset, length), the smaller ones stay inline.
PYTORCH_DYNAMO = dict(producer_name="pytorch", producer_version="2.9.0")


def torch_dynamo_mlp():
    """Mimics, with torch 2.9 defaults,

        class ChurnMLP(nn.Module):
            fc1 = Linear(8, 64); fc2 = Linear(64, 32); fc3 = Linear(32, 1)
            forward(x): fc3(relu(fc2(relu(fc1(x)))))
        torch.onnx.export(model.eval(), (torch.randn(4, 8),), "torch-dynamo-mlp.onnx",
                          dynamic_shapes={"x": {0: torch.export.Dim("batch")}})

    The torch.export-based exporter names the input after forward's argument ('x'), values after the
    FX nodes ('linear', 'relu', ..., the output 'linear_2'), nodes 'node_<fx name>', keeps the
    state_dict names for initializers, lowers aten.linear of a rank-2 input to Gemm(transB=1)
    (onnxscript torch_lib aten_linear), names the symbolic dim after the Dim ('batch'), writes
    value_info for every intermediate value, IR version 10, opset 18, graph 'main_graph'.
    """
    rng = np.random.default_rng(1616)

    def linear(n_in, n_out):
        bound = 1 / np.sqrt(n_in)
        return (rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                rng.uniform(-bound, bound, (n_out,)).astype(np.float32))

    layers = [("fc1", *linear(8, 64)), ("fc2", *linear(64, 32)), ("fc3", *linear(32, 1))]
    inits = []
    for name, w, b in layers:
        inits += [numpy_helper.from_array(w, f"{name}.weight"), numpy_helper.from_array(b, f"{name}.bias")]
    nodes, values, x = [], [], "x"
    for i, (name, w, _) in enumerate(layers):
        out = "linear" if i == 0 else f"linear_{i}"
        nodes.append(helper.make_node("Gemm", [x, f"{name}.weight", f"{name}.bias"], [out], name=f"node_{out}", transB=1))
        values.append((out, w.shape[0]))
        x = out
        if i < len(layers) - 1:
            act = "relu" if i == 0 else f"relu_{i}"
            nodes.append(helper.make_node("Relu", [x], [act], name=f"node_{act}"))
            values.append((act, w.shape[0]))
            x = act
    graph = helper.make_graph(
        nodes, "main_graph",
        [tensor_vi("x", TensorProto.FLOAT, ["batch", 8])],
        [tensor_vi("linear_2", TensorProto.FLOAT, ["batch", 1])],
        initializer=inits,
        value_info=[tensor_vi(n, TensorProto.FLOAT, ["batch", width]) for n, width in values[:-1]],
    )
    model = helper.make_model(graph, opset_imports=opsets(("", 18)))
    model.ir_version = 10
    for k, v in PYTORCH_DYNAMO.items():
        setattr(model, k, v)
    file = "torch-dynamo-mlp.onnx"
    data = os.path.join(HERE, file + ".data")
    if os.path.exists(data):
        os.remove(data)  # onnx appends to an existing data file
    onnx.save_model(model, os.path.join(HERE, file), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=file + ".data", size_threshold=1024)
    rows = rng.normal(0, 1, (6, 8)).astype(np.float32)
    h = rows
    for i, (_, w, b) in enumerate(layers):
        h = h @ w.T + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
    external = [n for n, w, _ in layers if w.nbytes >= 1024]
    add_manifest({
        "file": file,
        "mimics": "torch.onnx.export with PyTorch 2.9 defaults (dynamo=True, external_data=True, opset 18, IR 10), "
                  "dynamic_shapes={'x': {0: Dim('batch')}}; torch/onnx/_internal/exporter/_onnx_program.py save, "
                  "onnxscript/_framework_apis/torch_2_5.py save_model_with_external_data",
        "accept": True, "task": "regression", "batching": "merge",
        "externalData": {"file": file + ".data", "tensors": [f"{n}.weight" for n in external]},
        "samples": {"inputs": {"x": [f32(r) for r in rows]}, "predict": f32(h[:, 0])},
        "tolerance": 1e-5,
        "notes": "An MLP regressor on 8 float features whose weights of 1024 bytes or more (" + ", ".join(f"{n}.weight" for n in external) +
                 ") live in torch-dynamo-mlp.onnx.data beside the graph, as every default torch export since 2.9 writes "
                 "them; the biases and fc3.weight stay inline. The file alone is not the model.",
        "ort": "Loads from its path (the .data file resolved beside it) and matches the numpy forward pass; loaded from "
               "its bytes, onnxruntime cannot resolve the external data.",
    })


# --------------------------------------------------------------------------------------------
# 17-19. deep-learning classifiers: a sigmoid, bare logits, a Keras softmax
# --------------------------------------------------------------------------------------------
def _mlp(rng, sizes):
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        layers.append((rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                       rng.uniform(-bound, bound, (n_out,)).astype(np.float32)))
    return layers


def _forward(layers, x):
    for i, (w, b) in enumerate(layers):
        x = x @ w.T + b
        if i < len(layers) - 1:
            x = np.maximum(x, 0)
    return x


def _torch_dynamo_mlp(file, layers, head, output):
    """An MLP as torch.onnx.export (PyTorch 2.9 defaults, dynamic_shapes={'x': {0: Dim('batch')}})
    writes it: Gemm(transB=1) per nn.Linear, values named after the FX nodes, 'node_<name>' nodes,
    state_dict initializers (all under 1 KiB here, so inline), IR 10, opset 18."""
    inits, nodes, x = [], [], "x"
    for i, (w, b) in enumerate(layers):
        name = f"fc{i + 1}"
        inits += [numpy_helper.from_array(w, f"{name}.weight"), numpy_helper.from_array(b, f"{name}.bias")]
        out = "linear" if i == 0 else f"linear_{i}"
        nodes.append(helper.make_node("Gemm", [x, f"{name}.weight", f"{name}.bias"], [out], name=f"node_{out}", transB=1))
        x = out
        if i < len(layers) - 1:
            act = "relu" if i == 0 else f"relu_{i}"
            nodes.append(helper.make_node("Relu", [x], [act], name=f"node_{act}"))
            x = act
    if head:
        nodes.append(helper.make_node(head, [x], [output], name=f"node_{output}"))
    width = layers[-1][0].shape[0]
    graph = helper.make_graph(nodes, "main_graph", [tensor_vi("x", TensorProto.FLOAT, ["batch", layers[0][0].shape[1]])],
                              [tensor_vi(output, TensorProto.FLOAT, ["batch", width])], initializer=inits)
    model = helper.make_model(graph, opset_imports=opsets(("", 18)))
    model.ir_version = 10
    for k, v in PYTORCH_DYNAMO.items():
        setattr(model, k, v)
    with open(os.path.join(HERE, file), "wb") as f:
        f.write(model.SerializeToString())


def deep_classifiers():
    rng = np.random.default_rng(1717)
    rows = rng.normal(0, 1, (6, 8)).astype(np.float32)

    # A binary classifier that ends in torch.sigmoid: one column, the positive class's probability.
    binary = _mlp(rng, [8, 16, 1])
    _torch_dynamo_mlp("torch-mlp-sigmoid.onnx", binary, "Sigmoid", "sigmoid")
    p1 = 1 / (1 + np.exp(-_forward(binary, rows)[:, 0]))
    add_manifest({
        "file": "torch-mlp-sigmoid.onnx",
        "mimics": "torch.onnx.export (PyTorch 2.9 defaults) of nn.Sequential-like MLP 8-16-1 whose forward returns "
                  "torch.sigmoid(fc2(relu(fc1(x)))): the output 'sigmoid' [batch, 1]",
        "accept": True, "task": "binary", "labels": ["0", "1"], "batching": "merge", "scores": "positive-probability",
        "samples": {"inputs": {"x": [f32(r) for r in rows]}, "predict_proba": [[1 - float(p), float(p)] for p in p1]},
        "tolerance": 1e-5,
        "notes": "The usual binary head of PyTorch and Keras (BCELoss, Dense(1, sigmoid)): one probability per row. "
                 "Served as task binary, labels 0 and 1, P(0) = 1 - P(1).",
        "ort": "Loads; returns [N, 1] probabilities equal to the numpy forward pass.",
    })

    # A 3-class classifier trained with CrossEntropyLoss: the graph ends in the last Linear (logits).
    multi = _mlp(rng, [8, 16, 3])
    _torch_dynamo_mlp("torch-mlp-logits.onnx", multi, None, "linear_1")
    logits = _forward(multi, rows)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    add_manifest({
        "file": "torch-mlp-logits.onnx",
        "mimics": "torch.onnx.export (PyTorch 2.9 defaults) of an MLP 8-16-3 trained with nn.CrossEntropyLoss: forward "
                  "returns fc2(relu(fc1(x))), the logits 'linear_1' [batch, 3], no softmax in the graph",
        "accept": True, "task": "multiclass", "taskFlag": "multiclass", "labels": ["0", "1", "2"], "batching": "merge",
        "scores": "logits",
        "samples": {"inputs": {"x": [f32(r) for r in rows]}, "predict_proba": (e / e.sum(axis=1, keepdims=True)).tolist()},
        "tolerance": 1e-5,
        "notes": "Nothing in the graph says these three numbers are classes rather than three regression targets, so the "
                 "task is asked (--task multiclass); as the graph ends in a Gemm, they are logits, served as their softmax.",
        "ort": "Loads; returns [N, 3] logits equal to the numpy forward pass.",
    })

    # Keras Sequential([Dense(16, relu), Dense(3, softmax)]) through tf2onnx 1.16 from_keras.
    keras = _mlp(rng, [4, 16, 3])
    (w1, b1), (w2, b2) = keras
    inits = [numpy_helper.from_array(w1.T.copy(), "sequential/dense/MatMul/ReadVariableOp:0"),
             numpy_helper.from_array(b1, "sequential/dense/BiasAdd/ReadVariableOp:0"),
             numpy_helper.from_array(w2.T.copy(), "sequential/dense_1/MatMul/ReadVariableOp:0"),
             numpy_helper.from_array(b2, "sequential/dense_1/BiasAdd/ReadVariableOp:0")]
    nodes = [
        helper.make_node("MatMul", ["dense_input", "sequential/dense/MatMul/ReadVariableOp:0"], ["sequential/dense/MatMul:0"], name="sequential/dense/MatMul"),
        helper.make_node("Add", ["sequential/dense/MatMul:0", "sequential/dense/BiasAdd/ReadVariableOp:0"], ["sequential/dense/BiasAdd:0"], name="sequential/dense/BiasAdd"),
        helper.make_node("Relu", ["sequential/dense/BiasAdd:0"], ["sequential/dense/Relu:0"], name="sequential/dense/Relu"),
        helper.make_node("MatMul", ["sequential/dense/Relu:0", "sequential/dense_1/MatMul/ReadVariableOp:0"], ["sequential/dense_1/MatMul:0"], name="sequential/dense_1/MatMul"),
        helper.make_node("Add", ["sequential/dense_1/MatMul:0", "sequential/dense_1/BiasAdd/ReadVariableOp:0"], ["sequential/dense_1/BiasAdd:0"], name="sequential/dense_1/BiasAdd"),
        helper.make_node("Softmax", ["sequential/dense_1/BiasAdd:0"], ["dense_1"], name="sequential/dense_1/Softmax", axis=-1),
    ]
    graph = helper.make_graph(nodes, "tf2onnx", [tensor_vi("dense_input", TensorProto.FLOAT, ["unk__6", 4])],
                              [tensor_vi("dense_1", TensorProto.FLOAT, ["unk__7", 3])], initializer=inits)
    finish(graph, opsets(("", 15)), dict(producer_name="tf2onnx", producer_version="1.16.1 15c810"), "keras-mlp-softmax.onnx")
    krows = rows[:, :4]
    kl = _forward(keras, krows)
    ke = np.exp(kl - kl.max(axis=1, keepdims=True))
    add_manifest({
        "file": "keras-mlp-softmax.onnx",
        "mimics": "tf2onnx 1.16 (opset 15) tf2onnx.convert.from_keras of keras.Sequential([Dense(16, 'relu'), "
                  "Dense(3, 'softmax')]): Dense as MatMul + Add with 'sequential/<layer>/...' names, "
                  "ReadVariableOp initializers, input 'dense_input' and output 'dense_1' with 'unk__' batch dims",
        "accept": True, "task": "multiclass", "labels": ["0", "1", "2"], "batching": "merge", "scores": "probabilities",
        "samples": {"inputs": {"dense_input": [f32(r) for r in krows]}, "predict_proba": (ke / ke.sum(axis=1, keepdims=True)).tolist()},
        "tolerance": 1e-5,
        "notes": "The graph ends in a Softmax: three class probabilities per row, so the task is read as multiclass.",
        "ort": "Loads; returns [N, 3] probabilities equal to the numpy forward pass.",
    })


# --------------------------------------------------------------------------------------------
# Classifiers whose second output is not probabilities: skl2onnx writes decision-function scores
# for estimators without predict_proba (and distances for KMeans) under the same output names.
# --------------------------------------------------------------------------------------------
def _blobs(seed, n, k):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2.5, (k, 4))
    yi = rng.integers(0, k, n)
    X = (centers[yi] + rng.normal(0, 1.2, (n, 4))).astype(np.float32).astype(np.float64)
    return X, yi


def _raw_manifest(file, mimics, reason, S, extra, notes, ort):
    add_manifest({
        "file": file, "mimics": mimics, "accept": True, "task": "tensor", "batching": "merge",
        "rawScores": reason,
        "samples": {"inputs": {"X": S.tolist()}, **extra},
        "tolerance": 1e-4, "notes": notes, "ort": ort,
    })


def skl_linearsvc_binary():
    """Mimics skl2onnx 1.13 `to_onnx(LinearSVC().fit(X, y), X[:1].astype(np.float32))` (input 'X'):
    - _parse.py build_sklearn_parsers_map leaves LinearSVC out of the classifier parsers, so no
      ZipMap: the outputs are 'label' (Int64TensorType([None])) and 'probabilities'.
    - operator_converters/linear_classifier.py: binary coefficients [-coef, coef] and intercepts
      [-b, b]; post_transform "NONE" for LinearSVC; LinearSVC has multi_class 'ovr' -> attribute 0;
      the binary LinearSVC branch writes 'raw_scores_tensor' and an ArrayFeatureExtractor with the
      INT64 scalar initializer 'positive_class_index' = 1 picks the positive column:
      'probabilities' [N, 1] holds decision_function(X).
    """
    X, yi = _blobs(303, 300, 2)
    svc = LinearSVC(random_state=0, max_iter=10000).fit(X, yi)
    coef = svc.coef_.ravel().astype(float).tolist()
    b = svc.intercept_.tolist()
    nodes = [
        helper.make_node("LinearClassifier", ["X"], ["label", "raw_scores_tensor"], name="LinearClassifier",
                         domain=ML, classlabels_ints=[0, 1], coefficients=[-c for c in coef] + coef,
                         intercepts=[-v for v in b] + b, multi_class=0, post_transform="NONE"),
        helper.make_node("ArrayFeatureExtractor", ["raw_scores_tensor", "positive_class_index"], ["probabilities"],
                         name="ArrayFeatureExtractor", domain=ML),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-linearsvc-binary"),
        [tensor_vi("X", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("label", TensorProto.INT64, [None]), tensor_vi("probabilities", TensorProto.FLOAT, [None, 1])],
        initializer=[helper.make_tensor("positive_class_index", TensorProto.INT64, [], [1])],
    )
    finish(graph, opsets((ML, 1), ("", 17)), SKL2ONNX, "skl-linearsvc-binary.onnx")
    S = np.round(X[:6], 3)
    _raw_manifest(
        "skl-linearsvc-binary.onnx",
        "skl2onnx 1.13 to_onnx(LinearSVC(), X) (input 'X'); _parse.py (no ZipMap for LinearSVC), "
        "operator_converters/linear_classifier.py (post_transform NONE, ArrayFeatureExtractor of the positive column)",
        "LinearClassifier",
        S, {"predict": svc.predict(S).tolist(), "scores": {"probabilities": svc.decision_function(S).reshape(-1, 1).tolist()}},
        "The output named 'probabilities' [N, 1] is decision_function: a signed margin, negative for class 0. Read as a "
        "binary probability it picked class 1 at margin >= 0.5 instead of > 0 and reported P(0) = 1 - margin.",
        "Loads; 'label' equals predict and 'probabilities' equals decision_function.",
    )


def skl_sgd_hinge_zipmap():
    """Mimics skl2onnx 1.13 `to_onnx(SGDClassifier().fit(X, y), X[:1].astype(np.float32))`, the
    default hinge loss, three string classes:
    - operator_converters/sgd_classifier.py: _decision_function writes MatMul(X, 'coef') ->
      'matmul_result' and Add(., 'intercept') -> 'score'; hinge loss with more than two classes:
      Identity('score') -> 'probabilities' (the raw scores); ArgMax(axis=1, keepdims=1) ->
      'predicted_label', ArrayFeatureExtractor('classes', .) -> 'final_label', string classes:
      Reshape(., 'shape_tensor' [-1]) -> 'label'.
    - _parse.py _parse_sklearn_classifier: ZipMap (the default zipmap=True); zip_map.py: string
      labels -> Identity('label' -> 'output_label') and ZipMap('probabilities' ->
      'output_probability', classlabels_strings).
    """
    X, yi = _blobs(404, 300, 3)
    classes = np.array(["bronze", "gold", "silver"])
    sgd = SGDClassifier(random_state=0).fit(X, classes[yi])
    inits = [
        numpy_helper.from_array(sgd.coef_.T.astype(np.float32), "coef"),
        numpy_helper.from_array(sgd.intercept_.astype(np.float32), "intercept"),
        helper.make_tensor("classes", TensorProto.STRING, [3], [c.encode() for c in sgd.classes_]),
        helper.make_tensor("shape_tensor", TensorProto.INT64, [1], [-1]),
    ]
    nodes = [
        helper.make_node("MatMul", ["X", "coef"], ["matmul_result"], name="MatMul"),
        helper.make_node("Add", ["matmul_result", "intercept"], ["score"], name="Add"),
        helper.make_node("Identity", ["score"], ["probabilities"], name="Identity"),
        helper.make_node("ArgMax", ["probabilities"], ["predicted_label"], name="ArgMax", axis=1, keepdims=1),
        helper.make_node("ArrayFeatureExtractor", ["classes", "predicted_label"], ["final_label"],
                         name="ArrayFeatureExtractor", domain=ML),
        helper.make_node("Reshape", ["final_label", "shape_tensor"], ["label"], name="Reshape"),
        helper.make_node("Identity", ["label"], ["output_label"], name="Identity1"),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                         classlabels_strings=list(sgd.classes_)),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-sgd-hinge-zipmap"),
        [tensor_vi("X", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("output_label", TensorProto.STRING, [None]), seq_map_vi("output_probability", TensorProto.STRING)],
        initializer=inits,
    )
    finish(graph, opsets(("", 13), (ML, 1)), SKL2ONNX, "skl-sgd-hinge-zipmap.onnx")
    S = np.round(X[:6], 3)
    _raw_manifest(
        "skl-sgd-hinge-zipmap.onnx",
        "skl2onnx 1.13 to_onnx(SGDClassifier(), X) with its default loss='hinge' and string classes; "
        "operator_converters/sgd_classifier.py, _parse.py (ZipMap), operator_converters/zip_map.py",
        "a linear function",
        S, {"predict": sgd.predict(S).tolist(), "scores": {"output_probability": sgd.decision_function(S).tolist()}},
        "The ZipMap maps each class to its one-vs-rest margin, not a probability (hinge loss has no predict_proba). "
        "Once the ZipMap is removed, 'output_probability' [N, 3] equals decision_function.",
        ZIPMAP_ORT.replace("predict_proba", "decision_function"),
    )
    manifest[-1]["zipmapInput"] = "probabilities"


def skl_svc_binary():
    """Mimics skl2onnx 1.13 `to_onnx(SVC().fit(X, y), X[:1].astype(np.float32))`: the defaults
    kernel='rbf', probability=False.
    - _parse.py: SVC without probability gets no ZipMap: outputs 'label' and 'probabilities'
      (shape_calculators/svm.py: Int64TensorType([N]) and [N, 2]).
    - operator_converters/support_vector_machines.py: SVMClassifier (name 'SVMc') with
      kernel_type 'RBF', kernel_params [gamma, coef0, degree], support_vectors, binary
      coefficients -dual_coef_ and rho -intercept_, vectors_per_class n_support_, no prob_a
      (probA_ is empty), post_transform 'NONE', classlabels_ints; writes 'label' and 'SVM02', and
      Cast(to FLOAT) 'SVM02' -> 'probabilities'.
    """
    X, yi = _blobs(505, 200, 2)
    svc = SVC().fit(X, yi)
    nodes = [
        helper.make_node("SVMClassifier", ["X"], ["label", "SVM02"], name="SVMc", domain=ML,
                         kernel_type="RBF", kernel_params=f32([svc._gamma, svc.coef0, svc.degree]),
                         support_vectors=f32(svc.support_vectors_), coefficients=f32(-svc.dual_coef_),
                         rho=f32(-svc.intercept_), vectors_per_class=svc.n_support_.tolist(),
                         post_transform="NONE", classlabels_ints=[0, 1]),
        helper.make_node("Cast", ["SVM02"], ["probabilities"], name="Cast", to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-svc-binary"),
        [tensor_vi("X", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("label", TensorProto.INT64, [None]), tensor_vi("probabilities", TensorProto.FLOAT, [None, 2])],
    )
    finish(graph, opsets(("", 13), (ML, 1)), SKL2ONNX, "skl-svc-binary.onnx")
    S = np.round(X[:6], 3)
    _raw_manifest(
        "skl-svc-binary.onnx",
        "skl2onnx 1.13 to_onnx(SVC(), X): kernel='rbf', probability=False (scikit-learn's defaults); "
        "operator_converters/support_vector_machines.py, shape_calculators/svm.py",
        "SVMClassifier",
        S, {"predict": svc.predict(S).tolist(), "decision_function": svc.decision_function(S).tolist()},
        "SVC trained without probability=True: the SVMClassifier has no prob_a, so 'probabilities' holds its raw "
        "scores, not probabilities. 'label' equals predict.",
        "Loads; 'label' equals predict.",
    )


def skl_kmeans():
    """Mimics skl2onnx 1.13 `to_onnx(KMeans(n_clusters=3).fit(X), X[:1].astype(np.float32))`:
    operator_converters/k_means.py with the default gemm=True option and a dynamic batch:
    ReduceSumSquare(X, axes=[1], keepdims=1), Mul(., [0]) for Gemm's zero C, Gemm(X, centres,
    zeros, alpha=-2, transB=1), Add(rs, gemm), Add(|C|^2, .), ArgMin(axis=1, keepdims=0) ->
    'label' and Sqrt -> 'scores' (parse: outputs 'label' Int64TensorType([None]) and 'scores').
    Names follow the algebra API's '<Op[:2]>_<output>' scheme.
    """
    X, _ = _blobs(606, 300, 3)
    km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
    C = km.cluster_centers_.astype(np.float32)
    inits = [
        numpy_helper.from_array(np.array([0], dtype=np.float32), "Mu_Mulcst"),
        numpy_helper.from_array(C, "Ge_Gemmcst"),
        numpy_helper.from_array((C.astype(np.float64) ** 2).sum(axis=1).astype(np.float32), "Ad_Addcst"),
    ]
    nodes = [
        helper.make_node("ReduceSumSquare", ["X"], ["Re_reduced0"], name="Re_ReduceSumSquare", axes=[1], keepdims=1),
        helper.make_node("Mul", ["Re_reduced0", "Mu_Mulcst"], ["Mu_C0"], name="Mu_Mul"),
        helper.make_node("Gemm", ["X", "Ge_Gemmcst", "Mu_C0"], ["Ge_Y0"], name="Ge_Gemm", alpha=-2.0, transB=1),
        helper.make_node("Add", ["Re_reduced0", "Ge_Y0"], ["Ad_C01"], name="Ad_Add"),
        helper.make_node("Add", ["Ad_Addcst", "Ad_C01"], ["Ad_C0"], name="Ad_Add1"),
        helper.make_node("ArgMin", ["Ad_C0"], ["label"], name="Ar_ArgMin", axis=1, keepdims=0),
        helper.make_node("Sqrt", ["Ad_C0"], ["scores"], name="Sq_Sqrt"),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-kmeans"),
        [tensor_vi("X", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("label", TensorProto.INT64, [None]), tensor_vi("scores", TensorProto.FLOAT, [None, 3])],
        initializer=inits,
    )
    finish(graph, opsets(("", 17)), SKL2ONNX, "skl-kmeans.onnx")
    S = np.round(X[:6], 3)
    _raw_manifest(
        "skl-kmeans.onnx",
        "skl2onnx 1.13 to_onnx(KMeans(n_clusters=3), X); operator_converters/k_means.py (gemm=True)",
        "distances",
        S, {"predict": km.predict(S).tolist(), "scores": {"scores": km.transform(S).tolist()}},
        "A label and a float [N, 3] beside it, as a classifier has: but 'scores' holds the distances to the three "
        "centres and 'label' is the nearest. Read as class probabilities it named the farthest cluster.",
        "Loads; 'label' equals predict and 'scores' equals transform.",
    )


def skl_one_class_svm():
    """Mimics skl2onnx 1.13 `to_onnx(OneClassSVM().fit(X), X[:1].astype(np.float32))`, an anomaly
    detector: operator_converters/support_vector_machines.py convert_sklearn_svm_regressor's
    OneClassSVM branch writes SVMRegressor (name 'SVM', kernel 'RBF', kernel_params [gamma, coef0,
    degree], support_vectors, coefficients dual_coef_, rho intercept_, n_supports, post_transform
    NONE) -> 'SVMO1', Cast(to FLOAT) -> 'scores', Sign -> 'float_prediction', Cast(to INT64) ->
    'label'; shape_calculators/svm.py declares both outputs [N, 1].
    """
    X, _ = _blobs(707, 200, 1)
    oc = OneClassSVM(nu=0.1).fit(X)
    nodes = [
        helper.make_node("SVMRegressor", ["X"], ["SVMO1"], name="SVM", domain=ML, kernel_type="RBF",
                         kernel_params=f32([oc._gamma, oc.coef0, oc.degree]), support_vectors=f32(oc.support_vectors_),
                         coefficients=f32(oc.dual_coef_), rho=f32(oc.intercept_), n_supports=len(oc.support_),
                         post_transform="NONE"),
        helper.make_node("Cast", ["SVMO1"], ["scores"], name="Cast", to=TensorProto.FLOAT),
        helper.make_node("Sign", ["scores"], ["float_prediction"], name="Sign"),
        helper.make_node("Cast", ["float_prediction"], ["label"], name="Cast1", to=TensorProto.INT64),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex("skl-one-class-svm"),
        [tensor_vi("X", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("label", TensorProto.INT64, [None, 1]), tensor_vi("scores", TensorProto.FLOAT, [None, 1])],
    )
    finish(graph, opsets(("", 13), (ML, 1)), SKL2ONNX, "skl-one-class-svm.onnx")
    S = np.round(np.vstack([X[:4], X[:2] + 6.0]), 3)  # four ordinary rows, two far away
    _raw_manifest(
        "skl-one-class-svm.onnx",
        "skl2onnx 1.13 to_onnx(OneClassSVM(nu=0.1), X); operator_converters/support_vector_machines.py "
        "(OneClassSVM branch), shape_calculators/svm.py",
        "SVMRegressor",
        S, {"predict": oc.predict(S).tolist(), "scores": {"scores": oc.decision_function(S).reshape(-1, 1).tolist()}},
        "An anomaly detector: 'label' [N, 1] is +1 (inlier) or -1 (outlier), 'scores' [N, 1] its decision function. "
        "Nothing in it is a probability: read as a binary classifier's, an outlier's margin was thresholded at 0.5.",
        "Loads; 'label' equals predict and 'scores' equals decision_function.",
    )


class _AlgebraOp:
    """One node of skl2onnx's OnnxOperator algebra (algebra/onnx_operator.py, graph_state.py): its
    outputs are named '<prefix>_<schema output name><index>' when add_to starts (outer nodes first),
    its constant inputs '<prefix>_<Op>cst' and the node '<prefix>_<Op>' once its inputs are added
    (inner nodes first); names are made unique with a counter suffix. The prefix defaults to the
    op type's first two letters; set_onnx_name_prefix gives it to the inputs that have none."""
    OUT = {"Gather": "output", "TreeEnsembleRegressor": "Y", "Cast": "output", "LabelEncoder": "Y",
           "Reshape": "reshaped", "Equal": "C", "Greater": "C", "Less": "C", "Mul": "C", "Add": "C",
           "Div": "C", "Max": "max", "Log": "output", "Sum": "sum", "Neg": "Y", "Pow": "Z"}

    def __init__(self, op, *inputs, domain="", output=None, **attrs):
        self.op, self.inputs, self.domain, self.output, self.attrs = op, inputs, domain, output, attrs
        self.prefix = None

    def set_prefix(self, prefix):
        if self.prefix is None:
            self.prefix = prefix
            for i in self.inputs:
                if isinstance(i, _AlgebraOp):
                    i.set_prefix(prefix)

    def add_to(self, ctx):
        if self.output is not None and self.output in ctx["done"]:
            return self.output
        prefix = self.prefix or self.op[:2]
        self.output = self.output or _unique(ctx["vars"], "%s_%s0" % (prefix, self.OUT[self.op]))
        ctx["done"].add(self.output)
        names = []
        for i in self.inputs:
            if isinstance(i, _AlgebraOp):
                names.append(i.add_to(ctx))
            elif isinstance(i, str):
                names.append(i)
            else:
                names.append(_unique(ctx["vars"], "%s_%scst" % (prefix, self.op)))
                ctx["inits"].append(numpy_helper.from_array(i, names[-1]))
        ctx["nodes"].append(helper.make_node(self.op, names, [self.output], name=_unique(ctx["ops"], "%s_%s" % (prefix, self.op)),
                                             domain=self.domain or None, **self.attrs))
        return self.output


def _unique(taken, seed):
    """skl2onnx Scope.get_unique_variable_name / get_unique_operator_name."""
    name, i = seed, 0
    while name in taken:
        i += 1
        name = "%s%d" % (seed, i)
    taken.add(name)
    return name


def _iforest_leaves(tree, output):
    """isolation_forest.py _build_labels: leaf id -> its n_node_samples ('node_sample') or the
    number of nodes on its path from the root ('path_length'), leaves in left-first order."""
    labels, stack = {}, [(0, 1)]
    while stack:
        node, depth = stack.pop()
        if tree.children_left[node] == -1:
            labels[node] = tree.n_node_samples[node] if output == "node_sample" else depth
        else:
            stack += [(tree.children_right[node], depth + 1), (tree.children_left[node], depth + 1)]
    return sorted(labels.items())


def _iforest_tree_attrs(tree):
    """get_default_tree_regressor_attribute_pairs + add_tree_to_attribute_pairs(attrs, False,
    tree.tree_, 0, 1., 0, False, True, dtype=np.float32), then the converter's overrides: one target,
    post_transform NONE, target_ids 0 and target_weights = the leaf's node id."""
    leaf = [not (tree.children_left[i] > i or tree.children_right[i] > i) for i in range(tree.node_count)]
    ids = list(range(tree.node_count))
    leaves = [i for i in ids if leaf[i]]
    return dict(
        post_transform="NONE", n_targets=1, nodes_treeids=[0] * len(ids), nodes_nodeids=ids,
        nodes_featureids=[0 if leaf[i] else int(tree.feature[i]) for i in ids],
        nodes_modes=["LEAF" if leaf[i] else "BRANCH_LEQ" for i in ids],
        nodes_values=f32([0.0 if leaf[i] else sklearn_threshold_f32(tree.threshold[i]) for i in ids]),
        nodes_truenodeids=[0 if leaf[i] else int(tree.children_left[i]) for i in ids],
        nodes_falsenodeids=[0 if leaf[i] else int(tree.children_right[i]) for i in ids],
        nodes_missing_value_tracks_true=[0] * len(ids), nodes_hitrates=[1.0] * len(ids),
        target_treeids=[0] * len(leaves), target_nodeids=leaves, target_ids=[0] * len(leaves),
        target_weights=[float(i) for i in leaves],
    )


def _iforest_depth(i, tree, features):
    """One tree's depth term, as convert_sklearn_isolation_forest writes it for tree i."""
    A = _AlgebraOp
    c = lambda v, dt=np.float32: np.array([v], dtype=dt)  # noqa: E731
    gather = A("Gather", "X", features.astype(np.int64), axis=1)
    leave = A("TreeEnsembleRegressor", gather, domain=ML, **_iforest_tree_attrs(tree))
    leaf_maps = {}
    for output in ("node_sample", "path_length"):
        ordered = _iforest_leaves(tree, output)
        leaf_maps[output] = A("Reshape", A("LabelEncoder", A("Cast", leave, to=TensorProto.INT64), domain=ML,
                                           keys_int64s=[int(k) for k, _ in ordered],
                                           values_floats=[float(v) for _, v in ordered]),
                              np.array([-1, 1], dtype=np.int64))
        leaf_maps[output].set_prefix("%s%d" % (output, i))
    node_sample, path_length = leaf_maps["node_sample"], leaf_maps["path_length"]
    eq2 = A("Cast", A("Equal", node_sample, c(2)), to=TensorProto.FLOAT)
    eq2.set_prefix("eq2_%d" % i)
    eqp2p = A("Cast", A("Greater", node_sample, c(2)), to=TensorProto.FLOAT)
    eqp2p.set_prefix("plus2_%d" % i)
    eqp2ps = A("Mul", eqp2p, node_sample)
    eqp2ps.set_prefix("eqp2ps%d" % i)
    eqp2ps_1 = A("Add", eqp2ps, c(-1))
    eqp2p_m1 = A("Max", eqp2ps_1, c(1))
    eqp2p_m1.set_prefix("eqp2p_m1_%d" % i)
    eqp_log = A("Mul", A("Add", A("Log", eqp2p_m1), c(np.euler_gamma)), c(2))
    eqp_log.set_prefix("eqp_log%d" % i)
    eqp2p_m0 = A("Max", eqp2ps_1, c(0))
    eqp2p_m0.set_prefix("eqp2p_m1_%d" % i)
    eqp_ns = A("Mul", A("Div", eqp2p_m0, A("Max", eqp2ps, c(1))), c(-2))
    eqp_ns.set_prefix("eqp_ns%d" % i)
    avlog = A("Mul", A("Add", eqp_log, eqp_ns), eqp2p)
    avlog.set_prefix("avlog%d" % i)
    avpl = A("Add", eq2, avlog)
    avpl.set_prefix("avpl%d" % i)
    depth = A("Add", A("Add", path_length, avpl), c(-1))
    depth.set_prefix("depth%d" % i)
    return depth


def skl_isolation_forest():
    """Mimics skl2onnx 1.13 `to_onnx(IsolationForest().fit(X), X[:1].astype(np.float32))` (input
    'X'), an anomaly detector: operator_converters/isolation_forest.py, through the OnnxOperator
    algebra. Per tree: Gather(X, estimators_features_, axis=1), TreeEnsembleRegressor (op_version
    1, post_transform NONE, target_weights = the leaf's node id), Cast INT64 -> LabelEncoder
    (keys_int64s -> values_floats, needs ai.onnx.ml 2) -> Reshape [-1, 1], once for the leaf's
    n_node_samples and once for its path length; Equal/Greater/Cast/Mul/Add/Max/Log/Div compute
    _average_path_length, and the depth. Then Sum over trees, Div by n_estimators *
    _average_path_length([max_samples_]), Neg, Pow(2, .), Neg (score_samples), Add(-offset_) ->
    'scores' ('dec' prefix); Less(scores, 0) -> Cast INT64 -> Mul(-2) -> Add(1) -> 'label'
    ('predict' prefix). _parse.py names the outputs 'label' and 'scores';
    shape_calculators/isolation_forest.py declares both [N, 1]. Opsets: the algebra's main-domain
    nodes at the target opset 17, LabelEncoder at the ai.onnx.ml target 3 (the TreeEnsembleRegressor
    at 1).
    """
    X, _ = _blobs(808, 300, 1)
    iso = IsolationForest(n_estimators=3, max_samples=64, random_state=0).fit(X)
    A = _AlgebraOp
    depths = [_iforest_depth(i, t.tree_, f) for i, (t, f) in enumerate(zip(iso.estimators_, iso.estimators_features_))]
    cst = len(iso.estimators_) * _average_path_length([iso.max_samples_])[0]
    scaled = A("Div", A("Sum", *depths), np.array([cst], dtype=np.float32))
    score_samples = A("Neg", A("Pow", np.array([2], dtype=np.float32), A("Neg", scaled)))
    decision = A("Add", score_samples, np.array([-iso.offset_], dtype=np.float32), output="scores")
    decision.set_prefix("dec")
    less = A("Less", decision, np.array([0], dtype=np.float32))
    predict = A("Add", A("Mul", A("Cast", less, to=TensorProto.INT64), np.array([-2], dtype=np.int64)),
                np.array([1], dtype=np.int64), output="label")
    predict.set_prefix("predict")
    ctx = dict(nodes=[], inits=[], vars={"X", "label", "scores"}, ops=set(), done=set())
    predict.add_to(ctx)
    graph = helper.make_graph(
        ctx["nodes"], uuid_hex("skl-isolation-forest"),
        [tensor_vi("X", TensorProto.FLOAT, [None, 4])],
        [tensor_vi("label", TensorProto.INT64, [None, 1]), tensor_vi("scores", TensorProto.FLOAT, [None, 1])],
        initializer=ctx["inits"],
    )
    finish(graph, opsets(("", 17), (ML, 3)), SKL2ONNX, "skl-isolation-forest.onnx")
    # The first four rows whose score is at least 0.02 from 0 (one of them an outlier to the forest), two far away.
    S = np.round(np.vstack([X[[0, 1, 3, 6]], X[:1] + 6.0, X[1:2] - 6.0]), 3)
    _raw_manifest(
        "skl-isolation-forest.onnx",
        "skl2onnx 1.13 to_onnx(IsolationForest(n_estimators=3, max_samples=64), X); "
        "operator_converters/isolation_forest.py, shape_calculators/isolation_forest.py",
        "a linear function",  # the final Add(-offset_) in an ai.onnx.ml graph (facts.ts rawScoresOf)
        S, {"predict": iso.predict(S).tolist(), "scores": {"scores": iso.decision_function(S).reshape(-1, 1).tolist()}},
        "An anomaly detector: 'label' [N, 1] is +1 (inlier) or -1 (outlier), 'scores' [N, 1] its decision function "
        "(score_samples - offset_, from the trees' path lengths). Nothing in it is a probability.",
        "Loads; 'label' equals predict and 'scores' equals decision_function.",
    )


# --------------------------------------------------------------------------------------------
# CatBoost's own exporter: model.save_model("model.onnx", format="onnx")
# --------------------------------------------------------------------------------------------
# catboost/libs/model/model_export/onnx_helpers.cpp (CatBoost 1.2.x, the CB_ENSURE-era source):
# InitMetadata writes ir_version 3 ("Versions 4 and above essentially just introduce new types we
# don't need"; older sources wrote onnx::IR_VERSION), ONE opset import (ai.onnx.ml, version 2; no
# default domain: the graph has no ai.onnx node), producer_name "CatBoost", producer_version
# PROGRAM_VERSION (the build's version text, the same as the model's "catboost_version_info"), no
# domain/model_version/doc_string unless export_parameters give them, and one metadata_props entry per
# ModelInfo key (a THashMap: its order is the hash's; a fixed order here). model_exporter.cpp
# SerializeFullModelToOnnxStream calls InitMetadata then ConvertTreeToOnnxGraph (float features
# only). No CatBoost on this machine: its version text, guid and finish time are deterministic
# stand-ins of the same form.
CATBOOST_VERSION_INFO = ("Git info:\n    Commit: " + hashlib.md5(b"catboost-1.2.7").hexdigest() + "\n"
                         "    Author: 'catboost <catboost@yandex-team.ru>'\n    Summary: stand-in of the release build's text\n\n"
                         "Other info:\n    Build by: catboost\n    Top src dir: /src/catboost\n")
CATBOOST = dict(producer_name="CatBoost", producer_version=CATBOOST_VERSION_INFO)
CATBOOST_IR_VERSION = 3


def _catboost_borders(X32, count):
    """Float-feature borders as CatBoost's quantization makes them: float32 values between the
    data's quantiles (a stand-in for GreedyLogSum with border_count=254), a few per feature."""
    borders = []
    for f in range(X32.shape[1]):
        q = np.quantile(X32[:, f].astype(np.float64), np.linspace(0, 1, count + 2)[1:-1])
        borders.append(np.unique(q.astype(np.float32)))
    return borders


def _catboost_fit(X, target, loss, depth, iterations, learning_rate, l2_leaf_reg=3.0, border_count=15,
                  boost_from_average=None):
    """A small CatBoost-like model, fitted in numpy: symmetric (oblivious) trees, one (feature,
    border) split per level chosen greedily over all leaves of the level by the L2 score of the
    gradients (sum over leaves of (sum g)^2 / (count + l2)), leaf values by one Newton step scaled by
    the learning rate. Split j of a tree sets bit j of the leaf index when x[f] > border (CatBoost's
    binarization, compared in float32); leaf values are stored leaf-major, one value per dimension,
    as TModelTrees' LeafValues. `target` is y (RMSE, Logloss) or the class index (MultiClass)."""
    X32 = X.astype(np.float32)
    n = len(X32)
    borders = _catboost_borders(X32, border_count)
    dims = int(target.max()) + 1 if loss == "MultiClass" else 1
    if boost_from_average is None:
        boost_from_average = loss == "RMSE"  # the default: True for RMSE (Quantile, MAE, MAPE), not for Logloss
    share = float(np.mean(target))
    bias = (share if loss == "RMSE" else float(np.log(share / (1 - share)))) if boost_from_average else 0.0
    approx = np.full((n, dims), bias)
    onehot = np.eye(dims)[target] if loss == "MultiClass" else None
    trees = []
    for _ in range(iterations):
        if loss == "RMSE":
            g, h = target[:, None] - approx, np.ones((n, 1))
        elif loss == "Logloss":
            p = 1.0 / (1.0 + np.exp(-approx))
            g, h = target[:, None] - p, p * (1 - p)
        else:
            e = np.exp(approx - approx.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            g, h = onehot - p, p * (1 - p)
        leaf = np.zeros(n, dtype=np.int64)
        splits = []
        for d in range(depth):
            best = None
            for f in range(X32.shape[1]):
                for b in borders[f]:
                    idx = leaf + ((X32[:, f] > b).astype(np.int64) << d)
                    count = np.bincount(idx, minlength=1 << (d + 1))
                    score = sum(float((np.bincount(idx, weights=g[:, k], minlength=1 << (d + 1)) ** 2
                                       / (count + l2_leaf_reg)).sum()) for k in range(dims))
                    if best is None or score > best[0]:
                        best = (score, f, b)
            _, f, b = best
            splits.append((f, np.float32(b)))
            leaf = leaf + ((X32[:, f] > b).astype(np.int64) << d)
        values = np.zeros((1 << depth, dims))
        for k in range(dims):
            sg = np.bincount(leaf, weights=g[:, k], minlength=1 << depth)
            sh = np.bincount(leaf, weights=h[:, k], minlength=1 << depth)
            values[:, k] = learning_rate * sg / (sh + l2_leaf_reg)
        approx = approx + values[leaf]
        trees.append((splits, values))
    return trees, bias, dims


def _catboost_raw(trees, bias, dims, X):
    """RawFormulaVal as CatBoost's applier computes it: the bias plus, for each tree, the leaf whose
    index has bit j set when x[f_j] > border_j (float32 features)."""
    X32 = X.astype(np.float32)
    raw = np.full((len(X32), dims), bias)
    for splits, values in trees:
        leaf = np.zeros(len(X32), dtype=np.int64)
        for j, (f, b) in enumerate(splits):
            leaf += (X32[:, f] > b).astype(np.int64) << j
        raw += values[leaf]
    return raw


def _catboost_tree_attributes(trees, classifier, dims):
    """onnx_helpers.cpp AddTree, for each tree in order: the split at ONNX depth `depth` is the
    tree's split (size - 1 - depth), so the root is the LAST split; nodes are numbered level by
    level, every node of a level has that level's split, mode BRANCH_GT, featureid the flat
    feature index, value the border, false -> 2i+1, true -> 2i+2, missing_value_tracks_true 1 only
    for nan_mode Max (AsTrue; the default Min gives 0), hitrate 1.0; then the 2^depth leaves (LEAF,
    dummy 0 values) in leaf-index order. Leaf votes: multiclass one class_* entry per dimension;
    binary (one dimension) class 0 with -leaf and class 1 with +leaf; a regressor target 0."""
    a = {k: [] for k in ("ids", "nodeids", "treeids", "weights", "nodes_falsenodeids", "nodes_featureids",
                         "nodes_hitrates", "nodes_missing_value_tracks_true", "nodes_modes", "nodes_nodeids",
                         "nodes_treeids", "nodes_truenodeids", "nodes_values")}
    for tree_id, (splits, values) in enumerate(trees):
        node = 0
        for depth in range(len(splits)):
            f, b = splits[len(splits) - 1 - depth]
            for node in range(node, 2 * node + 1):
                for k, v in (("nodes_treeids", tree_id), ("nodes_nodeids", node), ("nodes_modes", "BRANCH_GT"),
                             ("nodes_featureids", int(f)), ("nodes_values", float(b)),
                             ("nodes_falsenodeids", 2 * node + 1), ("nodes_truenodeids", 2 * node + 2),
                             ("nodes_missing_value_tracks_true", 0), ("nodes_hitrates", 1.0)):
                    a[k].append(v)
            node += 1
        for leaf, node in enumerate(range(node, 2 * node + 1)):
            for k, v in (("nodes_treeids", tree_id), ("nodes_nodeids", node), ("nodes_modes", "LEAF"),
                         ("nodes_featureids", 0), ("nodes_values", 0.0), ("nodes_falsenodeids", 0),
                         ("nodes_truenodeids", 0), ("nodes_missing_value_tracks_true", 0), ("nodes_hitrates", 1.0)):
                a[k].append(v)
            votes = ([(c, float(np.float32(values[leaf, c]))) for c in range(dims)] if dims > 1 or not classifier
                     else [(0, -float(np.float32(values[leaf, 0]))), (1, float(np.float32(values[leaf, 0])))])
            for c, w in votes:
                a["treeids"].append(tree_id)
                a["nodeids"].append(node)
                a["ids"].append(c)
                a["weights"].append(w)
    return a


def _catboost_node(op_type, inputs, outputs, attributes):
    """A node as onnx_helpers.cpp builds it: domain ai.onnx.ml, NO name, attributes in the order
    they are added (helper.make_node would sort them by name)."""
    node = onnx.NodeProto()
    node.op_type = op_type
    node.domain = ML
    node.input.extend(inputs)
    node.output.extend(outputs)
    for name, value in attributes:
        node.attribute.append(helper.make_attribute(name, value))
    return node


def _catboost_graph(trees, bias, dims, classifier, features, class_labels=None):
    """ConvertTreeToOnnxGraph: graph 'CatBoostModel' (onnx_graph_name absent), input 'features'
    float [N, flat feature count] (InitValueInfo: dim_param "N"). A classifier: TreeEnsembleClassifier
    (classlabels_int64s or _strings, post_transform LOGISTIC for one dimension, SOFTMAX for more)
    -> 'label' (int64 [N], a graph output) and 'probability_tensor' (float [N, 2 or C], value_info),
    then ZipMap (same class labels) -> 'probabilities' seq(map(int64, tensor(float))). A regressor:
    TreeEnsembleRegressor (post_transform NONE, n_targets 1) -> 'predictions' float [N] (no second
    dim). The tree attributes follow (TTreesAttributes adds them in this order), base_values only
    when the model has a bias: [-b, b] for a binary classifier, [b...] otherwise."""
    a = _catboost_tree_attributes(trees, classifier, dims)
    prefix = "class_" if classifier else "target_"
    attrs = [(prefix + k, a[k]) for k in ("ids", "nodeids", "treeids", "weights")]
    if bias != 0.0:
        attrs.append(("base_values", [-float(np.float32(bias)), float(np.float32(bias))] if classifier and dims == 1
                      else [float(np.float32(bias))] * dims))
    attrs += [(k, a[k]) for k in ("nodes_falsenodeids", "nodes_featureids", "nodes_hitrates",
                                  "nodes_missing_value_tracks_true", "nodes_modes", "nodes_nodeids",
                                  "nodes_treeids", "nodes_truenodeids", "nodes_values")]
    inputs = [tensor_vi("features", TensorProto.FLOAT, ["N", features])]
    if not classifier:
        node = _catboost_node("TreeEnsembleRegressor", ["features"], ["predictions"],
                              [("post_transform", "NONE"), ("n_targets", 1)] + attrs)
        return helper.make_graph([node], "CatBoostModel", inputs, [tensor_vi("predictions", TensorProto.FLOAT, ["N"])])
    width = 2 if dims == 1 else dims
    labels = [("classlabels_int64s", class_labels)]
    trees_node = _catboost_node("TreeEnsembleClassifier", ["features"], ["label", "probability_tensor"],
                                labels + [("post_transform", "LOGISTIC" if dims == 1 else "SOFTMAX")] + attrs)
    zipmap = _catboost_node("ZipMap", ["probability_tensor"], ["probabilities"], labels)
    return helper.make_graph(
        [trees_node, zipmap], "CatBoostModel", inputs,
        [tensor_vi("label", TensorProto.INT64, ["N"]), seq_map_vi("probabilities", TensorProto.INT64)],
        value_info=[tensor_vi("probability_tensor", TensorProto.FLOAT, ["N", width])],
    )


def _catboost_metadata(name, loss, depth, iterations, learning_rate, class_names, boost_from_average=None):
    """ModelInfo as training leaves it (TCoreModelToFullModelConverter, train_model.cpp): the version
    text, class_params for a classifier, a guid, the options as saved JSON (trimmed here to what
    describes this model), output_options, the finish time, training (the metrics history)."""
    digest = hashlib.md5(name.encode()).hexdigest()
    params = {
        "boosting_options": {"boost_from_average": loss == "RMSE" if boost_from_average is None else boost_from_average,
                             "boosting_type": "Plain",
                             "iterations": iterations, "learning_rate": learning_rate},
        "data_processing_options": {"class_names": class_names or [],
                                    "float_features_binarization": {"border_count": 254, "border_type": "GreedyLogSum",
                                                                    "nan_mode": "Min"}},
        "loss_function": {"params": {}, "type": loss},
        "tree_learner_options": {"depth": depth, "grow_policy": "SymmetricTree", "l2_leaf_reg": 3,
                                 "leaf_estimation_iterations": 1, "leaf_estimation_method": "Newton"},
        "task_type": "CPU",
    }
    meta = [("catboost_version_info", CATBOOST_VERSION_INFO)]
    if class_names is not None:
        meta.append(("class_params", json.dumps({"class_label_type": "Integer", "class_names": class_names,
                                                 "class_to_label": [float(c) for c in class_names],
                                                 "classes_count": 0}, separators=(",", ":"))))
    meta += [
        ("model_guid", "-".join(digest[i:i + 8] for i in range(0, 32, 8))),
        ("output_options", json.dumps({"allow_writing_files": False, "train_dir": "catboost_info"}, separators=(",", ":"))),
        ("params", json.dumps(params, separators=(",", ":"), sort_keys=True)),
        ("train_finish_time", "2024-09-02T10:15:00Z"),
        ("training", json.dumps({"metrics": {}}, separators=(",", ":"))),
    ]
    return meta


def _catboost_save(graph, name, meta, file):
    """The model as InitMetadata fills it (ir_version 3, ai.onnx.ml 2 only), checked and written."""
    model = helper.make_model(graph, opset_imports=opsets((ML, 2)))
    model.ir_version = CATBOOST_IR_VERSION
    for k, v in CATBOOST.items():
        setattr(model, k, v)
    for key, value in meta:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    with open(os.path.join(HERE, file), "wb") as f:
        f.write(model.SerializeToString())
    return model


CATBOOST_MIMICS = ("CatBoost 1.2.x model.save_model('{file}', format='onnx') of {what}; "
                   "catboost/libs/model/model_export/onnx_helpers.cpp (InitMetadata, ConvertTreeToOnnxGraph, AddTree, "
                   "TTreesAttributes), model_exporter.cpp")


def _catboost_samples(X, trees):
    """Six rows: four from the data, one with a feature exactly on the border of tree 0's root
    split (x == border is NOT > border: the false branch) and one far outside the training range
    (alternately above the maximum and below the minimum)."""
    S = np.round(X[[0, 1, 2, 3]], 3)
    on_border = np.round(X[4], 3)
    f, b = trees[0][0][-1]  # the ONNX root of tree 0 is its last split
    on_border[f] = float(b)
    spread = 5 * X.std(axis=0)
    far = np.round(np.where(np.arange(X.shape[1]) % 2 == 0, X.max(axis=0) + spread, X.min(axis=0) - spread), 3)
    return np.vstack([S, on_border, far])


def _catboost_binary(file, class_names, boost_from_average, what, notes):
    """CatBoostClassifier(loss_function='Logloss', depth=3, iterations=8, ...) on two integer
    classes, saved with format='onnx'. CatBoost learns on class indices 0/1 (class_names maps them
    to the labels, classlabels_int64s = class_names). Without boost_from_average (Logloss's default:
    docs reusage-default-values/boost-from-average.md, True for RMSE, Quantile, MAE, MAPE only) the
    bias is zero and no base_values are written; with it, the bias is the log-odds of the positive
    share and base_values = [-bias, bias]. predict_proba = [1 - sigmoid(raw), sigmoid(raw)], predict
    = class_names[raw > 0]."""
    rng = np.random.default_rng(1101)
    n = 500
    X = np.column_stack([rng.normal(40, 12, n), rng.normal(0, 1, n), rng.uniform(0, 10, n),
                         rng.normal(2, 1.5, n)]).astype(np.float32).astype(np.float64)
    z = 0.09 * (X[:, 0] - 40) - 1.1 * X[:, 1] + 0.35 * (X[:, 2] - 5) + 0.8 * (X[:, 3] > 2.5) - 0.3
    y = (z + rng.logistic(0, 1, n) > 0).astype(np.int64)
    trees, bias, dims = _catboost_fit(X, y, "Logloss", depth=3, iterations=8, learning_rate=0.3,
                                      boost_from_average=boost_from_average)
    graph = _catboost_graph(trees, bias, dims, True, 4, class_labels=class_names)
    meta = _catboost_metadata(file[:-5], "Logloss", 3, 8, 0.3, class_names, boost_from_average)
    _catboost_save(graph, file[:-5], meta, file)
    S = _catboost_samples(X, trees)
    raw = _catboost_raw(trees, bias, dims, S)[:, 0]
    p1 = 1.0 / (1.0 + np.exp(-raw))
    train_acc = float(((_catboost_raw(trees, bias, dims, X)[:, 0] > 0).astype(np.int64) == y).mean())
    return {
        "file": file,
        "mimics": CATBOOST_MIMICS.format(file=file, what="CatBoostClassifier(loss_function='Logloss', depth=3, "
                                                          "iterations=8%s), %s" % (
                                                              ", boost_from_average=True" if boost_from_average else "", what)),
        "accept": not boost_from_average, "task": "binary", "labels": [str(c) for c in class_names], "batching": "merge",
        "samples": {"inputs": {"features": S.tolist()},
                    "predict": [class_names[int(v)] for v in (raw > 0)],
                    "predict_proba": np.column_stack([1 - p1, p1]).tolist(),
                    "source": "8 oblivious trees of depth 3 fitted in numpy (Newton leaves on the Logloss gradients; "
                              "training accuracy %.3f); expected outputs from the trees, not the graph" % train_acc},
        "tolerance": 1e-5,
        "notes": "Input 'features' float [N, 4] (dim_param N); outputs 'label' int64 [N] and 'probabilities' "
                 "seq(map(int64, tensor(float))) from a ZipMap reading 'probability_tensor' (value_info float [N, 2]). "
                 "ir_version 3; nodes have no names; the only opset import is ai.onnx.ml 2 (no default domain). Binary leaves are "
                 "written as two votes per leaf (class 0: -v, class 1: +v) with post_transform LOGISTIC. CatBoost's docs "
                 "(apply-onnx-ml) say the binary 'label' output is inferred incorrectly by onnxruntime and must be "
                 "ignored. Row 5 sits exactly on tree 0's root border (x == border goes to the false branch, as "
                 "CatBoost's x > border binarization), row 6 far outside the training range. " + notes,
    }


def catboost_binary():
    """The default binary export: classes 0 and 1, no bias."""
    entry = _catboost_binary(
        "catboost-binary.onnx", [0, 1], False, "classes 0/1",
        "No base_values. onnxruntime-node 1.30 labels these rows right: with votes for both classes its "
        "TreeEnsembleClassifier answers 1 when the class-1 score is > 0, else 0, which are these labels.")
    add_manifest({**entry, "zipmapInput": "probability_tensor", "ort": ZIPMAP_ORT})


def catboost_binary_labels_1_2():
    """The same model trained on targets 1/2 (class_names [1, 2]): classlabels_int64s [1, 2]."""
    entry = _catboost_binary(
        "catboost-binary-labels-1-2.onnx", [1, 2], False, "classes 1/2",
        "The known bug: onnxruntime's TreeEnsembleClassifier, whose leaves vote for both classes, returns the class "
        "index 1 or 0 as 'label' (tree_ensemble_aggregator.h: positive_label_ 1 / negative_label_ 0, not "
        "classlabels_int64s), so '2' comes back as 1 and '1' as 0, a class the model does not have.")
    add_manifest({**entry, "zipmapInput": "probability_tensor",
                  "ort": ZIPMAP_ORT.replace("matches scikit-learn's predict", "is 1 or 0 (the class index), not 2 or 1")})


def catboost_binary_boost_from_average():
    """boost_from_average=True on Logloss: base_values [-bias, bias], which onnxruntime mis-adds."""
    entry = _catboost_binary(
        "catboost-binary-boost-from-average.onnx", [0, 1], True, "classes 0/1",
        "base_values [-b, b] (b = the log-odds of the positive share): onnxruntime computes the class-1 score of a "
        "binary TreeEnsembleClassifier with two base_values as base_values[1] + the class-0 score (-raw), so "
        "P(1) = sigmoid(b - raw) instead of sigmoid(raw + b): every probability and label is wrong.")
    add_manifest({**entry, "task": None, "refusal": "base_values",
                  "ort": "Loads and runs; with the ZipMap removed, 'probability_tensor' holds sigmoid(b - raw) for class 1 "
                         "(e.g. 0.38 where CatBoost says 0.87) and 'label' follows it."})


def catboost_multiclass():
    """CatBoostClassifier(loss_function='MultiClass', depth=3, iterations=10) on integer classes
    0/1/2, saved with format='onnx': one class_* vote per leaf and dimension, post_transform
    SOFTMAX, no bias (MultiClass cannot boost from average). predict_proba = softmax(raw),
    predict = argmax."""
    rng = np.random.default_rng(1202)
    n = 450
    centers = np.array([[1.0, 4.0, -1.0, 0.5], [3.5, 1.0, 0.5, -1.0], [0.0, 0.5, 2.5, 2.0]])
    yi = rng.integers(0, 3, n)
    X = (centers[yi] + rng.normal(0, 1.1, (n, 4))).astype(np.float32).astype(np.float64)
    trees, bias, dims = _catboost_fit(X, yi, "MultiClass", depth=3, iterations=10, learning_rate=0.4)
    graph = _catboost_graph(trees, bias, dims, True, 4, class_labels=[0, 1, 2])
    meta = _catboost_metadata("catboost-multiclass", "MultiClass", 3, 10, 0.4, [0, 1, 2])
    _catboost_save(graph, "catboost-multiclass", meta, "catboost-multiclass.onnx")
    S = _catboost_samples(X, trees)
    raw = _catboost_raw(trees, bias, dims, S)
    e = np.exp(raw - raw.max(axis=1, keepdims=True))
    proba = e / e.sum(axis=1, keepdims=True)
    train_acc = float((_catboost_raw(trees, bias, dims, X).argmax(axis=1) == yi).mean())
    add_manifest({
        "file": "catboost-multiclass.onnx",
        "mimics": CATBOOST_MIMICS.format(file="catboost-multiclass.onnx",
                                         what="CatBoostClassifier(loss_function='MultiClass', depth=3, iterations=10), classes 0/1/2"),
        "accept": True, "task": "multiclass", "labels": ["0", "1", "2"], "batching": "merge",
        "samples": {"inputs": {"features": S.tolist()},
                    "predict": proba.argmax(axis=1).tolist(),
                    "predict_proba": proba.tolist(),
                    "source": "10 oblivious trees of depth 3 fitted in numpy (Newton leaves on the softmax gradients; "
                              "training accuracy %.3f); expected outputs from the trees, not the graph" % train_acc},
        "tolerance": 1e-5,
        "notes": "As catboost-binary, with 3 classes: 'probability_tensor' float [N, 3], each leaf carries one vote per "
                 "class (class_ids 0, 1, 2), post_transform SOFTMAX; the 'label' output is the argmax, which "
                 "onnxruntime gets right for more than two classes.",
        "zipmapInput": "probability_tensor",
        "ort": ZIPMAP_ORT,
    })


def catboost_regressor():
    """CatBoostRegressor(loss_function='RMSE', depth=4, iterations=10), saved with format='onnx':
    TreeEnsembleRegressor (post_transform NONE, n_targets 1) -> 'predictions' declared float [N]
    (onnxruntime returns [N, 1]); RMSE boosts from average by default, so base_values = [mean(y)].
    predict = bias + the trees' leaves."""
    rng = np.random.default_rng(1303)
    n = 400
    X = np.column_stack([rng.uniform(0, 10, n), rng.normal(0, 1, n), rng.normal(5, 2, n),
                         rng.uniform(-1, 1, n)]).astype(np.float32).astype(np.float64)
    y = 20 + 3.0 * np.sin(X[:, 0]) + 4.0 * X[:, 1] + 0.5 * np.abs(X[:, 2]) ** 1.5 * (X[:, 3] > 0) + rng.normal(0, 0.5, n)
    trees, bias, dims = _catboost_fit(X, y, "RMSE", depth=4, iterations=10, learning_rate=0.3)
    graph = _catboost_graph(trees, bias, dims, False, 4)
    meta = _catboost_metadata("catboost-regressor", "RMSE", 4, 10, 0.3, None)
    _catboost_save(graph, "catboost-regressor", meta, "catboost-regressor.onnx")
    S = _catboost_samples(X, trees)
    pred = _catboost_raw(trees, bias, dims, S)[:, 0]
    rmse = float(np.sqrt(np.mean((_catboost_raw(trees, bias, dims, X)[:, 0] - y) ** 2)))
    add_manifest({
        "file": "catboost-regressor.onnx",
        "mimics": CATBOOST_MIMICS.format(file="catboost-regressor.onnx",
                                         what="CatBoostRegressor(loss_function='RMSE', depth=4, iterations=10)"),
        "accept": True, "task": "regression", "batching": "merge",
        "samples": {"inputs": {"features": S.tolist()}, "predict": pred.tolist(),
                    "source": "10 oblivious trees of depth 4 fitted in numpy (training RMSE %.3f, target std %.3f); "
                              "expected outputs from the trees, not the graph" % (rmse, float(np.std(y)))},
        "tolerance": 1e-4,
        "notes": "Output 'predictions' is declared float [N] (InitValueInfo with no second dim) while "
                 "TreeEnsembleRegressor returns [N, 1]. base_values [mean(y)] (RMSE boosts from average by default). "
                 "No ZipMap, nothing to rewrite.",
        "ort": "Loads; 'predictions' comes back [N, 1] and equals the trees' sum plus the bias (float32).",
    })


# --------------------------------------------------------------------------------------------
# onnxmltools: convert_xgboost(XGBClassifier / XGBRegressor), no ZipMap
# --------------------------------------------------------------------------------------------
# onnxmltools 1.13 (the release whose XGBoost converter reads XGBoost 2's base_score from the
# booster's config: xgboost/common.py get_xgb_params) with onnxconverter-common 1.14. The graph is
# made by onnxconverter_common topology.convert_topology + onnx_ex.make_model_ex: opset imports
# only from the domains of the nodes added (container.add_node's default op_version=1, so a lone
# tree ensemble imports ai.onnx.ml 1 and NO default domain: make_model_ex overwrites the default
# opset entry helper.make_model created), ir_version = OPSET_TO_IR_VERSION[target opset] where the
# target is onnxmltools' get_maximum_opset_supported() = max(15, ...) -> 15 -> IR 8, doc_string ""
# (convert's default), graph name str(uuid4().hex).
XGB_ONNXMLTOOLS = dict(producer_name="OnnxMLTools", producer_version="1.14.0", domain="onnxconverter-common",
                       model_version=0)
XGB_MIMICS = ("onnxmltools 1.13 convert_xgboost({what}, initial_types=[('input', FloatTensorType([None, 4]))]) "
              "of an XGBoost 2.1 model; onnxmltools/convert/xgboost/_parse.py, operator_converters/XGBoost.py "
              "(XGBConverter.fill_tree_attributes, {converter}.convert), shape_calculators/{shape}.py, common.py; "
              "onnxconverter_common topology.convert_topology, onnx_ex.make_model_ex")


def _xgb_cuts(X32, count=24):
    """Split candidates as XGBoost's hist method makes them: per feature, float32 cut values
    between the (non-missing) data's quantiles; a split sends x < cut to 'yes'."""
    cuts = []
    for f in range(X32.shape[1]):
        col = X32[:, f][~np.isnan(X32[:, f])].astype(np.float64)
        q = np.unique(np.quantile(col, np.linspace(0, 1, count + 2)[1:-1]))
        cuts.append(np.unique(((q[:-1] + q[1:]) / 2).astype(np.float32)))
    return cuts


def _xgb_tree(X32, g, h, max_depth, learning_rate, cuts, reg_lambda=1.0, min_child_weight=1.0):
    """One XGBoost tree grown depth-wise (grow_policy depthwise, gamma 0): each node takes the
    (feature, cut, default direction) with the best gain G_L^2/(H_L+l) + G_R^2/(H_R+l) -
    G^2/(H+l), children needing a hessian sum >= min_child_weight. The hist evaluator
    (tree/hist/evaluate_splits.h) enumerates forward first (missing values to the right: 'no')
    and backward (missing to the left: 'yes') only when the node has rows missing that feature,
    keeping the first of equal gains: a feature never missing in training defaults to 'no'. A
    leaf is learning_rate *
    -G/(H+l) in float32. Nodes are numbered in expansion order (level by level), as XGBoost's
    RegTree; the result is the JSON dump's structure: nodeid, depth, split 'f<i>', split_condition,
    yes (x < split_condition), no, missing, children [yes, no], or nodeid and leaf."""
    counter = [0]

    def grow(rows, depth):
        nid = counter[0]
        counter[0] += 1
        G, H = g[rows].sum(), h[rows].sum()
        node = {"nodeid": nid, "depth": depth, "_rows": rows, "_G": G, "_H": H}
        best = None
        if depth < max_depth:
            parent = G * G / (H + reg_lambda)
            for f in range(X32.shape[1]):
                x = X32[rows, f]
                missing = np.isnan(x)
                gm, hm = g[rows][missing].sum(), h[rows][missing].sum()
                for cut in cuts[f]:
                    left = (x < cut) & ~missing
                    gl, hl = g[rows][left].sum(), h[rows][left].sum()
                    for default_left in ((False, True) if missing.any() else (False,)):
                        GL, HL = (gl + gm, hl + hm) if default_left else (gl, hl)
                        GR, HR = G - GL, H - HL
                        if HL < min_child_weight or HR < min_child_weight:
                            continue
                        gain = GL * GL / (HL + reg_lambda) + GR * GR / (HR + reg_lambda) - parent
                        if gain > 1e-6 and (best is None or gain > best[0] + 1e-12):
                            best = (gain, f, cut, default_left)
        if best is None:
            node["leaf"] = float(np.float32(learning_rate * -G / (H + reg_lambda)))
            return node
        _, f, cut, default_left = best
        node.update({"split": "f%d" % f, "split_condition": float(cut), "_default_left": default_left,
                     "_f": f})
        return node

    # Depth-wise: expand a whole level before the next, numbering children in that order.
    root = grow(np.arange(len(X32)), 0)
    level = [root]
    while level:
        nxt = []
        for node in level:
            if "leaf" in node:
                continue
            x = X32[node["_rows"], node["_f"]]
            missing = np.isnan(x)
            yes_mask = (x < node["split_condition"]) | (missing & node["_default_left"])
            yes = grow(node["_rows"][yes_mask], node["depth"] + 1)
            no = grow(node["_rows"][~yes_mask], node["depth"] + 1)
            node.update({"yes": yes["nodeid"], "no": no["nodeid"],
                         "missing": yes["nodeid"] if node["_default_left"] else no["nodeid"],
                         "children": [yes, no]})
            nxt += [yes, no]
        level = nxt

    def clean(node):
        if "leaf" in node:
            return {"nodeid": node["nodeid"], "leaf": node["leaf"], "cover": float(node["_H"])}
        return {"nodeid": node["nodeid"], "depth": node["depth"], "split": node["split"],
                "split_condition": node["split_condition"], "yes": node["yes"], "no": node["no"],
                "missing": node["missing"], "cover": float(node["_H"]),
                "children": [clean(c) for c in node["children"]]}
    return clean(root)


def _xgb_leaf(tree, row):
    """XGBoost's predict walk: float32 x < split_condition goes to 'yes', NaN to 'missing'."""
    node = tree
    while "leaf" not in node:
        x = row[int(node["split"][1:])]
        target = node["missing"] if np.isnan(x) else (node["yes"] if x < np.float32(node["split_condition"]) else node["no"])
        node = next(c for c in node["children"] if c["nodeid"] == target)
    return node["leaf"]


def _xgb_margin(trees, X32, base_margin, n_groups):
    """Sum of leaves per output group (tree i belongs to group i % n_groups) plus the base margin,
    in float32 as XGBoost's CPU predictor accumulates it."""
    m = np.full((len(X32), n_groups), np.float32(base_margin), dtype=np.float32)
    for i, tree in enumerate(trees):
        m[:, i % n_groups] += np.array([_xgb_leaf(tree, r) for r in X32], dtype=np.float32)
    return m


def _xgb_fit(X32, y, objective, n_estimators, max_depth, learning_rate=0.3):
    """XGBoost 2.1's boosting, in numpy: base_score from the data when the objective fits an
    intercept (FitIntercept::InitEstimation: one Newton step from margin 0, then the objective's
    transform: reg:squarederror -> mean(y), binary:logistic -> sigmoid(4 * (mean(y) - 0.5))),
    0.5 for multi:softprob (no intercept estimation); the base margin is ProbToMargin(base_score)
    (logit for binary:logistic, the identity otherwise); then n_estimators rounds of one tree per
    class (multi:softprob, gradient p - y and hessian max(2p(1-p), 1e-16)) or one tree (logistic:
    p - y, p(1-p); squared error: pred - y, 1)."""
    n_groups = int(y.max()) + 1 if objective == "multi:softprob" else 1
    if objective == "binary:logistic":
        base_score = np.float32(1.0 / (1.0 + np.exp(-4.0 * (np.mean(y) - 0.5))))
        base_margin = np.float32(-np.log(np.float32(1.0) / base_score - np.float32(1.0)))
    elif objective == "reg:squarederror":
        base_score = base_margin = np.float32(np.mean(y))
    else:
        base_score = base_margin = np.float32(0.5)
    cuts = _xgb_cuts(X32)
    margin = np.full((len(X32), n_groups), base_margin, dtype=np.float64)
    trees = []
    for _ in range(n_estimators):
        if objective == "binary:logistic":
            p = 1.0 / (1.0 + np.exp(-margin[:, 0]))
            grads = [(p - y, p * (1 - p))]
        elif objective == "reg:squarederror":
            grads = [(margin[:, 0] - y, np.ones(len(y)))]
        else:
            e = np.exp(margin - margin.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            grads = [(p[:, k] - (y == k), np.maximum(2.0 * p[:, k] * (1 - p[:, k]), 1e-16)) for k in range(n_groups)]
        for k, (g, h) in enumerate(grads):
            tree = _xgb_tree(X32, g, h, max_depth, learning_rate, cuts)
            trees.append(tree)
            margin[:, k] += np.array([_xgb_leaf(tree, r) for r in X32])
    return trees, base_score, base_margin, n_groups


def _xgb_tree_attributes(trees, is_classifier):
    """XGBConverter.fill_tree_attributes: per tree, _remap_nodeid numbers the nodes depth-first in
    pre-order (the node, its 'children'[0] subtree, then [1]), _fill_node_attributes writes them in
    that order: BRANCH_LT (a numerical split, x < split_condition), featureid from 'f<i>', true =
    'yes', false = 'no', missing_value_tracks_true = (missing == yes); a leaf: LEAF, value 0.0,
    featureid 0, true/false 0, tracks False, and one class_ (target_) entry: id 0, weight 1 * leaf.
    No nodes_hitrates: the classifier's and the regressor's attribute pairs have none."""
    prefix = "class_" if is_classifier else "target_"
    a = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                         "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                         prefix + "treeids", prefix + "nodeids", prefix + "ids", prefix + "weights")}
    for treeid, tree in enumerate(trees):
        remap = {}

        def number(node):
            remap[node["nodeid"]] = len(remap)
            for ch in node.get("children", []):
                number(ch)

        def fill(node):
            if "children" in node:
                for k, v in (("nodes_treeids", treeid), ("nodes_nodeids", remap[node["nodeid"]]),
                             ("nodes_featureids", int(node["split"][1:])), ("nodes_modes", "BRANCH_LT"),
                             ("nodes_values", float(node["split_condition"])),
                             ("nodes_truenodeids", remap[node["yes"]]), ("nodes_falsenodeids", remap[node["no"]]),
                             ("nodes_missing_value_tracks_true", node.get("missing", -1) == node["yes"])):
                    a[k].append(v)
                for ch in node["children"]:
                    fill(ch)
            else:
                for k, v in (("nodes_treeids", treeid), ("nodes_nodeids", remap[node["nodeid"]]),
                             ("nodes_featureids", 0), ("nodes_modes", "LEAF"), ("nodes_values", 0.0),
                             ("nodes_truenodeids", 0), ("nodes_falsenodeids", 0),
                             ("nodes_missing_value_tracks_true", False)):
                    a[k].append(v)
                for k, v in (("treeids", treeid), ("nodeids", remap[node["nodeid"]]), ("ids", 0),
                             ("weights", float(1 * node["leaf"]))):
                    a[prefix + k].append(v)

        number(tree)
        fill(tree)
    return a


def _xgb_data(seed, n, classes=None):
    """Four float32 features, ~8% of features 1 and 3 missing (NaN) in training too, so the trees
    learn a default direction for them."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(50, 15, n), rng.normal(0, 1, n), rng.uniform(0, 10, n),
                         rng.normal(3, 2, n)]).astype(np.float32)
    for f in (1, 3):
        X[rng.random(n) < 0.08, f] = np.nan
    return rng, X


def _xgb_samples(X32, trees):
    """Seven rows: three from the data, then the fourth data row with feature 1 missing, with
    feature 3 missing (both missing in training: directions learned), with feature 0 missing
    (never missing in training: every split on it defaults to 'no') (NaN, null in the manifest),
    and with the root split's feature of tree 0 exactly on its split_condition (x == cut is not
    < cut: 'no')."""
    full = ~np.isnan(X32).any(axis=1)
    S = np.round(X32[full][:4].astype(np.float64), 3).astype(np.float32)
    S = np.vstack([S[:3]] + [S[3:4]] * 4)
    S[3, 1] = np.nan
    S[4, 3] = np.nan
    S[5, 0] = np.nan
    S[6, int(trees[0]["split"][1:])] = np.float32(trees[0]["split_condition"])
    return S


def _json_rows(S):
    return [[None if np.isnan(v) else float(v) for v in row] for row in S]


def _xgb_model(nodes, name, outputs, file):
    graph = helper.make_graph(nodes, uuid_hex(name), [tensor_vi("input", TensorProto.FLOAT, [None, 4])], outputs)
    model = helper.make_model(graph, opset_imports=opsets((ML, 1)))
    model.ir_version = 8
    for k, v in XGB_ONNXMLTOOLS.items():
        setattr(model, k, v)
    model.doc_string = ""
    onnx.checker.check_model(model)
    with open(os.path.join(HERE, file), "wb") as f:
        f.write(model.SerializeToString())
    return model


def _xgb_classifier(file, X32, y, objective, n_estimators, what, notes):
    """XGBClassifierConverter.convert: the tree attributes, then for binary:logistic (one tree per
    round) post_transform LOGISTIC, class_ids all 0 and base_values [-log(1/float32(base_score) -
    1)] when base_score != 0.5; for multi:softprob SOFTMAX, class_ids = treeid % n_classes and
    base_values [base_score] * n_classes; classlabels_int64s = classes_; one TreeEnsembleClassifier
    named scope.get_unique_operator_name('TreeEnsembleClassifier') writing the operator's outputs
    'label' and 'probabilities' directly (no ZipMap). container.add_node -> helper.make_node (its
    attributes sorted by name), domain ai.onnx.ml, op_version 1. The shape calculator declares
    'label' int64 [N] and 'probabilities' float [N, 2 or C]."""
    trees, base_score, base_margin, n_groups = _xgb_fit(X32, y, objective, n_estimators, max_depth=3)
    attrs = _xgb_tree_attributes(trees, True)
    classes = np.arange(max(2, n_groups))
    if n_groups == 1:
        attrs["post_transform"] = "LOGISTIC"
        attrs["class_ids"] = [0 for _ in attrs["class_treeids"]]
        if float(base_score) != 0.5:
            attrs["base_values"] = [-np.log(1 / np.float32(float(base_score)) - 1.0)]
    else:
        attrs["post_transform"] = "SOFTMAX"
        attrs["base_values"] = [float(base_score) for _ in range(n_groups)]
        attrs["class_ids"] = [v % n_groups for v in attrs["class_treeids"]]
    attrs["classlabels_int64s"] = classes.astype("int")
    node = helper.make_node("TreeEnsembleClassifier", ["input"], ["label", "probabilities"],
                            name="TreeEnsembleClassifier", **attrs)
    node.domain = ML
    _xgb_model([node], file[:-5], [tensor_vi("label", TensorProto.INT64, [None]),
                                   tensor_vi("probabilities", TensorProto.FLOAT, [None, len(classes)])], file)
    S = _xgb_samples(X32, trees)
    margin = _xgb_margin(trees, S.astype(np.float32), base_margin, n_groups).astype(np.float64)
    if n_groups == 1:
        p1 = 1.0 / (1.0 + np.exp(-margin[:, 0]))
        proba = np.column_stack([1 - p1, p1])
        predict = (p1 > 0.5).astype(np.int64)  # XGBClassifier.predict: class 1 when P(1) > 0.5
        train = (_xgb_margin(trees, X32, base_margin, 1)[:, 0] > 0).astype(np.int64)
    else:
        e = np.exp(margin - margin.max(axis=1, keepdims=True))
        proba = e / e.sum(axis=1, keepdims=True)
        predict = proba.argmax(axis=1)
        train = _xgb_margin(trees, X32, base_margin, n_groups).argmax(axis=1)
    return {
        "file": file,
        "mimics": XGB_MIMICS.format(what=what, converter="XGBClassifierConverter", shape="Classifier"),
        "accept": True, "task": "binary" if n_groups == 1 else "multiclass",
        "labels": [str(c) for c in classes], "batching": "merge",
        "samples": {"inputs": {"input": _json_rows(S)},
                    "predict": predict.tolist(),
                    "predict_proba": proba.tolist(),
                    "source": "%d XGBoost-style trees of depth <= 3 fitted in numpy (objective %s, learning_rate 0.3, "
                              "base_score %r, training accuracy %.3f); expected outputs from the trees as XGBoost's "
                              "predict_proba/predict evaluate them (null = NaN = missing), not from the graph"
                              % (len(trees), objective, float(base_score), float((train == y).mean()))},
        "tolerance": 1e-5,
        "notes": "No ZipMap: outputs 'label' int64 [N] and 'probabilities' float [N, %d] straight from one "
                 "TreeEnsembleClassifier named 'TreeEnsembleClassifier' (input 'input' float [N, 4]). Only ai.onnx.ml 1 "
                 "is imported (no default domain), ir_version 8. Splits are BRANCH_LT (XGBoost's x < split_condition), "
                 "node ids depth-first, nodes_missing_value_tracks_true from XGBoost's missing == yes (NaN follows the "
                 "default direction each split learned from the training rows with NaN; 'no' for a feature never missing), no "
                 "nodes_hitrates. Rows 4, 5 and 6 have a missing feature (null in a record, NaN in the tensor: features 1 "
                 "and 3 were missing in training, feature 0 never was); row 7 sits exactly on tree 0's root "
                 "split_condition (x == cut goes to 'no'). " % len(classes) + notes,
    }


def onnxmltools_xgb_binary():
    """XGBClassifier(n_estimators=5, max_depth=3) on a binary target: objective binary:logistic,
    XGBoost 2's base_score fitted from the data (!= 0.5), so base_values [logit(base_score)]."""
    rng, X = _xgb_data(2101, 500)
    x1, x3 = np.nan_to_num(X[:, 1], nan=0.5), np.nan_to_num(X[:, 3], nan=5.0)
    z = 0.06 * (X[:, 0] - 50) - 1.0 * x1 + 0.3 * (X[:, 2] - 5) + 0.7 * (x3 > 4) - 0.6
    y = (z + rng.logistic(0, 1, len(X)) > 0).astype(np.int64)
    entry = _xgb_classifier(
        "onnxmltools-xgb-binary.onnx", X, y, "binary:logistic", 5, "XGBClassifier(n_estimators=5, max_depth=3), binary",
        "Binary: one vote per leaf for class 0 (class_ids all 0) with post_transform LOGISTIC and classlabels_int64s "
        "[0, 1], and base_values [logit(base_score)] (XGBoost >= 2 fits base_score from the data, here != 0.5). "
        "onnxruntime treats this as its binary case (binary_case_): class 1's probability is sigmoid(base_values[0] + "
        "the leaves), its label classlabels[1] when that score is > 0, which is XGBoost's predict.")
    add_manifest({**entry, "ort": "Loads and runs (only tensor outputs): 'probabilities' [N, 2] = [1 - sigmoid(m), "
                                  "sigmoid(m)] with m = base_values[0] + the leaves, 'label' [N] 1 when m > 0; both match "
                                  "XGBoost's predict_proba/predict, NaN rows included."})


def onnxmltools_xgb_multiclass():
    """XGBClassifier(n_estimators=4, max_depth=3) on classes 0/1/2: objective multi:softprob, one
    tree per class and round (class_ids = treeid % 3), SOFTMAX, base_values [0.5] * 3 (XGBoost 2
    does not fit a multiclass intercept; a constant added to every class changes no softmax)."""
    rng, X = _xgb_data(2202, 450)
    centers = np.array([[40.0, 1.0, 2.0, 1.0], [55.0, -0.5, 7.0, 3.0], [65.0, 0.5, 4.0, 6.0]])
    yi = np.argmin([np.nansum(((X - c) / np.array([15.0, 1.0, 3.0, 2.0])) ** 2, axis=1) for c in centers], axis=0)
    flip = rng.random(len(X)) < 0.1
    yi = np.where(flip, rng.integers(0, 3, len(X)), yi).astype(np.int64)
    entry = _xgb_classifier(
        "onnxmltools-xgb-multiclass.onnx", X, yi, "multi:softprob", 4, "XGBClassifier(n_estimators=4, max_depth=3), "
        "classes 0/1/2", "Multiclass: one tree per class and round, class_ids = treeid % 3, post_transform SOFTMAX, "
        "base_values [0.5, 0.5, 0.5]; the label is the argmax, which onnxruntime gets right for more than two classes.")
    add_manifest({**entry, "ort": "Loads and runs: 'probabilities' [N, 3] = softmax(0.5 + each class's leaves) and "
                                  "'label' its argmax, as XGBoost's predict_proba/predict."})


def onnxmltools_xgb_regressor():
    """XGBRegressor(n_estimators=6, max_depth=3), objective reg:squarederror: XGBRegressorConverter
    writes one TreeEnsembleRegressor (post_transform NONE, n_targets 1, base_values [base_score] =
    mean(y), target_ids 0) to 'variable', declared float [N, 1] (calculate_linear_regressor_output_shapes)."""
    rng, X = _xgb_data(2303, 400)
    x1 = np.nan_to_num(X[:, 1], nan=0.0)
    y = 12 + 0.1 * X[:, 0] + 2.5 * x1 + 2.0 * np.sin(X[:, 2]) + rng.normal(0, 0.5, len(X))
    trees, base_score, base_margin, _ = _xgb_fit(X, y, "reg:squarederror", 6, max_depth=3)
    attrs = _xgb_tree_attributes(trees, False)
    attrs.update(post_transform="NONE", n_targets=1, base_values=[float(base_score)])
    node = helper.make_node("TreeEnsembleRegressor", ["input"], ["variable"], name="TreeEnsembleRegressor", **attrs)
    node.domain = ML
    file = "onnxmltools-xgb-regressor.onnx"
    _xgb_model([node], file[:-5], [tensor_vi("variable", TensorProto.FLOAT, [None, 1])], file)
    S = _xgb_samples(X, trees)
    pred = _xgb_margin(trees, S, base_margin, 1)[:, 0].astype(np.float64)
    rmse = float(np.sqrt(np.mean((_xgb_margin(trees, X, base_margin, 1)[:, 0] - y) ** 2)))
    add_manifest({
        "file": file,
        "mimics": XGB_MIMICS.format(what="XGBRegressor(n_estimators=6, max_depth=3)", converter="XGBRegressorConverter",
                                    shape="Regressor"),
        "accept": True, "task": "regression", "batching": "merge",
        "samples": {"inputs": {"input": _json_rows(S)}, "predict": pred.tolist(),
                    "source": "6 XGBoost-style trees of depth <= 3 fitted in numpy (reg:squarederror, learning_rate 0.3, "
                              "base_score = mean(y) %r; training RMSE %.3f, target std %.3f); expected outputs from the "
                              "trees as XGBoost's predict evaluates them, not from the graph"
                              % (float(base_score), rmse, float(np.std(y)))},
        "tolerance": 1e-4,
        "notes": "Output 'variable' float [N, 1] from one TreeEnsembleRegressor named 'TreeEnsembleRegressor' (post_transform "
                 "NONE, n_targets 1, base_values [base_score]); BRANCH_LT splits, missing_value_tracks_true from missing == "
                 "yes, no nodes_hitrates; only ai.onnx.ml 1 imported, ir_version 8. Rows 4, 5 and 6 have a missing feature "
                 "(null/NaN). No ZipMap, nothing to rewrite.",
        "ort": "Loads; 'variable' [N, 1] equals base_score plus the leaves (float32), NaN rows included.",
    })


# --------------------------------------------------------------------------------------------
# skl2onnx: HistGradientBoostingClassifier / HistGradientBoostingRegressor, missing values routed
# --------------------------------------------------------------------------------------------
# skl2onnx 1.13 has no converter of its own for HistGradientBoosting*: operator_converters/
# random_forest.py registers convert_sklearn_random_forest_classifier for
# 'SklearnHistGradientBoostingClassifier' and convert_sklearn_random_forest_regressor_converter for
# 'SklearnHistGradientBoostingRegressor', which walk `model._predictors` with
# common/tree_ensemble.py add_tree_to_attribute_pairs_hist_gradient_boosting.
HGB_MIMICS = ("skl2onnx 1.13 {call} of a scikit-learn 1.2 {what}; operator_converters/random_forest.py "
              "({converter}, the HistGradientBoosting branch: tree_weight 1.0, _baseline_prediction as base_values, "
              "post_transform from the loss class), common/tree_ensemble.py "
              "(add_tree_to_attribute_pairs_hist_gradient_boosting, add_node), {rest}")


def _hgb_data(seed, n):
    """Four features as users' tables hold them, float32-exact: an integer (an age, never missing),
    a float with two decimals (~10% missing in training), a score on a 0.5 grid (never missing) and
    another two-decimal float (~10% missing). HistGradientBoosting learns, at each split on a
    feature that had NaN in training, which side NaN goes to; on a feature that never had NaN,
    NaN goes to the child with more training rows (grower.py split_next)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(18, 80, n), rng.normal(0, 1, n).round(2), (rng.uniform(0, 10, n) * 2).round() / 2,
                         rng.normal(3, 2, n).round(2)]).astype(np.float32).astype(np.float64)
    for f in (1, 3):
        X[rng.random(n) < 0.1, f] = np.nan
    return rng, X


def _hgb_tree_attributes(model, is_classifier):
    """random_forest.py's HistGradientBoosting branch: for each iteration, its one tree (tree id =
    the iteration, class/target id 0) or, with several trees per iteration (multiclass), tree id
    iteration * n_trees_per_iteration + class with class id = the class; each tree through
    add_tree_to_attribute_pairs_hist_gradient_boosting(attrs, is_classifier, tree, tree_id, 1.0, class,
    False, False): node id = the index in `tree.nodes` (scikit-learn's depth-first order); a leaf:
    LEAF, feature 0, value 0.0, children 0, missing False, and one class_/target_ weight = its value
    (the learning rate is already in it); a split: BRANCH_LEQ on feature_idx at num_threshold (no
    sklearn_threshold adjustment: adjust_threshold_for_sklearn is False), true = left, false = right,
    nodes_missing_value_tracks_true = missing_go_to_left; nodes_hitrates 1.0. Then the float
    attributes become float32 arrays."""
    prefix = "class_" if is_classifier else "target_"
    a = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                         "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                         "nodes_hitrates", prefix + "treeids", prefix + "nodeids", prefix + "ids", prefix + "weights")}
    per_iteration = model.n_trees_per_iteration_
    for it, predictors in enumerate(model._predictors):
        for cl, tree in enumerate(predictors):
            tree_id = it if len(predictors) == 1 else it * per_iteration + cl
            for i, node in enumerate(tree.nodes):
                leaf = bool(node["is_leaf"])
                for k, v in (("nodes_treeids", tree_id), ("nodes_nodeids", i),
                             ("nodes_featureids", 0 if leaf else int(node["feature_idx"])),
                             ("nodes_modes", "LEAF" if leaf else "BRANCH_LEQ"),
                             ("nodes_values", 0.0 if leaf else float(node["num_threshold"])),
                             ("nodes_truenodeids", 0 if leaf else int(node["left"])),
                             ("nodes_falsenodeids", 0 if leaf else int(node["right"])),
                             ("nodes_missing_value_tracks_true", 0 if leaf else int(node["missing_go_to_left"])),
                             ("nodes_hitrates", 1.0)):
                    a[k].append(v)
                if leaf:
                    for k, v in (("treeids", tree_id), ("nodeids", i), ("ids", cl), ("weights", float(node["value"]) * 1.0)):
                        a[prefix + k].append(v)
    for k in ("nodes_values", prefix + "weights", "nodes_hitrates"):
        a[k] = f32(a[k])
    return a


def _hgb_split_stats(model):
    """(splits, splits sending NaN left, thresholds that are not float32 values)."""
    nodes = [n for p in model._predictors for t in p for n in t.nodes if not n["is_leaf"]]
    inexact = sum(1 for n in nodes if float(np.float32(n["num_threshold"])) != float(n["num_threshold"]))
    return len(nodes), sum(int(n["missing_go_to_left"]) for n in nodes), inexact


def _hgb_samples(X, model):
    """Eight float32-exact rows: three complete rows from the data (a classifier's first one predicted
    as each class among them), then a fourth complete row with feature 1
    missing, with feature 3 missing (both missing in training: directions learned), with feature 0
    missing (never missing in training: NaN goes to the larger child), with every feature missing,
    and exactly on the root threshold of the first tree whose root threshold is a float32 value (x <=
    threshold: left; the integer and 0.5-grid features' midpoint thresholds are float32 values, a
    two-decimal feature's mostly are not). Returns the rows and that tree's index."""
    full = X[~np.isnan(X).any(axis=1)]
    predicted = model.predict(full)
    # The ordinary rows: the first complete row predicted as each class (classifiers), then the next.
    first = [int(np.argmax(predicted == c)) for c in getattr(model, "classes_", [])]
    picked = list(dict.fromkeys(first + list(range(len(full)))))[:4]
    S = np.vstack([full[picked[:3]]] + [full[picked[3]:picked[3] + 1]] * 5)
    S[3, 1] = np.nan
    S[4, 3] = np.nan
    S[5, 0] = np.nan
    S[6, :] = np.nan
    roots = [t.nodes[0] for p in model._predictors for t in p if not t.nodes[0]["is_leaf"]]
    tree, root = next((k, r) for k, r in enumerate(roots)
                      if float(np.float32(r["num_threshold"])) == float(r["num_threshold"]))
    S[7, int(root["feature_idx"])] = float(root["num_threshold"])
    return S, tree


def _hgb_rounded_branches(model, S):
    """How many times a sample row, walking the trees as scikit-learn does (TreePredictor: NaN goes
    where missing_go_to_left says, else x <= num_threshold goes left), meets a split whose float32
    threshold (what skl2onnx writes) would send it the other way."""
    count = 0
    for p in model._predictors:
        for t in p:
            for row in S:
                node = t.nodes[0]
                while not node["is_leaf"]:
                    x = row[node["feature_idx"]]
                    if np.isnan(x):
                        left = bool(node["missing_go_to_left"])
                    else:
                        left = x <= node["num_threshold"]
                        count += left != (np.float32(x) <= np.float32(node["num_threshold"]))
                    node = t.nodes[node["left"] if left else node["right"]]
    return count


def _hgb_notes(model, X, y, S, kind):
    splits, left, inexact = _hgb_split_stats(model)
    rounded = _hgb_rounded_branches(model, S)
    assert rounded == 0, "a sample row takes another branch with the float32 thresholds"
    return ("%d HistGradientBoosting trees (%s), %d splits, %d of them sending NaN left (missing_go_to_left); "
            "%d thresholds are not float32 values (skl2onnx rounds them: an input equal to a rounding above the "
            "threshold goes left in the graph, right in scikit-learn; no sample row meets one so); expected outputs from "
            "scikit-learn's own predict_proba/predict on the rows (null = NaN), not from the graph; training "
            "score %.3f" % (sum(len(p) for p in model._predictors), kind, splits, left, inexact, model.score(X, y)))


HGB_ROWS = ("Rows 4 to 7 have missing features (null in a record, NaN in the tensor): feature 1, feature 3 "
            "(both missing in training, directions learned), feature 0 (never missing: NaN goes to the child "
            "with more training rows), all four; row 8 sits exactly on tree %d's root threshold "
            "(x <= threshold: left).")


def _hgb_classifier(file, X, y, input_name, call, what, notes):
    """convert_sklearn_random_forest_classifier, the HistGradientBoosting branch (n_outputs =
    n_trees_per_iteration_, `hasattr(op, '_loss')`): one TreeEnsembleClassifier named
    'TreeEnsembleClassifier' (op_version 1) with classlabels_int64s or classlabels_strings from
    classes_, base_values = list(_baseline_prediction.ravel()), post_transform LOGISTIC for
    HalfBinomialLoss (binary: one tree per iteration, one vote per leaf for class 0) or SOFTMAX for
    HalfMultinomialLoss; outputs 'label' and 'probabilities' (_parse.py _parse_sklearn_classifier),
    then zip_map.py: int labels -> Cast(to INT64) 'label' -> 'output_label' named 'Cast' and ZipMap
    named 'ZipMap' -> 'output_probability'; string labels -> an Identity that convert_topology's
    onnx_remove_node_identity folds away (the tree node writes 'output_label' itself)."""
    model = HistGradientBoostingClassifier(max_iter=4, max_leaf_nodes=6, learning_rate=0.3, random_state=0).fit(X, y)
    attrs = _hgb_tree_attributes(model, True)
    loss = model._loss.__class__.__name__
    attrs["post_transform"] = {"HalfBinomialLoss": "LOGISTIC", "HalfMultinomialLoss": "SOFTMAX"}[loss]
    attrs["base_values"] = f32(list(model._baseline_prediction.ravel()))
    classes = model.classes_
    strings = classes.dtype.kind in "UO"
    labels = {"classlabels_strings": [str(c) for c in classes]} if strings else {
        "classlabels_int64s": [int(c) for c in classes]}
    key = TensorProto.STRING if strings else TensorProto.INT64
    if strings:
        nodes = [helper.make_node("TreeEnsembleClassifier", [input_name], ["output_label", "probabilities"],
                                  name="TreeEnsembleClassifier", domain=ML, **labels, **attrs)]
    else:
        nodes = [helper.make_node("TreeEnsembleClassifier", [input_name], ["label", "probabilities"],
                                  name="TreeEnsembleClassifier", domain=ML, **labels, **attrs),
                 helper.make_node("Cast", ["label"], ["output_label"], name="Cast", to=TensorProto.INT64)]
    nodes.append(helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                                  **labels))
    graph = helper.make_graph(nodes, uuid_hex(file[:-5]), [tensor_vi(input_name, TensorProto.FLOAT, [None, 4])],
                              [tensor_vi("output_label", key, [None]), seq_map_vi("output_probability", key)])
    finish(graph, opsets((ML, 1), ("", 17)) if strings else opsets(("", 13), (ML, 1)), SKL2ONNX, file)
    S, on = _hgb_samples(X, model)
    binary = len(classes) == 2
    return {
        "file": file,
        "mimics": HGB_MIMICS.format(call=call, what=what, converter="convert_sklearn_random_forest_classifier",
                                    rest="_parse.py (_parse_sklearn_classifier, _apply_zipmap), "
                                         "operator_converters/zip_map.py"),
        "accept": True, "task": "binary" if binary else "multiclass",
        "labels": [str(c) for c in classes], "batching": "merge",
        "samples": {"inputs": {input_name: _json_rows(S)},
                    "predict": model.predict(S).tolist(),
                    "predict_proba": model.predict_proba(S).tolist(),
                    "source": _hgb_notes(model, X, y, S, "max_iter=4, max_leaf_nodes=6, learning_rate=0.3, %s"
                                         % ("HalfBinomialLoss" if binary else "HalfMultinomialLoss"))},
        "tolerance": 1e-5,
        "notes": "One TreeEnsembleClassifier named 'TreeEnsembleClassifier' (input '%s' float [N, 4]) then the ZipMap: "
                 "BRANCH_LEQ splits at scikit-learn's num_threshold cast to float32, nodes_missing_value_tracks_true = "
                 "missing_go_to_left on every split (0 or 1: HistGradientBoosting routes NaN at every split), "
                 "nodes_hitrates 1.0, leaves' values (learning rate included) as class_weights with tree weight 1, "
                 "base_values = _baseline_prediction. %s %s" % (input_name, notes, HGB_ROWS % on),
        "zipmapInput": "probabilities",
        "ort": ZIPMAP_ORT,
    }


def skl_hist_gb_binary():
    """HistGradientBoostingClassifier(max_iter=4, max_leaf_nodes=6) on a 0/1 target, exported with
    skl2onnx's to_onnx(model, X[:1].astype(np.float32)): input 'X' (algebra/type_helper
    guess_initial_types: FloatTensorType([None, 4])), the ZipMap by default."""
    rng, X = _hgb_data(2401, 500)
    x1, x3 = np.nan_to_num(X[:, 1], nan=1.0), np.nan_to_num(X[:, 3], nan=6.0)
    z = 0.05 * (X[:, 0] - 50) - 1.0 * x1 + 0.3 * (X[:, 2] - 5) + 0.8 * (x3 > 4) - 0.3
    y = (z + rng.logistic(0, 1, len(X)) > 0).astype(np.int64)
    add_manifest(_hgb_classifier(
        "skl-hist-gb-binary.onnx", X, y, "X", "to_onnx(model, X[:1].astype(np.float32))",
        "HistGradientBoostingClassifier(max_iter=4, max_leaf_nodes=6), classes 0/1",
        "Binary: one tree per iteration, one vote per leaf for class 0 (class_ids all 0), post_transform LOGISTIC, "
        "base_values [the baseline log-odds], classlabels_int64s [0, 1]; onnxruntime's binary case: P(1) = "
        "sigmoid(base_values[0] + the leaves), the label 1 when that score is > 0. Outputs output_label int64 [N] "
        "(Cast of the tree's 'label') and output_probability seq(map(int64, float))."))


def skl_hist_gb_multiclass():
    """HistGradientBoostingClassifier(max_iter=4, max_leaf_nodes=6) on three string classes,
    exported with convert_sklearn(model, initial_types=[('float_input', FloatTensorType([None, 4]))])."""
    rng, X = _hgb_data(2502, 450)
    centers = np.array([[35.0, 1.0, 2.0, 1.0], [50.0, -0.5, 7.0, 3.0], [65.0, 0.5, 4.0, 6.0]])
    scale = np.array([12.0, 1.0, 3.0, 2.0])
    yi = np.argmin([np.nansum(((X - c) / scale) ** 2, axis=1) for c in centers], axis=0)
    flip = rng.random(len(X)) < 0.1
    yi = np.where(flip, rng.integers(0, 3, len(X)), yi)
    y = np.array(["bronze", "gold", "silver"])[yi]
    add_manifest(_hgb_classifier(
        "skl-hist-gb-multiclass.onnx", X, y, "float_input",
        "convert_sklearn(model, initial_types=[('float_input', FloatTensorType([None, 4]))])",
        "HistGradientBoostingClassifier(max_iter=4, max_leaf_nodes=6), classes bronze/gold/silver",
        "Multiclass: one tree per class and iteration (tree id = iteration * 3 + class, class_ids = the class), "
        "post_transform SOFTMAX, base_values = the three baseline raw scores, classlabels_strings; the label is "
        "output_label string [N] written by the tree node itself (the ZipMap's Identity folded away), "
        "output_probability seq(map(string, float)). Opset imports list ai.onnx.ml before the main domain."))


def skl_hist_gb_regressor():
    """HistGradientBoostingRegressor(max_iter=6, max_leaf_nodes=6), to_onnx(model, X[:1].astype(np.float32)):
    convert_sklearn_random_forest_regressor_converter, the HistGradientBoosting branch: one
    TreeEnsembleRegressor named 'TreeEnsembleRegressor' (op_version 1, n_targets =
    n_trees_per_iteration_ = 1, post_transform NONE, base_values = list(_baseline_prediction), the
    mean of y for the squared error) writing 'variable' (_parse.py _parse_sklearn_simple_model),
    declared float [N, 1] (shape_calculators: calculate_linear_regressor_output_shapes). Only
    ai.onnx.ml ops: convert_topology adds the main opset at the target opset (17)."""
    rng, X = _hgb_data(2603, 400)
    x1 = np.nan_to_num(X[:, 1], nan=-1.0)
    y = 12 + 0.1 * X[:, 0] + 2.5 * x1 + 2.0 * np.sin(X[:, 2]) + rng.normal(0, 0.5, len(X))
    model = HistGradientBoostingRegressor(max_iter=6, max_leaf_nodes=6, learning_rate=0.3, random_state=0).fit(X, y)
    attrs = _hgb_tree_attributes(model, False)
    attrs.update(post_transform="NONE", n_targets=int(model.n_trees_per_iteration_),
                 base_values=f32(np.array(list(model._baseline_prediction), dtype=np.float32).ravel()))
    file = "skl-hist-gb-regressor.onnx"
    node = helper.make_node("TreeEnsembleRegressor", ["X"], ["variable"], name="TreeEnsembleRegressor", domain=ML,
                            **attrs)
    graph = helper.make_graph([node], uuid_hex(file[:-5]), [tensor_vi("X", TensorProto.FLOAT, [None, 4])],
                              [tensor_vi("variable", TensorProto.FLOAT, [None, 1])])
    finish(graph, opsets((ML, 1), ("", 17)), SKL2ONNX, file)
    S, on = _hgb_samples(X, model)
    add_manifest({
        "file": file,
        "mimics": HGB_MIMICS.format(call="to_onnx(model, X[:1].astype(np.float32))",
                                    what="HistGradientBoostingRegressor(max_iter=6, max_leaf_nodes=6)",
                                    converter="convert_sklearn_random_forest_regressor_converter",
                                    rest="_parse.py (_parse_sklearn_simple_model), "
                                         "shape_calculators/LinearRegressor.py"),
        "accept": True, "task": "regression", "batching": "merge",
        "samples": {"inputs": {"X": _json_rows(S)}, "predict": model.predict(S).tolist(),
                    "source": _hgb_notes(model, X, y, S, "max_iter=6, max_leaf_nodes=6, learning_rate=0.3, squared "
                                                      "error; target std %.3f" % float(np.std(y)))},
        "tolerance": 1e-4,
        "notes": "Output 'variable' float [N, 1] from one TreeEnsembleRegressor named 'TreeEnsembleRegressor' (input 'X' "
                 "float [N, 4], post_transform NONE, n_targets 1, base_values [mean(y)]); BRANCH_LEQ splits at "
                 "num_threshold cast to float32, nodes_missing_value_tracks_true = missing_go_to_left, nodes_hitrates "
                 "1.0; only ai.onnx.ml 1 and the main opset 17 imported. No ZipMap, nothing to rewrite. " + HGB_ROWS % on,
        "ort": "Loads; 'variable' [N, 1] equals base_values plus the leaves (float32), NaN rows included.",
    })


# --------------------------------------------------------------------------------------------
# skl2onnx: models exported from float64 data, to_onnx(model, X_train[:1]) without .astype(np.float32)
# --------------------------------------------------------------------------------------------
# algebra/type_helper.py guess_initial_types: a numpy array X -> [('X', _guess_type(X[:1]))], and
# _guess_type maps a float64 array to DoubleTensorType([None, 4]) (the first dim None). The
# converters then take their double paths.
DOUBLE_ROWS = ("The sample rows are float64 values with three decimals, most of them not float32 values: a "
               "service that read the input as float32 would round them.")


def _double_data(seed, n):
    """Four float64 columns as a user's training array holds them (np.float64, no float32 rounding)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(45, 12, n), rng.normal(0, 1, n), rng.uniform(0, 10, n), rng.normal(3, 2, n)])
    return rng, X


def skl_logreg_double():
    """Mimics skl2onnx 1.13 `to_onnx(LogisticRegression().fit(X64, y), X64[:1])`, binary 0/1, X64 float64:
    - input 'X' DoubleTensorType([None, 4]) (type_helper.guess_initial_types / _guess_type).
    - operator_converters/linear_classifier.py: `if not use_linear_op or type(operator.inputs[0].type)
      in (DoubleTensorType,)` ("Double -> double parameters not supported in ONNX LinearClassifier"):
      initializers 'coef' (DOUBLE, coefficients [-coef, coef] reshaped (2, -1).T = [4, 2]) and
      'intercept' (DOUBLE [1, 2]); MatMul(X, coef) -> 'multiplied'; apply_add -> 'raw_scores';
      ArgMax(axis=1) -> 'label1' ('label' is already the operator's output);
      utils_classifier._finalize_converter_classes(..., proto_dtype DOUBLE): int classes -> INT32
      initializer 'classes', ArrayFeatureExtractor -> 'array_feature_extractor_result', Cast(to
      DOUBLE) -> 'cast2_result', Reshape(-1) -> 'reshaped_result' ('shape_tensor'), Cast(to INT64) ->
      'label'; post_transform LOGISTIC (binary 'auto') -> apply_logistic: Sigmoid -> 'raw_scoressig',
      then apply_normalizer(norm='L1', use_float=False): Abs -> 'norm_abs', ReduceSum(axis input
      'axis', keepdims=1) -> 'norm', Div (operator 'NormalizerNorm') -> 'probabilities' (double).
    - _parse.py _apply_zipmap declares 'output_probability' SequenceType(DictionaryType(Int64TensorType,
      guess_tensor_type(input_type))) and shape_calculators/zip_map.py sets the value type from the
      probabilities: DoubleTensorType. zip_map.py adds Cast(to INT64) 'label' -> 'output_label' and the
      ZipMap on the double 'probabilities' with no Cast before it (skl2onnx's own double tests pass
      zipmap=False: "zipmap does not allow tensor(double) as inputs").
    - opsets: Add/Div 14 at target opset 17 (the largest), ai.onnx.ml 1.
    """
    file = "skl-logreg-double.onnx"
    rng, X = _double_data(2701, 400)
    z = 0.06 * (X[:, 0] - 45) - 0.9 * X[:, 1] + 0.25 * (X[:, 2] - 5) + 0.3 * (X[:, 3] - 3)
    y = (z + rng.logistic(0, 1, len(X)) > 0).astype(np.int64)
    lr = LogisticRegression().fit(X, y)
    coef = lr.coef_.ravel().astype(float).tolist()
    b = lr.intercept_.tolist()
    coefficients = np.array([-c for c in coef] + coef, dtype=np.float64).reshape((2, -1)).T
    intercepts = np.array([-v for v in b] + b, dtype=np.float64).reshape((2, -1)).T
    inits = [
        helper.make_tensor("coef", TensorProto.DOUBLE, coefficients.shape, coefficients.ravel().tolist()),
        helper.make_tensor("intercept", TensorProto.DOUBLE, intercepts.shape, intercepts.ravel().tolist()),
        helper.make_tensor("classes", TensorProto.INT32, [2], [0, 1]),
        helper.make_tensor("shape_tensor", TensorProto.INT64, [1], [-1]),
        helper.make_tensor("axis", TensorProto.INT64, [1], [1]),
    ]
    nodes = [
        helper.make_node("MatMul", ["X", "coef"], ["multiplied"], name="MatMul"),
        helper.make_node("Add", ["multiplied", "intercept"], ["raw_scores"], name="Add"),
        helper.make_node("ArgMax", ["raw_scores"], ["label1"], name="ArgMax", axis=1),
        helper.make_node("ArrayFeatureExtractor", ["classes", "label1"], ["array_feature_extractor_result"],
                         name="ArrayFeatureExtractor", domain=ML),
        helper.make_node("Cast", ["array_feature_extractor_result"], ["cast2_result"], name="Cast",
                         to=TensorProto.DOUBLE),
        helper.make_node("Reshape", ["cast2_result", "shape_tensor"], ["reshaped_result"], name="Reshape"),
        helper.make_node("Cast", ["reshaped_result"], ["label"], name="Cast1", to=TensorProto.INT64),
        helper.make_node("Sigmoid", ["raw_scores"], ["raw_scoressig"], name="Sigmoid"),
        helper.make_node("Abs", ["raw_scoressig"], ["norm_abs"], name="Abs"),
        helper.make_node("ReduceSum", ["norm_abs", "axis"], ["norm"], name="ReduceSum", keepdims=1),
        helper.make_node("Div", ["raw_scoressig", "norm"], ["probabilities"], name="NormalizerNorm"),
        helper.make_node("Cast", ["label"], ["output_label"], name="Cast2", to=TensorProto.INT64),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML,
                         classlabels_int64s=[0, 1]),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex(file[:-5]), [tensor_vi("X", TensorProto.DOUBLE, [None, 4])],
        [tensor_vi("output_label", TensorProto.INT64, [None]),
         seq_map_vi("output_probability", TensorProto.INT64, TensorProto.DOUBLE)],
        initializer=inits,
    )
    finish(graph, opsets(("", 14), (ML, 1)), SKL2ONNX, file)
    S = np.round(X[:6], 3)
    add_manifest({
        "file": file,
        "mimics": "skl2onnx 1.13 to_onnx(LogisticRegression().fit(X64, y), X64[:1]) with X64 float64 (input 'X' "
                  "DoubleTensorType([None, 4])); algebra/type_helper.py, operator_converters/linear_classifier.py "
                  "(the double path), common/utils_classifier.py (_finalize_converter_classes), "
                  "common/_apply_operation.py (apply_normalizer, use_float=False), _parse.py (_apply_zipmap), "
                  "shape_calculators/zip_map.py, operator_converters/zip_map.py",
        "accept": True, "task": "binary", "labels": ["0", "1"], "batching": "merge",
        "samples": {"inputs": {"X": S.tolist()},
                    "predict": lr.predict(S).tolist(),
                    "predict_proba": lr.predict_proba(S).tolist(),
                    "source": "scikit-learn's own predict_proba/predict on the float64 rows, not the graph; "
                              "training score %.3f" % lr.score(X, y)},
        "tolerance": 1e-9,
        "notes": "No LinearClassifier: the double path writes MatMul/Add (double initializers 'coef' [4, 2] and "
                 "'intercept' [1, 2]) -> 'raw_scores', Sigmoid, then L1 normalisation as Abs/ReduceSum/Div -> "
                 "'probabilities' double [N, 2]; the label from ArgMax through ArrayFeatureExtractor over INT32 "
                 "'classes', Cast(DOUBLE), Reshape, Cast(INT64). The ZipMap reads the double probabilities "
                 "(no Cast) and 'output_probability' is declared seq(map(int64, tensor(double))), which the ZipMap "
                 "schema does not allow (tensor(float) only). " + DOUBLE_ROWS,
        "zipmapInput": "probabilities",
        "ort": "onnxruntime-node 1.30 refuses to load it: the ZipMap's input 'probabilities' is tensor(double), "
               "its schema takes tensor(float) only. With the ZipMap node removed, 'probabilities' (double) "
               "matches predict_proba and 'output_label' predict.",
    })


def _forest_other_branch(rf, S):
    """How many times a sample row meets a split that sends it one way in scikit-learn (x cast to
    float32, then x <= threshold, float64) and the other way in the export (the double x against
    the threshold rounded to float32)."""
    count = 0
    for est in rf.estimators_:
        t = est.tree_
        for row in S:
            i = 0
            while t.children_left[i] != -1:
                f, th = t.feature[i], t.threshold[i]
                left = np.float64(np.float32(row[f])) <= th
                count += left != (row[f] <= np.float64(np.float32(th)))
                i = t.children_left[i] if left else t.children_right[i]
    return count


def skl_forest_double():
    """Mimics skl2onnx 1.13 `to_onnx(RandomForestClassifier(n_estimators=3, max_depth=3).fit(X64, y3),
    X64[:1])`, classes 0/1/2, X64 float64:
    - input 'X' DoubleTensorType([None, 4]) (type_helper.guess_initial_types / _guess_type).
    - operator_converters/random_forest.py convert_sklearn_random_forest_classifier: dtype =
      guess_numpy_type(input) = np.float64; one TreeEnsembleClassifier (op_version=1, named
      'TreeEnsembleClassifier') reading the double 'X' itself (ai.onnx.ml 1 accepts double; no Cast,
      no *_as_tensor attribute, which only ai.onnx.ml 3 has); trees by common/tree_ensemble.py
      add_tree_to_attribute_pairs(..., dtype=np.float64): sklearn_threshold leaves the float64
      thresholds as they are, then `attr_pairs[k] = np.array(attr_pairs[k], dtype=np.float32)` rounds
      nodes_values/class_weights/nodes_hitrates to float32 (nearest); tree weight 1/3, leaf counts
      normalised.
    - 'probabilities' stays float (PR #826: "Regardless of input type, probabilities output type of
      RandomForest remains Float"), so the ZipMap is a valid one: zip_map.py Cast(to INT64) 'label' ->
      'output_label' named 'Cast' and ZipMap -> 'output_probability' seq(map(int64, tensor(float))).
    - opsets: Cast 13, ai.onnx.ml 1.
    """
    file = "skl-forest-double.onnx"
    rng, X = _double_data(2802, 360)
    centers = np.array([[35.0, 1.0, 2.0, 1.0], [50.0, -0.5, 7.0, 3.0], [60.0, 0.5, 4.0, 6.0]])
    scale = np.array([12.0, 1.0, 3.0, 2.0])
    y3 = np.argmin([(((X - c) / scale) ** 2).sum(axis=1) for c in centers], axis=0).astype(np.int64)
    rf = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y3)
    attrs = _skl_forest_attrs(rf, float)
    labels = {"classlabels_int64s": [int(c) for c in rf.classes_]}
    nodes = [
        helper.make_node("TreeEnsembleClassifier", ["X"], ["label", "probabilities"], name="TreeEnsembleClassifier",
                         domain=ML, post_transform="NONE", **labels, **attrs),
        helper.make_node("Cast", ["label"], ["output_label"], name="Cast", to=TensorProto.INT64),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"], name="ZipMap", domain=ML, **labels),
    ]
    graph = helper.make_graph(
        nodes, uuid_hex(file[:-5]), [tensor_vi("X", TensorProto.DOUBLE, [None, 4])],
        [tensor_vi("output_label", TensorProto.INT64, [None]), seq_map_vi("output_probability", TensorProto.INT64)],
    )
    finish(graph, opsets(("", 13), (ML, 1)), SKL2ONNX, file)
    predicted = rf.predict(X)
    picked = list(dict.fromkeys([int(np.argmax(predicted == c)) for c in rf.classes_] + list(range(len(X)))))[:6]
    S = np.round(X[picked], 3)
    assert _forest_other_branch(rf, S) == 0, "a sample row takes another branch with the float32 thresholds"
    add_manifest({
        "file": file,
        "mimics": "skl2onnx 1.13 to_onnx(RandomForestClassifier(n_estimators=3, max_depth=3).fit(X64, y3), X64[:1]) "
                  "with X64 float64 (input 'X' DoubleTensorType([None, 4])); algebra/type_helper.py, "
                  "operator_converters/random_forest.py, common/tree_ensemble.py, _parse.py, "
                  "operator_converters/zip_map.py",
        "accept": True, "task": "multiclass", "labels": [str(c) for c in rf.classes_], "batching": "merge",
        "samples": {"inputs": {"X": S.tolist()},
                    "predict": rf.predict(S).tolist(),
                    "predict_proba": rf.predict_proba(S).tolist(),
                    "source": "scikit-learn's own predict_proba/predict on the float64 rows (first rows predicted "
                              "as each class, then the next), not the graph; training score %.3f" % rf.score(X, y3)},
        "tolerance": 1e-5,
        "notes": "One TreeEnsembleClassifier (ai.onnx.ml 1) reading the double input 'X' [N, 4] directly (no Cast): "
                 "thresholds are scikit-learn's float64 thresholds rounded to float32 (no sklearn_threshold "
                 "adjustment for double), class weights float32, 'probabilities' float [N, 3]; Cast(INT64) -> "
                 "'output_label', ZipMap -> 'output_probability' seq(map(int64, tensor(float))). scikit-learn casts "
                 "X to float32 before its float64 thresholds; the export compares the double x with the float32 "
                 "threshold: no sample row meets a split where the two disagree. " + DOUBLE_ROWS,
        "zipmapInput": "probabilities",
        "ort": ZIPMAP_ORT,
    })


if __name__ == "__main__":
    skl_logreg_float_input()
    skl_forest_string_labels()
    skl_columns_mixed()
    onnxmltools_lgbm()
    skl_fixed_batch_regressor()
    skl_preprocessing_two_outputs()
    skl_tfidf_no_locale()
    torch_images()
    torch_audio_stateful()
    symbolic_width()
    custom_op()
    sequence_output()
    dictvectorizer_map_input()
    broken_files()
    torch_dynamo_mlp()
    deep_classifiers()
    skl_linearsvc_binary()
    skl_sgd_hinge_zipmap()
    skl_svc_binary()
    skl_kmeans()
    skl_one_class_svm()
    skl_isolation_forest()
    catboost_binary()
    catboost_binary_labels_1_2()
    catboost_binary_boost_from_average()
    catboost_multiclass()
    catboost_regressor()
    onnxmltools_xgb_binary()
    onnxmltools_xgb_multiclass()
    onnxmltools_xgb_regressor()
    skl_hist_gb_binary()
    skl_hist_gb_multiclass()
    skl_hist_gb_regressor()
    skl_logreg_double()
    skl_forest_double()
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"schemaVersion": 1, "generatedBy": "make_wild_fixtures.py", "fixtures": manifest}, f, indent=2)
        f.write("\n")
    print("wild fixtures written to", HERE)
