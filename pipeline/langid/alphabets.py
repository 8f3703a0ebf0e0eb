"""Alphabets: which letters each language writes in its own words, and which only in loans.

A letter of a language's script that it writes neither natively nor in loans is evidence against
it (ə is not Turkish, ї not Russian, ě not Slovak); `rules.evidence` weighs it, the word
reader drops such a word for that language, and the screen leaves out a language whose alphabet
the text's own words keep leaving. Facts from the alphabets, not tuned on any test text.
"""

from __future__ import annotations

from functools import cache

from pipeline.langid.text import Text, script_of

_A_Z = "abcdefghijklmnopqrstuvwxyz"
_VIETNAMESE = "àáâãèéêìíòóôõùúýăđĩũơư" + "".join(chr(c) for c in range(0x1EA1, 0x1EFA, 2))

# Alphabets (lower case): the letters of native words, and letters seen only in loans and names.
# Letters of the same script outside both count against the language; letters of other scripts
# (an English name in a Russian text) are ignored. Every language lingua knows in these scripts is
# listed, so that no language escapes the penalty just by being left out.
NATIVE: dict[str, str] = {
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
    "tr": "wý",  # "web"; ý: ı read as Latin-1 (see text._TURKISH_AS_LATIN1); q and x stay foreign
    "vi": "fjwz",
    "ar": "پچژگکی",  # foreign names, Persian keyboards
    "fa": "ةيكإى",  # Arabic letter forms in quotations and on Arabic keyboards
    "ur": "ةيكهى",
}
# Letters that only this language writes among its neighbours, with a cautious estimate of how

# Words with a letter a language does not write that leave it unread: two, since a Ukrainian
# text may borrow one Russian spelling. With the share below, the screen of bdc8c4d: a Cyrillic
# text screened with 8 languages' trigram models rather than 75, a Lithuanian one with the one or
# two that write ė, į and ų (`make bench-langid`, all languages: sentences 99.63 -> 99.66).
FOREIGN_WORDS_OUT = 2


@cache
def native_letters(lang: str) -> frozenset[str] | None:
    """The letters of `lang`'s native words (None: a language whose alphabet is not listed)."""
    letters = NATIVE.get(lang)
    return frozenset(letters) if letters is not None else None


@cache
def loan_letters(lang: str) -> frozenset[str]:
    """The letters `lang` writes only in loans and names."""
    return frozenset(_LOAN.get(lang, ""))


@cache
def alphabet_script(lang: str) -> str:
    """The script of `lang`'s listed alphabet."""
    return script_of(NATIVE[lang][0])


@cache
def homes_of_letter(ch: str) -> frozenset[str]:
    """The languages whose native alphabet has `ch` (every language, for a letter none lists)."""
    homes = frozenset(lang for lang, letters in NATIVE.items() if ch in letters)
    return homes or frozenset(NATIVE)


def foreign_in(word: str, lang: str) -> bool:
    """Whether `word` holds a letter of `lang`'s script that `lang` writes neither natively nor in loans."""
    native = native_letters(lang)
    if native is None:
        return False
    script = alphabet_script(lang)
    loans = loan_letters(lang)
    return any(
        ch not in native and ch not in loans and script_of(ch) == script for ch in word if ch.isalpha()
    )


def cannot_write(lang: str, text: Text, share: float = 0.1) -> bool:
    """Whether the text's own words (not its names) keep using letters `lang` does not write: in
    two or more of them and a tenth or more. Then lingua's sureness about `lang` (mojibake, a
    transliteration) says nothing, and a screen need not hold it."""
    own = [w for w, weight in zip(text.words, text.weights, strict=True) if weight == 1.0]
    alphabet = "hr" if lang == "sr" and text.script == "LATIN" else lang  # Serbian's Latin letters
    foreign = sum(foreign_in(w, alphabet) for w in own)
    return foreign >= FOREIGN_WORDS_OUT and foreign >= share * len(own)
