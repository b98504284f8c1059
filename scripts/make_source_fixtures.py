"""Write the small local copies of the public sources that ``tests/test_sources.py`` reads.

Each copy mirrors its Hub repository: the same relative paths, file formats, configs, splits, field names and
feature types (XQuAD and MLQA: SQuAD-format ``answers`` as a sequence of ``text``/``answer_start``; MIRACL:
lists of ``docid``/``title``/``text`` passages; mMARCO: header-less TSV files). The texts are short stand-ins.

    python scripts/make_source_fixtures.py                 # tests/fixtures/sources/
    python scripts/make_source_fixtures.py --mirror DIR    # the dry-run copies: hf-hybrid check CONFIG --mirror DIR
"""

from __future__ import annotations

from pathlib import Path

from datasets import Dataset, Features, Sequence, Value

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sources"

SQUAD = Features({"id": Value("string"), "context": Value("string"), "question": Value("string"),
                  "answers": Sequence({"text": Value("string"), "answer_start": Value("int32")})})
PASSAGE = {"docid": Value("string"), "text": Value("string"), "title": Value("string")}
MIRACL = Features({"query_id": Value("string"), "query": Value("string"),
                   "positive_passages": [PASSAGE], "negative_passages": [PASSAGE]})

# (context, [(id, question, answer)]) per language; ids are shared across languages as in XQuAD.
XQUAD = {
    "en": [("The Nile flows north. It reaches the Mediterranean Sea at Alexandria. Cairo lies on its banks.",
            [("q1", "Where does the Nile reach the sea?", "Alexandria"), ("q2", "Which city lies on the Nile?", "Cairo")]),
           ("Bees make honey from nectar. They store it in wax cells.",
            [("q3", "What do bees make honey from?", "nectar")])],
    "de": [("Der Nil fließt nach Norden. Er erreicht das Mittelmeer bei Alexandria. Kairo liegt an seinen Ufern.",
            [("q1", "Wo erreicht der Nil das Meer?", "Alexandria"), ("q2", "Welche Stadt liegt am Nil?", "Kairo")]),
           ("Bienen machen Honig aus Nektar. Sie lagern ihn in Wachszellen.",
            [("q3", "Woraus machen Bienen Honig?", "Nektar")])],
    "ar": [("يجري النيل نحو الشمال. ويصل إلى البحر المتوسط عند الإسكندرية. وتقع القاهرة على ضفافه.",
            [("q1", "أين يصل النيل إلى البحر؟", "الإسكندرية"), ("q2", "ما المدينة التي تقع على النيل؟", "القاهرة")]),
           ("يصنع النحل العسل من الرحيق. ويخزنه في خلايا من الشمع.",
            [("q3", "مم يصنع النحل العسل؟", "الرحيق")])],
}

# MLQA: not every instance exists in every language (m3 is missing in hi).
MLQA = {
    "en": [("m1", "Rain falls from clouds. Clouds form from water vapour.", "What do clouds form from?", "water vapour"),
           ("m2", "The cheetah is the fastest land animal.", "Which land animal is fastest?", "The cheetah"),
           ("m3", "Paper was invented in China.", "Where was paper invented?", "China")],
    "de": [("m1", "Regen fällt aus Wolken. Wolken entstehen aus Wasserdampf.", "Woraus entstehen Wolken?", "Wasserdampf"),
           ("m2", "Der Gepard ist das schnellste Landtier.", "Welches Landtier ist am schnellsten?", "Der Gepard"),
           ("m3", "Papier wurde in China erfunden.", "Wo wurde Papier erfunden?", "China")],
    "hi": [("m1", "बारिश बादलों से गिरती है। बादल जलवाष्प से बनते हैं।", "बादल किससे बनते हैं?", "जलवाष्प"),
           ("m2", "चीता सबसे तेज़ ज़मीनी जानवर है।", "सबसे तेज़ ज़मीनी जानवर कौन सा है?", "चीता")],
}

MMARCO_QUERIES = {"english": {"101": "what is the capital of kenya", "102": "how long to boil an egg",
                              "103": "why is the sky blue"},
                  "german": {"101": "was ist die hauptstadt von kenia", "102": "wie lange kocht man ein ei",
                             "103": "warum ist der himmel blau"}}
MMARCO_PASSAGES = {"english": {"7": "Nairobi is the capital of Kenya.", "8": "Boil an egg for ten minutes.",
                               "9": "Air scatters blue light more than red light.", "10": "Lagos is in Nigeria.",
                               "11": "Tea steeps for three minutes."},
                   "german": {"7": "Nairobi ist die Hauptstadt Kenias.", "8": "Koche ein Ei zehn Minuten.",
                              "9": "Luft streut blaues Licht stärker als rotes.", "10": "Lagos liegt in Nigeria.",
                              "11": "Tee zieht drei Minuten."}}
MMARCO_TRIPLES = [("101", "7", "10"), ("101", "7", "11"), ("102", "8", "11"), ("103", "9", "10")]

MIRACL_ROWS = {
    "sw": [("0", "Mji mkuu wa Kenya ni upi?", [("1#0", "Nairobi", "Nairobi ni mji mkuu wa Kenya.")],
            [("2#0", "Mombasa", "Mombasa ni mji wa pwani.")]),
           ("3", "Mlima mrefu zaidi Afrika ni upi?", [("4#1", "Kilimanjaro", "Kilimanjaro ndio mlima mrefu zaidi.")], []),
           ("5", "Swali lisilo na jibu?", [], [("6#0", "", "Kifungu kisichohusika.")])],
    "en": [("0", "What is the capital of Kenya?", [("10#0", "Nairobi", "Nairobi is the capital of Kenya.")],
            [("11#0", "Mombasa", "Mombasa is a coastal city."), ("12#0", "Kisumu", "Kisumu lies on Lake Victoria.")])],
}


def _squad_row(qid: str, context: str, question: str, answer: str) -> dict:
    return {"id": qid, "context": context, "question": question,
            "answers": {"text": [answer], "answer_start": [context.index(answer)]}}


def _write(rows: list[dict], features: Features, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_list(rows, features=features).to_parquet(str(path))


def main() -> None:
    for lang, paragraphs in XQUAD.items():
        rows = [_squad_row(qid, ctx, q, a) for ctx, qs in paragraphs for qid, q, a in qs]
        _write(rows, SQUAD, OUT / "google__xquad" / f"xquad.{lang}" / "validation-00000-of-00001.parquet")
    for lang, items in MLQA.items():
        rows = [_squad_row(qid, ctx, q, a) for qid, ctx, q, a in items]
        for split in ("validation", "test"):
            _write(rows, SQUAD, OUT / "facebook__mlqa" / f"mlqa.{lang}.{lang}" / split / "0000.parquet")
    root = OUT / "unicamp-dl__mmarco" / "data"
    (root / "google" / "queries" / "train").mkdir(parents=True, exist_ok=True)
    (root / "google" / "collections").mkdir(parents=True, exist_ok=True)
    (root / "triples.train.ids.small.tsv").write_text("".join("\t".join(t) + "\n" for t in MMARCO_TRIPLES))
    for name, queries in MMARCO_QUERIES.items():
        (root / "google" / "queries" / "train" / f"{name}_queries.train.tsv").write_text(
            "".join(f"{k}\t{v}\n" for k, v in queries.items()), encoding="utf-8")
        (root / "google" / "collections" / f"{name}_collection.tsv").write_text(
            "".join(f"{k}\t{v}\n" for k, v in MMARCO_PASSAGES[name].items()), encoding="utf-8")
    for lang, items in MIRACL_ROWS.items():
        rows = [{"query_id": qid, "query": q,
                 "positive_passages": [dict(zip(("docid", "title", "text"), p, strict=True)) for p in pos],
                 "negative_passages": [dict(zip(("docid", "title", "text"), p, strict=True)) for p in neg]}
                for qid, q, pos, neg in items]
        for split in ("train", "dev"):
            _write(rows, MIRACL, OUT / "miracl__miracl" / lang / split / "0000.parquet")
    print(f"wrote fixtures under {OUT}")


if __name__ == "__main__":
    import sys

    if "--mirror" in sys.argv:
        sys.path.insert(0, str(OUT.parents[2]))
        from tests.hub_layouts import write_mirror

        print(f"wrote local copies under {write_mirror(Path(sys.argv[sys.argv.index('--mirror') + 1]))}")
    else:
        main()
