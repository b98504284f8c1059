"""The Gradio page: query, language filter, top-k, one results column and bias chart per model, an upload.

Bad input comes back as a line in the status box (never a traceback); the queue bounds how many searches run
at once and how many may wait, so a burst cannot exhaust memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hf_hybrid.demo.corpus import Corpus, parse_upload, read_capped
from hf_hybrid.demo.search import DemoSearch, SearchResult, language_counts, language_name
from hf_hybrid.errors import UserError

RESULT_COLUMNS = ["rank", "lang", "language", "score", "group", "passage"]
CHART_COLUMNS = ["language", "hits", "resource"]
INTRO = ("# Cross-lingual search\n"
         "Ask in any language; passages in every language compete. The chart counts the languages in the "
         "top-k: a model free of language bias ranks the right passage first whatever its language.")


def _language_choices(corpus: Corpus) -> list[tuple[str, str]]:
    return [(f"{code} — {language_name(code)}", code) for code in corpus.languages]


class _Handlers:
    """The page's callbacks: plain functions of the page's inputs, returning its outputs."""

    def __init__(self, search: DemoSearch):
        import pandas as pd

        self.search, self.pd = search, pd
        self.empty_results = pd.DataFrame(columns=RESULT_COLUMNS)
        self.empty_chart = pd.DataFrame({"language": [], "hits": [], "resource": []})

    def outputs_for(self, results: Sequence[SearchResult] | None) -> list:
        by_model = {r.model: r for r in results or []}
        out = []
        for name in self.search.model_names:
            result = by_model.get(name)
            out.append(self.pd.DataFrame(result.rows, columns=RESULT_COLUMNS) if result else self.empty_results)
            out.append(self.pd.DataFrame(language_counts(result), columns=CHART_COLUMNS) if result else self.empty_chart)
        return out

    def run_search(self, query, languages, top_k, uploaded):
        corpus, indexes = uploaded if uploaded else (None, None)
        try:
            results = self.search.search(query, top_k, languages, corpus, indexes)
        except UserError as err:
            return [f"⚠️ {err}", *self.outputs_for(None)]
        used = corpus or self.search.corpus
        return [f"Top {len(results[0].rows)} of {len(used)} passages in {used.name}.", *self.outputs_for(results)]

    def run_upload(self, path):
        import gradio as gr

        search, config = self.search, self.search.config
        if not path:
            return None, "Searching the configured corpus.", gr.CheckboxGroup(choices=_language_choices(search.corpus), value=[])
        try:
            corpus = parse_upload(read_capped(path, config.max_upload_bytes), Path(path).name, config)
        except UserError as err:
            return None, f"⚠️ {err}", gr.CheckboxGroup()
        status = f"Searching your upload: {len(corpus)} passages in {', '.join(corpus.languages)}."
        return (corpus, search.index_corpus(corpus)), status, gr.CheckboxGroup(choices=_language_choices(corpus), value=[])


def _model_columns(search: DemoSearch) -> list:
    """One column per model: its name, its result table and its chart of languages in the top-k."""
    import gradio as gr

    outputs = []
    with gr.Row():
        for i, name in enumerate(search.model_names):
            with gr.Column():
                gr.Markdown(f"### {name}")
                outputs.append(gr.Dataframe(headers=RESULT_COLUMNS, label="Results", wrap=True, elem_id=f"results-{i}"))
                outputs.append(gr.BarPlot(x="language", y="hits", color="resource", sort="-y",
                                          label="Languages in the top-k", elem_id=f"chart-{i}"))
    return outputs


def _upload_box(search: DemoSearch):
    import gradio as gr

    config = search.config
    with gr.Accordion("Search your own passages", open=False):
        gr.Markdown(f".jsonl rows `{{\"lang\": \"sw\", \"passage\": \"...\"}}` or .txt, one passage per line; "
                    f"at most {config.max_upload_passages} passages and {config.max_upload_bytes // 1000} kB.")
        return gr.File(label="Corpus file", file_types=[".jsonl", ".txt"], type="filepath", elem_id="upload")


def build_app(search: DemoSearch):
    """The Gradio page for ``search``, queued (``concurrency_limit`` searches at once, ``max_queue`` waiting)."""
    import gradio as gr

    config, handlers = search.config, _Handlers(search)
    with gr.Blocks(title="hf-hybrid cross-lingual search") as app:
        gr.Markdown(INTRO)
        uploaded = gr.State(None)
        with gr.Row():
            query = gr.Textbox(label="Query (any language)", max_length=config.max_query_chars, scale=4,
                               elem_id="query", placeholder="Soko liko wapi?")
            top_k = gr.Slider(1, config.max_top_k, value=config.default_top_k, step=1, label="Top-k", elem_id="top-k")
        languages = gr.CheckboxGroup(_language_choices(search.corpus), value=[], label="Target languages (none = all)",
                                     elem_id="languages")
        button = gr.Button("Search", variant="primary", elem_id="search")
        status = gr.Markdown(elem_id="status")
        outputs = _model_columns(search)
        if search.corpus.examples:
            gr.Examples([[q] for q in search.corpus.examples], inputs=[query], label="Examples")
        upload = _upload_box(search)
        upload.change(handlers.run_upload, [upload], [uploaded, status, languages], api_name="upload",
                      concurrency_limit=1, concurrency_id="upload")
        inputs, search_outputs = [query, languages, top_k, uploaded], [status, *outputs]
        button.click(handlers.run_search, inputs, search_outputs, api_name="search",
                     concurrency_limit=config.concurrency_limit, concurrency_id="search")
        query.submit(handlers.run_search, inputs, search_outputs, api_visibility="private",
                     concurrency_limit=config.concurrency_limit, concurrency_id="search")
    return app.queue(max_size=config.max_queue, default_concurrency_limit=config.concurrency_limit)
