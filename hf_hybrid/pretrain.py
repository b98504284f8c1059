"""The miniature's "multilingual pre-training": a small BERT masked-language-modelled on every language's text.

Why: XLM-R can transfer zero-shot to a language it was never fine-tuned on because pre-training saw monolingual
text of that language. The synthetic miniature needs the same property, so before the strategy grid fine-tunes
anything we pre-train a tiny encoder on *monolingual* sentences of every synthetic language — the high-resource
ones, the low-resource ones (with less text, as in CC-100) and the zero-shot ones — drawn by
:meth:`~hf_hybrid.data.SyntheticWorld.monolingual_text`, which shares no parallel signal with the training
groups. The steps are the standard Hugging Face ones, nothing of our own:

1. a WordPiece tokenizer trained with ``tokenizers`` on that text (cognates of one family share pieces, which is
   the only bridge between languages, as shared subwords are for XLM-R);
2. ``BertForMaskedLM`` trained with ``transformers.Trainer`` and ``DataCollatorForLanguageModeling``;
3. the encoder saved as a SentenceTransformer folder (``Transformer`` + mean ``Pooling``) that
   :func:`hf_hybrid.training.train` fine-tunes like any base model.

The folder is cached under ``$HF_HYBRID_CACHE/mlm/<config hash>`` (written to a temp folder, then renamed), so a
second grid, or a rerun, skips pre-training.

    from hf_hybrid.pretrain import PretrainConfig, pretrain
    folder = pretrain(PretrainConfig(world="synthetic:train_groups=2000,seed=0"))
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hf_hybrid.atomic import atomic_dir, write_json
from hf_hybrid.errors import UserError
from hf_hybrid.ranges import SEED, check_ranges

PRETRAINING_RECORD = "hf_hybrid_pretraining.json"  # beside the encoder; its presence means finished


@dataclass
class PretrainConfig:
    """Size of the miniature encoder and of its pre-training run."""

    world: str = field(default="synthetic", metadata={"help": "synthetic-world source string, e.g. "
                                                              "'synthetic:train_groups=2000,seed=0'",
                                                      "kind": "source"})
    sentences: int = field(default=3000, metadata={"help": "monolingual sentences per high/zero-shot language",
                                                   "range": "[1, inf)"})
    low_text_fraction: float = field(default=0.25, metadata={"help": "low-resource languages get this share of "
                                                                     "the text (less pre-training data, as in CC-100)",
                                                             "range": "(0, 1]"})
    vocab_size: int = field(default=2000, metadata={"help": "WordPiece vocabulary size", "range": "[1, inf)"})
    hidden_size: int = field(default=64, metadata={"help": "encoder width", "range": "[1, inf)"})
    layers: int = field(default=2, metadata={"help": "transformer layers", "range": "[1, inf)"})
    heads: int = field(default=2, metadata={"help": "attention heads", "range": "[1, inf)"})
    max_length: int = field(default=24, metadata={"help": "tokens per sentence",
                                                  "range": "[3, inf)",
                                                  "fix": "leave room for [CLS], a token and [SEP]"})
    steps: int = field(default=300, metadata={"help": "MLM optimizer steps", "range": "[1, inf)"})
    batch_size: int = field(default=64, metadata={"help": "MLM batch size", "range": "[1, inf)"})
    learning_rate: float = field(default=1e-3, metadata={"help": "AdamW learning rate", "range": "(0, inf)"})
    seed: int = field(default=0, metadata={"help": "initialisation and masking seed", "range": SEED})
    cache_dir: str | None = field(default=None, metadata={"help": "where pre-trained encoders are cached "
                                                                  "(default: $HF_HYBRID_CACHE/mlm)",
                                                          "kind": "output"})

    def validate(self) -> None:
        from hf_hybrid.config import check_types

        check_types(self)
        check_ranges(self)  # every range and kind declared above
        if not (self.world == "synthetic" or self.world.startswith("synthetic:")):
            raise UserError("world", repr(self.world), "pre-training needs a synthetic world, e.g. 'synthetic:seed=0'")
        if self.hidden_size % self.heads:
            raise UserError("hidden_size", f"{self.hidden_size} is not divisible by heads={self.heads}",
                            "choose hidden_size a multiple of heads")

    def fingerprint(self) -> str:
        """Hash of everything that changes the weights (not where they are cached)."""
        payload = {k: v for k, v in asdict(self).items() if k != "cache_dir"}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def corpus(cfg: PretrainConfig) -> list[str]:
    """Monolingual sentences of every language, low-resource ones with ``low_text_fraction`` of the text."""
    from hf_hybrid.data.local import world_from_source

    world = world_from_source(cfg.world)
    text: list[str] = []
    for lang in world.languages:
        n = cfg.sentences if lang.resource != "low" else max(1, round(cfg.sentences * cfg.low_text_fraction))
        text += world.monolingual_text(lang.code, n, seed=cfg.seed)
    return text


def train_tokenizer(text: list[str], vocab_size: int):
    """A BERT-style WordPiece tokenizer trained on ``text`` with the ``tokenizers`` library."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(text, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                             sep_token="[SEP]", mask_token="[MASK]")


def _mlm_train(cfg: PretrainConfig, tokenizer, text: list[str], folder: Path) -> float:
    """Masked-language-model training with ``transformers.Trainer``; saves the encoder to ``folder``."""
    import torch
    from datasets import Dataset
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(cfg.seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, num_hidden_layers=cfg.layers,
                        num_attention_heads=cfg.heads, intermediate_size=4 * cfg.hidden_size,
                        max_position_embeddings=max(64, cfg.max_length), pad_token_id=tokenizer.pad_token_id)
    model = BertForMaskedLM(config)
    rows = Dataset.from_dict({"text": text}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=cfg.max_length), batched=True,
        remove_columns=["text"])
    args = TrainingArguments(
        output_dir=str(folder / "mlm-checkpoints"), max_steps=cfg.steps, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate, weight_decay=0.01, warmup_steps=max(1, cfg.steps // 20), lr_scheduler_type="linear",
        seed=cfg.seed, save_strategy="no", report_to="none", logging_steps=max(1, cfg.steps // 5),
        disable_tqdm=True, use_cpu=not torch.cuda.is_available(), dataloader_drop_last=True)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collator)
    result = trainer.train()
    model.bert.save_pretrained(str(folder / "encoder"))
    tokenizer.save_pretrained(str(folder / "encoder"))
    shutil.rmtree(folder / "mlm-checkpoints", ignore_errors=True)
    return float(result.training_loss)


def _save_sentence_transformer(encoder: Path, dest: Path, max_length: int) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    transformer = Transformer(str(encoder), max_seq_length=max_length)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling]).save(str(dest))


def cache_folder(cfg: PretrainConfig) -> Path:
    if cfg.cache_dir:
        return Path(cfg.cache_dir)
    from hf_hybrid.models import cache_root

    return cache_root() / "mlm"


def pretrain(cfg: PretrainConfig) -> Path:
    """Pre-train (or find in the cache) the miniature encoder; returns its SentenceTransformer folder."""
    cfg.validate()
    dest = cache_folder(cfg) / f"mlm-{cfg.fingerprint()}"
    if (dest / PRETRAINING_RECORD).exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    # atomic_dir: a half-finished folder of another process is replaced, and a kill here leaves none
    with atomic_dir(dest) as model_dir, tempfile.TemporaryDirectory(prefix=f".{dest.name}-", dir=dest.parent) as work:
        text = corpus(cfg)
        tokenizer = train_tokenizer(text, cfg.vocab_size)
        loss = _mlm_train(cfg, tokenizer, text, Path(work))
        _save_sentence_transformer(Path(work) / "encoder", model_dir, cfg.max_length)
        # final_mlm_loss is Trainer's training_loss: the mean over all steps of the finished run.
        record = {"config": asdict(cfg), "fingerprint": cfg.fingerprint(), "sentences": len(text),
                  "final_mlm_loss": round(loss, 4), "vocab_size": len(tokenizer)}
        write_json(model_dir / PRETRAINING_RECORD, record)
    return dest
