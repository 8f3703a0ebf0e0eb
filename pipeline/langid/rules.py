"""The letter and word rules: linguistic facts that adjust lingua's scores as evidence, never as
overrides.

A letter outside a language's alphabet (ə is not Turkish), a text without Kazakh's own letters,
a function word a close neighbour uses and the language lacks (Czech "se" against Slovak "sa"), a
spelling the language never writes (Slovak "jsou", Ukrainian "знают"), a word ending a
vowel-final language lacks. Each rule gives a log-likelihood adjustment (natural log; 0: no view).
"""

from __future__ import annotations

import math
import re
from functools import cache

from pipeline.langid.alphabets import alphabet_script, loan_letters, native_letters
from pipeline.langid.text import Text, script_of

# Evidence weights (natural log). A letter outside a language's alphabet multiplies its
# probability by about 1/100; a loan letter by about 1/3. Set from those odds, not tuned; with the
# word rules below they took sentences from lingua's 99.1 % to 99.46 % (5a4bcd0, `make bench-langid`).
_FOREIGN_LETTER = 4.6
_LOAN_LETTER = 1.1
_MAX_LETTERS_COUNTED = 3  # a few letters say all they can: a name or a quotation adds no more

# Letters that only this language writes among its neighbours, with a cautious estimate of how
# often they occur: a long text without any of them is unlikely to be in that language.
_MARKERS: dict[str, tuple[str, float]] = {
    # ә ғ қ ң ө ұ ү һ make up about a tenth of Kazakh letters; counted as 6 % to stay cautious.
    "kk": ("әғқңөұүһ", 0.06),
    # ٹ ڈ ڑ ں ے ہ ھ: Urdu's own letters, in almost every Urdu word group (ہے، کے، میں).
    "ur": ("ٹڈڑںےہھ", 0.06),
}

# Czech and Slovak function words that Croatian, Bosnian and Slovene lack (their "je", "se", "na",
# "ako", "jako", "su", "sa" are shared or mean something else, so they are not listed).
_WEST_SLAVIC = (
    "jsou jsem jste jsme podle který ktery která ktera které ktere kteří kteri když kdyz již jiz "
    "byl byla bylo byli pro ale aby ktorý ktory ktorá ktora ktoré ktore ktorí ktori sú alebo keď "
    "ked tiež tiez"
)
# Frequent words that a language does not have although a close neighbour uses them all the time
# (Czech "se", "jsou", "podle" are Slovak "sa", "sú", "podľa"; Bulgarian "че", "ще", "това" are not
# Macedonian or Russian; Spanish "el", "los", "muy" are not Portuguese). Each occurrence counts
# against the language; the lists stay with function words, which every text of some length has.
_NOT_WORDS: dict[str, str] = {
    "cs": "sa som sme ste sú su pre podľa podla ako alebo bol bola bolo boli ktorý ktory ktorá ktora "
    "ktoré ktore ktorí ktori keď ked tiež tiez aj vo zo medzi nie môže moze ich len iba teda ešte "
    "este cez preto pretože pretoze ktorého ktoreho ktorej ktorých ktorych ktorom tejto tieto "
    "týchto tychto tohto svojho svojich iný iny iné inak teraz kto kedy prečo preco niečo nieco "
    "čo počas pocas zatiaľ zatial ľudia ludia všetky vsetky všetko vsetko všetci vsetci lebo hoci",
    "sk": "se jsem jsi jsme jste jsou pro podle jako byl byla bylo byli byly který ktery která ktera "
    "které ktere kteří kteri když kdyz již jiz ve mezi není neni může muze jejich jenž jenz pouze "
    "tedy dle což coz protože protoze ještě jeste přes pres proto kterého ktereho kterou kterých "
    "kterych kterém kterem této teto tyto těchto techto tohoto svého sveho své sve svých svych "
    "jiný jiny jiné jine jinak jen jenom teď zde tady lidé lide všechny vsechny všechno vsechno vše "
    "vse všichni vsichni její jeji jim kdo kdy proč proc něco neco během behem zatím zatim roce "
    "nebo zda",
    "es": "não nao em um uma com ao à é seu sua seus suas muito também você "
    "foi são isso isto essa esse nas num numa mais já até quando onde ele ela eles elas eu sem "
    "há pode ainda depois então",
    "pt": "el los las del y un una es muy pero también tambien hay al su sus con más hasta "
    "cuando ya sin son fue ha han le les lo ella ellos yo esto eso ese mucho poco",  # "lo": not "fazê-lo"
    "bg": "од дека со сум ова тоа оваа овој како уште сите што "  # Macedonian
    "что он они его к для так только уже также если когда "  # Russian
    "је су који које као био још "  # Serbian
    "з але якщо це від який яка які його вона вони він або щоб",  # Ukrainian and Belarusian
    "mk": "от че са ще това който която което които със във съм след както като още този тази "
    "всички между "  # Bulgarian
    "је су у који које као био још "  # Serbian
    "з але якщо це від який яка які його вона вони він або щоб",  # Ukrainian and Belarusian
    "sr": "е дека кое кои сум тоа оваа овој уште сите "  # Macedonian ("е": Serbian writes "је")
    "от че това след както като още този тази всички "  # Bulgarian
    "з але якщо це від який яка які його вона вони він або щоб",  # Ukrainian and Belarusian
    "ru": "че са ще това се е като който която което които след във със си му го ги й ние вие "
    "беше още ако когато където "  # Bulgarian
    "і що як це від який яка які був була було були його вона вони він але або щоб ще з де якщо",  # Ukrainian
    "uk": "что как она оно они его или если уже только также когда после и с к от из нет",
    "be": "он она оно они его что как только уже если когда после также",  # Russian
    # Latvian "ir", "un", "ar" (is, and, with) are no Estonian words; Estonian "on", "ei", "see",
    # "ning", "oli" no Latvian ones (lingua confuses the two on words typed without accents).
    "et": "ir un ar arī ari",
    "lv": "on ei see ning oli",
    "hr": _WEST_SLAVIC,
    "bs": _WEST_SLAVIC,
    "sl": _WEST_SLAVIC,
    "tr": "üçün deyil",
    "az": "için değil ile gibi çok ve kadar ama ne",
}
# Each such word multiplies the language's probability by about 1/20. With the Czech/Slovak
# lists and spellings (e44bf24), sentences 99.46 -> 99.51 % with all languages, no language down.
_NOT_WORD = 3.0
_MAX_NOT_WORDS = 4  # beyond four such words the language is out anyway; a fifth proves nothing more
# Spellings a language never uses in native words: Spanish doubles no s and ends no word in m;
# Portuguese writes no ll and ends no word in d or in -ción (it writes -ção).
_NOT_SPELLINGS: dict[str, re.Pattern[str]] = {
    "es": re.compile(r"ss|m\b"),
    "pt": re.compile(r"ll|d\b|ci[oó]n(?:es)?\b"),
    # Slovak starts no word with js, jd, jm or ji (Czech jsou, jde, jméno, jiný are Slovak sú, ide,
    # meno, iný), writes ou inside a word only across a prefix (po-užiť, do-učiť), where Czech
    # writes it for old ú (soud, dlouhý, souvislost), and seldom ends a word in a short -ni, which
    # is Czech -ní typed without accents (rozhodnutí, hlavní: Slovak rozhodnutie, hlavný).
    "sk": re.compile(r"\bj[dims]|(?<!\bp)(?<!\bd)ou\B|\B(?<!\ba)ni\b"),
    # Ukrainian verbs end in a soft sign where Russian's do not: дають, знають, сміється are
    # Russian дают, знают, смеется (the third person plural after a vowel, and the reflexive -тся).
    "uk": re.compile(r"[аеоуюяи]ют\b|тся\b"),
}
_NOT_SPELLING = 1.5  # a spelling is rarer evidence than a function word: about 1/4.5 each
# Czech typed without accents reads to lingua's word models as Slovak (its Czech was learnt from
# accented text), so the Czech spellings above count as much as a Czech function word in Slovak.
_SPELLING_WEIGHTS = {"sk": _NOT_WORD}
# Languages whose native words end in a vowel (Bantu languages, Maori, Yoruba), with the few
# word endings and function words that do not: "Kur tur net" is not Shona, "actividades" not Italian.
_ITALIAN_CLOSED = "il in con per non un del al nel dal col sul bel gran quel buon nessun alcun qual ed ad od"
_OPEN_ENDINGS: dict[str, tuple[str, frozenset[str]]] = {
    "it": ("", frozenset(_ITALIAN_CLOSED.split())),
    "sn": ("", frozenset()),
    "zu": ("", frozenset()),
    "xh": ("", frozenset()),
    "sw": ("", frozenset()),
    "lg": ("", frozenset()),
    "mi": ("", frozenset()),
    "ts": ("", frozenset()),
    "yo": ("n", frozenset()),
    "st": ("ng", frozenset()),
    "tn": ("ng", frozenset()),
}
_VOWELS = frozenset("aeiouyàáâãäåèéêëìíîïòóôõöùúûüýāēīōūẹọ")
_CLOSED_WORD = 1.5  # each consonant-final word: about 1/4.5, as a spelling the language never writes


def evidence(lang: str, text: Text) -> float:
    """Log-likelihood adjustment for `lang` from letters, spellings and function words (0: no view)."""
    score = 0.0
    native = native_letters(lang)
    if native is not None:
        script = alphabet_script(lang)
        loans = loan_letters(lang)
        foreign = sum(
            1 for ch in text.common if ch not in native and ch not in loans and script_of(ch) == script
        )
        loan = sum(1 for ch in text.common if ch in loans)
        # Letters only in capitalised words weigh as loans: "Zaldívar" in a Finnish text is a name.
        loan += sum(
            1 for ch in text.names if ch not in native and ch not in loans and script_of(ch) == script
        )
        score -= _FOREIGN_LETTER * min(foreign, _MAX_LETTERS_COUNTED)
        score -= _LOAN_LETTER * min(loan, _MAX_LETTERS_COUNTED)
        marker = _MARKERS.get(lang)
        if marker is not None and not (text.common | text.names) & frozenset(marker[0]):
            score += text.scripts[script] * math.log1p(-marker[1])
    not_words = _not_words(lang)
    if not_words:
        hits = sum(1 for w in text.words if w in not_words)
        score -= _NOT_WORD * min(hits, _MAX_NOT_WORDS)
    open_endings = _OPEN_ENDINGS.get(lang)
    if open_endings is not None:
        ending, exceptions = open_endings
        closed = sum(
            1
            for w, weight in zip(text.words, text.weights, strict=True)
            if weight == 1.0
            and len(w) >= 2
            and w[-1].isascii()
            and w[-1] not in _VOWELS
            and w not in exceptions
            and not (ending and w.endswith(ending))
        )
        score -= _CLOSED_WORD * min(closed, _MAX_NOT_WORDS)
    spelling = _NOT_SPELLINGS.get(lang)
    if spelling is not None:
        hits = sum(
            len(spelling.findall(w))
            for w, weight in zip(text.words, text.weights, strict=True)
            if weight == 1.0
        )
        score -= _SPELLING_WEIGHTS.get(lang, _NOT_SPELLING) * min(hits, _MAX_NOT_WORDS)
    return score


@cache
def _not_words(lang: str) -> frozenset[str]:
    return frozenset(_NOT_WORDS.get(lang, "").split())
