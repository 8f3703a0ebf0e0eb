"""Language identification: which language an article (and each paragraph) is in, and how sure.

Why more than a call to lingua: the label routes the article to a translation model, so a wrong
label is a wrong translation. lingua alone confuses close neighbours (Azerbaijani read as Turkish,
Ukrainian as Kazakh, unaccented Czech as Slovak), and its whole-text rules return a flat 1.0 that
the letters contradict. `python -m bench.langid` measures every change; the evidence, in order:

1. A script that only one language writes (Georgian, Armenian, Greek, Hebrew, Hangul, kana,
   Thai...) decides at once; a language whose script has no letter in the text is out.
2. lingua reads the text as a whole and word by word among the candidate languages
   (`DetectOptions.languages`, else every language it knows); the two readings are added as
   log-probabilities. Where a whole-text rule contradicts the letters, only the words count.
3. Linguistic facts adjust those scores as evidence, never as overrides: a letter outside a
   language's alphabet (ə is not Turkish, ї not Russian, ě not Slovak), a text without Kazakh's
   own letters, a function word a close neighbour uses and the language lacks (Czech "se" against
   Slovak "sa"), a spelling the language never writes (Slovak "jsou", Ukrainian "знают"), a word
   ending a vowel-final language lacks. A word with a letter outside a language's alphabet counts
   nothing for that language in the word-by-word reading ("olacax" is no Turkish word).
4. When a few leading languages are close (a short title), how common the text's words are in
   each (wordfreq's lists, read only for the languages compared) re-ranks them, counting less as
   the text grows: Spanish and Portuguese, Czech and Slovak, Macedonian, Bulgarian and Serbian
   share letters and n-grams but not the frequencies of their words.
5. Serbian in Latin letters, which lingua (Serbian in Cyrillic only) reads as Bosnian or
   Croatian, is told apart by the reflex of old jat (ekavian posle, dete against ijekavian
   poslije, dijete) and by the vocabulary of the state (hiljada/tisuća, opština/općina).
6. The winner's share of the combined probability is `Guess.confidence`; on the benchmark it
   matches the observed accuracy (see the calibration line of `bench.langid`).

lingua's full models are loaded lazily, only for the languages a text calls for: its small
trigram models rank all candidates first (see `LanguageDetector`).

Before reading, e-mail and web addresses are dropped, mojibake (UTF-8 read as cp1252/cp1250,
Turkish cp1254 read as cp1252) is undone, and Latin/Cyrillic look-alike letters inside one word
are written in the text's script.
An article's label comes from its paragraphs weighted by length and confidence, so an English
quotation cannot flip it. Below `min_confidence` the article is `und` (undetermined).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.languages import UNDETERMINED, is_known

log = logging.getLogger("newsbrief.detect")

# Scripts that, among the project's languages, belong to exactly one language (Hebrew: Yiddish
# also uses it, but no identifier we ship knows Yiddish, and Hebrew is far the likelier news language).
SINGLE_LANGUAGE_SCRIPTS = {
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
    "GREEK": "el",
    "HEBREW": "he",
    "HANGUL": "ko",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "THAI": "th",
    "GUJARATI": "gu",
    "GURMUKHI": "pa",
    "TAMIL": "ta",
    "TELUGU": "te",
    "KANNADA": "kn",
    "MALAYALAM": "ml",
    "SINHALA": "si",
    "KHMER": "km",
    "LAO": "lo",
    "ORIYA": "or",
}

# Scripts of the languages lingua knows beyond those in the alphabets below.
_OTHER_SCRIPTS: dict[str, tuple[str, ...]] = {
    "ja": ("CJK", "HIRAGANA", "KATAKANA"),
    "zh": ("CJK",),
    "ko": ("HANGUL", "CJK"),
    "hi": ("DEVANAGARI",),
    "mr": ("DEVANAGARI",),
    "bn": ("BENGALI",),
}

_A_Z = "abcdefghijklmnopqrstuvwxyz"
_VIETNAMESE = "àáâãèéêìíòóôõùúýăđĩũơư" + "".join(chr(c) for c in range(0x1EA1, 0x1EFA, 2))

# Alphabets (lower case): the letters of native words, and letters seen only in loans and names.
# Letters of the same script outside both count against the language; letters of other scripts
# (an English name in a Russian text) are ignored. Every language lingua knows in these scripts is
# listed, so that no language escapes the penalty just by being left out.
_NATIVE: dict[str, str] = {
    # Latin
    "af": _A_Z + "áäéèêëíîïóôöúûüýŉ",
    "az": _A_Z.replace("w", "") + "çəğıöşüä",  # ä: an older spelling of ə
    "bs": _A_Z.replace("q", "").replace("w", "").replace("x", "").replace("y", "") + "čćđšž",
    "ca": _A_Z + "àçéèíïóòúü",
    "cs": _A_Z.replace("q", "").replace("w", "") + "áčďéěíňóřšťúůýž",
    "cy": "abcdefghijlmnoprstuwyâêîôûŵŷäëïöüáéíóúàèìòù",
    "da": _A_Z + "æøåéóè",
    "de": _A_Z + "äöüß",
    "en": _A_Z,
    "eo": "abcĉdefgĝhĥijĵklmnoprsŝtuŭvz",
    "es": _A_Z.replace("k", "").replace("w", "") + "áéíóúüñ",
    "et": "abdeghijklmnoprstuvõäöü",
    "eu": "abdefghijklmnñoprstuxz",
    "fi": "adeghijklmnoprstuvyäö",
    "fr": _A_Z + "àâæçéèêëîïôœùûüÿ",
    "ga": "abcdefghilmnoprstuáéíóú",
    "hr": _A_Z.replace("q", "").replace("w", "").replace("x", "").replace("y", "") + "čćđšž",
    "hu": _A_Z.replace("q", "").replace("w", "").replace("x", "") + "áéíóöőúüű",
    "id": _A_Z,
    "is": "aábdðeéfghiíjklmnoóprstuúvxyýþæö",
    "it": _A_Z.replace("j", "").replace("k", "").replace("w", "").replace("x", "").replace("y", "")
    + "àèéìíîòóùú",
    "la": _A_Z.replace("w", "") + "āēīōūȳæœ",
    "lg": _A_Z.replace("h", "").replace("q", "").replace("x", "") + "ŋ",
    "lt": "aąbcčdeęėfghiįyjklmnoprsštuųūvzž",
    "lv": "aābcčdeēfgģhiījkķlļmnņoprsštuūvzž",
    "mi": "aehikmnoprtuwgāēīōū",
    "ms": _A_Z,
    "nb": _A_Z + "æøåéóèêòô",
    "nl": _A_Z + "éëïóöüèáà",
    "nn": _A_Z + "æøåéóèêòô",
    "pl": "aąbcćdeęfghijklłmnńoóprsśtuwyzźż",
    "pt": _A_Z.replace("k", "").replace("w", "").replace("y", "") + "áâãàçéêíóôõúü",
    "ro": _A_Z.replace("k", "").replace("q", "").replace("w", "").replace("y", "") + "ăâîșțşţ",
    "sk": _A_Z.replace("q", "").replace("w", "") + "áäčďéíĺľňóôŕšťúýž",
    "sl": "abcčdefghijklmnoprsštuvzž",
    "sn": _A_Z.replace("l", "").replace("q", "").replace("x", ""),
    "so": _A_Z.replace("p", "").replace("v", "").replace("z", ""),
    "sq": _A_Z.replace("w", "") + "çë",
    "st": _A_Z + "êôš",
    "sv": _A_Z.replace("q", "").replace("w", "") + "åäöé",
    "sw": _A_Z.replace("q", "").replace("x", ""),
    "tl": _A_Z + "ñ",
    "tn": _A_Z + "êôš",
    "tr": "abcçdefgğhıijklmnoöprsştuüvyzâîû",  # no q, w, x: Azerbaijani has q and x
    "ts": _A_Z,
    "vi": _A_Z.replace("f", "").replace("j", "").replace("w", "").replace("z", "") + _VIETNAMESE,
    "xh": _A_Z,
    "yo": "abdeẹfghijklmnoọprsṣtuwyàáèéìíòóùúńḿ",
    "zu": _A_Z,
    # Cyrillic: Ukrainian has no ё ъ ы э; Belarusian no и щ ъ; Bulgarian no ё ы э; Serbian and
    # Macedonian none of й щ ъ ы ь э ю я ё; Kazakh and Mongolian add their own letters to Russian's.
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюяѝ",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџшѐѝ",
    "sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
    "kk": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
    "mn": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяөү",
    # Arabic script: Persian adds پ چ ژ گ and writes ک ی; Urdu adds ٹ ڈ ڑ ں ے and writes ہ ھ.
    "ar": "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهويىٱـ",  # ـ: the joining stroke (tatweel)
    "fa": "ءآأؤئابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیۀـ",
    "ur": "ءآأؤئابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنںوہھیےۃـ",
}
_LOAN: dict[str, str] = {
    "az": "w",
    "bs": "qwxy",
    "cs": "qw",
    "cy": "kqvxz",
    "en": "éèàâçêëïîôöüñáó",  # café, naïve, résumé
    "eo": "qwxy",
    "es": "kw",
    "et": "cfqwxyzšž",
    "eu": "cqvwyç",
    "fi": "bcfqwxzåšžü",
    "ga": "jkqvwxyz",
    "hr": "qwxy",
    "hu": "qwx",
    "is": "cqwz",
    "it": "jkwxy",
    "la": "w",
    "lt": "qwx",
    "lv": "qwxy",
    "mi": "bcdfjlqsvxyz",
    "pl": "qvx",
    "pt": "kwy",
    "ro": "kqwy",
    "sk": "qw",
    "sl": "qwxyćđ",
    "sn": "lqx",
    "so": "pvz",
    "sq": "w",
    "sv": "qwz",
    "sw": "qx",
    "tr": "wý",  # "web"; ý: ı read as Latin-1 (see _TURKISH_AS_LATIN1); q and x stay foreign
    "vi": "fjwz",
    "ar": "پچژگکی",  # foreign names, Persian keyboards
    "fa": "ةيكإى",  # Arabic letter forms in quotations and on Arabic keyboards
    "ur": "ةيكهى",
}
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
_NOT_WORD = 3.0  # each such word multiplies the language's probability by about 1/20
_MAX_NOT_WORDS = 4
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
_NOT_SPELLING = 1.5
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
_CLOSED_WORD = 1.5

# Evidence weights (natural log). A letter outside a language's alphabet multiplies its
# probability by about 1/100; a loan letter by about 1/3.
_FOREIGN_LETTER = 4.6
_LOAN_LETTER = 1.1
_MAX_LETTERS_COUNTED = 3
# lingua returns exact zeros for languages its rules exclude; treat those as very unlikely, not impossible.
_FLOOR = 1e-12
_WORD_FLOOR = 1e-3
_RULE_MADE = 0.99999  # lingua's top value at or above this came from one of its rules
# How much lingua's whole-text reading counts next to the sum of its word-by-word readings.
_WHOLE_WEIGHT = 0.3
_WORD_CACHE_SIZE = 100_000
_NAME_WEIGHT = 0.5  # a capitalised word after the first counts half: it may be a name
_MAX_CHARS = 5000  # letters beyond this add nothing to the decision, only time
# The two-stage reading (see LanguageDetector): the trigram screen's leading languages read in
# full, with the close neighbours of its first few, which trigrams alone do not tell apart.
_SHORT_EXTRA = 8  # trigrams say less about a title or a caption: keep more of its candidates
_SHORT_CHARS = 40
_NEIGHBOUR_TOP = 5
_FOREIGN_WORDS_OUT = 2  # words with a letter a neighbour does not write that leave it unread
# ...and the share of a text's words that leaves a language out of the screen altogether (lower,
# and mixed or mis-decoded text loses its own language: Arabic typed with Urdu's ھ).
_FOREIGN_SHARE_OUT = 0.3
_MAX_DETECTORS = 512
_NEIGHBOUR_GROUPS = (
    "bs hr sr sl mk",
    "cs sk pl",
    "es pt ca it la",
    "da nb nn sv",
    "id ms tl",
    "az tr",
    "lt lv",
    "et fi",
    "nl af de",
    "ru uk be bg mk sr",
    "xh zu sn st tn ts",
    "ar fa ur",
)
_NEIGHBOURS: dict[str, frozenset[str]] = {
    code: frozenset(c for group in _NEIGHBOUR_GROUPS if code in group.split() for c in group.split())
    for code in {c for group in _NEIGHBOUR_GROUPS for c in group.split()}
} | {
    # Kazakh and Mongolian are told from the Slavic languages by letters of their own (ә қ ү ө),
    # which keep them in whenever a text has them; a Slavic text the screen calls Kazakh or
    # Mongolian is still read with its Slavic neighbours.
    code: frozenset("ru uk be bg mk sr kk mn".split())
    for code in ("kk", "mn")
}

# Word frequencies (wordfreq's "small" lists: the words used at least once per million, with their
# frequency in centibels, -200 = once per 100 words). For a short text, lingua's character n-grams
# say little that tells close neighbours apart (Spanish and Portuguese "principal", Macedonian and
# Bulgarian "бугарските"); how common each word is in each language does. The lists re-rank only
# the few leading languages of a close call, and count less as a text grows longer.
_LEXICON_CODES = {
    code: code
    for code in "ar bg ca cs da de en es fa fi fr hu id is it lt lv mk ms nb nl pl pt ro ru sk sl sv "
    "tr uk ur vi".split()
} | {"sr": "sh", "hr": "sh", "bs": "sh", "tl": "fil"}  # one list for Serbo-Croatian, in Latin letters
_LEXICON_FLOOR = -700  # centibels for a word not in a list: once per ten million
# Weight of the lexicon log-likelihood next to lingua's (tuned on the benchmark: 0.6 to 1.0 all
# score within 0.15 points on word pairs). It counts in full up to _LEXICON_WORDS words, and as
# much as that many words on a longer text.
_LEXICON_WEIGHT = 0.8
_LEXICON_WORDS = 8
_LEXICON_TOP = 10  # the leading languages a lexicon may re-rank...
_LEXICON_MARGIN = 6.0  # ...when they are within this many nats of the first
# Spellings as the lists write them: Serbian Cyrillic in the Latin letters of the Serbo-Croatian
# list, and Persian and Urdu typed with Arabic ي and ك (Arabic keyboards) with their own ی and ک.
_PERSIAN_LETTERS = str.maketrans("يك", "یک")
_LEXICON_SPELLING = {
    "sr": str.maketrans(
        dict(zip("абвгдђежзијклмнопрстћуфхцчш", "abvgdđežzijklmnoprstćufhcčš", strict=True))
        | {"љ": "lj", "њ": "nj", "џ": "dž"}
    ),
    "fa": _PERSIAN_LETTERS,
    "ur": _PERSIAN_LETTERS,
}

# Serbian, Croatian and Bosnian: one Latin alphabet, one list in wordfreq, and lingua knows Serbian
# in Cyrillic only. Which standard a Latin text follows shows in the reflex of old jat and in the
# vocabulary of the state (see _jat_reflexes). The lists hold frequent words whose ekavian and
# ijekavian forms differ, in the forms news uses; forms shared by both (vremena, sela, Beograd)
# are left out on purpose.
# Log-prior of a news article's language where it is far from even: Latin is quoted in the news
# (mottos, legal and scientific terms) but no newsroom writes in it, and a short Italian, Spanish
# or English line that lingua calls Latin goes to a route that does not exist. A real Latin
# text outweighs it within a sentence.
_NEWS_PRIOR = {"la": math.log(1 / 20)}
_SERBO_CROATIAN = ("sr", "hr", "bs")
_SERBIAN_LEAN = 0.6  # the confidence share of a Latin Serbo-Croatian text with no evidence either way
_EKAVIAN = frozenset(
    """
    vreme pre posle gde ovde onde negde nigde svugde uvek zauvek dve dvema dvesta
    mesto mesta mestu mestima umesto dete deteta detetu deca dece deci decu decom
    reč reči rečju rečima deo delu delom delovi delova ceo cela celo celu celi cele celog celoj
    celokupan lep lepa lepo lepi lepe lepog lepše beo bela belo beli bele belog
    reka reke reku mleko mesec meseca mesecu meseci meseci meseca leto leta letu
    sever severa severu severni severna severno severne telo tela telu
    mera mere meru merama meri smer smera namera namere primer primera primeru primeri
    vera vere veru verovatno verovati veruje veruju verujem verovao verovala
    cena cene cenu ceni cenama ocena ocene ocenu procena procene procenu
    vest vesti vestima savet saveta savetu saveti saveta savetnik savetnika savetnici
    čovek čoveka čoveku čovekom vek veka veku vekova
    predsednik predsednika predsedniku predsednikom predsednici predsednice predsedništvo
    predsedavajući sednica sednice sednici sednicu sedište sedišta sedištu
    nedelja nedelje nedelji nedelju nedeljno
    posle poseta posete posetu poseti posetio posetila posetili posetioci
    uspeh uspeha uspešan uspešno uspešna uspešne uspešni uspeo uspela uspeli uspeti
    promena promene promenu promeni promenio promenila promeniti izmena izmene izmenu zamena
    primena primene primenu primeni primeniti menja menjaju menjati
    predlog predloga predlogu predlozi predlogom
    videla videli videti želeo želela želeli želeti hteo htela hteli hteti
    voleo volela voleli voleti živeo živela živeli živeti umeo umela razumeo razumela
    doneo donela doneli doneti doneta doneto preneo prenela preneli preneti uneo odneo
    izveštaj izveštaja izveštaju izveštaji obaveštenje obavestio obavestila obaveštava
    lekar lekara lekari lekova lečenje izbeglice izbeglica izbeglicama
    pesma pesme pesmu pesnik greška greške grešku pogrešno svetski svetska svetsko svetske
    svetskog svetskoj svedok svedoka svedoci svedočio svedočenje pretnja pretnje pretnju
    bezbednost bezbednosti bezbednosni bezbednosna bezbednosne obezbediti obezbedio obezbeđen
    razmena razmene razmenu sprovesti sproveo sprovela sprovedena sprovođenje
    """.split()
)
_EKAVIAN_STEMS = ("predsedni", "posetil", "uspešn", "bezbedn", "obezbe", "svetsk", "izveštaj", "savetni")
_IJEKAVIAN = frozenset(
    """
    vrijeme prije poslije gdje ovdje ondje negdje nigdje svugdje uvijek zauvijek dvije dvjesto
    mjesto mjesta mjestu mjestima umjesto dijete djeteta djetetu djeca djece djeci djecu djecom
    riječ riječi riječju riječima dio dijelu dijelom dijelovi dijelova cio cijela cijelo cijelu
    cijeli cijele cijelog cijeloj lijep lijepa lijepo lijepi lijepe bijel bijela bijelo bijeli
    rijeka rijeke rijeci rijeku mlijeko mjesec mjeseca mjesecu mjeseci ljeto ljeta ljetu
    sjever sjevera sjeveru sjeverni sjeverna tijelo tijela tijelu mjera mjere mjeru mjerama
    smjer namjera namjere primjer primjera primjeru vjera vjere vjerojatno vjerovatno vjerovati
    vjeruje cijena cijene cijenu ocjena ocjene procjena procjene vijest vijesti savjet savjeta
    savjetnik čovjek čovjeka čovjeku vijek vijeka stoljeće stoljeća predsjednik predsjednika
    predsjedniku sjednica sjednice sjednici sjedište sjedišta nedjelja nedjelje tjedan tjedna
    posjet posjeta posjete posjetio posjetila uspjeh uspjeha uspješan uspješno uspio uspjela
    promjena promjene izmjena izmjene zamjena primjena mijenja mijenjati prijedlog prijedloga
    prijedlozi vidio vidjela vidjeti želio željela htio htjela volio voljela živio živjela
    donio donijela donijeti izvješće izvještaj izvještaja obavijest lijek liječnik liječenje
    izbjeglice izbjeglica pjesma pjesme greška pogreška svjetski svjetska svjedok prijetnja
    bezbjednost
    """.split()
)
_IJEKAVIAN_STEMS = ("predsjedni", "posjet", "uspješn", "svjetsk", "izvješ", "savjetni", "bezbjedn")
# Ijekavian jat inside a word ("rijeka", "mjesto", "vjerovati"): ije or je after a consonant
# other than l and n (lj, nj are letters of their own) and before another letter; words where
# such a "je" is no jat (prefix + je-: sjedinjen, izjednačiti, objekat, odjek, subjekt) are excepted.
_JAT_IJE = re.compile(r"[bcčćdđfghkmprstvzž]i?je[a-zčćđšž]")
_JAT_E = re.compile(r"(?<=[bcčćdđfghkmprstvzž])e")
_EKAVIAN_MARGIN = -50  # centibels: the ijekavian form at least a third as common as the word
_NOT_JAT = ("sjedin", "izjedna", "objek", "subjek", "odjek", "adjekt", "projek", "trajek", "injek")
# "ije" of a verb, not of jat: biti "to beat" (dobije, ubijen, nabijen, razbijen), pri-jem
# "reception" (prijem, prijema) and loans in -ijer (premijer, karijera), which every variety
# writes alike.
_BIJE_VERB = re.compile(r"(?:do|u|na|raz|iz|za|od|pro)bij[ea]|prijem|\w*ijer")  # and premijer, karijera
# A modal or phasal verb with "da" and the present (mogu da kažu, moraju da vode, odlučio je da se
# vrati) is Serbian; Croatian, and mostly Bosnian, take the infinitive (mogu reći, moraju voditi).
_SERBIAN_DA_VERBS = re.compile(
    r"(?:mo(?:gu|že|žemo|žete|žeš|gao|gla|glo|gli|gle|ći)|mora(?:ju|mo|te|š|o|la|lo|li|le|ti)?|"
    r"treba(?:lo|ju)?|hoće|žel(?:i|e|im|imo|eo|ela|eli)|poče(?:o|la|li|le|ti)|nastavi(?:o|la|li|ti)?|"
    r"odluči(?:o|la|li|ti)?|pokuša(?:va|vaju|o|la|li|ti)?|namerava(?:ju)?|plan(?:ira|iraju)|uspe(?:o|la|li|ti)?)"
)
# International verbs in -izovati (privatizovan, organizovati, realizovala): Serbian; Croatian and
# Bosnian write -izirati (privatiziran, organizirati).
_IZ_ENDINGS = r"(?:a|am|aju|ati|ao|ala|alo|ali|ale|an|ana|ano|ani|ane|anog|anih|anje|anja|anju)"
_SERBIAN_IZOVATI = re.compile(rf"\w{{2,}}izov{_IZ_ENDINGS}")
_CROATIAN_IZIRATI = re.compile(rf"\w{{2,}}izir{_IZ_ENDINGS}")
# Serbian writes the future of a verb as one word (biće, održaće), Croatian and Bosnian as two
# (bit će, održat će): a word ending in -aće/-iće (-ću, -ćemo, -ćete) of at least six letters.
_SERBIAN_FUTURE = re.compile(r"\w{3,}[ai]ć(?:e|u|emo|ete)")
# Stems of the state's and the economy's words: Serbian (mostly shared with Bosnian) / Croatian.
_SERBIAN_STEMS = (
    "saopšt", "opšt", "uopšte", "ekonom", "odbran", "kompanij", "budžet", "tužilaštv", "tužilac",
    "tužioc", "milion", "evropsk", "portparol", "sekretar", "ambasad", "aerodrom", "demokratij",
    "bezbedn", "istorij", "univerzitet", "učestvova", "saradn", "zvaničn", "skupštin", "inostran",
)  # fmt: skip
_CROATIAN_STEMS = (
    "priopć", "uopće", "gospodar", "obran", "tvrtk", "proračun", "tužitelj", "odvjetni", "milijun",
    "europsk", "glasnogovorni", "tajni", "veleposlan", "zračn", "demokracij", "sveučilišt", "sudjelova",
    "surad", "službeni", "sabor", "inozem", "povijes", "znanost",
    # Bosnian with Croatian: "historija" (Serbian istorija), "sedmica" (nedelja), "uopće"
    "historij", "sedmic",
)  # fmt: skip
# State and everyday vocabulary: Serbian (and often Bosnian) against Croatian.
_SERBIAN_WORDS = frozenset(
    """
    hiljada hiljade hiljadu opština opštine opštini opštinu opšti opšte opštih voz vozom vozovi
    vozova saradnja saradnje saradnju saradnji učešće učešća učestvuje učestvovati univerzitet
    univerziteta fudbal fudbala istorija istorije istoriju istorijski avgust avgusta
    tačno tačka tačke takođe spoljni spoljnih spoljnih spoljne spoljnjih inostranstvu inostranstvo
    poslanik poslanika poslanici skupština skupštine skupštini zvaničan zvanični zvanična zvanično
    zvaničnik zvaničnici zvaničnika nauka nauke naučni vazduh vazduha hleb evropski evropska
    evropske evropskog evropskoj evropsku evropa evrope evropi evropu tokom regiona regionu
    evra evro odsto procenat procenata procenta januar januara februar februara mart marta
    april aprila maj maja jun juna jul jula septembar septembra oktobar oktobra novembar
    novembra decembar decembra
    """.split()
)
_CROATIAN_WORDS = frozenset(
    """
    tisuća tisuće tisuću općina općine općini opći opće vlak vlaka sigurnost sigurnosti suradnja
    suradnje suradnju sudjelovati sudjeluje obitelj obitelji sveučilište sveučilišta nogomet
    povijest povijesti točno točka točke također vanjski vanjskih inozemstvu zastupnik zastupnici
    sabor sabora ured ureda veleposlanik službeni službena znanost znanosti zrak zraka kruh
    europski europska europske europskog europskoj europa europe europi europu tko siječnja
    veljače ožujka travnja svibnja lipnja srpnja kolovoza rujna listopada studenoga prosinca
    tijekom regija regije regiji posto postotak postotka
    """.split()
)

# Words may hold apostrophes and hyphens (Ukrainian п'ять, Portuguese fazê-lo).
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# Addresses are not language: e-mail, URLs and file paths are dropped before reading.
_ADDRESS = re.compile(r"\S+@\S+\.\w+|\b(?:https?://|www\.)\S+|\S*/\S*/\S*")
# Letters that look alike in Latin and Cyrillic; web text mixes them inside one word. Toward
# Cyrillic, i and j stand for і and ј; s and h stay (they would become Macedonian ѕ, Kazakh һ).
_TO_LATIN = str.maketrans("аеорсухіјѕәһАВЕКМНОРСТХІЈЅӘҺ", "aeopcyxijsəhABEKMHOPCTXIJSƏH")
_TO_CYRILLIC = str.maketrans("aeopcyxijABEKMHOPCTXIJ", "аеорсухіјАВЕКМНОРСТХІЈ")
# UTF-8 read as a Windows code page ("Ăşnora" for "února", "sÃ¤Ã¤stÃ¶" for "säästö").
_MOJIBAKE_CODECS = ("cp1252", "cp1250")
# Turkish written in Windows-1254 and read as Windows-1252 (Latin-1) turns ı ş ğ İ Ş Ğ into
# ý þ ð Ý Þ Ð and leaves ç ö ü â î û as they are ("yatýrým", "baþbakanlýk"). Icelandic, the
# language that writes þ and ð, and Czech and Slovak, which write ý, almost always show other
# accented letters (á é í ó ú æ č ř ž...) as well.
_TURKISH_AS_LATIN1 = str.maketrans("ýþðÝÞÐ", "ışğİŞĞ")
_TURKISH_LATIN1_LETTERS = frozenset("ýþðçöüâîû")


class DetectOptions(BaseModel):
    """How languages are identified.

    Attributes:
        languages: the candidate languages a deployment expects; empty means every language
            the detector knows. A smaller set is both faster and more accurate (on the benchmark:
            see `python -m bench.langid`). A script that only one language writes still names
            that language when it is not a candidate: a Georgian text is never "Bulgarian".
        min_confidence: below this the article is `und` (undetermined).
        undetermined: `best_guess` routes an undetermined article by its best guess with a
            warning in the brief; `fail` fails it.
        paragraph_min_chars: shorter paragraphs inherit the article's language.
        paragraph_switch_confidence: a paragraph is translated from its own language only
            when the detector is at least this sure that it differs from the article's.
        screen_top: at most how many leading languages of lingua's trigram screen are read with
            the full models (8 more for a text under 40 characters; plus close neighbours). 0 reads
            every candidate with the full models: about 1.1 GB and a slow start with all languages.
        screen_share: the leaders read in full are those that together hold this share of the
            screen's confidence (at most `screen_top`): one language and its neighbours for a
            clear paragraph, many for a two-word title.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: list[str] = []
    screen_top: int = Field(24, ge=0)
    screen_share: float = Field(0.99999999, gt=0, le=1)
    min_confidence: float = Field(0.5, ge=0, le=1)
    undetermined: Literal["best_guess", "fail"] = "best_guess"
    paragraph_min_chars: int = Field(40, ge=1)
    paragraph_switch_confidence: float = Field(0.9, ge=0, le=1)

    @field_validator("languages")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        unknown = [c for c in codes if not is_known(c)]
        if unknown:
            raise ValueError(f"unknown language code(s) {unknown}; use ISO 639-1 codes such as 'ka', 'bg'")
        return codes


@dataclass(frozen=True)
class Guess:
    lang: str
    confidence: float


@dataclass
class Detection:
    """An article's language, how sure we are, and the languages of its paragraphs."""

    lang: str  # a language code, or "und"
    confidence: float
    best_guess: str  # the most likely language even when `lang` is "und"
    paragraphs: list[Guess] = field(default_factory=list)  # one per input paragraph, final labels
    method: str = "lingua"

    @property
    def languages(self) -> list[str]:
        """The languages found, the article's own first."""
        counts = Counter(g.lang for g in self.paragraphs if g.lang != UNDETERMINED)
        rest = [lang for lang, _ in counts.most_common() if lang != self.best_guess]
        return [self.best_guess, *rest]


@dataclass
class _Text:
    """What one text's letters and words say, computed once per text."""

    text: str  # the text as read: addresses dropped, mojibake and look-alike letters repaired
    letters: list[str]  # lower-case letters, in order
    scripts: Counter[str]  # letters per script
    common: frozenset[str]  # letters of lower-case (and all-capitals) words
    names: frozenset[str]  # letters seen only in capitalised words, which are often names
    words: list[str]  # lower-case words, in order
    weights: list[float]  # how much each word counts: capitalised words inside a text are often names

    @property
    def script(self) -> str:
        """The dominant script, or "" when none has half the letters."""
        if not self.scripts:
            return ""
        script, n = self.scripts.most_common(1)[0]
        return script if n / len(self.letters) >= 0.5 else ""


class LanguageDetector:
    """Owns the lingua models; build once per run and reuse.

    lingua's models for all 75 languages take about 1.1 GB and ten seconds or more to load, while
    a text needs a handful of them. So detection runs in two stages: lingua's small trigram models
    (about 60 MB for all languages) rank the candidates, and only the leading ones and their close
    neighbours are read with the full models. lingua shares a language's models among all its
    detectors and loads each on first use, so memory grows with the languages actually seen.
    """

    def __init__(self, options: DetectOptions | None = None) -> None:
        self.options = options or DetectOptions()
        self._detectors: dict[frozenset[str], object] = {}

    @cached_property
    def _universe(self) -> frozenset[str]:
        """The candidate languages lingua knows: the options' list (with English), else all."""
        from lingua import Language

        if not self.options.languages:
            return frozenset(_code(lang) for lang in Language.all())
        codes = set()
        for code in self.options.languages:
            if _lingua_language(code) is None:
                log.debug("lingua has no model for %s; script rules only", code)
            else:
                codes.add(code)
        if not codes:
            return frozenset(_code(lang) for lang in Language.all())
        # One candidate leaves lingua nothing to compare; English, the language of quotations
        # and boilerplate in any news text, lets it still say "not this language".
        return frozenset(codes | {"en"})

    @cached_property
    def _screened(self) -> bool:
        """Whether the universe is large enough for the trigram screen to pay."""
        top = self.options.screen_top
        return top > 0 and len(self._universe) > top + 2

    def _written_in(self, scripts: frozenset[str]) -> frozenset[str]:
        """The candidates written in any of `scripts` (all of them for a text without letters)."""
        return frozenset(c for c in self._universe if _scripts_of_language(c) & scripts) or self._universe

    def _screen(self, codes: frozenset[str]) -> tuple[object | None, frozenset[str]]:
        """lingua's low-accuracy (trigram) detector over `codes` (None for one or two, which are
        read in full), and those codes. A Cyrillic text needs the trigram models of 8 languages,
        not of 75."""
        if len(codes) <= 2:
            return None, codes
        screen = self._screens.get(codes)
        if screen is None:
            from lingua import LanguageDetectorBuilder

            langs = [_lingua_language(code) for code in sorted(codes)]
            screen = self._screens[codes] = (
                LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()
            )
        return screen, codes

    @cached_property
    def _screens(self) -> dict[frozenset[str], object]:
        return {}

    def _detector(self, codes: frozenset[str]):
        """A full-model lingua detector for `codes` (models are loaded on first use, and shared)."""
        detector = self._detectors.get(codes)
        if detector is None:
            from lingua import LanguageDetectorBuilder

            if len(self._detectors) >= _MAX_DETECTORS:
                self._detectors.clear()  # detectors are cheap: the models they share stay loaded
            detector = LanguageDetectorBuilder.from_languages(
                *(_lingua_language(c) for c in sorted(codes))
            ).build()
            self._detectors[codes] = detector
        return detector

    def _candidates(self, texts: list[str]) -> list[frozenset[str]]:
        """The languages to read each text with in full: the universe when small, else the leaders
        of the trigram screen and their close neighbours."""
        if not self._screened:
            return [self._universe] * len(texts)
        # One screen per set of scripts the texts are written in (a script counts from a tenth
        # of a text's letters): a language is never read in a script it does not write.
        # Nor in one whose alphabet the text's own words keep leaving (see `_cannot_write`): a
        # Lithuanian paragraph's ė, į and ų leave few languages to screen.
        facts = [_read(text) for text in texts]
        by_universe: dict[frozenset[str], list[int]] = {}
        for i, fact in enumerate(facts):
            scripts = frozenset(s for s, n in fact.scripts.items() if n >= 0.1 * len(fact.letters))
            codes = self._written_in(scripts)
            codes = frozenset(c for c in codes if not _cannot_write(c, fact, _FOREIGN_SHARE_OUT)) or codes
            by_universe.setdefault(codes, []).append(i)
        out: list[frozenset[str]] = [self._universe] * len(texts)
        for universe, members in by_universe.items():
            screen, codes = self._screen(universe)
            if screen is None:
                for i in members:
                    out[i] = codes
                continue
            chosen = self._screen_candidates([texts[i] for i in members], [facts[i] for i in members], screen)
            for i, candidates in zip(members, chosen, strict=True):
                out[i] = candidates
        return out

    def _screen_candidates(self, texts: list[str], facts: list[_Text], screen) -> list[frozenset[str]]:
        """The leaders of the trigram screen for each text, with their close neighbours."""
        out = []
        for text, fact, values in zip(texts, facts, _values(screen, texts), strict=True):
            top = (
                self.options.screen_top + _SHORT_EXTRA
                if len(text) < _SHORT_CHARS
                else self.options.screen_top
            )
            # The leaders until they hold `screen_share` of the screen's belief: one or two for a
            # clear paragraph, up to `top` for a short or mixed text.
            ranked: list[str] = []
            held = 0.0
            for v in values:
                if v.value <= 0.0 or len(ranked) >= top:
                    break
                if held >= self.options.screen_share and not _cannot_write(ranked[0], fact):
                    break  # sure, and of a language that writes these words' letters
                ranked.append(_code(v.language))
                held += v.value
            if not ranked:
                # The trigrams found nothing to go on: every language written in the text's script.
                script = fact.script
                out.append(
                    frozenset(
                        c
                        for c in self._universe
                        if not _scripts_of_language(c) or script in _scripts_of_language(c)
                    )
                )
                continue
            chosen = set(ranked)
            # Close neighbours of the leaders, but not one whose alphabet lacks letters of the
            # text's own words (Bulgarian ъ and щ rule out Ukrainian, Macedonian and Serbian). One
            # such word is not enough: a Ukrainian text may borrow a Russian spelling.
            for code in ranked[:_NEIGHBOUR_TOP]:
                chosen |= {n for n in _NEIGHBOURS.get(code, frozenset()) if not _cannot_write(n, fact)}
            # A letter only one or two languages write (Azerbaijani ə, Esperanto ĉ) keeps them in,
            # whatever trigrams of a two-word title say.
            for ch in {c for c in text.lower() if c.isalpha() and not c.isascii()}:
                homes = _homes_of_letter(ch)
                if len(homes) <= 2:
                    chosen |= homes
            out.append(frozenset(chosen & self._universe))
        return out

    def guess(self, text: str) -> Guess:
        """The language of one piece of text (a sentence or a paragraph)."""
        return self.guess_many([text])[0]

    def guess_many(self, texts: Sequence[str]) -> list[Guess]:
        """`guess` for many texts at once; lingua scores them in parallel."""
        results: list[Guess] = [Guess(UNDETERMINED, 0.0)] * len(texts)
        facts = [_read(t) for t in texts]
        pending: list[int] = []
        for i, text in enumerate(facts):
            if not text.letters:
                continue  # digits and punctuation: undetermined
            by_script = self._by_script(text)
            if by_script is not None:
                results[i] = by_script
            elif self._universe == {"en"}:  # English is the only candidate
                if text.scripts["LATIN"]:
                    results[i] = Guess("en", 1.0)
            else:
                pending.append(i)
        if not pending:
            return results
        groups: dict[frozenset[str], list[int]] = {}
        for i, codes in zip(pending, self._candidates([facts[i].text for i in pending]), strict=True):
            if len(codes) == 1:
                codes = codes | {"en"}  # lingua needs two languages to compare
            if codes:
                groups.setdefault(codes, []).append(i)
        for codes, members in groups.items():
            self._read_with(codes, members, facts, results)
        return results

    def _read_with(
        self, codes: frozenset[str], members: list[int], facts: list[_Text], results: list[Guess]
    ) -> None:
        """Reads the texts `members` with the full models of `codes`, into `results`."""
        detector = self._detector(codes)
        values = _values(detector, [facts[i].text for i in members])
        by_words = self._word_scores(detector, codes, [facts[i] for i in members])
        for i, vals, words in zip(members, values, by_words, strict=True):
            whole = {_code(v.language): v.value for v in vals}
            if not whole and not words:
                continue
            # lingua's rules sometimes hand a whole text to one language (Ukrainian to Kazakh)
            # that its letters rule out; then only the word-by-word reading counts.
            weight = 0.0 if whole and _rule_contradicted(whole, facts[i]) else _WHOLE_WEIGHT
            base = {
                lang: weight * math.log(max(whole.get(lang, 0.0), _FLOOR)) + words.get(lang, 0.0)
                for lang in whole.keys() | words.keys()
            }
            results[i] = _decide(base, facts[i])

    def detect(self, paragraphs: list[str]) -> Detection:
        """The article's language from its paragraphs (length-weighted), plus per-paragraph labels."""
        guesses = self._pool_serbo_croatian(paragraphs, self.guess_many(paragraphs))
        weights: Counter[str] = Counter()
        for p, g in zip(paragraphs, guesses, strict=True):
            if g.lang != UNDETERMINED:
                weights[g.lang] += len(p) * g.confidence
        if not weights:
            return Detection(UNDETERMINED, 0.0, UNDETERMINED, [Guess(UNDETERMINED, 0.0) for _ in paragraphs])
        best, _ = weights.most_common(1)[0]
        # Confidence: the detector's own confidence on the paragraphs it labelled `best` (weighted
        # by length, so that a short title does not drag it down), scaled by the share of the text
        # they make up: an article half in English and half in Lithuanian is no sure Lithuanian.
        sized = [(len(p), g) for p, g in zip(paragraphs, guesses, strict=True) if g.lang != UNDETERMINED]
        total_len = sum(n for n, _ in sized)
        best_len = sum(n for n, g in sized if g.lang == best)
        own = sum(n * g.confidence for n, g in sized if g.lang == best) / max(1, best_len)
        confidence = round(own * best_len / max(1, total_len), 4)
        labels = []
        for p, g in zip(paragraphs, guesses, strict=True):
            switch = (
                g.lang not in (best, UNDETERMINED)
                and len(p) >= self.options.paragraph_min_chars
                and g.confidence >= self.options.paragraph_switch_confidence
            )
            labels.append(g if switch else Guess(best, g.confidence if g.lang == best else 0.0))
        lang = best if confidence >= self.options.min_confidence else UNDETERMINED
        return Detection(lang, confidence, best, labels)

    def _pool_serbo_croatian(self, paragraphs: list[str], guesses: list[Guess]) -> list[Guess]:
        """One reading for the article's Latin Serbian, Croatian and Bosnian paragraphs together.

        What tells the three apart (jat, a few words) is rare in any one paragraph, and a paragraph
        without it leans Serbian (see `_decide`); an article as a whole nearly always has it.
        """
        family = [
            i
            for i, g in enumerate(guesses)
            if g.lang in _SERBO_CROATIAN and _read(paragraphs[i]).script == "LATIN"
        ]
        if len(family) < 2:
            return guesses
        pooled = self.guess("\n".join(paragraphs[i] for i in family))
        if pooled.lang not in _SERBO_CROATIAN:
            return guesses
        out = list(guesses)
        for i in family:
            out[i] = Guess(pooled.lang, pooled.confidence)
        return out

    def _by_script(self, text: _Text) -> Guess | None:
        """A decision from the script alone, or None when the script is shared."""
        # Any kana means Japanese (Chinese never writes kana); Hangul means Korean.
        kana = text.scripts["HIRAGANA"] + text.scripts["KATAKANA"]
        if kana and kana + text.scripts["CJK"] >= 0.5 * len(text.letters):
            return Guess("ja", 1.0)
        script = text.script
        lang = SINGLE_LANGUAGE_SCRIPTS.get(script)
        if lang is None:
            return None
        if self.options.languages and lang not in self.options.languages:
            log.debug("%s script, but %s is not a candidate language", script.title(), lang)
        # The share of letters in that script: a Georgian text is Georgian, a mixed one less surely.
        share = text.scripts[script] / len(text.letters)
        return Guess(lang, round(min(1.0, share / 0.9), 4))

    def _word_scores(self, detector, codes: frozenset[str], texts: list[_Text]) -> list[dict[str, float]]:
        """Log-scores per language summed over each text's words (naive Bayes over words).

        Measured on the benchmark, this reading beats lingua's whole-text one on short texts and
        is immune to its whole-text rules; the two together beat either. Scores are kept relative
        to the floor, which every language gets for a word lingua gives it no chance on, so that
        a word stores only the few languages it speaks for.
        """
        # lingua's values are shares among the detector's languages: a word's scores hold for
        # one candidate set only.
        cache = self._word_cache.setdefault(codes, {})
        missing = list({w for text in texts for w in text.words if w not in cache})
        if missing:
            if sum(map(len, self._word_cache.values())) + len(missing) > _WORD_CACHE_SIZE:
                # a run sees a bounded vocabulary; start over rather than track age
                self._word_cache.clear()
                cache = self._word_cache.setdefault(codes, {})
            floor = math.log(_WORD_FLOOR)
            for word, vals in zip(missing, _values(detector, missing), strict=True):
                scores = {_code(v.language): math.log(v.value) - floor for v in vals if v.value > _WORD_FLOOR}
                # A word spelt with a letter its language does not write is no word of it, whatever
                # lingua's n-grams say ("olacax" is not Turkish: Turkish has no x). Names (weight
                # below 1) keep lingua's reading: they keep their own spelling in any language.
                cache[word] = (scores, {lang: s for lang, s in scores.items() if not _foreign_in(word, lang)})
        out: list[dict[str, float]] = []
        for text in texts:
            total: dict[str, float] = {}
            for word, weight in zip(text.words, text.weights, strict=True):
                scores, own = cache.get(word, ({}, {}))
                for lang, score in (own if weight == 1.0 else scores).items():
                    total[lang] = total.get(lang, 0.0) + weight * score
            out.append(total)
        return out

    @cached_property
    def _word_cache(self) -> dict[frozenset[str], dict[str, tuple[dict[str, float], dict[str, float]]]]:
        return {}


def _values(detector, texts: list[str]) -> list:
    """lingua's confidence values per text; one text (a title, a check) skips its thread pool."""
    if len(texts) == 1:
        return [detector.compute_language_confidence_values(texts[0])]
    return detector.compute_language_confidence_values_in_parallel(texts)


def _decide(base: dict[str, float], text: _Text) -> Guess:
    """Combine lingua's log-scores with the letter and word evidence; the winner and its probability."""
    # A language whose script has no letter in the text is out (no Georgian letter: not Georgian).
    scores = {
        lang: score + _evidence(lang, text) + _NEWS_PRIOR.get(lang, 0.0)
        for lang, score in base.items()
        if not _scripts_of_language(lang) or _scripts_of_language(lang) & text.scripts.keys()
    }
    if not scores:
        return Guess(UNDETERMINED, 0.0)
    _lexicon_adjust(scores, text)
    best = max(scores, key=scores.__getitem__)
    top = scores[best]
    z = sum(math.exp(score - top) for score in scores.values())
    if best in _SERBO_CROATIAN and text.script == "LATIN":
        ekavian, ijekavian, serbian, croatian = _jat_reflexes(text.words, text.weights)
        # Serbian in Latin letters, which lingua (Serbian in Cyrillic only) reads as Bosnian or
        # Croatian: ekavian forms outnumber ijekavian ones, or, with neither, Serbian words
        # outnumber Croatian ones. The share of the three languages together, lowered while the
        # evidence is thin, is the confidence.
        for_sr = ekavian if ekavian or ijekavian else serbian
        against = ijekavian if ekavian or ijekavian else croatian
        share = sum(math.exp(scores[lang] - top) for lang in _SERBO_CROATIAN if lang in scores) / z
        if for_sr > against:
            return Guess("sr", round(share * for_sr / (for_sr + against + 0.5), 4))
        if best == "bs" and not (ekavian or ijekavian or serbian or croatian):
            # Nothing tells the standards apart. lingua knows Serbian in Cyrillic only, so it reads
            # every Latin Serbian text as Bosnian or Croatian, Bosnian for the Serbian-like ones; and
            # Serbia's Latin-script press outnumbers Bosnia's. Serbian, then, with a confidence that
            # says it is a lean: below `paragraph_switch_confidence`, and outvoted in an article
            # by any paragraph with evidence (see `detect`).
            return Guess("sr", round(share * _SERBIAN_LEAN, 4))
    return Guess(best, round(1.0 / z, 4))


def _jat_reflexes(words: list[str], weights: list[float]) -> tuple[int, int, int, int]:
    """Serbian against Croatian and Bosnian evidence among `words` (lower-cased, with their weights).

    Old Slavic jat is "e" in Serbia's standard (vreme, dete, reč, posle, gde) and "ije"/"je" in
    Croatian, Bosnian and Montenegrin (vrijeme, dijete, riječ, poslije, gdje); and the vocabulary
    of the state and the economy differs (hiljada/tisuća, opština/općina, bezbednost/sigurnost,
    tokom/tijekom, milion/milijun). Facts from the grammars, not from any test text.
    Returns (ekavian, ijekavian, Serbian words, Croatian words); Bosnian shares most Serbian words.
    """
    ekavian = ijekavian = serbian = croatian = 0
    for i, (word, weight) in enumerate(zip(words, weights, strict=True)):
        if word == "da" and _SERBIAN_DA_VERBS.fullmatch(_verb_before(words, i)):
            serbian += 1
        elif word in _EKAVIAN or word.startswith(_EKAVIAN_STEMS):
            ekavian += 1
        elif word in _IJEKAVIAN or word.startswith(_IJEKAVIAN_STEMS):
            ijekavian += 1
        elif (
            word in _SERBIAN_WORDS
            or word.startswith(_SERBIAN_STEMS)
            or _SERBIAN_FUTURE.fullmatch(word)
            or _SERBIAN_IZOVATI.fullmatch(word)
        ):
            serbian += 1
        elif word in _CROATIAN_WORDS or word.startswith(_CROATIAN_STEMS) or _CROATIAN_IZIRATI.fullmatch(word):
            croatian += 1
        elif (
            weight == 1.0
            and _JAT_IJE.search(word)
            and not word.startswith(_NOT_JAT)
            and not _BIJE_VERB.match(word)
        ):
            ijekavian += 1  # a lower-case word: names (Rijeka, Bijeljina) keep their own spelling
        elif weight == 1.0 and _ekavian_by_frequency(word):
            ekavian += 1
    return ekavian, ijekavian, serbian, croatian


def _verb_before(words: list[str], i: int) -> str:
    """The word before words[i], skipping an auxiliary or a clitic (odlučio je da, mogu se da)."""
    j = i - 1
    if j > 0 and words[j] in ("je", "su", "se", "bi", "sam", "smo"):
        j -= 1
    return words[j] if j >= 0 else ""


def _ekavian_by_frequency(word: str) -> bool:
    """Whether `word` is the ekavian form of a word whose ijekavian form is common.

    Beyond the lists: "e" after a consonant written "je" or "ije" gives a word of the
    Serbo-Croatian frequency list (mesto: mjesto, sredu: srijedu) at least a third as common as
    `word` itself. A shared word whose look-alike is rare (prema: prijema, teme: tjeme) is not
    counted; n and l are left out, since "nje", "lje" are other words (ne: nje).
    """
    table = _lexicon("sh")
    own = table.get(word)
    if own is None or len(word) < 3:
        return False
    for m in _JAT_E.finditer(word):
        i = m.start()
        for reflex in ("je", "ije"):
            other = table.get(word[:i] + reflex + word[i + 1 :])
            if other is not None and other >= own + _EKAVIAN_MARGIN:
                return True
    return False


def _lexicon_adjust(scores: dict[str, float], text: _Text) -> None:
    """Re-rank the leading languages of a close call by how common the text's words are in each.

    Each word scores its log-frequency in each language's word list (a unigram model, with a floor
    for a word the list lacks). Only the leading languages that have a list take part, and each is
    lowered by its shortfall against the best of them: a language without a list (Azerbaijani,
    Estonian, Kazakh) is never lifted or lowered by this, only compared as before.
    """
    if not text.words:
        return
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)[:_LEXICON_TOP]
    top = scores[ranked[0]]
    close = [lang for lang in ranked if top - scores[lang] <= _LEXICON_MARGIN and lang in _LEXICON_CODES]
    if len(close) < 2:
        return
    words = sum(text.weights)
    weight = _LEXICON_WEIGHT * min(1.0, _LEXICON_WORDS / words) * math.log(10) / 100  # per centibel
    totals = {}
    for lang in close:
        table = _lexicon(_LEXICON_CODES[lang])
        spelling = _LEXICON_SPELLING.get(lang)
        totals[lang] = sum(
            w * max(table.get(word.translate(spelling) if spelling else word, _LEXICON_FLOOR), _LEXICON_FLOOR)
            for word, w in zip(text.words, text.weights, strict=True)
        )
    best = max(totals.values())
    for lang, total in totals.items():
        scores[lang] += weight * (total - best)


@cache
def _lexicon(code: str) -> dict[str, int]:
    """wordfreq's small word list for `code`: word -> frequency in centibels (loaded on first use)."""
    from wordfreq import get_frequency_dict

    return {word: round(100 * math.log10(f)) for word, f in get_frequency_dict(code, "small").items()}


def _rule_contradicted(probs: dict[str, float], text: _Text) -> bool:
    best = max(probs, key=probs.__getitem__)
    return probs[best] >= _RULE_MADE and _evidence(best, text) <= -1.0


def _evidence(lang: str, text: _Text) -> float:
    """Log-likelihood adjustment for `lang` from letters, spellings and function words (0: no view)."""
    score = 0.0
    native = _native(lang)
    if native is not None:
        script = _alphabet_script(lang)
        loans = _loan(lang)
        foreign = sum(
            1 for ch in text.common if ch not in native and ch not in loans and _script_of(ch) == script
        )
        loan = sum(1 for ch in text.common if ch in loans)
        # Letters only in capitalised words weigh as loans: "Zaldívar" in a Finnish text is a name.
        loan += sum(
            1 for ch in text.names if ch not in native and ch not in loans and _script_of(ch) == script
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


def _foreign_in(word: str, lang: str) -> bool:
    """Whether `word` holds a letter of `lang`'s script that `lang` writes neither natively nor in loans."""
    native = _native(lang)
    if native is None:
        return False
    script = _alphabet_script(lang)
    loans = _loan(lang)
    return any(
        ch not in native and ch not in loans and _script_of(ch) == script for ch in word if ch.isalpha()
    )


@cache
def _scripts_of_language(lang: str) -> frozenset[str]:
    """The scripts `lang` is written in, where we know them (empty: unknown, no constraint)."""
    scripts = {script for script, code in SINGLE_LANGUAGE_SCRIPTS.items() if code == lang}
    if lang in _NATIVE:
        scripts.add(_alphabet_script(lang))
    if lang == "sr":
        scripts.add("LATIN")  # Serbian is written in both alphabets (see _jat_reflexes)
    scripts.update(_OTHER_SCRIPTS.get(lang, ()))
    return frozenset(scripts)


@cache
def _not_words(lang: str) -> frozenset[str]:
    return frozenset(_NOT_WORDS.get(lang, "").split())


@cache
def _native(lang: str) -> frozenset[str] | None:
    letters = _NATIVE.get(lang)
    return frozenset(letters) if letters is not None else None


def _cannot_write(lang: str, text: _Text, share: float = 0.1) -> bool:
    """Whether the text's own words (not its names) keep using letters `lang` does not write: in
    two or more of them and a tenth or more. Then lingua's sureness about `lang` (mojibake, a
    transliteration) says nothing, and a screen need not hold it."""
    own = [w for w, weight in zip(text.words, text.weights, strict=True) if weight == 1.0]
    alphabet = "hr" if lang == "sr" and text.script == "LATIN" else lang  # Serbian's Latin letters
    foreign = sum(_foreign_in(w, alphabet) for w in own)
    return foreign >= _FOREIGN_WORDS_OUT and foreign >= share * len(own)


@cache
def _homes_of_letter(ch: str) -> frozenset[str]:
    """The languages whose native alphabet has `ch` (every language, for a letter none lists)."""
    homes = frozenset(lang for lang, letters in _NATIVE.items() if ch in letters)
    return homes or frozenset(_NATIVE)


@cache
def _loan(lang: str) -> frozenset[str]:
    return frozenset(_LOAN.get(lang, ""))


@cache
def _alphabet_script(lang: str) -> str:
    return _script_of(_NATIVE[lang][0])


@cache
def _script_of(ch: str) -> str:
    try:
        return unicodedata.name(ch).split()[0]
    except ValueError:
        return ""


def _read(raw: str) -> _Text:
    text = _repair(unicodedata.normalize("NFC", _ADDRESS.sub(" ", raw[:_MAX_CHARS])))
    letters = [ch for ch in text.lower() if ch.isalpha()]
    scripts = Counter(_script_of(ch) for ch in letters)
    common: set[str] = set()
    capitalised: set[str] = set()
    words: list[str] = []
    weights: list[float] = []
    for k, word in enumerate(_WORD.findall(text)):
        # A capitalised word (not all capitals) may be a name, and names keep their own spelling
        # and say little about the language around them ("Deniz" in an Azerbaijani sentence).
        name = word[0].isupper() and not word.isupper()
        (capitalised if name else common).update(ch for ch in word.lower() if ch.isalpha())
        words.append(word.lower())
        weights.append(_NAME_WEIGHT if name and k > 0 else 1.0)
    return _Text(text, letters, scripts, frozenset(common), frozenset(capitalised - common), words, weights)


def _repair(text: str) -> str:
    """Undo two kinds of damage that hide a text's language: mojibake and mixed look-alike letters."""
    if not text.isascii():
        text = " ".join(_unmojibake(token) for token in text.split(" "))
        text = _untangle_turkish(text)
    latin = cyrillic = 0
    for ch in text:
        if ch.isalpha():
            script = _script_of(ch)
            latin += script == "LATIN"
            cyrillic += script == "CYRILLIC"
    if latin and cyrillic:
        # In a word that mixes both scripts, write the look-alike letters in the text's main
        # script ("Bеlә" with Cyrillic е and ә is Azerbaijani "Belə"); whole words stay as they are.
        table = _TO_LATIN if latin >= cyrillic else _TO_CYRILLIC
        text = " ".join(_unmix(token, table) for token in text.split(" "))
    return text


def _untangle_turkish(text: str) -> str:
    """Turkish read as Latin-1 ("baþbakanlýk") written back in Turkish letters ("başbakanlık")."""
    lower = text.lower()
    accented = {ch for ch in lower if ch.isalpha() and not ch.isascii()}
    if not accented <= _TURKISH_LATIN1_LETTERS:
        return text
    # Only þ or ð tell: "ý" alone may be Czech or Slovak without other accents ("nový"), so it
    # stays, and counts as a loan letter in Turkish rather than a foreign one.
    if "þ" in accented or "ð" in accented:
        return text.translate(_TURKISH_AS_LATIN1)
    return text


def _unmix(token: str, table: dict[int, str]) -> str:
    scripts = {_script_of(ch) for ch in token if ch.isalpha()}
    return token.translate(table) if {"LATIN", "CYRILLIC"} <= scripts else token


def _unmojibake(token: str) -> str:
    if token.isascii():
        return token
    for codec in _MOJIBAKE_CODECS:
        try:
            fixed = token.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        # Real text almost never encodes to valid multi-byte UTF-8 by chance.
        if fixed != token:
            return fixed
    return token


@cache
def _lingua_language(code: str):
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        return None


def _code(language) -> str:
    return language.iso_code_639_1.name.lower()
