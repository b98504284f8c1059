"""The card of a hybrid-batch dataset repo, rendered from a build summary (``hf-hybrid build`` / ``push``).

Values come from the summary the build counted from the data, never typed by hand; the template is
``hf_hybrid/templates/dataset_card.md`` and the table helpers are the model card's (:mod:`hf_hybrid.cards`).
"""

from __future__ import annotations

from huggingface_hub import DatasetCard, DatasetCardData

from hf_hybrid.cards import CARD_TAGS, TEMPLATES, fmt, plain, source_link
from hf_hybrid.hub_names import is_hub_id
from hf_hybrid.tables import md_table


def render_dataset_card(info: dict) -> DatasetCard:
    """The card of a hybrid-batch dataset from a build summary.

    ``info`` keys (all optional): ``repo_id``, ``pretty_name``, ``license``, ``source`` or ``sources`` (names, Hub
    ids or URLs), ``splits`` (``{split: {"rows": int, "groups_per_language": {lang: int}}}``), ``plan`` (the
    batch plan summary of ``hf_hybrid.sampling.BatchPlan.summary`` plus ``name``) and ``plan_config``.
    """
    sources = list(info.get("sources") or ([info["source"]] if info.get("source") else []))
    splits = info.get("splits") or {}
    languages = sorted({lang for split in splits.values() for lang in (split.get("groups_per_language") or {})})
    rows = [[split, values.get("rows", "–"), lang, count] for split, values in splits.items()
            for lang, count in sorted((values.get("groups_per_language") or {}).items())]
    plan = info.get("plan") or {}
    plan_config = info.get("plan_config") or plan.get("config") or {}
    plan_rows = [[key, value] for key, value in plan_config.items() if value not in (None, [], {})]
    plan_rows += [[key, plan[key]] for key in ("steps", "switch_step") if plan.get(key) is not None]
    plan_rows += [[f"steps ({kind})", n] for kind, n in (plan.get("steps_per_kind") or {}).items()]
    total = sum(v.get("rows", 0) for v in splits.values())
    size_category = next((c for limit, c in ((1e3, "n<1K"), (1e4, "1K<n<10K"), (1e5, "10K<n<100K"),
                                              (1e6, "100K<n<1M")) if total < limit), "1M<n<10M")
    card_data = DatasetCardData(
        language=languages or None, license=info.get("license"), pretty_name=info.get("pretty_name"),
        task_categories=["sentence-similarity"], tags=CARD_TAGS + ["parallel"],
        size_categories=[size_category] if splits else None,
        source_datasets=[s for s in sources if is_hub_id(s)] or None,
    )
    repo_id = info.get("repo_id") or "<namespace>/<dataset>"
    return DatasetCard.from_template(
        card_data,
        template_path=str(TEMPLATES / "dataset_card.md"),
        pretty_name=info.get("pretty_name") or repo_id.split("/")[-1],
        repo_id=repo_id,
        sources_text="\n".join(f"- {source_link(s)}" for s in sources),
        license=info.get("license"),
        sizes_table=md_table(["split", "rows", "language", "groups"], rows, fmt) if rows else "",
        plan_name=plan.get("name"),
        plan_batch_size=plan_config.get("batch_size"),
        plan_table=md_table(["parameter", "value"], plan_rows, plain) if plan_rows else "",
        mining_table=_mining_table(info.get("mining")),
    )


def _mining_table(mining: dict | None) -> str:
    """Provenance of mined hard negatives (``hf-hybrid mine``): the model, every setting, the counts per split."""
    if not mining:
        return ""
    rows = [["model", mining.get("model")]]
    rows += [[key, value] for key, value in (mining.get("settings") or {}).items()]
    for split, c in (mining.get("splits") or {}).items():
        per = c.get("negatives_per_row") or {}
        rows += [[f"{split}: rows", c.get("rows")],
                 [f"{split}: negatives per row (min / mean / max)", f"{per.get('min')} / {per.get('mean')} / "
                                                                     f"{per.get('max')}"],
                 [f"{split}: group translations a pooled search ranks in its top range_max (kept out)", c.get("translations_excluded")],
                 [f"{split}: negatives that are the group's own translations", c.get("translations_returned")],
                 [f"{split}: candidates dropped by the guards", c.get("dropped_by_guards")],
                 [f"{split}: rows without a negative", c.get("rows_without")]]
    return md_table(["parameter", "value"], rows, plain)
