"""A tiny BERT sequence classifier as HF optimum / torch.onnx export one (run with /usr/bin/python3).

Stands for the portfolio's FinBERT: `model.onnx` takes `input_ids`, `attention_mask` and
`token_type_ids` (int64 [batch_size, sequence_length]) and returns `logits` [batch_size, 3]; beside
it are the files a Hugging Face checkpoint ships: `tokenizer.json` (a BERT WordPiece tokenizer in
the format `tokenizers` saves), `tokenizer_config.json` and `config.json` (FinBERT's labels).

The graph is what torch.onnx writes for a BertForSequenceClassification at opset 14, shrunk: word,
position (a sliced `position_ids` buffer) and token-type embeddings gathered and summed, LayerNorm
decomposed into ReduceMean/Sub/Pow/Sqrt/Div (LayerNormalization is opset 17), one self-attention
layer with the additive attention mask ((1 - mask) * float32 min), an Erf-GELU feed-forward, then a
mean pool over the tokens the attention mask keeps, a Tanh pooler (Gemm) and the classifier (Gemm).
Padding must therefore never change a text's logits: the mask removes padded tokens everywhere.

`fixed/` holds the same weights exported with a fixed sequence length of 16 ([batch_size, 16]) and
no `config.json`: the generator then has no label names from Hugging Face (see tokenizer.ts).

`expected.json` (per variant) holds sample texts, their token ids and their logits computed here
with numpy. The token ids come from `oracle_encode` below, a small reference BERT tokenizer that is
the TEST ORACLE ONLY: the product tokenizes with @huggingface/tokenizers, and the tests check both
agree. Rebuild byte for byte with `/usr/bin/python3 make_transformer.py`.
"""
import json
import math
import os
import shutil
import unicodedata

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = [helper.make_opsetid("", 14)]

HIDDEN = 32
HEADS = 2
HEAD_DIM = HIDDEN // HEADS
INTERMEDIATE = 64
MAX_POSITIONS = 64
TYPE_VOCAB = 2
LABELS = ["positive", "negative", "neutral"]
FIXED_LENGTH = 16
LN_EPS = 1e-12
F32_MIN = float(np.finfo(np.float32).min)

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = """
the an and or but of to in on for at by from with as is was were be been being has have had
it its this that these those than then more less most least up down over under into out about
after before during despite while since year years quarter quarterly annual month week today
company companies bank banks group firm shares share stock stocks market markets investor
investors analyst analysts profit profits loss losses revenue revenues earnings income sales
dividend dividends growth decline declined increase increased rise rose fell fall drop dropped
gain gained record strong weak stable flat sharp sharply slightly steady outlook guidance
forecast forecasts expectations expected missed beat raised cut cuts lower higher billion million
percent price prices trading traded debt credit rating downgrade upgrade upgraded downgraded risk
risks interest rate rates inflation central bond bonds yield yields cash flow net operating margin
margins cost costs deal merger acquisition fintech report reported results said says ceo chief
executive euro euros dollar dollars previous compared positive negative neutral good bad new
societe generale plc inc corp board plan plans jobs layoffs bankruptcy lawsuit fine fined
""".split()
PIECES = ["##s", "##es", "##ed", "##ing", "##ly", "##er", "##ers", "##est", "##al", "##ion", "##ions",
          "##ment", "##ness", "##ity", "##able", "##ize", "##ized", "##a", "##e", "##i", "##o", "##u",
          "##t", "##n", "##r", "##l", "##d", "##y", "##m", "##c", "##h", "##k", "##p", "##g"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
DIGITS = [str(d) for d in range(10)] + ["##" + str(d) for d in range(10)]
PUNCT = list(".,!?'\"$%-:;()&/")
VOCAB = SPECIALS + PUNCT + DIGITS + LETTERS + WORDS + PIECES
assert len(VOCAB) == len(set(VOCAB)), "duplicate vocabulary entries"
IDS = {token: i for i, token in enumerate(VOCAB)}

SAMPLES = [
    "The company reported record quarterly profits and raised its dividend.",
    "Shares fell sharply after the bank missed earnings expectations.",
    "Revenue was flat compared with the previous year.",
    "Société Générale's outlook: très stable, despite the zorbaxian fintech merger!",
    "Q3 revenue rose 12% to $4.5 billion.",
    " ".join(
        [
            "The bank said net income declined in the quarter as credit losses rose,",
            "margins fell and operating costs increased; analysts cut their forecasts,",
            "the rating was downgraded, shares dropped and investors sold bonds while",
            "yields rose, but the board plans a new dividend and expects steady growth",
            "in the next year despite higher interest rates and inflation risks.",
        ]
    ),
]


# ---------------------------------------------------------------------------------------------
# Tokenizer files (the format Hugging Face `tokenizers` saves for BertTokenizerFast).
# ---------------------------------------------------------------------------------------------
def tokenizer_json():
    added = [
        {"id": IDS[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for t in SPECIALS
    ]
    cls = {"SpecialToken": {"id": "[CLS]", "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [cls, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [cls, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [IDS["[CLS]"]], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [IDS["[SEP]"]], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": IDS},
    }


def tokenizer_config():
    return {
        "added_tokens_decoder": {
            str(IDS[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                          "single_word": False, "special": True}
            for t in SPECIALS
        },
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "do_basic_tokenize": True,
        "do_lower_case": True,
        "mask_token": "[MASK]",
        "model_max_length": MAX_POSITIONS,
        "never_split": None,
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "tokenizer_class": "BertTokenizer",
        "unk_token": "[UNK]",
    }


def model_config():
    return {
        "_name_or_path": "create-mlops-service/tiny-finbert-fixture",
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": HIDDEN,
        "id2label": {str(i): label for i, label in enumerate(LABELS)},
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "label2id": {label: i for i, label in enumerate(LABELS)},
        "layer_norm_eps": LN_EPS,
        "max_position_embeddings": MAX_POSITIONS,
        "model_type": "bert",
        "num_attention_heads": HEADS,
        "num_hidden_layers": 1,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": "4.44.2",
        "type_vocab_size": TYPE_VOCAB,
        "use_cache": True,
        "vocab_size": len(VOCAB),
    }


# ---------------------------------------------------------------------------------------------
# TEST ORACLE ONLY: a reference BERT tokenizer (BertNormalizer + BertPreTokenizer + WordPiece +
# "[CLS] $A [SEP]" with truncation), used to write expected.json. Not product code.
# ---------------------------------------------------------------------------------------------
def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch):
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Cn", "Co", "Cs")


def oracle_encode(text, max_length):
    cleaned = "".join(" " if _is_whitespace(c) else c for c in text
                      if ord(c) not in (0, 0xFFFD) and not _is_control(c))
    stripped = "".join(c for c in unicodedata.normalize("NFD", cleaned) if unicodedata.category(c) != "Mn")
    lowered = stripped.lower()
    words, current = [], ""
    for c in lowered:
        if _is_whitespace(c) or _is_punctuation(c):
            if current:
                words.append(current)
            current = ""
            if _is_punctuation(c):
                words.append(c)
        else:
            current += c
    if current:
        words.append(current)
    tokens = []
    for word in words:
        if len(word) > 100:
            tokens.append("[UNK]")
            continue
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = ("##" if start > 0 else "") + word[start:end]
                if piece in IDS:
                    found = piece
                    break
                end -= 1
            if found is None:
                pieces = ["[UNK]"]
                break
            pieces.append(found)
            start = end
        tokens.extend(pieces)
    tokens = ["[CLS]"] + tokens[: max_length - 2] + ["[SEP]"]
    return [IDS[t] for t in tokens]


# ---------------------------------------------------------------------------------------------
# Weights and the graph.
# ---------------------------------------------------------------------------------------------
def weights():
    rng = np.random.RandomState(20240512)
    f = lambda *shape, scale=0.5: (rng.standard_normal(shape) * scale).astype(np.float32)
    return {
        "bert.embeddings.word_embeddings.weight": f(len(VOCAB), HIDDEN),
        "bert.embeddings.position_embeddings.weight": f(MAX_POSITIONS, HIDDEN, scale=0.2),
        "bert.embeddings.token_type_embeddings.weight": f(TYPE_VOCAB, HIDDEN, scale=0.2),
        "bert.embeddings.LayerNorm.weight": (1.0 + f(HIDDEN, scale=0.1)).astype(np.float32),
        "bert.embeddings.LayerNorm.bias": f(HIDDEN, scale=0.1),
        "query.weight": f(HIDDEN, HIDDEN, scale=0.3),
        "query.bias": f(HIDDEN, scale=0.1),
        "key.weight": f(HIDDEN, HIDDEN, scale=0.3),
        "key.bias": f(HIDDEN, scale=0.1),
        "value.weight": f(HIDDEN, HIDDEN, scale=0.3),
        "value.bias": f(HIDDEN, scale=0.1),
        "attention.output.dense.weight": f(HIDDEN, HIDDEN, scale=0.2),
        "attention.output.dense.bias": f(HIDDEN, scale=0.1),
        "bert.encoder.layer.0.attention.output.LayerNorm.weight": (1.0 + f(HIDDEN, scale=0.1)).astype(np.float32),
        "bert.encoder.layer.0.attention.output.LayerNorm.bias": f(HIDDEN, scale=0.1),
        "intermediate.dense.weight": f(HIDDEN, INTERMEDIATE, scale=0.2),
        "intermediate.dense.bias": f(INTERMEDIATE, scale=0.1),
        "output.dense.weight": f(INTERMEDIATE, HIDDEN, scale=0.2),
        "output.dense.bias": f(HIDDEN, scale=0.1),
        "bert.encoder.layer.0.output.LayerNorm.weight": (1.0 + f(HIDDEN, scale=0.1)).astype(np.float32),
        "bert.encoder.layer.0.output.LayerNorm.bias": f(HIDDEN, scale=0.1),
        "bert.pooler.dense.weight": f(HIDDEN, HIDDEN, scale=0.4),  # torch Linear: [out, in]
        "bert.pooler.dense.bias": f(HIDDEN, scale=0.1),
        "classifier.weight": f(len(LABELS), HIDDEN, scale=1.0),  # torch Linear: [out, in]
        "classifier.bias": f(len(LABELS), scale=0.1),
    }


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.names = [], [], set()

    def const(self, name, value, dtype=np.float32):
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type, inputs, prefix, **attrs):
        name, n = f"{prefix}/{op_type}", 0
        while name in self.names:  # torch.onnx numbers repeated ops: /x/Add, /x/Add_1, ...
            n += 1
            name = f"{prefix}/{op_type}_{n}"
        self.names.add(name)
        out = f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out

    def layer_norm(self, x, prefix, weight, bias):
        """LayerNorm as torch.onnx decomposes it below opset 17."""
        mean = self.op("ReduceMean", [x], prefix + "/mean", axes=[-1])
        d = self.op("Sub", [x, mean], prefix)
        sq = self.op("Pow", [d, self.const(prefix + "/two", 2.0)], prefix)
        var = self.op("ReduceMean", [sq], prefix + "/var", axes=[-1])
        ve = self.op("Add", [var, self.const(prefix + "/eps", LN_EPS)], prefix + "/eps")
        std = self.op("Sqrt", [ve], prefix)
        norm = self.op("Div", [d, std], prefix)
        scaled = self.op("Mul", [norm, weight], prefix)
        return self.op("Add", [scaled, bias], prefix + "/bias")


def build_graph(w, sequence):
    g = Graph()
    for name, value in w.items():
        g.const(name, value)
    g.const("bert.embeddings.position_ids", np.arange(MAX_POSITIONS).reshape(1, -1), np.int64)
    e = "/bert/embeddings"
    words = g.op("Gather", ["bert.embeddings.word_embeddings.weight", "input_ids"], e + "/word_embeddings")
    types = g.op("Gather", ["bert.embeddings.token_type_embeddings.weight", "token_type_ids"], e + "/token_type_embeddings")
    shape = g.op("Shape", ["input_ids"], e)
    seq = g.op("Gather", [shape, g.const(e + "/one", 1, np.int64)], e + "/seq", axis=0)
    seq1 = g.op("Unsqueeze", [seq, g.const(e + "/axes0", [0], np.int64)], e)
    position_ids = g.op("Slice", ["bert.embeddings.position_ids", g.const(e + "/zero", [0], np.int64), seq1,
                                  g.const(e + "/axes1", [1], np.int64), g.const(e + "/step", [1], np.int64)], e)
    positions = g.op("Gather", ["bert.embeddings.position_embeddings.weight", position_ids], e + "/position_embeddings")
    summed = g.op("Add", [g.op("Add", [words, types], e + "/types"), positions], e + "/positions")
    h0 = g.layer_norm(summed, e + "/LayerNorm", "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias")

    # extended attention mask: (1 - mask[:, None, None, :]) * float32 min
    b = "/bert"
    m = g.op("Unsqueeze", ["attention_mask", g.const(b + "/axes12", [1, 2], np.int64)], b)
    mf = g.op("Cast", [m], b, to=TensorProto.FLOAT)
    inv = g.op("Sub", [g.const(b + "/one_f", 1.0), mf], b)
    additive = g.op("Mul", [inv, g.const(b + "/min", F32_MIN)], b)

    a = "/bert/encoder/layer.0/attention/self"

    def heads(x, name, perm):
        r = g.op("Reshape", [x, g.const(f"{a}/{name}/shape", [0, 0, HEADS, HEAD_DIM], np.int64)], f"{a}/{name}")
        return g.op("Transpose", [r], f"{a}/{name}", perm=perm)

    def linear(x, name, prefix):
        return g.op("Add", [g.op("MatMul", [x, name + ".weight"], prefix), name + ".bias"], prefix)

    q = heads(linear(h0, "query", a + "/query"), "q", [0, 2, 1, 3])
    k = heads(linear(h0, "key", a + "/key"), "k", [0, 2, 3, 1])
    v = heads(linear(h0, "value", a + "/value"), "v", [0, 2, 1, 3])
    scores = g.op("Div", [g.op("MatMul", [q, k], a + "/scores"), g.const(a + "/sqrt_d", math.sqrt(HEAD_DIM))], a)
    probs = g.op("Softmax", [g.op("Add", [scores, additive], a + "/mask")], a, axis=-1)
    ctx = g.op("Transpose", [g.op("MatMul", [probs, v], a + "/context")], a + "/context", perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", [ctx, g.const(a + "/merge", [0, 0, HIDDEN], np.int64)], a + "/context")
    o = "/bert/encoder/layer.0/attention/output"
    att = linear(ctx, "attention.output.dense", o + "/dense")
    h1 = g.layer_norm(g.op("Add", [att, h0], o), o + "/LayerNorm",
                      "bert.encoder.layer.0.attention.output.LayerNorm.weight",
                      "bert.encoder.layer.0.attention.output.LayerNorm.bias")
    i = "/bert/encoder/layer.0/intermediate"
    pre = linear(h1, "intermediate.dense", i + "/dense")
    erf = g.op("Erf", [g.op("Div", [pre, g.const(i + "/sqrt2", math.sqrt(2.0))], i)], i)
    gelu = g.op("Mul", [g.op("Mul", [pre, g.op("Add", [erf, g.const(i + "/one", 1.0)], i)], i + "/x"),
                        g.const(i + "/half", 0.5)], i + "/half")
    out = "/bert/encoder/layer.0/output"
    h2 = g.layer_norm(g.op("Add", [linear(gelu, "output.dense", out + "/dense"), h1], out), out + "/LayerNorm",
                      "bert.encoder.layer.0.output.LayerNorm.weight", "bert.encoder.layer.0.output.LayerNorm.bias")

    # masked mean pool over the kept tokens, Tanh pooler, classifier
    p = "/bert/pooler"
    keep = g.op("Cast", [g.op("Unsqueeze", ["attention_mask", g.const(p + "/axes2", [2], np.int64)], p)], p,
                to=TensorProto.FLOAT)
    axis1 = g.const(p + "/axis1", [1], np.int64)
    total = g.op("ReduceSum", [g.op("Mul", [h2, keep], p), axis1], p + "/total", keepdims=0)
    count = g.op("ReduceSum", [keep, axis1], p + "/count", keepdims=0)
    count = g.op("Max", [count, g.const(p + "/tiny", 1e-9)], p)
    mean = g.op("Div", [total, count], p)
    pooled = g.op("Tanh", [g.op("Gemm", [mean, "bert.pooler.dense.weight", "bert.pooler.dense.bias"], p + "/dense",
                                alpha=1.0, beta=1.0, transB=1)], p)
    logits = g.op("Gemm", [pooled, "classifier.weight", "classifier.bias"], "/classifier",
                  alpha=1.0, beta=1.0, transB=1)
    g.nodes.append(helper.make_node("Identity", [logits], ["logits"], name="/classifier/Identity"))

    dims = ["batch_size", sequence]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, dims)
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", len(LABELS)])]
    graph = helper.make_graph(g.nodes, "main_graph", inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="pytorch", producer_version="2.4.0")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def reference_logits(w, ids):
    """numpy float32 forward pass of the same network for ONE unpadded text."""
    f32 = np.float32
    ids = np.asarray(ids, dtype=np.int64)
    s = len(ids)

    def ln(x, name):
        mean = x.mean(-1, keepdims=True)
        d = x - mean
        var = (d * d).mean(-1, keepdims=True)
        return (d / np.sqrt(var + f32(LN_EPS))) * w[name + ".weight"] + w[name + ".bias"]

    x = (w["bert.embeddings.word_embeddings.weight"][ids]
         + w["bert.embeddings.token_type_embeddings.weight"][np.zeros(s, dtype=np.int64)]
         + w["bert.embeddings.position_embeddings.weight"][np.arange(s)])
    h0 = ln(x, "bert.embeddings.LayerNorm")
    lin = lambda t, n: t @ w[n + ".weight"] + w[n + ".bias"]
    split = lambda t: t.reshape(s, HEADS, HEAD_DIM).transpose(1, 0, 2)
    q, k, v = split(lin(h0, "query")), split(lin(h0, "key")), split(lin(h0, "value"))
    scores = q @ k.transpose(0, 2, 1) / f32(math.sqrt(HEAD_DIM))
    scores = scores - scores.max(-1, keepdims=True)
    probs = np.exp(scores)
    probs = probs / probs.sum(-1, keepdims=True)
    ctx = (probs @ v).transpose(1, 0, 2).reshape(s, HIDDEN)
    h1 = ln(lin(ctx, "attention.output.dense") + h0, "bert.encoder.layer.0.attention.output.LayerNorm")
    pre = lin(h1, "intermediate.dense")
    erf = np.vectorize(math.erf)(pre.astype(np.float64) / math.sqrt(2.0)).astype(f32)
    gelu = pre * (erf + f32(1.0)) * f32(0.5)
    h2 = ln(lin(gelu, "output.dense") + h1, "bert.encoder.layer.0.output.LayerNorm")
    mean = h2.mean(0)
    pooled = np.tanh(mean @ w["bert.pooler.dense.weight"].T + w["bert.pooler.dense.bias"])
    return (pooled @ w["classifier.weight"].T + w["classifier.bias"]).astype(f32)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def variant(directory, w, sequence, max_length, with_config):
    os.makedirs(directory, exist_ok=True)
    onnx.save(build_graph(w, sequence), os.path.join(directory, "model.onnx"))
    write_json(os.path.join(directory, "tokenizer.json"), tokenizer_json())
    write_json(os.path.join(directory, "tokenizer_config.json"), tokenizer_config())
    if with_config:
        write_json(os.path.join(directory, "config.json"), model_config())
    ids = [oracle_encode(t, max_length) for t in SAMPLES]
    logits = [[round(float(v), 7) for v in reference_logits(w, i)] for i in ids]
    write_json(os.path.join(directory, "expected.json"), {
        "note": "token ids from the script's reference tokenizer (test oracle), logits from its numpy forward pass",
        "maxLength": max_length,
        "labels": LABELS if with_config else None,
        "texts": SAMPLES,
        "input_ids": ids,
        "logits": logits,
    })


if __name__ == "__main__":
    w = weights()
    variant(HERE, w, "sequence_length", MAX_POSITIONS, True)
    fixed = os.path.join(HERE, "fixed")
    if os.path.isdir(fixed):
        shutil.rmtree(fixed)
    variant(fixed, w, FIXED_LENGTH, FIXED_LENGTH, False)
    print("transformer fixtures written to", HERE, "(vocab", len(VOCAB), "tokens)")
