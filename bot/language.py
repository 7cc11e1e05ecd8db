"""Which language a question is written in, so a model that reads only English is never asked
a question it cannot read (it would answer with a "nearest passage" that means nothing).

Cheap and careful: a question counts as another language only when the evidence is plain. Most
letters in another script (Cyrillic, Han, Arabic…), or, in Latin script, no English function
word at all, at least two function words of one other language, and that language's own
identifier agreeing (py3langid, a maintained fork of langid.py: Lui & Baldwin 2012, "langid.py:
An Off-the-shelf Language Identification Tool", ACL demos; its model ships in the package).
Names, short keyword questions and casual lower-case English ("whats the hong kong rugby boss
called") are English. Measured on 18,000 English questions and 400 in 10 other languages:
`python -m evaluation language`.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

#: English words that other common languages do not spell the same way (so "was", "is", "an",
#: "die", "also", "will" and "in" are left out: German and Dutch use them too).
ENGLISH = frozenset({
    "the", "what", "whats", "what's", "who", "whos", "who's", "whom", "whose", "how", "hows",
    "how's", "many", "much", "did", "does", "do", "doesn't", "didn't", "which", "where", "wheres",
    "where's", "when", "whens", "why", "whys", "are", "were", "been", "being", "has", "have", "had",
    "having", "there", "their", "they", "them", "this", "that", "these", "those", "it", "its",
    "it's", "of", "and", "or", "with", "about", "from", "for", "by", "to", "into", "onto", "at",
    "than", "then", "any", "anyone", "anything", "some", "someone", "something", "each", "every",
    "most", "more", "less", "least", "can", "could", "would", "should", "shall", "may", "might",
    "must", "you", "your", "i", "my", "me", "we", "our", "us", "he", "his", "him", "she", "her",
    "hers", "after", "before", "since", "during", "until", "while", "if", "because", "whether",
    "not", "no", "yes", "ever", "never", "say", "says", "said", "tell", "told", "call", "called",
    "name", "named", "happen", "happened", "happening", "take", "took", "get", "got", "give",
    "gave", "go", "went", "come", "came", "make", "made", "know", "knew", "think", "new", "old",
    "last", "first", "next", "year", "years", "day", "days", "week", "weeks", "month", "months",
    "people", "country", "city", "town", "troops", "soldiers", "killed", "died", "dead", "war",
    "army", "force", "forces", "attack", "attacks"
})

#: Function words of the languages a news reader most often types, for the Latin-script check.
FUNCTION_WORDS: dict[str, frozenset[str]] = {code: frozenset(words.split()) for code, words in {
    "de": "der die das den dem des ein eine einen einem einer und oder ist sind war waren wer wie was wo "
          "wann warum welche welcher welches viele wieviele wurde wurden hat haben nicht mit von zu im "
          "auf für aus bei nach über unter gegen sich es sie er ich wir ihr dass auch noch schon",
    "fr": "le la les un une des du de et ou est sont était qui que quoi quel quelle quels quelles où "
          "quand comment combien pourquoi ont a été avec pour dans sur par pas ne ce cette ces il elle "
          "ils elles nous vous je au aux en se son sa ses leur leurs y",
    "es": "el la los las un una unos unas del de y o es son era fue quién quien qué que cuál cuáles "
          "dónde donde cuándo cuando cómo como cuántos cuántas cuánto por qué para con en sobre sin no "
          "se su sus lo le les al ha han hay está están muy más",
    "it": "il lo la gli le un una uno dei degli delle del della di e o è sono era chi che cosa quale "
          "quali dove quando come quanti quante quanto perché per con in su da non si suo sua loro "
          "al alla ha hanno ci sono nel nella",
    "pt": "o a os as um uma uns umas do da dos das de e ou é são era foi quem que qual quais onde "
          "quando como quantos quantas quanto porque por para com em no na nos nas não se seu sua "
          "seus suas ao tem têm há está estão muito mais foram ainda este esta",
    "nl": "de het een en of is zijn was waren wie wat welke waar wanneer waarom hoe hoeveel heeft "
          "hebben werd werden niet met van voor in op aan bij naar over onder tegen zich het ze hij "
          "ik wij jullie dat ook nog al er",
    "pl": "i w na z do że się nie jest są był była było byli kto co który która które gdzie kiedy "
          "jak ile dlaczego czy o od po przez dla ten ta to te jego jej ich",
    "tr": "ve bir bu şu o ne kim nerede ne zaman nasıl kaç neden mi mı mu mü da de ile için gibi "
          "çok daha olan oldu var yok değil",
    "sv": "och en ett är var vem vad vilken vilka var när varför hur många har hade inte med av "
          "för på till om det den de han hon jag vi som också varför ligger",
    "id": "dan yang di ke dari ini itu adalah apa siapa mana kapan bagaimana berapa mengapa tidak "
          "dengan untuk pada dalam ada akan sudah apakah siapakah",
}.items()}

#: An English word counts as English evidence only when no other listed language uses it
#: ("do", "no", "i", "me" and "a" are function words elsewhere too).
_ENGLISH_ONLY = ENGLISH - frozenset().union(*FUNCTION_WORDS.values())

LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "tr": "Turkish", "sv": "Swedish",
    "id": "Indonesian", "ru": "Russian", "uk": "Ukrainian", "zh": "Chinese", "ja": "Japanese",
    "ko": "Korean", "ar": "Arabic", "fa": "Persian", "he": "Hebrew", "hi": "Hindi", "el": "Greek",
    "th": "Thai", "bg": "Bulgarian", "sr": "Serbian",
}
#: Letters of these scripts are read as Latin (English questions quote names with accents).
_LATIN = ("LATIN",)
_WORDS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

_identifier: Any = None
_identifier_lock = threading.Lock()


def warm() -> None:
    """Load the language identifier now (about a second) rather than at the first question."""
    _identify("")


def _identify(text: str) -> tuple[str, float]:
    """py3langid's best language for `text` and its normalised probability (model loaded once)."""
    global _identifier
    if _identifier is None:
        with _identifier_lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    code, prob = _identifier.classify(text)
    return str(code), float(prob)


def _script_share(text: str) -> float:
    """Share of `text`'s letters that are not Latin."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    other = sum(1 for c in letters if not unicodedata.name(c, "LATIN").startswith(_LATIN))
    return other / len(letters)


def detect(question: str) -> str | None:
    """The language code of `question` when it is plainly not English, else None.

    None for English, for names and keywords, and whenever the evidence is thin: a model that
    reads English should rather try a doubtful question than refuse an English one.
    """
    if _script_share(question) >= 0.5:
        code, _ = _identify(question)
        return code if code != "en" else "und"
    words = [w.lower().replace("’", "'") for w in _WORDS.findall(question)]
    if len(words) < 2 or any(w in _ENGLISH_ONLY for w in words):
        return None
    hits = {code: sum(1 for w in words if w in vocab) for code, vocab in FUNCTION_WORDS.items()}
    best = max(hits, key=lambda c: hits[c])
    if hits[best] == 0:
        return None
    code, prob = _identify(question)
    if code == "en":
        return None
    own = hits.get(code, 0)
    if (own >= 2 and prob >= 0.5) or (own >= 1 and prob >= 0.7):
        return code
    return best if hits[best] >= 3 else None


def language_name(code: str) -> str:
    """"German" for "de"; the code itself for languages not named here."""
    return LANGUAGE_NAMES.get(code, code)
