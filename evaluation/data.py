"""Evaluation data: loaders for the third-party QA sets in `../shared/data` and our own sets.

Nothing here is shipped data: every loader reads files beside the checkout (see each dataset's
SOURCE.md) or the small question files we wrote ourselves under `benchmarks/data/`.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from bot.corpus import Document, read_document

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
#: The bundled article as shipped beside the checkout (never the user's `corpus/`).
SEED_CORPUS = REPO.parent / "shared" / "corpus"
SQUAD_DEV = SHARED_DATA / "squad-v1.1" / "dev-v1.1.json"
WIKIQA_TEST = SHARED_DATA / "wikiqa" / "WikiQA-test.tsv"
TRECQA_TEST = SHARED_DATA / "trecqa" / "raw-test"
#: Their dev splits: the reranker's tuning data (`evaluation.train_rerank`), never the test.
WIKIQA_DEV = SHARED_DATA / "wikiqa" / "WikiQA-dev.tsv"
TRECQA_DEV = SHARED_DATA / "trecqa" / "clean-dev"
BBC_NEWS = SHARED_DATA / "bbc-news" / "articles"
PARAPHRASE_SET = REPO / "benchmarks" / "data" / "bbc-paraphrase.jsonl"
#: SQuAD dev articles 1-24 (file order) are for tuning; 25-48 are held out, reported only.
TUNING_ARTICLES = 24


@dataclass(frozen=True)
class SpanQuestion:
    """A question over a corpus whose answer is located by character offsets in a document.

    `starts` are offsets into `Document.text` of `document`; a passage is a hit when its
    `[start, end)` span covers one of them. `split` is "tuning" or "held-out".
    """

    qid: str
    question: str
    document: str
    starts: tuple[int, ...]
    split: str = "tuning"


@dataclass(frozen=True)
class CandidateQuestion:
    """An answer-sentence-selection question: its own candidate sentences and 0/1 labels."""

    qid: str
    question: str
    candidates: tuple[str, ...]
    labels: tuple[int, ...]


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: eval data is read from ../shared/data")
    return path


def squad_dev(path: Path = SQUAD_DEV) -> tuple[list[Document], list[SpanQuestion]]:
    """SQuAD v1.1 dev as a corpus: one `Document` per article, paragraphs separated by a blank
    line, and its 10,570 questions with answer offsets mapped into the article text."""
    data = json.loads(_need(path).read_text(encoding="utf-8"))["data"]
    documents: list[Document] = []
    questions: list[SpanQuestion] = []
    for number, article in enumerate(data, start=1):
        doc_id = f"squad/{number:02d}-{article['title']}"
        parts: list[str] = []
        offset = 0
        split = "tuning" if number <= TUNING_ARTICLES else "held-out"
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                starts = tuple(sorted({offset + a["answer_start"] for a in qa["answers"]}))
                questions.append(SpanQuestion(qa["id"], qa["question"], doc_id, starts, split))
            parts.append(context)
            offset += len(context) + 2
        text = "\n\n".join(parts)
        documents.append(Document(
            id=doc_id, title=article["title"].replace("_", " "), text=text,
            content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        ))
    return documents, questions


def _candidate_groups(rows: list[tuple[str, str, str, int]]) -> list[CandidateQuestion]:
    """Group `(qid, question, sentence, label)` rows (contiguous per question)."""
    out: list[CandidateQuestion] = []
    group: list[tuple[str, str, str, int]] = []
    for row in [*rows, ("", "", "", 0)]:
        if group and row[0] != group[0][0]:
            out.append(CandidateQuestion(group[0][0], group[0][1], tuple(r[2] for r in group),
                                         tuple(r[3] for r in group)))
            group = []
        group.append(row)
    return out


def wikiqa(path: Path = WIKIQA_TEST) -> list[CandidateQuestion]:
    """WikiQA (Yang et al., EMNLP 2015) questions with their candidate sentences and labels."""
    with _need(path).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [(r["QuestionID"], r["Question"], r["Sentence"], int(r["Label"])) for r in reader]
    return _candidate_groups(rows)


def trecqa(folder: Path = TRECQA_TEST) -> list[CandidateQuestion]:
    """TrecQA (Wang et al., 2007; jacana layout) questions with candidates and labels.

    The text is lower-cased and PTB-tokenized as distributed; `` and '' become plain quotes.
    """
    def lines(name: str) -> list[str]:
        return (_need(folder) / name).read_text(encoding="utf-8").splitlines()

    def detok(s: str) -> str:
        return s.replace("``", '"').replace("''", '"')

    rows = [(qid, detok(q), detok(s), int(label)) for qid, q, s, label in
            zip(lines("id.txt"), lines("a.toks"), lines("b.toks"), lines("sim.txt"), strict=True)]
    return _candidate_groups(rows)


def bbc_documents(folder: Path = BBC_NEWS, stride: int = 1,
                  keep: frozenset[str] = frozenset()) -> list[Document]:
    """BBC News articles read with the product's own reader (ids like `tech/001.txt`): every
    `stride`-th of the 2,225 in path order, plus those named in `keep`."""
    from bot.corpus import iter_corpus_files, load_corpus

    files = [f for i, f in enumerate(iter_corpus_files(_need(folder)))
             if i % stride == 0 or f.relative_to(folder).as_posix() in keep]
    return load_corpus(folder, files).documents


def paraphrase_set(path: Path = PARAPHRASE_SET, folder: Path = BBC_NEWS) -> list[SpanQuestion]:
    """Our own casual, paraphrased questions over a few BBC articles (benchmarks/data).

    Each row names a document and a short `answer` phrase of the gold sentence; the phrase is
    located in the article, so a hit is any passage covering its first character.
    """
    questions = []
    for n, line in enumerate(_need(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        doc = read_document(_need(folder) / row["document"], folder)
        at = doc.text.find(row["answer"])
        if at < 0:
            raise ValueError(f"{path}:{n}: answer {row['answer']!r} not in {row['document']}")
        questions.append(SpanQuestion(f"para-{n}", row["question"], doc.id, (at,), "tuning"))
    return questions



def casual_questions(split: str, path: Path | None = None,
                     folder: Path = BBC_NEWS) -> tuple[list[SpanQuestion], list[str]]:
    """The casual set's (`evaluation.casual`) answerable questions of `split` ("tune" or
    "test"), located in their BBC article, and its out-of-scope questions of that split."""
    from evaluation import casual

    answerable: list[SpanQuestion] = []
    oos: list[str] = []
    for q in casual.load(path or casual.CASUAL_SET):
        if q.split != split:
            continue
        if q.document is None or q.answer is None:
            oos.append(q.question)
            continue
        doc = read_document(_need(folder) / q.document, folder)
        at = doc.text.find(q.answer)
        if at < 0:
            at = casual.normalised(doc.text).find(casual.normalised(q.answer))
        if at < 0:
            raise ValueError(f"{q.qid}: answer {q.answer!r} not in {q.document}")
        answerable.append(SpanQuestion(q.qid, q.question, doc.id, (at,), split))
    return answerable, oos


def casual_tune(path: Path | None = None) -> tuple[list[SpanQuestion], list[str]]:
    """Tuning questions for the reranker: the casual set's tune split plus the paraphrase set."""
    answerable, oos = casual_questions("tune", path)
    return [*answerable, *paraphrase_set()], oos
