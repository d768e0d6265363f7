"""A small scikit-learn -> ONNX exporter for the example models (no skl2onnx).

It converts exactly the estimators the three example models use, with the WHOLE
pipeline (imputation, scaling, one-hot, TF-IDF, model) inside the graph, and
raises ``ExportError`` for anything else instead of exporting something subtly
wrong.

Graph layout (the contract in docs/model-artifacts.md):

* inputs: one per raw column, named exactly as the column, shape ``[N, 1]``:
  ``float`` for numeric columns, ``string`` for one-hot and text columns;
  a missing number is fed as NaN (the graph imputes it);
* outputs, plain tensors only (no ZipMap):
  classification ``label`` (int64 ``[N]``, index into the class list) and
  ``probabilities`` (float ``[N, C]``, columns in ``classes_`` order);
  regression ``prediction`` (float ``[N, 1]``).
* opsets: ai.onnx 17, ai.onnx.ml 3, com.microsoft 1 (only for text); IR 8.

Numerics: inputs are float32 (what a Float32Array carries). Right after the
inputs everything is cast to double, so imputation, scaling, TF-IDF weighting,
tree split comparisons (float32 value promoted to double against the double
threshold, exactly as scikit-learn does) and linear models run in float64 like
scikit-learn; only the final outputs are float32. Tree ensembles are emitted as
``ai.onnx.ml.TreeEnsembleRegressor`` on a double input with double
``*_as_tensor`` attributes (onnxruntime then keeps double thresholds and double
accumulation); class probabilities are assembled from it, which avoids
TreeEnsembleClassifier's binary special cases.

Supported (anything else raises ExportError):

* ``Pipeline`` whose first step is a ``ColumnTransformer`` (defines the inputs),
  followed by optional ``SimpleImputer``/``StandardScaler`` steps and a final
  supported estimator.
* ``ColumnTransformer`` branches (remainder 'drop' or 'passthrough'):
  - numeric columns: 'passthrough', ``SimpleImputer`` (missing_values=NaN, any
    numeric strategy, add_indicator=False), ``StandardScaler``, or a
    ``Pipeline`` of these;
  - string columns: ``OneHotEncoder`` (drop=None, handle_unknown='ignore',
    string categories, no infrequent categories) -> unknown categories become
    all-zero rows, as in scikit-learn;
  - one text column (given as a scalar column name): ``TfidfVectorizer`` with
    analyzer='word', lowercase=True, default token_pattern ``(?u)\\b\\w\\w+\\b``,
    no preprocessor/tokenizer/stop words/accent stripping, any ngram_range,
    binary, sublinear_tf, use_idf and norm in {'l2', 'l1', None}.
    Graph: StringNormalizer(LOWER, locale "C") -> com.microsoft Tokenizer
    (tokenexp ``[\\p{L}\\p{N}_]+``, mincharnum 2: maximal runs of Unicode
    letters/digits/underscore of length >= 2, which is exactly what Python's
    ``\\b\\w\\w+\\b`` finds) -> TfIdfVectorizer(mode TF) -> sublinear tf, idf and
    norm with ONNX ops. Known limit: locale "C" lowercases ASCII only, so an
    UPPERCASE non-ASCII letter (e.g. "É") is lowercased by scikit-learn but not
    by the graph; this only matters for vocabulary terms containing non-ASCII
    letters (``export_pipeline`` reports how many there are).
* Estimators: ``LogisticRegression`` (binary, or multinomial for > 2 classes),
  ``RandomForestClassifier``/``RandomForestRegressor``,
  ``GradientBoostingClassifier`` (loss 'log_loss', binary or multiclass) and
  ``GradientBoostingRegressor`` (any loss; identity link), both with init=None
  or 'zero'; a ``Pipeline`` of ``SimpleImputer``/``StandardScaler`` steps
  ending in one of these; and
  ``StackingClassifier`` (stack_method 'predict_proba', passthrough=False;
  for two classes only the positive-class column of each base estimator is
  stacked, as scikit-learn does) whose base and final estimators are supported.
  Single-output only.

Binary classification may pass ``threshold``: then ``label`` is
``P(classes_[1]) >= threshold`` (the served decision rule) instead of argmax.

The output is byte-deterministic: same fitted pipeline -> same bytes.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

OPSET = 17
ML_OPSET = 3
MS_OPSET = 1
IR_VERSION = 8
SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
ORT_TOKEN_EXP = r"[\p{L}\p{N}_]+"
PAD = "#"  # never a token: tokens are runs of word characters


class ExportError(ValueError):
    """The pipeline uses an estimator or option this exporter does not support."""


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: dict[str, int] = {}
        self.uses_ms = False
        self.notes: list[str] = []

    def reserve(self, names) -> None:
        for n in names:
            self._names[n] = max(self._names.get(n, 0), 1)

    def fresh(self, hint: str) -> str:
        n = self._names.get(hint, 0)
        self._names[hint] = n + 1
        return hint if n == 0 else f"{hint}_{n}"

    def const(self, hint: str, array) -> str:
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, domain: str = "", **attrs) -> str:
        out = self.fresh(hint or op_type.lower())
        self.nodes.append(
            helper.make_node(op_type, inputs, [out], name=self.fresh("n_" + out), domain=domain or None, **attrs)
        )
        if domain == "com.microsoft":
            self.uses_ms = True
        return out

    def to_double(self, x: str, hint: str) -> str:
        return self.op("Cast", [x], hint, to=TensorProto.DOUBLE)


# --------------------------------------------------------------------------- transforms on a double matrix


def _imputer(g: _Graph, x: str, imp: SimpleImputer) -> str:
    mv = imp.missing_values
    if not (isinstance(mv, float) and np.isnan(mv)):
        raise ExportError(f"SimpleImputer: only missing_values=np.nan is supported, got {mv!r}")
    if imp.add_indicator:
        raise ExportError("SimpleImputer: add_indicator=True is not supported")
    stats = np.asarray(imp.statistics_, dtype=np.float64)
    if np.isnan(stats).any():
        raise ExportError("SimpleImputer: a column was all-missing at fit time (scikit-learn drops it); not supported")
    fill = g.const("imputer_fill", stats.reshape(1, -1))
    return g.op("Where", [g.op("IsNaN", [x], "isnan"), fill, x], "imputed")


def _scaler(g: _Graph, x: str, sc: StandardScaler) -> str:
    if sc.with_mean and sc.mean_ is not None:
        x = g.op("Sub", [x, g.const("scaler_mean", np.asarray(sc.mean_, np.float64).reshape(1, -1))], "centered")
    if sc.with_std and sc.scale_ is not None:
        x = g.op("Div", [x, g.const("scaler_scale", np.asarray(sc.scale_, np.float64).reshape(1, -1))], "scaled")
    return x


def _matrix_transform(g: _Graph, x: str, step) -> str:
    if isinstance(step, SimpleImputer):
        return _imputer(g, x, step)
    if isinstance(step, StandardScaler):
        return _scaler(g, x, step)
    if step == "passthrough" or step is None:
        return x
    raise ExportError(f"unsupported numeric transformer {type(step).__name__}")


def _onehot(g: _Graph, col_input: str, col: str, cats, n_cats_hint: str) -> str:
    cats = list(cats)
    if not all(isinstance(c, str) for c in cats):
        raise ExportError(f"OneHotEncoder column {col!r}: only string categories are supported, got {cats!r}")
    oh = g.op(
        "OneHotEncoder", [col_input], f"onehot_{n_cats_hint}", domain="ai.onnx.ml", cats_strings=cats, zeros=1
    )
    flat = g.op("Reshape", [oh, g.const(f"shape_onehot_{n_cats_hint}", np.array([-1, len(cats)], np.int64))])
    return g.to_double(flat, f"onehot_{n_cats_hint}_d")


def _check_onehot(enc: OneHotEncoder) -> None:
    if enc.handle_unknown != "ignore":
        raise ExportError("OneHotEncoder: only handle_unknown='ignore' is supported (unknown -> all zeros)")
    if enc.drop_idx_ is not None:
        raise ExportError("OneHotEncoder: drop is not supported (use drop=None)")
    if getattr(enc, "_infrequent_enabled", False):
        raise ExportError("OneHotEncoder: infrequent categories (min_frequency/max_categories) are not supported")


def _tfidf(g: _Graph, text_input: str, vec: TfidfVectorizer) -> tuple[str, int]:
    checks = {
        "analyzer": (vec.analyzer, "word"),
        "input": (vec.input, "content"),
        "lowercase": (vec.lowercase, True),
        "token_pattern": (vec.token_pattern, SKLEARN_TOKEN_PATTERN),
        "tokenizer": (vec.tokenizer, None),
        "preprocessor": (vec.preprocessor, None),
        "stop_words": (vec.stop_words, None),
        "strip_accents": (vec.strip_accents, None),
    }
    for k, (got, want) in checks.items():
        if got != want:
            raise ExportError(f"TfidfVectorizer: only {k}={want!r} is supported, got {got!r}")
    if vec.norm not in ("l2", "l1", None):
        raise ExportError(f"TfidfVectorizer: norm={vec.norm!r} not supported")
    lo, hi = vec.ngram_range
    if not 1 <= lo <= hi:
        raise ExportError(f"TfidfVectorizer: bad ngram_range {vec.ngram_range}")
    vocab = vec.vocabulary_
    size = len(vocab)
    if sorted(vocab.values()) != list(range(size)):
        raise ExportError("TfidfVectorizer: vocabulary indices are not 0..V-1")
    by_n: dict[int, list[tuple[int, list[str]]]] = {n: [] for n in range(1, hi + 1)}
    for term, idx in vocab.items():
        parts = term.split(" ")
        if not lo <= len(parts) <= hi:
            raise ExportError(f"TfidfVectorizer: term {term!r} does not fit ngram_range")
        by_n[len(parts)].append((idx, parts))
    pool: list[str] = []
    counts: list[int] = []
    indexes: list[int] = []
    for n in range(1, hi + 1):
        counts.append(len(pool))  # start of the n-grams in pool_strings
        for idx, parts in sorted(by_n[n]):
            pool.extend(parts)
            indexes.append(idx)
    non_ascii = [t for t in vocab if not t.isascii()]
    g.notes.append(f"TfidfVectorizer: {size} terms, {len(non_ascii)} containing non-ASCII characters")

    flat = g.op("Reshape", [text_input, g.const("shape_text_flat", np.array([-1], np.int64))], "text_flat")
    lower = g.op(
        "StringNormalizer", [flat], "text_lower", case_change_action="LOWER", is_case_sensitive=1, locale="C"
    )
    tokens = g.op(
        "Tokenizer",
        [lower],
        "tokens",
        domain="com.microsoft",
        mark=0,
        mincharnum=2,
        pad_value=PAD,
        tokenexp=ORT_TOKEN_EXP,
    )
    tf = g.op(
        "TfIdfVectorizer",
        [tokens],
        "tf_counts",
        min_gram_length=lo,
        max_gram_length=hi,
        max_skip_count=0,
        mode="TF",
        ngram_counts=counts,
        ngram_indexes=indexes,
        pool_strings=pool,
    )
    x = g.to_double(tf, "tf_d")
    zero = g.const("tf_zero", np.array(0.0, np.float64))
    one = g.const("tf_one", np.array(1.0, np.float64))
    present = g.op("Greater", [x, zero], "tf_present")
    if vec.binary:
        x = g.op("Where", [present, one, zero], "tf_binary")
    if vec.sublinear_tf:
        x = g.op("Where", [present, g.op("Add", [g.op("Log", [x], "tf_log"), one], "tf_log1"), zero], "tf_sublinear")
    if vec.use_idf:
        x = g.op("Mul", [x, g.const("idf", np.asarray(vec.idf_, np.float64).reshape(1, -1))], "tfidf")
    if vec.norm is not None:
        if vec.norm == "l2":
            norm = g.op("Sqrt", [g.op("ReduceSumSquare", [x], "tfidf_sq", axes=[1], keepdims=1)], "tfidf_norm")
        else:
            norm = g.op("ReduceSum", [g.op("Abs", [x], "tfidf_abs"), g.const("axes1", np.array([1], np.int64))],
                        "tfidf_norm", keepdims=1)
        safe = g.op("Where", [g.op("Equal", [norm, zero], "norm_is0"), one, norm], "tfidf_norm_safe")
        x = g.op("Div", [x, safe], "tfidf_normed")
    return x, size


def _column_transformer(g: _Graph, ct: ColumnTransformer) -> tuple[str, list[tuple[str, str]]]:
    """Returns (double matrix, [(input name, 'number'|'string'), ...] in feature_names_in_ order)."""
    names = [str(c) for c in ct.feature_names_in_]
    kinds: dict[str, str] = {}
    parts: list[str] = []

    def col_names(cols) -> list[str]:
        if isinstance(cols, str):
            return [cols]
        out = []
        for c in cols:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                out.append(names[int(c)])
            elif isinstance(c, str):
                out.append(c)
            else:
                raise ExportError(f"ColumnTransformer: unsupported column selector {c!r}")
        return out

    def claim(col: str, kind: str) -> None:
        if kinds.get(col, kind) != kind:
            raise ExportError(f"column {col!r} is used both as {kinds[col]} and {kind}")
        kinds[col] = kind

    def numeric(cols: list[str]) -> str:
        for c in cols:
            claim(c, "number")
        if len(cols) == 1:
            m = cols[0]
        else:
            m = g.op("Concat", cols, "num_concat", axis=1)
        return g.to_double(m, "num_d")

    for name, trans, cols in ct.transformers_:
        if trans == "drop":
            continue
        steps = list(trans.steps) if isinstance(trans, Pipeline) else [(name, trans)]
        first = steps[0][1]
        if isinstance(first, TfidfVectorizer):
            if not isinstance(cols, str) or len(steps) != 1:
                raise ExportError("TfidfVectorizer must be a lone branch on one column given as a scalar name")
            claim(cols, "string")
            x, _ = _tfidf(g, cols, first)
            parts.append(x)
        elif isinstance(first, OneHotEncoder):
            if len(steps) != 1:
                raise ExportError("OneHotEncoder must be a lone branch (no string imputation supported)")
            _check_onehot(first)
            for i, c in enumerate(col_names(cols)):
                claim(c, "string")
                parts.append(_onehot(g, c, c, first.categories_[i], c))
        else:
            cs = col_names(cols)
            if not cs:
                continue
            x = numeric(cs)
            for _, step in steps:
                x = _matrix_transform(g, x, step)
            parts.append(x)
    if not parts:
        raise ExportError("ColumnTransformer produces no columns")
    unused = [c for c in names if c not in kinds]
    if unused:
        raise ExportError(f"columns {unused} are dropped by the ColumnTransformer; drop them before fitting instead")
    x = parts[0] if len(parts) == 1 else g.op("Concat", parts, "features", axis=1)
    return x, [(c, kinds[c]) for c in names]


# --------------------------------------------------------------------------- estimators on a double matrix


def _tree_ensemble(g: _Graph, x: str, trees, n_targets: int, leaf_weights, base_values, hint: str) -> str:
    """One TreeEnsembleRegressor over scikit-learn trees. leaf_weights(tree_index, tree_, leaf) -> {target: w}."""
    n_tree, n_node, n_feat, n_mode, n_val, n_true, n_false = [], [], [], [], [], [], []
    t_tree, t_node, t_id, t_w = [], [], [], []
    for ti, tree in enumerate(trees):
        t = tree.tree_
        if t.n_outputs != 1:
            raise ExportError("multi-output trees are not supported")
        left, right = t.children_left, t.children_right
        for i in range(t.node_count):
            n_tree.append(ti)
            n_node.append(i)
            if left[i] == -1:
                n_feat.append(0)
                n_mode.append("LEAF")
                n_val.append(0.0)
                n_true.append(0)
                n_false.append(0)
                for k, w in sorted(leaf_weights(ti, t, i).items()):
                    if w != 0.0:
                        t_tree.append(ti)
                        t_node.append(i)
                        t_id.append(k)
                        t_w.append(w)
            else:
                n_feat.append(int(t.feature[i]))
                n_mode.append("BRANCH_LEQ")
                n_val.append(float(t.threshold[i]))
                n_true.append(int(left[i]))
                n_false.append(int(right[i]))
    return g.op(
        "TreeEnsembleRegressor",
        [x],
        hint,
        domain="ai.onnx.ml",
        n_targets=n_targets,
        aggregate_function="SUM",
        post_transform="NONE",
        nodes_treeids=n_tree,
        nodes_nodeids=n_node,
        nodes_featureids=n_feat,
        nodes_modes=n_mode,
        nodes_values_as_tensor=numpy_helper.from_array(np.array(n_val, np.float64), "nodes_values"),
        nodes_truenodeids=n_true,
        nodes_falsenodeids=n_false,
        target_treeids=t_tree,
        target_nodeids=t_node,
        target_ids=t_id,
        target_weights_as_tensor=numpy_helper.from_array(np.array(t_w, np.float64), "target_weights"),
        base_values_as_tensor=numpy_helper.from_array(np.asarray(base_values, np.float64), "base_values"),
    )


def _binary_from_p1(g: _Graph, p1: str) -> str:
    one = g.const("one_d", np.array(1.0, np.float64))
    return g.op("Concat", [g.op("Sub", [one, p1], "p0"), p1], "proba2", axis=1)


def _rf_classifier(g: _Graph, x: str, est: RandomForestClassifier) -> str:
    n_cls = len(est.classes_)
    n = len(est.estimators_)

    def leaf(ti, t, i):
        v = np.asarray(t.value[i][0], np.float64)
        s = v.sum()
        v = v / (s if s != 0 else 1.0)
        return {k: float(v[k] / n) for k in range(n_cls)}

    out = _tree_ensemble(g, x, est.estimators_, n_cls, leaf, np.zeros(n_cls), "rf_proba_f")
    return g.to_double(out, "rf_proba")


def _gb_raw(g: _Graph, x: str, est) -> tuple[str, int]:
    if est.init not in (None, "zero"):
        raise ExportError(f"{type(est).__name__}: only init=None (prior) or 'zero' is supported")
    k = est.estimators_.shape[1]
    init = est._raw_predict_init(np.zeros((1, est.n_features_in_), dtype=np.float32))[0]
    lr = float(est.learning_rate)
    trees = [est.estimators_[s, j] for s in range(est.estimators_.shape[0]) for j in range(k)]

    def leaf(ti, t, i):
        return {ti % k: lr * float(t.value[i][0][0])}

    out = _tree_ensemble(g, x, trees, k, leaf, init, "gb_raw_f")
    return g.to_double(out, "gb_raw"), k


def _linear_logits(g: _Graph, x: str, lr: LogisticRegression) -> str:
    w = np.asarray(lr.coef_, np.float64).T
    b = np.asarray(lr.intercept_, np.float64).reshape(1, -1)
    return g.op("Add", [g.op("MatMul", [x, g.const("lr_coef", w)], "lr_xw"), g.const("lr_intercept", b)], "lr_logits")


def _logistic(g: _Graph, x: str, lr: LogisticRegression) -> str:
    n_cls = len(lr.classes_)
    mc = getattr(lr, "multi_class", "auto")
    ovr = mc in ("ovr", "warn") or (mc in ("auto", "deprecated") and (n_cls <= 2 or lr.solver == "liblinear"))
    z = _linear_logits(g, x, lr)
    if n_cls == 2:
        if not ovr:  # scikit-learn: softmax([-z, z]) == sigmoid(2z)
            z = g.op("Mul", [z, g.const("two_d", np.array(2.0, np.float64))], "lr_logits2")
        return _binary_from_p1(g, g.op("Sigmoid", [z], "lr_p1"))
    if ovr:
        raise ExportError("LogisticRegression: one-vs-rest with > 2 classes is not supported (use multinomial)")
    return g.op("Softmax", [z], "lr_proba", axis=1)


def _proba(g: _Graph, x: str, est) -> tuple[str, np.ndarray]:
    """Class probabilities (double [N, C]) and classes_ of a supported classifier."""
    if isinstance(est, Pipeline):
        for _, step in est.steps[:-1]:
            x = _matrix_transform(g, x, step)
        return _proba(g, x, est.steps[-1][1])
    if isinstance(est, LogisticRegression):
        return _logistic(g, x, est), est.classes_
    if isinstance(est, RandomForestClassifier):
        if est.n_outputs_ != 1:
            raise ExportError("multi-output forests are not supported")
        return _rf_classifier(g, x, est), est.classes_
    if isinstance(est, GradientBoostingClassifier):
        if est.loss not in ("log_loss", "deviance"):
            raise ExportError(f"GradientBoostingClassifier: loss={est.loss!r} not supported")
        raw, k = _gb_raw(g, x, est)
        if k == 1:
            return _binary_from_p1(g, g.op("Sigmoid", [raw], "gb_p1")), est.classes_
        return g.op("Softmax", [raw], "gb_proba", axis=1), est.classes_
    if isinstance(est, StackingClassifier):
        if est.passthrough:
            raise ExportError("StackingClassifier: passthrough=True is not supported")
        binary = len(est.classes_) == 2
        cols = []
        for base, method in zip(est.estimators_, est.stack_method_):
            if method != "predict_proba":
                raise ExportError(f"StackingClassifier: stack_method {method!r} not supported")
            p, _ = _proba(g, x, base)
            if binary:
                p = g.op(
                    "Slice",
                    [p, g.const("s1", np.array([1], np.int64)), g.const("s2", np.array([2], np.int64)),
                     g.const("ax1", np.array([1], np.int64))],
                    "stack_p1",
                )
            cols.append(p)
        meta = cols[0] if len(cols) == 1 else g.op("Concat", cols, "stack_meta", axis=1)
        final, _ = _proba(g, meta, est.final_estimator_)
        return final, est.classes_
    raise ExportError(f"unsupported classifier {type(est).__name__}")


def _regress(g: _Graph, x: str, est) -> str:
    if isinstance(est, Pipeline):
        for _, step in est.steps[:-1]:
            x = _matrix_transform(g, x, step)
        return _regress(g, x, est.steps[-1][1])
    if isinstance(est, RandomForestRegressor):
        if est.n_outputs_ != 1:
            raise ExportError("multi-output forests are not supported")
        n = len(est.estimators_)
        return _tree_ensemble(
            g, x, est.estimators_, 1, lambda ti, t, i: {0: float(t.value[i][0][0]) / n}, [0.0], "rf_pred"
        )
    if isinstance(est, GradientBoostingRegressor):
        raw, _ = _gb_raw(g, x, est)
        return raw
    raise ExportError(f"unsupported regressor {type(est).__name__}")


# --------------------------------------------------------------------------- entry point


def export_pipeline(
    pipeline: Pipeline,
    *,
    task: str,
    name: str,
    version: str,
    description: str,
    threshold: float | None = None,
    metadata: dict[str, str] | None = None,
) -> tuple[onnx.ModelProto, list[tuple[str, str]], list[str]]:
    """Export a fitted pipeline. task: 'classification' | 'regression'.

    Returns (model, inputs as [(name, 'number'|'string')], notes)."""
    if not isinstance(pipeline, Pipeline) or not isinstance(pipeline.steps[0][1], ColumnTransformer):
        raise ExportError("expected a Pipeline whose first step is a ColumnTransformer")
    g = _Graph()
    ct = pipeline.steps[0][1]
    g.reserve([str(c) for c in ct.feature_names_in_] + ["label", "probabilities", "prediction"])
    x, inputs = _column_transformer(g, ct)
    rest = Pipeline(pipeline.steps[1:]) if len(pipeline.steps) > 2 else pipeline.steps[-1][1]
    graph_outputs = []
    if task == "classification":
        proba, classes = _proba(g, x, rest)
        if threshold is not None:
            if len(classes) != 2:
                raise ExportError("threshold is only meaningful for binary classification")
            p1 = g.op("Gather", [proba, g.const("idx1", np.array(1, np.int64))], "p_positive", axis=1)
            ge = g.op("GreaterOrEqual", [p1, g.const("threshold", np.array(float(threshold), np.float64))], "ge_thr")
            label_src = ge
        else:
            label_src = None
        g.nodes.append(
            helper.make_node("Cast", [proba], ["probabilities"], name="n_probabilities", to=TensorProto.FLOAT)
        )
        if label_src is not None:
            g.nodes.append(helper.make_node("Cast", [label_src], ["label"], name="n_label", to=TensorProto.INT64))
        else:
            g.nodes.append(helper.make_node("ArgMax", [proba], ["label"], name="n_label", axis=1, keepdims=0))
        graph_outputs = [
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(classes)]),
        ]
    elif task == "regression":
        pred = _regress(g, x, rest)
        g.nodes.append(helper.make_node("Cast", [pred], ["prediction"], name="n_prediction", to=TensorProto.FLOAT))
        graph_outputs = [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["N", 1])]
    else:
        raise ExportError(f"unknown task {task!r}")

    graph_inputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT if k == "number" else TensorProto.STRING, ["N", 1])
        for n, k in inputs
    ]
    graph = helper.make_graph(g.nodes, name, graph_inputs, graph_outputs, initializer=g.initializers)
    graph.doc_string = description
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    if g.uses_ms:
        opsets.append(helper.make_opsetid("com.microsoft", MS_OPSET))
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        ir_version=IR_VERSION,
        producer_name="create-mlops-service/examples/models/onnx_export.py",
        producer_version="1",
        model_version=1,
        doc_string=description,
    )
    for k, v in sorted((metadata or {}).items()):
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    return model, inputs, g.notes


def save_model(model: onnx.ModelProto, path: str) -> bytes:
    data = model.SerializeToString(deterministic=True)
    with open(path, "wb") as f:
        f.write(data)
    return data
