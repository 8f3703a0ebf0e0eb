"""Serbo-Croatian evidence: Serbian in Latin letters told from Croatian and Bosnian.

Serbian, Croatian and Bosnian share one Latin alphabet and one word list in wordfreq, and lingua
knows Serbian in Cyrillic only, so it reads every Latin Serbian text as Bosnian or Croatian. Which
standard a Latin text follows shows in the reflex of old jat (ekavian posle, dete against
ijekavian poslije, dijete), in syntax (mogu da kažu against mogu reći), in word formation
(-izovati against -izirati, biće against bit će) and in the vocabulary of the state (hiljada/tisuća,
opština/općina). Facts from the grammars, not from any test text. Measured by `make bench-langid`
(UD development sentences through `newsbrief detect`, docs/language-id.md): Serbian
0.0 % before these rules, 68.0 % with the jat lists (edba746), 95.0 % with syntax, word formation,
the lean below and the per-article reading (3f873bd).
"""

from __future__ import annotations

import math
import re

from pipeline.langid.lexicon import lexicon
from pipeline.langid.records import Guess
from pipeline.langid.text import Text

SERBO_CROATIAN = ("sr", "hr", "bs")
# The confidence share of a Latin Serbo-Croatian text with no evidence either way: below
# `paragraph_switch_confidence` (0.9), so any paragraph with evidence outvotes it in an article.
# Serbia's Latin press outnumbers Bosnia's (3f873bd; docs/language-id.md: of 150 Bosnian portal sentences,
# 124 -> 86 read as Bosnian, but joined three at a time, as an article gives them, 46 of 50 before
# and after).
SERBIAN_LEAN = 0.6

# The lists hold frequent words whose ekavian and ijekavian forms differ, in the forms news uses;
# forms shared by both (vremena, sela, Beograd) are left out on purpose.
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


def read_serbo_croatian(scores: dict[str, float], best: str, text: Text) -> Guess | None:
    """Serbian for a Latin text lingua reads as Serbo-Croatian, when the evidence says so, with
    the three languages' share of the probability, lowered while the evidence is thin; None when
    lingua's reading stands."""
    top = scores[best]
    z = sum(math.exp(score - top) for score in scores.values())
    ekavian, ijekavian, serbian, croatian = jat_reflexes(text.words, text.weights)
    # Serbian in Latin letters, which lingua (Serbian in Cyrillic only) reads as Bosnian or
    # Croatian: ekavian forms outnumber ijekavian ones, or, with neither, Serbian words
    # outnumber Croatian ones. The share of the three languages together, lowered while the
    # evidence is thin, is the confidence.
    for_sr = ekavian if ekavian or ijekavian else serbian
    against = ijekavian if ekavian or ijekavian else croatian
    share = sum(math.exp(scores[lang] - top) for lang in SERBO_CROATIAN if lang in scores) / z
    if for_sr > against:
        return Guess("sr", round(share * for_sr / (for_sr + against + 0.5), 4))
    if best == "bs" and not (ekavian or ijekavian or serbian or croatian):
        # Nothing tells the standards apart. lingua knows Serbian in Cyrillic only, so it reads
        # every Latin Serbian text as Bosnian or Croatian, Bosnian for the Serbian-like ones; and
        # Serbia's Latin-script press outnumbers Bosnia's. Serbian, then, with a confidence that
        # says it is a lean: below `paragraph_switch_confidence`, and outvoted in an article
        # by any paragraph with evidence (see `detect`).
        return Guess("sr", round(share * SERBIAN_LEAN, 4))
    return None


def jat_reflexes(words: list[str], weights: list[float]) -> tuple[int, int, int, int]:
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
    table = lexicon("sh")
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
