"""Regenerate the follow-up figures of README.md ("Follow-up questions") and docs/QUALITY.md.

`python -m evaluation.followup_figures` runs the follow-up benchmark (`python -m evaluation
followups`, in the default retrieval mode) and, over the same corpus, each variant of
`bot.followup`'s constants that was tried, then rewrites both sections from what it printed.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from evaluation import data as eval_data
from evaluation.harness import Row, format_table

README = eval_data.REPO / "README.md"
QUALITY = eval_data.REPO / "docs" / "QUALITY.md"

#: (what was tried, the `bot.followup` constants that make it). The first is what ships.
VARIANTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("**shipped: rewrite** (pronoun → the earlier question's subject, fragment → its frame): "
     "e(follow-up) + 0.5·e(rewrite), BM25 on the follow-up, the earlier answer's top document first", {}),
    ("first version: e(follow-up) + 0.3·e(earlier), BM25 on the follow-up, +0.2 on the cosine of "
     "the earlier answer's top document", {"REWRITE_WEIGHT": 0.0, "EARLIER_WEIGHT": 0.3, "PRIOR_ORDER": "cosine"}),
    ("first version, the earlier document's passages first instead of +0.2",
     {"REWRITE_WEIGHT": 0.0, "EARLIER_WEIGHT": 0.3}),
    ("rewrite, weight 1.0", {"REWRITE_WEIGHT": 1.0}),
    ("rewrite, weight 2.0", {"REWRITE_WEIGHT": 2.0}),
    ("rewrite, BM25 on the rewrite", {"BM25_TEXT": "rewrite"}),
    ("rewrite, + 0.3·e(earlier)", {"EARLIER_WEIGHT": 0.3}),
    ("rewrite, the earlier answer's three documents first", {"PRIOR_DOCUMENTS": 3}),
    ("rewrite, +0.2 on the cosine instead of the document first", {"PRIOR_ORDER": "cosine"}),
    ("rewrite, only the earlier document's best 2 first, then the best passage from elsewhere",
     {"PRIOR_LEAD": 2}),
    ("rewrite, only the earlier document's best passage first, then the best from elsewhere",
     {"PRIOR_LEAD": 1}),
)


@contextmanager
def constants(values: dict[str, object]) -> Iterator[None]:
    """`bot.followup`'s module constants set to `values` for the block, then restored."""
    from bot import followup

    saved = {k: getattr(followup, k) for k in values}
    for k, v in values.items():
        setattr(followup, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(followup, k, v)


def _rate(rows: Sequence[Row], kind: str, split: str, label: str = "with context") -> float:
    row = next(r for r in rows if r.dataset == f"followups {kind}" and r.split == split)
    return row.metrics[f"top-3 {label}"]


def _count(rows: Sequence[Row], kind: str) -> int:
    return sum(r.questions for r in rows if r.dataset == f"followups {kind}")


def _replace(text: str, start: str, end: str, section: str) -> str:
    a, b = text.index(start), text.index(end)
    return text[:a] + section + text[b:]


def main(argv: Sequence[str] | None = None) -> int:
    from bot.config import Settings
    from bot.embed import Encoder
    from evaluation.followups import eval_followups, followup_corpus

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    mode = settings.retrieval_mode
    encoder = Encoder(settings.model_name_or_path, settings.embedding_backend, settings.embedding_batch_size)
    cache = Path(tempfile.gettempdir()) / "newsqa-eval-cache"
    corpus = followup_corpus(encoder, cache)
    rows = eval_followups(encoder, cache, mode=mode, corpus=corpus)
    table = format_table(rows)
    print(table)
    tried = []
    for label, values in VARIANTS:
        with constants(values):
            got = rows if not values else eval_followups(encoder, cache, mode=mode, corpus=corpus,
                                                         with_context_only=True)
        tried.append((label, _rate(got, "follow-up", "tune"), _rate(got, "follow-up", "test")))
        print(f"{tried[-1][1]:.2f} {tried[-1][2]:.2f}  {label}", file=sys.stderr)
    fu, sc = _count(rows, "follow-up"), _count(rows, "self-contained")

    def r(kind: str, split: str, label: str = "with context") -> str:
        return f"{_rate(rows, kind, split, label):.2f}"

    t, tw, u, uw = r("follow-up", "test"), r("follow-up", "test", "without"), r("follow-up", "tune"), r(
        "follow-up", "tune", "without")
    st, stw, su, suw = (r("self-contained", "test"), r("self-contained", "test", "without"),
                        r("self-contained", "tune"), r("self-contained", "tune", "without"))
    lines = "\n".join(f"| {label} | {a:.2f} | {b:.2f} |" for label, a, b in tried)
    quality = f'''### Follow-up questions: `python -m evaluation followups`

Our own set, `benchmarks/data/followups.jsonl`: {fu + sc} pairs (an earlier question, then a question
asked right after it) over the bundled Kursk article and eight BBC articles (business/001-002,
tech/001, politics/001-002, sport/001-002, entertainment/001), written for this benchmark: {fu}
follow-ups that are incomplete on their own ("and how many russians?", "who is paying for
it?", "by how much?") and {sc} self-contained questions asked after an unrelated one, among them
short, lower-case and pronoun-initial ones ("who is ukraine's commander in chief", "who is alan
beith", "that invisible ink in kyrgyzstan, who pays for it"). The first 55 rows were split into
tune and test halves by hand before the first tuning; the 24 added later were split by the
SHA-1 of `earlier + "\\n" + question` (even: tune) before any tuning on them. Corpus: those
articles plus every 10th BBC article. A hit is a top-3 passage covering an answer phrase;
"with context" is the product's path (`bot.followup.resolve` and `retrieve_follow_up`, as
`QAService.ask(earlier=…)`; the earlier turn is the earlier question's own top-3 when the
product would call it an answer: in rerank mode its covered probability against the reranker's
threshold), "without" the question alone. Retrieval mode: the default ({mode}).
Regenerated, with this section and the README's, by `python -m evaluation.followup_figures`.

```
{table}
```

Methods tried (follow-ups, top-3 with context; each a setting of `bot/followup.py`'s constants
over the same corpus, today's follow-up detection throughout):

| method | tune | test |
|---|---|---|
{lines}

Also tried as scratch prototypes on this set and not kept (tune / test): the follow-up with the
earlier question's content words appended, for the dense query and BM25 (0.59 / 0.60; with the
dense query mixed with the earlier question 0.74 / 0.70); the earlier question and the follow-up
as one text for the dense query (0.56 / 0.53); rank fusion (RRF) of that appended query's
ranking with the follow-up's own (0.59 / 0.50); a penalty on the earlier answer's own top
sentence (follow-ups are often answered by the same sentence: worse). The shipped setting is
the best on the tune half (a tie goes to the rewrite, the method this issue asked for: it
puts the earlier subject into the query); settings are never chosen on the test half. The
target was 0.80 with context on the test half; it reaches {t} (without context {tw}). What is
left: the earlier answer's top document is not the one that answers ("when are they?" after
a question about the European indoor championships whose answer came from another article
about them), and answers that share no
word with the follow-up or the earlier question ("how does it hope to win them back?" →
"offering the online service free").

Which questions are follow-ups (`needs_context`): an opening cue ("and …", "what about …"); a
personal pronoun before anything the question names; a fragment of at most four words without
a verb ("how many russians?", "by how much?"); or, naming nothing, a pointing determiner
("those laws") or at most two content words one of which is in the earlier turn's question or
shown passages. Names in lower-case text are words the corpus writes capitalised mid-sentence
(`CorpusNames`: "kursk", "syrsky", "aol"), possessives ("ukraine's") and words the corpus has
never seen ("zelensky"). Self-contained questions lose nothing (with and without context agree
on them: {su} / {suw} tune, {st} / {stw} test; the misses are the question's own
retrieval), and `tests/test_followups.py` asks short, lower-case and pronoun-initial ones after
another question and checks that they are answered on their own.

'''
    readme = f'''### Follow-up questions

A reply to one of the bot's answers, a message in a thread started from an answer, the
**Follow up** button under `/ask`, and a console question right after another are follow-ups.
A short, elliptical or pronoun-led follow-up ("and how many russians?", "where did she set
it?") is rewritten with the earlier question's subject ("how many russians were deployed")
and searched in the document the earlier answer cited first (`bot/followup.py`); the answer
says which earlier question it took as context ("read as a follow-up to “…”"). A
self-contained question, one that names its own subject even in lower case ("who is ukraine's
commander in chief", "what did zelensky say about the talks") or shares nothing with the
earlier turn, is answered on its own. On our own follow-up set ({fu} follow-ups and {sc}
self-contained questions, `python -m evaluation followups`; this paragraph and docs/QUALITY.md
are regenerated by `python -m evaluation.followup_figures`) the top-3 hit rate of follow-ups on
the test half is {t} with the context and {tw} without (tune half: {u} and
{uw}); self-contained questions are unchanged ({st} on the test half either way).

'''
    QUALITY.write_text(_replace(QUALITY.read_text(encoding="utf-8"),
                                "### Follow-up questions: `python -m evaluation followups`",
                                '### "No answer" threshold', quality), encoding="utf-8")
    README.write_text(_replace(README.read_text(encoding="utf-8"), "### Follow-up questions\n",
                               "## Configuration", readme), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
