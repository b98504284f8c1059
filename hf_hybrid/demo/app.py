"""The Gradio page: query, language filter, top-k, one results column and bias chart per model, an upload.

Bad input comes back as a line in the status box (never a traceback); the queue bounds how many searches run
at once and how many may wait, so a burst cannot exhaust memory. The page is up before the models are: while
:class:`~hf_hybrid.demo.startup.Startup` loads them, a line under the title says how far it got (refreshed every
second until ready) and a search answers with that line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hf_hybrid.demo.corpus import Corpus, parse_upload, read_capped
from hf_hybrid.demo.search import DemoSearch, SearchResult, language_counts, language_name
from hf_hybrid.demo.startup import Startup
from hf_hybrid.errors import UserError

RESULT_COLUMNS = ["rank", "lang", "language", "score", "group", "passage"]
CHART_COLUMNS = ["language", "hits", "resource"]
INTRO = ("# Cross-lingual search\n"
         "Ask in any language; passages in every language compete. The chart counts the languages in the "
         "top-k: a model free of language bias ranks the right passage first whatever its language.")


def _language_choices(corpus: Corpus) -> list[tuple[str, str]]:
    return [(f"{code} — {language_name(code)}", code) for code in corpus.languages]


def startup_line(startup: Startup) -> str:
    """The start-up's state as one line for the page (empty once ready)."""
    if startup.error:
        return f"⚠️ The demo could not start: {startup.error}"
    return "" if startup.search else f"⏳ Starting: {startup.status}. Searches answer once every model is ready."


class _Handlers:
    """The page's callbacks: plain functions of the page's inputs, returning its outputs."""

    def __init__(self, startup: Startup):
        import pandas as pd

        self.startup, self.pd = startup, pd
        self.empty_results = pd.DataFrame(columns=RESULT_COLUMNS)
        self.empty_chart = pd.DataFrame({"language": [], "hits": [], "resource": []})

    def outputs_for(self, results: Sequence[SearchResult] | None) -> list:
        by_model = {r.model: r for r in results or []}
        out = []
        for name in self.startup.config.models:
            result = by_model.get(name)
            out.append(self.pd.DataFrame(result.rows, columns=RESULT_COLUMNS) if result else self.empty_results)
            out.append(self.pd.DataFrame(language_counts(result), columns=CHART_COLUMNS) if result else self.empty_chart)
        return out

    def progress(self):
        import gradio as gr

        return startup_line(self.startup), gr.Timer(active=self.startup.search is None and not self.startup.error)

    def run_search(self, query, languages, top_k, uploaded):
        search = self.startup.search
        if search is None:
            return [startup_line(self.startup), *self.outputs_for(None)]
        corpus, indexes = uploaded if uploaded else (None, None)
        try:
            results = search.search(query, top_k, languages, corpus, indexes)
        except UserError as err:
            return [f"⚠️ {err}", *self.outputs_for(None)]
        used = corpus or search.corpus
        return [f"Top {len(results[0].rows)} of {len(used)} passages in {used.name}.", *self.outputs_for(results)]

    def run_upload(self, path):
        import gradio as gr

        search, config = self.startup.search, self.startup.config
        if not path:
            return None, "Searching the configured corpus.", gr.CheckboxGroup(choices=_language_choices(self.startup.corpus), value=[])
        if search is None:
            return None, startup_line(self.startup), gr.CheckboxGroup()
        try:
            corpus = parse_upload(read_capped(path, config.max_upload_bytes), Path(path).name, config)
        except UserError as err:
            return None, f"⚠️ {err}", gr.CheckboxGroup()
        status = f"Searching your upload: {len(corpus)} passages in {', '.join(corpus.languages)}."
        return (corpus, search.index_corpus(corpus)), status, gr.CheckboxGroup(choices=_language_choices(corpus), value=[])


def _model_columns(startup: Startup) -> list:
    """One column per model: what it is, its result table and its chart of languages in the top-k."""
    import gradio as gr

    outputs = []
    with gr.Row():
        for i, label in enumerate(startup.labels):
            with gr.Column():
                gr.Markdown(f"### {label}", elem_id=f"model-{i}")
                outputs.append(gr.Dataframe(headers=RESULT_COLUMNS, label="Results", wrap=True, elem_id=f"results-{i}"))
                outputs.append(gr.BarPlot(x="language", y="hits", color="resource", sort="-y",
                                          label="Languages in the top-k", elem_id=f"chart-{i}"))
    return outputs


def _upload_box(config):
    import gradio as gr

    with gr.Accordion("Search your own passages", open=False):
        gr.Markdown(f".jsonl rows `{{\"lang\": \"sw\", \"passage\": \"...\"}}` or .txt, one passage per line; "
                    f"at most {config.max_upload_passages} passages and {config.max_upload_bytes // 1000} kB.")
        return gr.File(label="Corpus file", file_types=[".jsonl", ".txt"], type="filepath", elem_id="upload")


def build_app(search: DemoSearch | Startup):
    """The Gradio page (queued: ``concurrency_limit`` searches at once, ``max_queue`` waiting), for a ready
    :class:`DemoSearch` or a :class:`Startup` still loading in the background."""
    import gradio as gr

    startup = search if isinstance(search, Startup) else Startup.ready(search)
    config, corpus, handlers = startup.config, startup.corpus, _Handlers(startup)
    with gr.Blocks(title="hf-hybrid cross-lingual search") as app:
        gr.Markdown(INTRO)
        progress = gr.Markdown(startup_line(startup), elem_id="progress")
        uploaded = gr.State(None)
        with gr.Row():
            query = gr.Textbox(label="Query (any language)", max_length=config.max_query_chars, scale=4,
                               elem_id="query", placeholder="Soko liko wapi?")
            top_k = gr.Slider(1, config.max_top_k, value=config.default_top_k, step=1, label="Top-k", elem_id="top-k")
        languages = gr.CheckboxGroup(_language_choices(corpus), value=[], label="Target languages (none = all)",
                                     elem_id="languages")
        button = gr.Button("Search", variant="primary", elem_id="search")
        status = gr.Markdown(elem_id="status")
        outputs = _model_columns(startup)
        if corpus.examples:
            gr.Examples([[q] for q in corpus.examples], inputs=[query], label="Examples")
        upload = _upload_box(config)
        _wire(app, handlers, progress, upload, button, [query, languages, top_k, uploaded], [status, *outputs])
    # Gradio's queue rebuilds a pandas summary of every event it recorded (up to 10,000) after each event, for its
    # API-monitoring view: work per search that grows with the searches served (a py-spy profile of bench_demo's
    # one-client run showed it on every search). Once per 1,000 events keeps that view and takes it off the search
    # path. Read when the queue is made.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
    return app.queue(max_size=config.max_queue, default_concurrency_limit=config.concurrency_limit)


def _wire(app, handlers: _Handlers, progress, upload, button, inputs: list, outputs: list) -> None:
    """The page's events: start-up progress (a 1 s timer, stopped once ready), upload, search by button or Enter."""
    import gradio as gr

    config, (query, languages, _, uploaded), status = handlers.startup.config, inputs, outputs[0]
    timer = gr.Timer(1.0, active=handlers.startup.search is None)
    for event in (timer.tick, app.load):
        event(handlers.progress, None, [progress, timer], api_visibility="private", queue=False, show_progress="hidden")
    upload.change(handlers.run_upload, [upload], [uploaded, status, languages], api_name="upload",
                  concurrency_limit=1, concurrency_id="upload")
    button.click(handlers.run_search, inputs, outputs, api_name="search",
                 concurrency_limit=config.concurrency_limit, concurrency_id="search")
    query.submit(handlers.run_search, inputs, outputs, api_visibility="private",
                 concurrency_limit=config.concurrency_limit, concurrency_id="search")
