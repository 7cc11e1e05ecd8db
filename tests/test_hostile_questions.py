"""Hostile questions coming in (issue 12): invisible characters, no words at all, and
languages the configured model does not read. Real model and index (the seed service)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import UnsupportedLanguageError, UsageError
from bot.language import detect
from bot.service import USAGE_HINT, QAService

ENGLISH_ONLY = "I can only read questions in English with this model"


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_an_invisible_character_inside_a_word_does_not_change_the_answer(
        seed_service: QAService, invisible: str) -> None:
    plain = seed_service.ask("How many North Korean troops were deployed to Kursk?")
    hostile = seed_service.ask(f"How many North{invisible} Korean troops were deployed to Kur{invisible}sk?")
    assert [h.passage.text for h in hostile.hits] == [h.passage.text for h in plain.hits]
    assert [h.score for h in hostile.hits] == pytest.approx([h.score for h in plain.hits], abs=1e-5)


def test_a_question_in_fullwidth_or_curly_typography_is_read_as_the_corpus_is(seed_service: QAService) -> None:
    plain = seed_service.ask("What is Ukraine's foothold in Kursk?")
    typed = seed_service.ask("What is Ukraine\u2019s foothold in \uff2b\uff55\uff52\uff53\uff4b?")
    assert typed.hits[0].passage.text == plain.hits[0].passage.text


@pytest.mark.parametrize("question", ["???", "🤔🤔🤔", "@everyone", "@here !!", "<@123456789> ?", "<#42> …",
                                      "-- ~~ **"])
def test_a_question_without_letters_or_digits_gets_a_usage_hint(seed_service: QAService, question: str) -> None:
    with pytest.raises(UsageError) as caught:
        seed_service.ask(question)
    assert str(caught.value) == USAGE_HINT
    assert not isinstance(caught.value, UnsupportedLanguageError)


@pytest.mark.parametrize("question", [
    "Wie viele nordkoreanische Soldaten sind in Kursk?",
    "Combien de soldats nord-coréens sont à Koursk ?",
    "¿Cuántos soldados norcoreanos hay en Kursk?",
    "Quanti soldati nordcoreani ci sono a Kursk?",
    "Hoeveel Noord-Koreaanse soldaten zijn er in Koersk?",
    "Сколько северокорейских солдат в Курске?",
    "库尔斯克有多少朝鲜士兵？",
    "wie viele soldaten hat nordkorea geschickt",
])
def test_a_question_in_another_language_is_refused_plainly(seed_service: QAService, question: str) -> None:
    with pytest.raises(UnsupportedLanguageError) as caught:
        seed_service.ask(question)
    assert str(caught.value).startswith(ENGLISH_ONLY)


@pytest.mark.parametrize("question", [
    "whats the hong kong rugby boss called",
    "Syrsky", "kursk", "Oleksandr Syrsky", "Sudzha?", "who is syrsky", "how many troops",
    "north korea troops kursk", "Kim Jong Un", "Volodymyr Zelensky Kursk", "troops", "NATO", "is it over",
    "wat happened in kursk lol", "el nino", "Pokrovsk", "any news on la liga", "de gaulle",
])
def test_short_casual_english_and_names_are_never_refused(seed_service: QAService, question: str) -> None:
    assert detect(question) is None
    seed_service.ask(question)  # answers (or says it is not covered), never refuses


def test_an_empty_model_languages_setting_accepts_any_language(seed_service: QAService) -> None:
    settings = seed_service.settings.model_copy(update={"model_languages": []})
    service = QAService(settings, encoder=seed_service.encoder)  # the same built index
    answer = service.ask("Wie viele nordkoreanische Soldaten sind in Kursk?")
    assert answer.hits  # a nearest passage at least: the model was said to read anything


def test_model_languages_reads_a_comma_separated_list(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    assert make_settings(tmp_path, tmp_path, model_languages="EN, de").model_languages == ["en", "de"]
    assert make_settings(tmp_path, tmp_path).model_languages == ["en"]
